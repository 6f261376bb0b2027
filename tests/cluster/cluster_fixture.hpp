#pragma once
// A real cluster for tests: discovery_server plus `mpirun -n N raft_node`,
// started as child processes (killed by PID/process group at the end) on free
// ports with short timeouts, and small HTTP helpers. Every wait is for a
// condition with a generous deadline.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "launcher/child_process.hpp"
#include "launcher/mpi_command.hpp"

namespace raft::cluster_test {

using Json = nlohmann::json;
namespace fs = std::filesystem;

inline constexpr auto kDeadline = std::chrono::seconds(30);

/// Polls `condition` every 20 ms until it holds or `limit` passes.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = kDeadline) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

/// The folder holding the built binaries (set by CMake).
inline fs::path bin_dir() { return fs::path(RAFT_BIN_DIR); }

using launcher::free_port_range;

struct HttpReply {
  int status = 0;  // 0: no answer
  Json body;
  std::string raw;
  std::string location;
};

inline HttpReply http(int port, const std::string& method, const std::string& path,
                      const std::string& body = {}, const std::string& type = "application/json") {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1, 0);
  c.set_read_timeout(10, 0);
  httplib::Result r = method == "GET"    ? c.Get(path)
                      : method == "POST" ? c.Post(path, body, type)
                      : method == "PUT"  ? c.Put(path, body, type)
                                         : c.Delete(path);
  HttpReply out;
  if (!r) return out;
  out.status = r->status;
  out.raw = r->body;
  out.body = Json::parse(r->body, nullptr, false);
  out.location = r->get_header_value("Location");
  return out;
}

class Cluster {
 public:
  struct Options {
    int nodes = 3;
    int min_election_timeout = 300;
    int max_election_timeout = 600;
    int heartbeat_interval = 50;
    int initial_delay_ms = 200;
  };

  explicit Cluster(Options o, std::string fsync = "never") : options_(o), fsync_(std::move(fsync)) {
    data_dir_ = fs::temp_directory_path() / ("raft_cluster_test_" + std::to_string(::getpid()) +
                                             "_" + std::to_string(counter()++));
    fs::remove_all(data_dir_);
    fs::create_directories(data_dir_);
    discovery_port_ = free_port_range(1);
    base_port_ = free_port_range(o.nodes);
    start_discovery();
    start_nodes();
  }
  ~Cluster() {
    if (nodes_) nodes_->stop(std::chrono::seconds(5));
    if (discovery_) discovery_->stop(std::chrono::seconds(3));
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
  }

  void start_discovery() {
    discovery_ = std::make_unique<launcher::ChildProcess>(
        "discovery_server",
        std::vector<std::string>{(bin_dir() / "discovery_server").string(), "--port",
                                 std::to_string(discovery_port_), "--state_file",
                                 (data_dir_ / "discovery.json").string()});
    launcher::wait_healthy("127.0.0.1", discovery_port_, kDeadline, discovery_.get());
  }
  void stop_discovery() { discovery_->stop(std::chrono::seconds(3)); }
  /// kill -9: whatever discovery had not saved is gone.
  void kill_discovery() {
    ::kill(discovery_->pid(), SIGKILL);
    eventually([&] { return discovery_->poll_exit().has_value(); });
  }

  /// The job as launch_cluster starts it (same mpirun settings), with the
  /// tests' timeouts.
  void start_nodes() {
    launcher::RaftNodeFlags node;
    node.binary = (bin_dir() / "raft_node").string();
    node.min_election_timeout_ms = options_.min_election_timeout;
    node.max_election_timeout_ms = options_.max_election_timeout;
    node.heartbeat_interval_ms = options_.heartbeat_interval;
    node.initial_delay_ms = options_.initial_delay_ms;
    node.base_port = base_port_;
    node.data_dir = (data_dir_ / "data").string();
    node.discovery_url = "http://127.0.0.1:" + std::to_string(discovery_port_);
    node.fsync = fsync_;
    node.log_level = "warn";
    launcher::MpiCommandOptions mpi;
    mpi.mpirun = MPIEXEC_PATH;
    mpi.ranks = options_.nodes;
    mpi.as_root = ::geteuid() == 0;
    mpi.cores = 1;  // always --oversubscribe: the machine is shared with other jobs
    mpi.program = launcher::raft_node_argv(node);
    nodes_ = std::make_unique<launcher::ChildProcess>("mpirun", launcher::mpirun_argv(mpi));
  }

  launcher::ChildProcess& mpirun() { return *nodes_; }
  int size() const { return options_.nodes; }
  int port(int rank) const { return base_port_ + rank; }
  int discovery_port() const { return discovery_port_; }
  const fs::path& data_dir() const { return data_dir_; }

  std::optional<Json> status(int rank) {
    HttpReply r = http(port(rank), "GET", "/status");
    if (r.status != 200 || !r.body.is_object()) return std::nullopt;
    return r.body;
  }
  HttpReply command(int rank, const std::string& cmd) {
    return http(port(rank), "POST", "/command", Json{{"cmd", cmd}}.dump());
  }

  /// The leader every running, unpaused node agrees on (and that says it
  /// leads), or -1.
  int agreed_leader() {
    std::string leader;
    for (int i = 0; i < size(); ++i) {
      auto s = status(i);
      if (!s) return -1;
      if ((*s)["paused"].get<bool>() || (*s)["crashed"].get<bool>()) continue;
      if (!(*s)["leader_id"].is_string()) return -1;
      const std::string l = (*s)["leader_id"].get<std::string>();
      if (!leader.empty() && l != leader) return -1;
      leader = l;
    }
    if (leader.empty()) return -1;
    auto ls = status(std::stoi(leader));
    return ls && (*ls)["state"] == "LEADER" ? std::stoi(leader) : -1;
  }
  int wait_leader() {
    int leader = -1;
    eventually([&] { return (leader = agreed_leader()) >= 0; });
    return leader;
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  Options options_;
  std::string fsync_;
  fs::path data_dir_;
  int discovery_port_ = 0;
  int base_port_ = 0;
  std::unique_ptr<launcher::ChildProcess> discovery_;
  std::unique_ptr<launcher::ChildProcess> nodes_;
};

}  // namespace raft::cluster_test
