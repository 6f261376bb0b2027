#pragma once
/// Plays one random schedule (schedule.hpp) in three phases:
///   1. chaos: faults and client writes and reads at random instants;
///   2. heal: every partition removed, every node running, network reliable;
///   3. liveness: a stable leader must appear within 10 election timeouts,
///      and every state machine must then apply everything committed and
///      everything in that leader's log within another 10 (plus the round
///      trips flow control needs for the backlog).
/// Safety is checked after every step throughout (InvariantChecker); the run
/// stops at the first violation. A disk-backed schedule (params.on_disk) runs
/// in a fresh temporary directory, removed afterwards unless it failed.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "invariant_checker.hpp"
#include "schedule.hpp"
#include "sim_cluster.hpp"
#include "sim_network.hpp"

namespace raft::sim {

struct ScheduleResult {
  std::uint64_t seed = 0;
  std::optional<Violation> violation;
  std::vector<std::string> trace_tail;
  std::string nodes;  ///< SimCluster::describe_nodes() at the end
  ClusterStats stats;
  NetworkStats network;
  TimeMs virtual_ms = 0;
  /// Faults injected during the chaos, by FaultKind.
  std::array<std::uint64_t, kFaultKindCount> faults{};
  /// Membership races played (MembershipPlan::race_percent).
  std::uint64_t races = 0;
  bool on_disk = false;
  /// On disk, after a violation with keep_failed_disk: the nodes' directories.
  std::string disk_dir;
};

/// `keep_failed_disk`: a disk-backed schedule that fails keeps its files
/// (named in ScheduleResult::disk_dir) instead of removing them.
ScheduleResult run_schedule(const ScheduleParams& params, bool echo_trace = false,
                            bool keep_failed_disk = false);

}  // namespace raft::sim
