#pragma once
/// The `mpirun` command line of launch_cluster: one place that says which
/// Open MPI settings a run needs, on one machine and across several.
/// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace raft::launcher {

/// An Open MPI parameter, passed as `--mca NAME VALUE`.
using McaParam = std::pair<std::string, std::string>;

struct MpiCommandOptions {
  std::string mpirun = "mpirun";
  int ranks = 1;
  bool as_root = false;  ///< adds --allow-run-as-root
  unsigned cores = 1;    ///< more ranks than this on one host: --oversubscribe
  std::string hostfile;  ///< --hostfile FILE
  std::string hosts;     ///< --host h1,h2,...
  /// Interfaces or CIDR subnets MPI may use between hosts ("eth1",
  /// "10.0.0.0/24"); empty = Open MPI's choice.
  std::string mpi_if;
  std::vector<McaParam> extra_mca;         ///< the user's --mca, last so they win
  std::vector<std::string> forwarded_env;  ///< variable names passed with -x
  std::vector<std::string> program;        ///< raft_node and its flags
  /// Inside a Slurm allocation of this many nodes (0: not in one). Open MPI
  /// then takes the hosts and their slots from Slurm, and the ranks go to
  /// the nodes in turn.
  int slurm_nodes = 0;
  /// Not empty: start the ranks with this srun (--mpi=pmix) instead of
  /// mpirun; only inside an allocation (see slurm_command.hpp).
  std::string srun;

  /// Several machines: a hostfile, a host list or a Slurm allocation.
  bool multi_host() const { return !hostfile.empty() || !hosts.empty() || slurm_nodes > 0; }
};

/// The flags launch_cluster, raft_chaos and the cluster tests give raft_node.
/// Empty strings and negative numbers leave raft_node's own default.
struct RaftNodeFlags {
  std::string binary;  ///< path of raft_node
  int min_election_timeout_ms = -1;
  int max_election_timeout_ms = -1;
  int heartbeat_interval_ms = -1;
  int initial_delay_ms = -1;
  int base_port = -1;
  int snapshot_every = -1;
  /// Ranks 0..voters-1 start as voters, the others as standby (spares).
  int voters = -1;
  std::string bind;
  std::string data_dir;
  std::string discovery_url;
  std::string fsync;
  std::string log_level;
};

/// How the ranks start: srun_argv (slurm_command.hpp) when options.srun is
/// set, else mpirun_argv.
std::vector<std::string> job_argv(const MpiCommandOptions& options);

/// raft_node and its flags, for MpiCommandOptions::program.
std::vector<std::string> raft_node_argv(const RaftNodeFlags& flags);

/// The Open MPI parameters of a run, the user's last. Across hosts it sets
/// `btl self,tcp` (shared memory does not cross machines, and no other
/// fabric is assumed) and, with mpi_if, `btl_tcp_if_include` and
/// `oob_tcp_if_include` (both the data and the control channel stay on that
/// network). On one host it turns off shared memory's single-copy mechanism
/// (see mpi_command.cpp).
std::vector<McaParam> mca_params(const MpiCommandOptions& options);

/// The full argv: mpirun with mca_params() as --mca. --oversubscribe is
/// added when the ranks outnumber this host's cores or the hosts' slots are
/// unknown (never in a Slurm allocation, whose slots are its tasks). In an
/// allocation the ranks go to the nodes in turn (--map-by node).
std::vector<std::string> mpirun_argv(const MpiCommandOptions& options);

/// Parses "NAME=VALUE" (NAME of [A-Za-z0-9_], VALUE not empty). nullopt with
/// one sentence in *error otherwise.
std::optional<McaParam> parse_mca(std::string_view text, std::string* error);

/// Checks an --mpi_if list: comma-separated interface names or IPv4 CIDR
/// subnets ("eth1,10.199.0.0/24"). nullopt when valid, else one sentence.
std::optional<std::string> mpi_if_error(std::string_view list);

}  // namespace raft::launcher
