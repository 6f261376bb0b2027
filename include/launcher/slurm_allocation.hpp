#pragma once
/// A Slurm allocation as launch_cluster sees it from inside: the job, its
/// nodes in order, its task count, and which node (if any) this process runs
/// on. Read from the variables Slurm sets for salloc shells, sbatch scripts
/// and job steps (`man sbatch`, OUTPUT ENVIRONMENT VARIABLES); nothing here
/// talks to slurmctld. Pure functions over an injected environment, so tests
/// need no Slurm; thread-safe.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raft::launcher {

/// Looks one environment variable up; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process's own environment (getenv).
EnvLookup process_env();

/// The variable launch_cluster sets for itself when it moves to the first
/// node as a one-task step (slurm_command.hpp): a step's own
/// SLURM_TASKS_PER_NODE describes the step ("1"), not the job, and Open MPI
/// and the rank count need the job's.
inline constexpr const char* kJobTasksPerNodeEnv = "RAFT_SLURM_TASKS_PER_NODE";
/// The job that kJobTasksPerNodeEnv belongs to (a stale value from another
/// job in the same shell is ignored).
inline constexpr const char* kJobTasksJobIdEnv = "RAFT_SLURM_JOB_ID";

/// Expands a Slurm host list, as in SLURM_JOB_NODELIST: comma-separated
/// names, each with bracketed ranges that keep their zero padding
/// ("node[01-03,7],login" is node01 node02 node03 node7 login; several
/// bracket groups multiply out). nullopt with one sentence in *error for
/// anything else (unbalanced brackets, a descending range, an empty name).
std::optional<std::vector<std::string>> expand_hostlist(std::string_view list, std::string* error);

/// Sums a Slurm tasks-per-node list, as in SLURM_TASKS_PER_NODE: "2(x3),1"
/// is 2+2+2+1 = 7. nullopt with one sentence in *error when malformed.
std::optional<int> count_tasks(std::string_view tasks_per_node, std::string* error);

struct SlurmAllocation {
  std::string job_id;
  /// SLURM_JOB_NODELIST expanded, in Slurm's order: the first is where
  /// launch_cluster runs discovery and the monitor.
  std::vector<std::string> nodes;
  /// The job's tasks per node, as Slurm writes it ("2(x2),1").
  std::string tasks_per_node;
  int tasks = 0;  ///< the job's task count: one rank each by default
  /// SLURMD_NODENAME: the node this process runs on. Empty in a salloc shell
  /// on a login node, which is outside the allocation.
  std::string this_node;
  /// SLURM_STEP_ID is set: this process is a task of a job step (srun).
  bool in_step = false;

  bool on_allocated_node() const { return !this_node.empty(); }
};

/// What read_allocation found.
struct SlurmAllocationRead {
  std::optional<SlurmAllocation> allocation;  ///< nullopt: not in a job, or an error
  std::string error;                          ///< not empty: in a job, but its variables are bad
};

/// Reads the allocation from `env`: nothing (no error) without
/// SLURM_JOB_ID. The task count comes from kJobTasksPerNodeEnv when it
/// belongs to this job, else from SLURM_TASKS_PER_NODE (the job's in a
/// salloc shell or an sbatch script; a step's own in a job step).
SlurmAllocationRead read_allocation(const EnvLookup& env);

/// Finds an address for `host` that other machines can dial: the first
/// non-loopback IPv4 address it resolves to, else the first non-loopback
/// IPv6 one. Injected by tests.
using HostResolver = std::function<std::vector<std::string>(const std::string& host)>;

/// Every address getaddrinfo gives for `host`, in its order (numeric, IPv6
/// without brackets); empty when it does not resolve.
std::vector<std::string> resolve_host(const std::string& host);

/// The address of `node` on the allocation's network: what its name
/// resolves to, leaving out loopback (Debian's /etc/hosts maps a machine's
/// own name to 127.0.1.1, which no other node can dial). nullopt with one
/// sentence in *error when nothing usable is left.
std::optional<std::string> node_address(const std::string& node, const HostResolver& resolve,
                                        std::string* error);

}  // namespace raft::launcher
