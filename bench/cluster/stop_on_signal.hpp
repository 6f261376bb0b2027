#pragma once
/// Ctrl+C or SIGTERM in the middle of a benchmark would leave its clusters
/// running (destructors do not run when a signal ends a process). Called
/// first thing in main, before any thread or child starts: blocks SIGINT
/// and SIGTERM in every thread and waits for them on one of its own, which
/// then SIGKILLs every process this benchmark started, by PID (each direct
/// child's process group, and mpirun's ranks, which have groups of their
/// own), removes their temporary folders and exits with 128 + the signal.

namespace raft::bench {

void stop_children_on_signal();

}  // namespace raft::bench
