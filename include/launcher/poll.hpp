#pragma once
/// Waiting for a condition of a real cluster: every wait in the launcher, the
/// chaos tool, the cluster tests and the benchmarks is for a condition with a
/// deadline, never a fixed sleep. Thread-safe (no state).

#include <chrono>
#include <functional>

namespace raft::launcher {

/// Calls `condition` every `interval_ms` until it holds or `limit_ms` passes,
/// then once more; returns its last answer.
bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds limit_ms,
                std::chrono::milliseconds interval_ms = std::chrono::milliseconds(20));

}  // namespace raft::launcher
