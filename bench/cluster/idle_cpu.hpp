#pragma once
/// Idle CPU of an MPI job: what each rank and all of them together use over
/// a window in which nothing is asked of the cluster, in % of one core. The
/// ranks are told apart by the rank Open MPI gives each in its environment
/// (OMPI_COMM_WORLD_RANK), so "rank 2" here is node 2. For main's thread.

#include <sys/types.h>

#include <vector>

#include <nlohmann/json.hpp>

namespace raft::bench {

struct IdleCpu {
  double window_s = 0;
  std::vector<double> per_rank_percent;  ///< index = MPI rank
  double total_percent = 0;              ///< all ranks together
  double mpirun_percent = 0;             ///< mpirun itself, apart

  nlohmann::json to_json() const;
};

/// Sleeps `seconds` (the window) and measures mpirun `job`'s ranks over it.
IdleCpu measure_idle_cpu(pid_t job, double seconds);

}  // namespace raft::bench
