#pragma once
// Runs independent tasks on every core: the checker's pieces and keys.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace raft::chaos::detail {

/// Calls fn(i) for every i in [0, n) from up to `threads` threads (0: one
/// per core), the calling thread included; returns when all are done. Tasks
/// are handed out in index order, so put the biggest first.
template <typename Fn>
void parallel_for(std::size_t n, unsigned threads, Fn&& fn) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers = std::min<std::size_t>(threads, n);
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

}  // namespace raft::chaos::detail
