// RAFT_ASSERT stays on in every build: these death tests run in the default
// RelWithDebInfo build, where NDEBUG is defined and assert() is compiled out.
#include "raft/assert.hpp"

#include <gtest/gtest.h>

#include "raft/log.hpp"
#include "raft/progress.hpp"

namespace raft {
namespace {

class RaftAssertDeathTest : public ::testing::Test {
 protected:
  // Re-executes the test binary for each death test: safe with threads and
  // under the sanitizers.
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

#ifdef NDEBUG
constexpr bool kNdebug = true;
#else
constexpr bool kNdebug = false;
#endif

TEST_F(RaftAssertDeathTest, PrintsFileLineConditionAndMessageThenAborts) {
  RecordProperty("NDEBUG", kNdebug ? "defined" : "undefined");
  const int answer = 41;
  EXPECT_DEATH(RAFT_ASSERT(answer == 42, "the answer is 42"),
               "assert_test\\.cpp:[0-9]+: RAFT_ASSERT\\(answer == 42\\) failed: the answer is 42");
}

TEST_F(RaftAssertDeathTest, PassesSilentlyWhenTheConditionHolds) {
  int evaluated = 0;
  RAFT_ASSERT(++evaluated == 1, "the condition is evaluated exactly once");
  EXPECT_EQ(evaluated, 1);
}

TEST_F(RaftAssertDeathTest, TheLogRefusesAGapOnAppend) {
  RaftLog log;
  EXPECT_DEATH(log.append(Entry{1, 2, EntryType::Command, "gap"}), "log indexes are consecutive");
}

TEST_F(RaftAssertDeathTest, AProgressRefusesAStaleRejection) {
  Progress p;
  p.match = 4;
  p.become_replicate();
  ASSERT_TRUE(p.rejection_is_stale(3));
  EXPECT_DEATH(p.decrease_to(3, 1), "only a genuine rejection moves next back");
}

TEST_F(RaftAssertDeathTest, AProgressSendsASnapshotOnlyForFoldedEntries) {
  Progress p;
  p.match = 9;
  p.become_probe();
  EXPECT_DEATH(p.become_snapshot(SnapshotMeta{5, 1}),
               "a snapshot is sent only for entries it folded");
}

}  // namespace
}  // namespace raft
