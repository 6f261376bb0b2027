// The random-schedule simulation: thousands of seeded schedules of faults and
// client load, with Raft's safety invariants checked after every step and
// liveness checked after the faults heal.
#include <cstdio>

#include <gtest/gtest.h>

#include "sim_runner.hpp"

namespace raft::sim {
namespace {

constexpr std::uint64_t kDefaultSchedules = 2000;

TEST(SimRandom, Schedules) {
  BatchOptions options = batch_options_from_env(kDefaultSchedules);
  options.gtest_filter = current_test_filter();
  const BatchTotals totals = run_batch(options);
  std::printf("%s\n%s\n", summary_line(totals).c_str(), coverage_lines(totals).c_str());
  EXPECT_EQ(totals.violations, 0u)
      << "see the VIOLATION reports above; each names its replay command";
}

}  // namespace
}  // namespace raft::sim
