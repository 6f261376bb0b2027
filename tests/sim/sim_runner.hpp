#pragma once
/// Runs many random schedules and reports them: the totals line, and for each
/// violation the seed, the invariant, its details, the last trace lines and
/// the one command that replays it. Environment:
///   RAFT_SIM_SCHEDULES=N    run N schedules (seeds first..first+N-1)
///   RAFT_SIM_FIRST_SEED=S   start there (default 1)
///   RAFT_SIM_SEED=S         run exactly seed S (and print its whole trace if
///                           RAFT_SIM_VERBOSE=1)
///   RAFT_SIM_JOBS=J         run J schedules at once (default: every core)
///   RAFT_SIM_DISK_DIR=D     where disk-backed schedules (every seed divisible
///                           by 10) keep their files; default: the temp folder

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "schedule_driver.hpp"

namespace raft::sim {

struct BatchOptions {
  std::uint64_t first_seed = 1;
  std::uint64_t count = 2000;
  /// Worker threads; schedules are independent, so the result does not
  /// depend on it (only the order in which violations are printed does).
  std::uint64_t jobs = 1;
  bool verbose = false;
  bool stop_at_first_violation = false;
  /// Liveness failures are counted (BatchTotals::liveness_skipped) but are
  /// not violations: a self-check that wants its bug caught as a safety
  /// violation searches past schedules where it only stalled the cluster.
  bool skip_liveness = false;
  /// Violations printed in full (the rest are counted).
  std::size_t max_reports = 3;
  /// The gtest filter that selects the calling test, for the replay command.
  std::string gtest_filter;
};

/// `default_count` unless the environment says otherwise (see above);
/// `count_variable` names the variable that overrides it.
BatchOptions batch_options_from_env(std::uint64_t default_count,
                                    const char* count_variable = "RAFT_SIM_SCHEDULES");

/// How many schedules took each path, so a path never taken is visible.
struct Coverage {
  /// Schedules in which at least one fault of each FaultKind was injected.
  std::array<std::uint64_t, kFaultKindCount> faults{};
  /// Schedules that delivered at least one message of each raft::MessageType.
  std::array<std::uint64_t, kMessageTypeMax + 1> messages{};
  std::uint64_t pre_vote_off = 0;
  std::uint64_t check_quorum_off = 0;
  std::uint64_t leader_churn = 0;
  std::uint64_t compacting = 0;         ///< schedules whose state machines take snapshots
  std::uint64_t snapshot_installs = 0;  ///< schedules where a follower installed one
  std::uint64_t crashes_before_sync = 0;
  std::uint64_t crashes_after_send = 0;  ///< a leader between sending its entries and syncing
  std::uint64_t disk_restarts = 0;       ///< schedules that recovered a node from files
  // Widening (schedule.hpp)
  std::uint64_t slow_disk = 0;
  std::uint64_t lagging_loop = 0;
  std::uint64_t stale_campaigner = 0;
  std::uint64_t long_partition = 0;
  std::uint64_t narrow_timeouts = 0;
  // Membership (schedule.hpp: MembershipPlan)
  std::uint64_t membership = 0;  ///< schedules with membership changes drawn
  /// Schedules where a leader took a change, by raft::ConfChangeType.
  std::array<std::uint64_t, 4> conf_changes{};
  /// Schedules where a leader refused one, by MembershipRefusal.
  std::array<std::uint64_t, 5> conf_refusals{};
  std::uint64_t auto_promotions = 0;
  std::uint64_t confs_committed = 0;
  std::uint64_t conf_rollbacks = 0;
  std::uint64_t removed_leaders = 0;
  std::uint64_t standby_to_member = 0;
  std::uint64_t member_to_standby = 0;
  std::uint64_t snapshot_confs = 0;
  std::uint64_t races = 0;  ///< schedules that raced a new leader against the old
};

struct BatchTotals {
  std::uint64_t schedules = 0;
  std::uint64_t violations = 0;
  std::uint64_t liveness_skipped = 0;  ///< with BatchOptions::skip_liveness
  std::uint64_t disk_schedules = 0;    ///< run on real FileStores
  std::uint64_t jobs = 1;
  ClusterStats stats;
  NetworkStats network;
  Coverage coverage;
  TimeMs virtual_ms = 0;
  double wall_s = 0;
  struct Failure {
    std::uint64_t seed = 0;
    Violation violation;
  };
  std::vector<Failure> failures;  ///< by seed
};

BatchTotals run_batch(const BatchOptions& options);
/// "sim: 2000 schedules, 0 violations, ... steps, ..."
std::string summary_line(const BatchTotals& totals);
/// "sim coverage: ..." lines: schedules per fault kind, message type and
/// configuration, ending with what no schedule took ("never: ...").
std::string coverage_lines(const BatchTotals& totals);

/// argv[0], recorded by main(), for replay commands.
void set_program_path(std::string path);
std::string replay_command(std::uint64_t seed, const std::string& gtest_filter);
/// "Suite.Name" of the running gtest test.
std::string current_test_filter();

}  // namespace raft::sim
