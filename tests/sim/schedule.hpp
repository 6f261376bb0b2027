#pragma once
/// Random schedules: a seed decides a cluster (3 to 7 nodes, timeouts, flow
/// control, snapshot cadence), a fault mix and a client load. Everything is
/// drawn from a raft::Rng stream derived from the seed, so a seed is a
/// schedule. schedule_driver.hpp plays them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sim_cluster.hpp"
#include "sim_network.hpp"

namespace raft::sim {

enum class FaultKind : std::uint8_t {
  Partition,      ///< random split into two or three groups
  IsolateLeader,  ///< the leader alone, or with one follower, on the minority side
  OneWay,         ///< one direction of one link
  Heal,           ///< every link back
  Pause,          ///< a node stops: no ticks, incoming messages dropped
  Resume,
  Crash,  ///< a random node loses its volatile state
  CrashLeader,
  CrashBeforeSync,  ///< crash inside the next Ready, after writing, before syncing
  Restart,
  Transfer,       ///< leadership transfer to a random node
  Campaign,       ///< trigger_election or force_timeout on a random node
  NetworkChange,  ///< new loss, duplication and reordering rates
  kCount,
};

inline constexpr std::size_t kFaultKindCount = static_cast<std::size_t>(FaultKind::kCount);

struct ScheduleParams {
  std::uint64_t seed = 0;
  ClusterOptions cluster;
  TimeMs chaos_ms = 2000;
  /// Gaps between faults, writes and reads are uniform in [1, max].
  TimeMs fault_gap_max_ms = 200;
  TimeMs write_gap_max_ms = 20;
  TimeMs read_gap_max_ms = 50;
  std::size_t key_count = 2;
  /// Nodes crashed or paused at the same time, at most.
  std::size_t max_down = 1;
  std::array<std::uint32_t, kFaultKindCount> fault_weights{};
  /// Faults every few milliseconds, mostly forced elections and leader isolation.
  bool leader_churn = false;
  /// NetworkChange draws rates between reliable and these.
  NetworkOptions worst_network;
  /// The nodes keep their state in real FileStores in a temporary directory
  /// (one schedule in kDiskScheduleEvery), so every restart reads files back.
  bool on_disk = false;

  /// One line: node count, timeouts, flags, fault mix.
  std::string describe() const;
};

/// "partition", "crash_before_sync", ...
std::string_view fault_kind_name(FaultKind kind);

/// Seeds divisible by this run on disk.
inline constexpr std::uint64_t kDiskScheduleEvery = 10;

ScheduleParams make_schedule(std::uint64_t seed);

}  // namespace raft::sim
