// Seeds of the random simulation that once found a bug, replayed as named
// scenarios so the bug cannot come back unnoticed. Each runs the whole
// schedule its seed draws (schedule.hpp) and must end without a violation;
// on failure the report names the replay command. A change to the schedule
// generator that changes what these seeds draw must keep each of them
// reaching the state it names (check with RAFT_SIM_SEED=S RAFT_SIM_VERBOSE=1).
#include <cstdint>

#include <gtest/gtest.h>

#include "schedule.hpp"
#include "schedule_driver.hpp"
#include "sim_runner.hpp"

namespace raft::sim {
namespace {

::testing::AssertionResult runs_clean(std::uint64_t seed) {
  // Without the conditions added since (schedule.hpp: Widening): exactly
  // the schedule that found the bug.
  ScheduleParams params = make_schedule(seed);
  params.widening = {};
  const ScheduleResult r = run_schedule(params);
  if (!r.violation) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << r.violation->invariant << ": " << r.violation->details << "\n  nodes: " << r.nodes
         << "\n  replay: " << replay_command(seed, current_test_filter());
}

// 5 nodes, PreVote on, snapshots every 8 entries: duplicated and reordered
// InstallSnapshot answers left the leader counting an answered append as in
// flight; its window stayed full and, once it compacted past the follower's
// match, it sent that follower nothing, ever (tests/raft/silent_leader_test).
TEST(RegressionSeed, Seed442767LeaderNeverFallsSilentTowardsAFollower) {
  EXPECT_TRUE(runs_clean(442767));
}

// 4 nodes, PreVote and CheckQuorum off: nodes with stale logs campaigned in
// turn, and every vote request they sent restarted the election timer of the
// one up-to-date node, which therefore never stood (tests/raft/
// election_timer_test: the timer restarts only as Raft's Figure 2 says).
TEST(RegressionSeed, Seed197729StaleCandidatesCannotSilenceTheUpToDateNode) {
  EXPECT_TRUE(runs_clean(197729));
}

TEST(RegressionSeed, Seed584778StaleCandidatesCannotSilenceTheUpToDateNode) {
  EXPECT_TRUE(runs_clean(584778));
}

// The same with CheckQuorum on.
TEST(RegressionSeed, Seed662466StaleCandidatesCannotSilenceTheUpToDateNode) {
  EXPECT_TRUE(runs_clean(662466));
}

}  // namespace
}  // namespace raft::sim
