// Stale reads (?stale=true) are not linearizable, but they promise a value
// that was written, never one from the future, and no going back on a node
// between restarts; each broken promise is reported, and nothing else is.
#include "chaos/stale_reads.hpp"

#include <gtest/gtest.h>

#include "chaos/checker.hpp"
#include "history_builder.hpp"

namespace raft::chaos {
namespace {

using test::H;

/// a at index 5 and b at index 9, both answered by node 0.
H two_writes() {
  H h;
  h.write(0, "a", 0, 10).at(0, 5).write(0, "b", 20, 30).at(0, 9);
  return h;
}

std::vector<StaleReadProblem> problems(const H& h, const std::vector<RestartWindow>& r = {}) {
  return check_stale_reads(h.ops, r);
}

TEST(StaleReads, OldValuesOnOtherNodesAreFine) {
  H h = two_writes();
  h.stale(1, "a", 40, 41).stale(2, std::nullopt, 42, 43).stale(1, "b", 44, 45);
  h.stale(2, "a", 46, 47).stale(2, "b", 48, 49);
  EXPECT_TRUE(problems(h).empty());
  EXPECT_TRUE(h.check().linearizable) << "stale reads are not linearizability's business";
}

TEST(StaleReads, AValueNoWriteWroteIsReported) {
  H h = two_writes();
  h.write(1, "f", 31, 32, Outcome::Fail).stale(1, "f", 40, 41).stale(1, "zzz", 42, 43);
  const auto p = problems(h);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].op_id, 3);
  EXPECT_NE(p[0].explanation.find("no write that may have taken effect wrote"), std::string::npos);
  EXPECT_EQ(p[1].op_id, 4);
}

TEST(StaleReads, AValueFromTheFutureIsReported) {
  H h;
  h.write(0, "a", 0, 10).stale(1, "b", 12, 14).write(0, "b", 20, 30);
  const auto p = problems(h);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].explanation.find("from the future"), std::string::npos) << p[0].explanation;
  H unknown;  // an unknown write may have landed before the read, if it was called before it
  unknown.write(0, "b", 5, 30, Outcome::Unknown).stale(1, "b", 12, 14);
  EXPECT_TRUE(problems(unknown).empty());
}

TEST(StaleReadsAppliedIndex, AValueAboveTheNamedAppliedIndexIsReported) {
  H h = two_writes();
  h.stale(1, "b", 40, 41, 7);
  const auto p = problems(h);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].explanation.find("above the applied index 7"), std::string::npos);
}

TEST(StaleReadsAppliedIndex, AValueReplacedAtOrBelowTheNamedIndexIsReported) {
  H h = two_writes();
  h.stale(1, "a", 40, 41, 7).stale(2, "a", 42, 43, 9);
  const auto p = problems(h);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].op_id, 3);
  EXPECT_NE(p[0].explanation.find("op #1 had replaced at index 9"), std::string::npos)
      << p[0].explanation;
}

TEST(StaleReadsAppliedIndex, TheAppliedIndexNeverGoesBack) {
  H h = two_writes();
  h.stale(1, "b", 40, 41, 12).stale(1, "b", 42, 43, 10);
  const auto p = problems(h);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].explanation.find("below index 12"), std::string::npos) << p[0].explanation;
}

TEST(StaleReadsMonotonic, ANodeThatShowedANewerValueMustNotGoBack) {
  H h = two_writes();
  h.stale(1, "b", 40, 41).stale(1, "a", 42, 43);
  const auto p = problems(h);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].op_id, 3);
  EXPECT_EQ(p[0].node, 1);
  EXPECT_NE(p[0].explanation.find("node 1 had applied index 9"), std::string::npos)
      << p[0].explanation;
}

TEST(StaleReadsMonotonic, TheLeaderThatAnsweredAWriteHasAppliedIt) {
  H h = two_writes();
  h.stale(0, "a", 40, 41);
  EXPECT_EQ(problems(h).size(), 1u);
  H overlapping = two_writes();  // the read began before the write's answer came
  overlapping.stale(0, "a", 25, 41);
  EXPECT_TRUE(problems(overlapping).empty());
}

TEST(StaleReadsMonotonic, ShownValuesAcrossKeysBoundTheAppliedIndex) {
  H h = two_writes();
  Operation other;  // node 1 returns x of key "j", written at index 12
  other.id = 2;
  other.key = "j";
  other.kind = OpKind::Write;
  other.value = "x";
  other.outcome = Outcome::Ok;
  other.invoke_us = 31;
  other.complete_us = 32;
  other.log_index = 12;
  h.ops.push_back(other);
  h.stale(1, "x", 40, 41);
  h.ops.back().key = "j";
  h.stale(1, "a", 42, 43);  // a was replaced at 9 < 12
  const auto p = problems(h);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].op_id, 4);
}

TEST(StaleReadsMonotonic, WithoutIndexesRealTimeOrderDecides) {
  H h;  // no log indexes: b certainly came after a
  h.write(0, "a", 0, 10).write(0, "b", 20, 30).stale(1, "b", 40, 41).stale(1, "a", 42, 43);
  const auto p = problems(h);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].explanation.find("went back"), std::string::npos) << p[0].explanation;
  H concurrent;  // a and b overlapped: either may be the later one
  concurrent.write(0, "a", 0, 30).write(0, "b", 5, 30).stale(1, "b", 40, 41).stale(1, "a", 42, 43);
  EXPECT_TRUE(problems(concurrent).empty());
}

TEST(StaleReadsMonotonic, AbsentAfterAShownWriteNeedsADelete) {
  H h = two_writes();
  h.stale(1, "b", 40, 41).stale(1, std::nullopt, 42, 43);
  EXPECT_EQ(problems(h).size(), 1u);
  H deleted = two_writes();
  deleted.del(0, 31, 33, Outcome::Unknown).stale(1, "b", 40, 41).stale(1, std::nullopt, 42, 43);
  EXPECT_TRUE(problems(deleted).empty());
}

TEST(StaleReadsMonotonic, ARestartMayGoBackToTheSnapshot) {
  H h = two_writes();
  h.stale(1, "b", 40, 41).stale(1, "a", 60, 61);
  EXPECT_EQ(problems(h, {{1, 50, 55}}).size(), 0u) << "restarted between the reads";
  EXPECT_EQ(problems(h, {{2, 50, 55}}).size(), 1u) << "another node restarted";
  EXPECT_EQ(problems(h, {{1, 41, 59}}).size(), 0u);
  H during = two_writes();  // a read that overlaps a restart is compared with nothing
  during.stale(1, "b", 40, 41).stale(1, "a", 52, 61).stale(1, "a", 62, 63);
  EXPECT_EQ(problems(during, {{1, 50, 55}}).size(), 0u);
}

}  // namespace
}  // namespace raft::chaos
