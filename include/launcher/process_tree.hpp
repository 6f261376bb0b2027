#pragma once
/// Processes by PID, read from /proc: how the launcher finds mpirun's ranks
/// (Open MPI forks them itself and puts each in a process group of its own,
/// so signalling mpirun's group misses them). Linux only; thread-safe.

#include <sys/types.h>

#include <vector>

namespace raft::launcher {

/// The direct children of `parent` that exist now (a rank list, for mpirun).
std::vector<pid_t> children_of(pid_t parent);

/// True if `pid` is gone or a zombie nobody reaped yet (it holds no ports or
/// files any more).
bool is_gone(pid_t pid);

}  // namespace raft::launcher
