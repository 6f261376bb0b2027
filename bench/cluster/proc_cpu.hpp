#pragma once
/// CPU time of processes from /proc/<pid>/stat: how the benchmarks measure
/// what a whole MPI job costs (every rank is a child of mpirun; see
/// launcher::children_of).

#include <sys/types.h>

#include <vector>

namespace raft::bench {

/// user+system CPU seconds used so far by `pid` (0 if it is gone).
double cpu_seconds(pid_t pid);

/// Sum of cpu_seconds over `pids`.
double cpu_seconds(const std::vector<pid_t>& pids);

}  // namespace raft::bench
