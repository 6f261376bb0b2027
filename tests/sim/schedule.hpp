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

/// Conditions added after the first million-schedule hunt found liveness
/// bugs that needed them. They come from their own random stream, drawn
/// after everything else, so the cluster, faults and load of every older
/// seed are what they were; a schedule with `widening = {}` is exactly the
/// schedule that seed drew before (tests/sim/regression_seed_test.cpp
/// replays the seeds that found bugs that way).
struct Widening {
  /// A slow disk: every synced Ready's messages leave this much later.
  TimeMs sync_latency_ms = 0;
  /// A lagging loop: this node ticks only every `lag_factor` tick intervals.
  NodeId lagging_node = kNoNode;
  TimeMs lag_factor = 1;
  /// A stale-log node: cut off from the start until `stale_until_ms`, so it
  /// misses entries, then it campaigns every `campaign_gap_ms` until
  /// `campaign_until_ms` (elections it cannot win, in rising terms).
  NodeId stale_campaigner = kNoNode;
  TimeMs stale_until_ms = 0;
  TimeMs campaign_gap_ms = 0;
  TimeMs campaign_until_ms = 0;
  /// A long partition: from `long_partition_at_ms`, the first
  /// `long_partition_size` nodes of a shuffled order are cut off from the
  /// rest for `long_partition_ms` (many election timeouts), then healed.
  TimeMs long_partition_at_ms = 0;
  TimeMs long_partition_ms = 0;
  std::size_t long_partition_size = 0;
  /// Narrow election timeouts: the spread (max - min) becomes this many
  /// hundredths of the minimum, below the cluster's own 50-100. Candidates
  /// then time out close together and split votes often, so a node that
  /// restarts its timer on the wrong signal keeps losing the race (seeds
  /// 197729, 584778 and 662466 had the narrowest spread the cluster draws).
  std::uint64_t spread_percent = 0;
  /// PreVote off whatever the cluster drew: stale candidates then raise
  /// terms, which is what tests the election timer's rules.
  bool pre_vote_off = false;

  bool any() const {
    return sync_latency_ms != 0 || lagging_node != kNoNode || stale_campaigner != kNoNode ||
           long_partition_ms != 0;
  }
};

/// Membership changes, in one schedule in three. Drawn from their own random
/// stream after everything else (like Widening): a schedule with
/// `membership = {}` is exactly the schedule its seed drew before
/// membership existed.
struct MembershipPlan {
  /// Nodes 0..initial_voters-1 start as voters, the others STANDBY; 0: off.
  std::size_t initial_voters = 0;
  /// During the chaos a change is asked for every uniform [1, gap_max_ms].
  TimeMs gap_max_ms = 0;
  /// And of every new leader the moment it is elected (before its no-op can
  /// have committed: the path of Ongaro's 2015 counterexample).
  bool at_election = false;
  /// A leader that has just taken a change is cut off from everyone this
  /// often (in hundredths): the change stays on it alone, uncommitted, for
  /// the next leader to meet in the others' logs, or not.
  std::uint32_t cut_after_change_percent = 0;
  /// The race of Ongaro's 2015 counterexample, as a fault pattern: when a
  /// node replaces a leader that was cut off after a change, it is asked
  /// for a change at once (above), then the cluster splits into the new
  /// leader with a random half of the others, and the old leader with the
  /// rest: two configurations, each one change from the last committed one,
  /// now compete. In hundredths of such elections.
  std::uint32_t race_percent = 0;
  /// Weights of add_learner, add_node, promote and remove_node.
  std::array<std::uint32_t, 4> weights{};
  /// Config::promote_lag_entries_max.
  std::size_t promote_lag_entries_max = 64;

  bool on() const { return initial_voters != 0; }
};

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
  Widening widening;
  MembershipPlan membership;

  /// One line: node count, timeouts, flags, fault mix.
  std::string describe() const;
  /// The cluster as the schedule runs it: `cluster` with the widening's
  /// slow disk, lagging loop, timeouts and PreVote applied, and the
  /// membership plan's initial voters.
  ClusterOptions run_options() const;
};

/// "partition", "crash_before_sync", ...
std::string_view fault_kind_name(FaultKind kind);

/// Seeds divisible by this run on disk.
inline constexpr std::uint64_t kDiskScheduleEvery = 10;

ScheduleParams make_schedule(std::uint64_t seed);

}  // namespace raft::sim
