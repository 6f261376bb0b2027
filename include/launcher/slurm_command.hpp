#pragma once
/// How launch_cluster runs inside a Slurm allocation: whether it uses the
/// allocation at all, the one-task step that moves it from a login node to
/// the allocation's first node, and `srun --mpi=pmix` as the alternative to
/// mpirun for starting the ranks. Pure argv builders (thread-safe) and one
/// function that execs.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launcher/mpi_command.hpp"
#include "launcher/slurm_allocation.hpp"

namespace raft::launcher {

/// --slurm: auto uses an allocation when SLURM_JOB_ID is set; on requires
/// one; off ignores it (a hostfile inside an allocation, say).
enum class SlurmUse { kAuto, kOn, kOff };
/// --slurm_launch: who starts the ranks in an allocation. auto: srun where
/// Slurm has its PMIx plugin (docs/OPERATIONS.md has the measurements: the
/// same start, a much quicker stop), else mpirun.
enum class SlurmLaunch { kAuto, kMpirun, kSrun };

std::optional<SlurmUse> parse_slurm_use(std::string_view text);
std::optional<SlurmLaunch> parse_slurm_launch(std::string_view text);

/// True if `srun --mpi=list` printed this, naming the pmix plugin (22.05:
/// a line "\tpmix"; later versions "pmix" or "pmix_v4" among others).
bool lists_pmix(std::string_view mpi_list_output);

/// Runs `srun --mpi=list` for at most `limit` and says whether Slurm can
/// start MPI ranks itself through PMIx. False if srun fails or hangs.
bool slurm_has_pmix(const std::string& srun, std::chrono::milliseconds limit);

/// The launcher to use: `launch`, or for kAuto srun if slurm_has_pmix.
SlurmLaunch resolve_slurm_launch(SlurmLaunch launch, const std::string& srun);

/// What launch_cluster does about Slurm.
struct SlurmPlan {
  std::optional<SlurmAllocation> allocation;  ///< set: use it
  std::string error;                          ///< not empty: stop with this sentence
};

/// Reads the allocation from `env` and decides by `use`.
SlurmPlan plan_slurm(SlurmUse use, const EnvLookup& env);

/// The command that runs `self_argv` (launch_cluster and its flags) again
/// as a one-task step on the allocation's first node, holding that whole
/// node (mpirun starts that node's ranks from inside the step, and they need
/// its CPUs) while other steps overlap it (the ranks' own). One Ctrl+C on
/// srun cancels the step, which sends the launcher SIGTERM.
std::vector<std::string> first_node_step_argv(const std::string& srun,
                                              const SlurmAllocation& allocation,
                                              const std::vector<std::string>& self_argv);

/// The variables the step needs besides its own: the job's tasks per node,
/// which Slurm replaces by the step's.
std::map<std::string, std::string> first_node_step_env(const SlurmAllocation& allocation);

/// Execs first_node_step_argv with first_node_step_env added; returns only
/// if exec fails, with one sentence.
std::string exec_first_node_step(const std::string& srun, const SlurmAllocation& allocation,
                                 const std::vector<std::string>& self_argv);

/// `srun --mpi=pmix` starting options.ranks copies of options.program as the
/// tasks of a step, spread over up to options.slurm_nodes nodes in turn
/// (Raft survives a lost node only if its ranks are on different nodes). The
/// Open MPI settings mpirun would take as --mca reach the ranks as OMPI_MCA_
/// variables, through /usr/bin/env so srun keeps its PID. The step overlaps
/// the launcher's own step and a rank that fails ends the step.
std::vector<std::string> srun_argv(const MpiCommandOptions& options);

}  // namespace raft::launcher
