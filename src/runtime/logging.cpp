#include "runtime/logging.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "util/safe_log.hpp"

namespace raft::runtime {

namespace {

class RingView final : public LogRing {
 public:
  explicit RingView(std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink)
      : sink_(std::move(sink)) {}
  std::vector<std::string> lines(std::size_t limit) const override {
    std::vector<std::string> out = sink_->last_formatted(limit);
    for (std::string& l : out) {
      while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
    }
    return out;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

}  // namespace

NodeLogger make_node_logger(NodeId rank, const std::filesystem::path& node_dir,
                            const std::string& level, std::size_t ring_lines) {
  std::error_code ec;
  std::filesystem::create_directories(node_dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create " + node_dir.string() + ": " + ec.message());
  }
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_formatter(
      util::safe_formatter("[node " + std::to_string(rank) + "] %H:%M:%S.%e %^%l%$ %q"));
  std::shared_ptr<spdlog::sinks::rotating_file_sink_mt> file;
  try {
    file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>((node_dir / "node.log").string(),
                                                                  kLogFileBytesMax, kLogFilesKept);
  } catch (const spdlog::spdlog_ex& e) {
    throw std::runtime_error("cannot open " + (node_dir / "node.log").string() + ": " + e.what());
  }
  file->set_formatter(util::safe_formatter("%Y-%m-%d %H:%M:%S.%e %l %q"));
  auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(ring_lines);
  ring->set_formatter(util::safe_formatter("%H:%M:%S.%e %l %q"));

  auto logger = std::make_shared<spdlog::logger>("node-" + std::to_string(rank),
                                                 spdlog::sinks_init_list{console, file, ring});
  logger->set_level(spdlog::level::from_str(level));
  // Info lines come at the rate of Raft events and commands, never per
  // write, so each is written out at once: a node whose disk fails or that
  // is killed leaves its last lines in node.log.
  logger->flush_on(spdlog::level::info);
  return {logger, std::make_shared<RingView>(ring)};
}

}  // namespace raft::runtime
