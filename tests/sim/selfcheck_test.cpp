// Self-check of the simulator: this binary links a deliberately broken core
// (RAFT_SIM_INJECTED_BUG names which) and passes only if the random schedules
// catch it, as the kind of violation RAFT_SIM_EXPECTED_KIND names ("safety"
// or "liveness"). A checker that never fires proves nothing.
#include <cstdio>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "sim_runner.hpp"

#ifndef RAFT_SIM_INJECTED_BUG
#error "RAFT_SIM_INJECTED_BUG must name the bug the linked core carries"
#endif
#ifndef RAFT_SIM_EXPECTED_KIND
#error "RAFT_SIM_EXPECTED_KIND must say how the bug shows: safety or liveness"
#endif
#ifndef RAFT_SIM_SELFCHECK_DEFAULT_SCHEDULES
#define RAFT_SIM_SELFCHECK_DEFAULT_SCHEDULES 2000
#endif

namespace raft::sim {
namespace {

constexpr std::uint64_t kDefaultSchedules = RAFT_SIM_SELFCHECK_DEFAULT_SCHEDULES;
const std::string kExpectedKind = RAFT_SIM_EXPECTED_KIND;

TEST(SimSelfCheck, CatchesInjectedBug) {
  // Its own count variable: a sanitizer run that lowers RAFT_SIM_SCHEDULES
  // must not starve the self-check, which stops at the first catch anyway.
  BatchOptions options = batch_options_from_env(kDefaultSchedules, "RAFT_SIM_SELFCHECK_SCHEDULES");
  options.gtest_filter = current_test_filter();
  options.stop_at_first_violation = true;
  // One worker: the first catch is then the lowest violating seed, every
  // run. A rare bug's long search uses every core instead (whichever
  // violation is found first, the verdict is the same).
  if (kDefaultSchedules <= 2000) options.jobs = 1;
  options.max_reports = 1;
  options.skip_liveness = kExpectedKind == "safety";
  const BatchTotals totals = run_batch(options);
  std::printf("%s\n", summary_line(totals).c_str());
  if (totals.liveness_skipped != 0) {
    std::printf("sim self-check: %llu schedules that only stalled were passed over\n",
                static_cast<unsigned long long>(totals.liveness_skipped));
  }
  ASSERT_EQ(totals.violations, 1u) << "the injected bug " << RAFT_SIM_INJECTED_BUG
                                   << " went unnoticed in " << totals.schedules << " schedules";
  // Only the expected kind counts: a safety bug caught only as a liveness
  // failure would not show that the checker understands what the bug breaks,
  // and a liveness bug caught as a safety violation would be a checker bug.
  const std::set<std::string> safety = {
      "Election Safety",   "Election Quorum",     "Leader Append-Only",
      "Log Matching",      "Leader Completeness", "State Machine Safety",
      "Linearizable Read", "Term monotonic",      "Commit monotonic"};
  const Violation& v = totals.failures.front().violation;
  const std::string kind = safety.count(v.invariant) == 1 ? "safety" : "liveness";
  EXPECT_EQ(kind, kExpectedKind) << "caught only as: " << v.invariant;
  EXPECT_TRUE(kind == "safety" || v.invariant == "Liveness") << "unknown invariant " << v.invariant;
  std::printf(
      "sim self-check: injected bug %s caught as \"%s\" in seed %llu, after %llu schedules\n",
      RAFT_SIM_INJECTED_BUG, v.invariant.c_str(),
      static_cast<unsigned long long>(totals.failures.front().seed),
      static_cast<unsigned long long>(totals.schedules));
}

}  // namespace
}  // namespace raft::sim
