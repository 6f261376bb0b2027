#pragma once
/// The node's logger: console lines prefixed with the rank, a file in the
/// node's folder, and an in-memory ring of recent lines for GET /log.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "raft/types.hpp"

namespace spdlog {
class logger;
}

namespace raft::runtime {

/// Thread-safe view of the recent lines.
class LogRing {
 public:
  virtual ~LogRing() = default;
  /// At most `limit` most recent lines, oldest first.
  virtual std::vector<std::string> lines(std::size_t limit) const = 0;
};

struct NodeLogger {
  std::shared_ptr<spdlog::logger> logger;
  std::shared_ptr<LogRing> ring;
};

/// node.log rotates at this size, keeping node.1.log .. node.3.log: at most
/// 40 MiB of log per node, however long it runs.
inline constexpr std::size_t kLogFileBytesMax = 10 * 1024 * 1024;
inline constexpr std::size_t kLogFilesKept = 3;

/// `level` is an spdlog level name ("info", "debug", ...). The file goes to
/// `<node_dir>/node.log` (the folder is created; see kLogFileBytesMax).
/// Every sink writes the message made safe (util/safe_log.hpp). Throws std::runtime_error
/// with a one-line reason if the file cannot be opened.
NodeLogger make_node_logger(NodeId rank, const std::filesystem::path& node_dir,
                            const std::string& level, std::size_t ring_lines = 1000);

}  // namespace raft::runtime
