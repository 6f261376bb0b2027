#pragma once
// ChaosCluster: the real cluster a chaos run attacks: its own discovery_server
// and `mpirun -n N raft_node` on free loopback ports, each a child process in
// its own process group (stopped by PID, never by name). The MPI job can be
// killed with SIGKILL as a whole and relaunched on the same data directory.
// Not thread-safe for start/kill/relaunch (the nemesis thread owns those);
// the HTTP helpers may be called from any thread.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "launcher/child_process.hpp"
#include "launcher/mpi_command.hpp"

namespace raft::chaos {

struct ClusterOptions {
  int nodes = 3;
  std::filesystem::path bin_dir;
  std::filesystem::path work_dir;  ///< data/, nodes.log, discovery.json go here
  std::string mpirun = "mpirun";
  int min_election_timeout_ms = 150;
  int max_election_timeout_ms = 300;
  int heartbeat_interval_ms = 30;
  int snapshot_every = 200;  ///< small, so compaction and snapshot installs happen
  std::string fsync = "always";
};

struct HttpAnswer {
  int status = 0;  ///< 0: no answer (see error)
  nlohmann::json body;
  std::string error;
};

class ChaosCluster {
 public:
  explicit ChaosCluster(ClusterOptions options);
  ~ChaosCluster();
  ChaosCluster(const ChaosCluster&) = delete;
  ChaosCluster& operator=(const ChaosCluster&) = delete;

  /// Starts discovery and the MPI job; waits until every node answers /healthz.
  bool start(std::string* error);
  /// SIGKILL to the whole MPI job (mpirun and its ranks), then reaps it.
  void kill_job();
  /// Starts the MPI job again on the same data and waits for /healthz.
  bool relaunch(std::string* error);
  /// Non-empty if the MPI job exited without kill_job (a rank died).
  std::optional<std::string> unexpected_exit();
  void stop();

  int size() const { return options_.nodes; }
  int port(int rank) const { return base_port_ + rank; }
  int base_port() const { return base_port_; }

  HttpAnswer get(int rank, const std::string& path,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) const;
  HttpAnswer command(int rank, const std::string& cmd) const;

 private:
  bool start_job(std::string* error);
  bool wait_nodes_healthy(std::chrono::milliseconds limit);

  ClusterOptions options_;
  int discovery_port_ = 0;
  int base_port_ = 0;
  std::unique_ptr<launcher::ChildProcess> discovery_;
  std::mutex job_mutex_;
  std::unique_ptr<launcher::ChildProcess> job_;
};

}  // namespace raft::chaos
