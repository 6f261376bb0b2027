#pragma once
/// Cluster: a real Raft cluster started as child processes: discovery_server,
/// web_monitor when wanted, and `mpirun -n N raft_node`, each in a process
/// group of its own and stopped by PID (never by name), nodes first so they
/// can deregister while discovery is still up. The one way to start a cluster
/// for launch_cluster, raft_chaos, the cluster tests and the benchmarks.
///
/// Ownership: the Cluster owns every process it started and, when it made
/// one, its temporary data folder; the destructor stops them all.
/// Thread-safety: start, stop, the job's kill and start and discovery's are
/// never to run at the same time (a chaos run hands them from the main
/// thread to the nemesis and back); job_exit(), the HTTP helpers and the
/// leader probes may be called from any thread meanwhile.
/// Errors: start functions return false with one sentence in *error; nothing
/// here throws once constructed.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "launcher/child_process.hpp"
#include "launcher/http_call.hpp"
#include "launcher/mpi_command.hpp"

namespace raft::launcher {

struct ClusterOptions {
  int nodes = 3;
  std::filesystem::path bin_dir;  ///< holds raft_node, discovery_server, web_monitor
  /// Node i keeps its state in <node_data_dir>/node-<i>/; discovery its
  /// registry in discovery_state_file. Both empty: a fresh temporary folder,
  /// removed by stop().
  std::filesystem::path node_data_dir;
  std::filesystem::path discovery_state_file;
  /// Discovery and the monitor listen here; empty: their default (loopback).
  std::string bind;
  /// How the nodes dial discovery; empty: `bind` (loopback for a wildcard).
  std::string advertise_host;
  int discovery_port = 0;                 ///< 0: a free port
  int base_port = 0;                      ///< node i serves HTTP on base_port + i; 0: free ports
  int monitor_port = -1;                  ///< -1: no web_monitor
  std::vector<std::string> monitor_args;  ///< extra web_monitor flags
  std::chrono::milliseconds service_healthy_limit_ms{30000};
  std::chrono::milliseconds job_stop_grace_ms{5000};
  /// Not empty: every child's stdout and stderr are appended to this file
  /// (a chaos run's paused and killed nodes warn a lot).
  std::filesystem::path log_file;
  std::map<std::string, std::string> env;  ///< added to every child's environment
  /// mpirun's settings; `ranks` and `program` are filled in.
  MpiCommandOptions mpi;
  /// raft_node's flags; binary, base_port, data_dir and discovery_url are
  /// filled in.
  RaftNodeFlags node;
  /// wait_leader asks discovery instead of the nodes (whose addresses on
  /// other hosts are known only to discovery).
  bool leader_from_discovery = false;
};

/// A throwaway cluster on this machine: its size, Raft's timing (the cluster
/// tests' short defaults) and the fsync mode.
struct LocalClusterSpec {
  int nodes = 3;
  int min_election_timeout_ms = 300;
  int max_election_timeout_ms = 600;
  int heartbeat_interval_ms = 50;
  int initial_delay_ms = 200;
  std::string fsync = "never";
};

/// Options for `spec` as the tests, the benchmarks and the chaos tool start
/// it: free loopback ports, a temporary folder, mpirun always oversubscribed
/// (the machine is shared with other jobs) and nodes that log warnings only.
ClusterOptions local_cluster_options(const LocalClusterSpec& spec,
                                     const std::filesystem::path& bin_dir,
                                     const std::string& mpirun);

struct Leader {
  int rank = -1;
  long long term = 0;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// Picks the ports and folders, starts discovery and the monitor (each
  /// answering /healthz before the next starts), then the MPI job, without
  /// waiting for the nodes (see wait_nodes_healthy).
  bool start(std::string* error);
  /// Starts discovery again on its port, after start() and then
  /// kill_discovery or stop_discovery (the registry is read back from its
  /// state file).
  bool start_discovery(std::string* error);
  void stop_discovery();
  /// SIGKILL: whatever discovery had not saved is lost.
  void kill_discovery();
  /// Starts `mpirun -n N raft_node` again, after start() and kill_job, on
  /// the same data.
  bool start_job(std::string* error);
  /// SIGKILL to mpirun and every rank at once; returns once no rank is left,
  /// so a new job finds the ports and files free.
  void kill_job();
  /// Every node answers /healthz, or false (with *error) after `limit_ms` or
  /// when the job exits.
  bool wait_nodes_healthy(std::chrono::milliseconds limit_ms, std::string* error);
  /// Stops the job, then the monitor, then discovery; removes a temporary
  /// data folder. Idempotent.
  void stop();

  /// Set once the MPI job has exited (a rank died) without kill_job. Any
  /// thread.
  std::optional<std::string> job_exit();
  /// The first of every process started that has exited, described (owner
  /// thread only).
  std::optional<std::string> first_exit();
  /// The MPI job's mpirun (owner thread only; start_job must have succeeded).
  ChildProcess& job();

  int size() const { return options_.nodes; }
  int port(int rank) const { return base_port_ + rank; }
  int base_port() const { return base_port_; }
  int discovery_port() const { return discovery_port_; }
  int monitor_port() const { return options_.monitor_port; }
  /// Where this machine reaches discovery and the monitor.
  const std::string& local_host() const { return local_host_; }
  /// Where the nodes reach discovery.
  const std::string& discovery_url() const { return discovery_url_; }
  const std::filesystem::path& node_data_dir() const { return options_.node_data_dir; }

  /// GET on node `rank` (on this machine).
  HttpReply get(int rank, const std::string& path,
                std::chrono::milliseconds read_timeout_ms = std::chrono::seconds(10)) const;
  /// POST /command {"cmd": cmd} to node `rank`, with $RAFT_AUTH_TOKEN if set.
  HttpReply command(int rank, const std::string& cmd,
                    std::chrono::milliseconds read_timeout_ms = std::chrono::seconds(10)) const;
  /// Node `rank`'s /status, if it answers with an object.
  std::optional<nlohmann::json> status(int rank) const;
  /// The leader every answering, unpaused, uncrashed node names, that says
  /// it leads; nullopt if a node does not answer or they disagree.
  std::optional<Leader> agreed_leader() const;
  /// The leader discovery's /state names.
  std::optional<Leader> discovery_leader() const;
  /// Discovery's node list, id -> address, in rank order (empty on failure).
  std::vector<std::pair<std::string, std::string>> discovery_nodes() const;
  /// Polls the leader (agreed_leader, or discovery_leader with
  /// leader_from_discovery) until there is one, `limit_ms` passes, or
  /// `give_up` (called between polls, may be empty) returns true.
  std::optional<Leader> wait_leader(std::chrono::milliseconds limit_ms,
                                    const std::function<bool()>& give_up = {}) const;

 private:
  bool prepare(std::string* error);
  bool start_monitor(std::string* error);
  /// Starts a service and waits for its /healthz.
  bool start_service(std::unique_ptr<ChildProcess>* slot, const std::string& name,
                     std::vector<std::string> argv, int port, std::string* error);
  std::unique_ptr<ChildProcess> spawn(const std::string& name, std::vector<std::string> argv);

  ClusterOptions options_;
  std::filesystem::path temp_dir_;  ///< ours to remove; empty if the caller gave folders
  int discovery_port_ = 0;
  int base_port_ = 0;
  std::string local_host_ = "127.0.0.1";
  std::string discovery_url_;
  std::unique_ptr<ChildProcess> discovery_;
  std::unique_ptr<ChildProcess> monitor_;
  mutable std::mutex job_mutex_;
  std::unique_ptr<ChildProcess> job_;
};

}  // namespace raft::launcher
