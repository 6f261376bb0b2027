#include "raft/log.hpp"

#include <gtest/gtest.h>

namespace raft {
namespace {

std::vector<Entry> entries(Index first, std::initializer_list<Term> terms) {
  std::vector<Entry> out;
  Index i = first;
  for (Term t : terms) out.push_back({t, i++, EntryType::Command, "e" + std::to_string(i)});
  return out;
}

TEST(RaftLog, EmptyLogKnowsTermZeroAtIndexZero) {
  RaftLog log;
  EXPECT_EQ(log.first_index(), 1u);
  EXPECT_EQ(log.last_index(), 0u);
  EXPECT_EQ(log.last_term(), 0u);
  EXPECT_EQ(log.term_at(0), Term{0});
  EXPECT_FALSE(log.term_at(1).has_value());
  EXPECT_TRUE(log.matches(0, 0));
}

TEST(RaftLog, TermAtCoversSnapshotAndEntriesOnly) {
  RaftLog log({5, 2}, entries(6, {2, 3, 3}));
  EXPECT_EQ(log.first_index(), 6u);
  EXPECT_EQ(log.last_index(), 8u);
  EXPECT_EQ(log.term_at(5), Term{2});
  EXPECT_EQ(log.term_at(7), Term{3});
  EXPECT_FALSE(log.term_at(4).has_value()) << "compacted";
  EXPECT_FALSE(log.term_at(9).has_value()) << "future";
}

TEST(RaftLog, SliceRespectsCountAndBytesButSendsAtLeastOne) {
  RaftLog log({}, entries(1, {1, 1, 1, 1}));
  EXPECT_EQ(log.slice(1, 2, 1000).size(), 2u);
  EXPECT_EQ(log.slice(2, 100, 1000).size(), 3u);
  EXPECT_EQ(log.slice(1, 100, 0).size(), 1u) << "one entry even when it alone exceeds the byte cap";
}

TEST(RaftLog, TruncateDropsSuffix) {
  RaftLog log({}, entries(1, {1, 1, 2, 2}));
  log.truncate_from(3);
  EXPECT_EQ(log.last_index(), 2u);
  EXPECT_EQ(log.last_term(), 1u);
}

TEST(RaftLog, CompactKeepsEntriesThatContinueTheSnapshot) {
  RaftLog log({}, entries(1, {1, 1, 2, 2}));
  log.compact_to({2, 1});
  EXPECT_EQ(log.first_index(), 3u);
  EXPECT_EQ(log.last_index(), 4u);
  EXPECT_EQ(log.at(3).term, 2u);
}

TEST(RaftLog, CompactDiscardsLogThatConflictsWithTheSnapshot) {
  RaftLog log({}, entries(1, {1, 1, 2, 2}));
  log.compact_to({3, 5});
  EXPECT_EQ(log.first_index(), 4u);
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_EQ(log.last_term(), 5u);
}

TEST(RaftLog, FastBackOffHelpersFindTermBoundaries) {
  RaftLog log({}, entries(1, {1, 2, 2, 2, 4}));
  EXPECT_EQ(log.first_index_of_term_at(4), 2u);
  EXPECT_EQ(log.first_index_of_term_at(1), 1u);
  EXPECT_EQ(log.last_index_of_term(2), 4u);
  EXPECT_EQ(log.last_index_of_term(3), 0u);
  EXPECT_EQ(log.last_index_of_term(4), 5u);
}

TEST(RaftLog, UpToDateComparesLastTermThenLength) {
  // §5.4.1: later term wins; same term, longer log wins.
  RaftLog log({}, entries(1, {1, 2, 2}));
  EXPECT_TRUE(log.candidate_is_up_to_date(1, 3));
  EXPECT_TRUE(log.candidate_is_up_to_date(3, 2));
  EXPECT_FALSE(log.candidate_is_up_to_date(2, 2));
  EXPECT_FALSE(log.candidate_is_up_to_date(10, 1));
}

}  // namespace
}  // namespace raft
