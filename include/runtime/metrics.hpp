#pragma once
/// Metrics: counters and gauges of one node, updated by its loop and HTTP
/// threads and rendered in the Prometheus text format for GET /metrics.
/// Thread-safe: atomics for numbers, a mutex only for the labelled HTTP counts.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "raft/message.hpp"

namespace raft::runtime {

/// A fixed-bucket latency histogram (seconds), lock-free to observe.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
  void observe(double seconds);
  /// Appends the buckets, _sum and _count lines for `name` with `labels`
  /// (the caller writes the family's # HELP and # TYPE once).
  void render(const std::string& name, const std::string& labels, std::string& out) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

struct Metrics {
  static constexpr std::size_t kTypes = kMessageTypeMax + 1;

  // Gauges, set by the loop after each pass.
  std::atomic<std::uint64_t> term{0};
  std::atomic<int> role{0};  ///< 0 INITIAL, 1 FOLLOWER, 2 CANDIDATE, 3 LEADER
  std::atomic<std::uint64_t> commit_index{0};
  std::atomic<std::uint64_t> last_applied{0};
  std::atomic<std::uint64_t> log_length{0};
  std::atomic<int> paused{0};
  std::atomic<int> crashed{0};

  // Counters.
  std::atomic<std::uint64_t> elections_started{0};
  std::atomic<std::uint64_t> pre_votes_started{0};
  std::atomic<std::uint64_t> elections_won{0};
  std::atomic<std::uint64_t> leader_changes{0};
  std::atomic<std::uint64_t> entries_applied{0};
  std::atomic<std::uint64_t> snapshots_taken{0};
  std::atomic<std::uint64_t> snapshots_installed{0};
  std::atomic<std::uint64_t> kv_writes{0};
  std::atomic<std::uint64_t> kv_reads{0};
  std::array<std::atomic<std::uint64_t>, kTypes> messages_sent{};
  std::array<std::atomic<std::uint64_t>, kTypes> messages_received{};
  std::atomic<std::uint64_t> messages_dropped{0};  ///< paused, partitioned, or queue full
  std::atomic<std::uint64_t> decode_errors{0};
  Histogram fsync_seconds;
  /// One write on the leader, stage by stage (raft_write_stage_seconds):
  /// queued (HTTP thread -> the loop proposes it), leader_sync (proposed ->
  /// the leader's own copy is durable), replicate_commit (durable -> a
  /// quorum holds it and it is applied), and total (queued -> answered).
  Histogram write_queue_seconds;
  Histogram write_leader_sync_seconds;
  Histogram write_replicate_commit_seconds;
  Histogram write_total_seconds;

  void count_http_request(const std::string& method, int status);
  std::string render_prometheus() const;

 private:
  mutable std::mutex http_mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> http_requests_;
};

}  // namespace raft::runtime
