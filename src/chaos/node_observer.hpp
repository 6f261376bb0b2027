#pragma once
// What a chaos run observes on the nodes themselves, beside the clients'
// history: who leads over time (and whether two ever lead in one term), and
// whether the nodes' logs agree on every committed index.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "chaos/report.hpp"
#include "launcher/cluster.hpp"

namespace raft::chaos {

/// Polls every node's /status and records who leads; also checks Election
/// Safety on what it sees (two nodes leading in one term).
class LeaderSampler {
 public:
  LeaderSampler(launcher::Cluster& cluster, std::chrono::steady_clock::time_point epoch)
      : cluster_(cluster), epoch_(epoch) {}

  /// Samples every 100 ms until `stop` is set. Call from one thread.
  void run(const std::atomic<bool>& stop);
  std::vector<LeaderSample> samples() const {
    std::lock_guard lock(mutex_);
    return samples_;
  }
  std::vector<std::string> problems() const {
    std::lock_guard lock(mutex_);
    return problems_;
  }

 private:
  launcher::Cluster& cluster_;
  std::chrono::steady_clock::time_point epoch_;
  mutable std::mutex mutex_;
  std::vector<LeaderSample> samples_;
  std::map<std::uint64_t, std::set<int>> leaders_by_term_;
  std::set<std::uint64_t> reported_;
  std::vector<std::string> problems_;
};

/// Log Matching on the real nodes: every index committed on two nodes and
/// still in both logs (not compacted) holds the same entry. Waits up to 15 s
/// for the commit indexes to converge first. Returns the disagreements;
/// `*compared` counts the (index, node pair) comparisons made.
std::vector<std::string> compare_logs(const launcher::Cluster& cluster, std::size_t* compared);

}  // namespace raft::chaos
