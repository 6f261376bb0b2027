// Log replication (Raft §5.3) and commitment (§5.4.2).
#include <gtest/gtest.h>

#include "local_cluster.hpp"
#include "test_util.hpp"

namespace raft {
namespace {

using test::append;
using test::entries_of_terms;
using test::of_type;
using test::small_config;
using test::take_messages;
using testing::LocalCluster;

Node recovered(NodeId id, int size, Term term, std::vector<Entry> entries) {
  RecoveredState r;
  r.hard_state.term = term;
  r.entries = std::move(entries);
  return Node(small_config(id, size), r, 0);
}

/// Makes `n` leader of its next term with the votes of the listed nodes.
void make_leader(Node& n, std::initializer_list<NodeId> voters) {
  ASSERT_TRUE(n.trigger_election().ok());
  for (NodeId v : voters) {
    Message grant = test::make(MessageType::VoteResponse, v, n.id(), n.term());
    grant.granted = true;
    n.step(grant);
  }
  ASSERT_EQ(n.role(), Role::Leader);
}

TEST(Follower, RejectsAppendWhosePreviousEntryDoesNotMatchAndNamesTheConflict) {
  Node n = recovered(0, 3, 2, entries_of_terms(1, {1, 1, 2, 2, 2}));
  n.step(append(1, 0, 3, 5, 3));
  auto replies = of_type(take_messages(n), MessageType::AppendResponse);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].success);
  EXPECT_EQ(replies[0].reject_index, 5u);
  EXPECT_EQ(replies[0].conflict_term, 2u);
  EXPECT_EQ(replies[0].hint_index, 3u) << "first index of the conflicting term";
}

TEST(Follower, RejectsAppendBeyondItsLogWithItsLength) {
  Node n = recovered(0, 3, 2, entries_of_terms(1, {1, 1}));
  n.step(append(1, 0, 3, 9, 3));
  auto replies = of_type(take_messages(n), MessageType::AppendResponse);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].conflict_term, 0u);
  EXPECT_EQ(replies[0].hint_index, 3u);
}

TEST(Follower, TruncatesAConflictingSuffixAndPersistsTheNewEntries) {
  Node n = recovered(0, 3, 2, entries_of_terms(1, {1, 2, 2}));
  n.step(append(1, 0, 3, 1, 1, entries_of_terms(2, {3})));
  Ready rd = n.ready();
  EXPECT_EQ(n.log().last_index(), 2u);
  EXPECT_EQ(n.log().last_term(), 3u);
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_EQ(rd.entries[0].index, 2u) << "storage overwrites from index 2";
  ASSERT_EQ(of_type(rd.messages, MessageType::AppendResponse).size(), 1u);
  EXPECT_TRUE(rd.messages[0].success);
  EXPECT_EQ(rd.messages[0].match_index, 2u);
}

TEST(Follower, CommitIsTheMinimumOfLeaderCommitAndLastNewEntry) {
  Node n(small_config(0, 3), 0);
  n.step(append(1, 0, 1, 0, 0, entries_of_terms(1, {1, 1}), /*commit=*/5));
  EXPECT_EQ(n.commit_index(), 2u);
  // A heartbeat anchored at index 1 only vouches for index 1.
  Node m(small_config(0, 3), 0);
  m.step(append(1, 0, 1, 0, 0, entries_of_terms(1, {1, 1, 1})));
  m.step(append(1, 0, 1, 1, 1, {}, /*commit=*/3));
  EXPECT_EQ(m.commit_index(), 1u);
}

TEST(Leader, CommitsEarlierTermEntriesOnlyThroughACurrentTermEntry) {
  // The paper's Figure 8 rule: a leader never commits an entry of an earlier
  // term by counting replicas.
  Node n = recovered(0, 3, 2, entries_of_terms(1, {1, 2}));
  make_leader(n, {1});  // term 3, appends its no-op at index 3
  take_messages(n);
  Message ack = test::make(MessageType::AppendResponse, 1, 0, n.term());
  ack.success = true;
  ack.match_index = 2;
  n.step(ack);
  EXPECT_EQ(n.commit_index(), 0u) << "index 2 is from term 2: not committed by counting";
  ack.match_index = 3;
  n.step(ack);
  EXPECT_EQ(n.commit_index(), 3u);
}

TEST(Leader, FastBackOffSkipsAThousandConflictingEntriesInAFewRoundTrips) {
  std::vector<Entry> leader_log = entries_of_terms(1, {1});
  std::vector<Entry> stale_log = entries_of_terms(1, {1});
  for (Index i = 2; i <= 1001; ++i) {
    leader_log.push_back({3, i, EntryType::Command, "new"});
    stale_log.push_back({2, i, EntryType::Command, "stale"});
  }
  Node leader = recovered(0, 3, 3, leader_log);
  Node follower = recovered(1, 3, 2, stale_log);
  make_leader(leader, {2});
  int rejections = 0;
  int round_trips = 0;
  std::vector<Message> to_follower = take_messages(leader);
  while (!to_follower.empty() && round_trips < 100) {
    ++round_trips;
    for (const Message& m : to_follower) {
      if (m.to == 1) follower.step(m);
    }
    std::vector<Message> back = take_messages(follower);
    for (const Message& m : back) {
      if (m.type == MessageType::AppendResponse && !m.success) ++rejections;
      leader.step(m);
    }
    to_follower = take_messages(leader);
    if (follower.log().last_index() == leader.log().last_index() &&
        follower.log().last_term() == leader.log().last_term()) {
      break;
    }
  }
  EXPECT_EQ(follower.log().last_index(), leader.log().last_index());
  EXPECT_EQ(follower.log().term_at(1001), Term{3});
  EXPECT_LE(rejections, 3) << "fast back-off must skip the stale term in one step";
  EXPECT_LE(round_trips, 10);
}

TEST(Leader, PipelinesBoundedBatchesToAFollower) {
  Config cfg = small_config(0, 2);
  cfg.append_entries_max = 10;
  cfg.inflight_appends_max = 3;
  RecoveredState r;
  Node leader(cfg, r, 0);
  make_leader(leader, {1});
  take_messages(leader);
  Message ack = test::make(MessageType::AppendResponse, 1, 0, leader.term());
  ack.success = true;
  ack.match_index = 1;  // the no-op: the follower is now in step
  leader.step(ack);
  take_messages(leader);
  std::vector<std::string> batch(100, "x");
  ASSERT_TRUE(leader.propose_batch(batch).ok());
  auto appends = of_type(take_messages(leader), MessageType::AppendEntries);
  ASSERT_EQ(appends.size(), 3u) << "at most inflight_appends_max unacknowledged";
  for (const Message& m : appends) EXPECT_EQ(m.entries.size(), 10u);
  ack.match_index = appends[0].entries.back().index;
  leader.step(ack);
  EXPECT_EQ(of_type(take_messages(leader), MessageType::AppendEntries).size(), 1u)
      << "one acknowledgement frees one slot";
}

TEST(Replication, EveryNodeAppliesTheSameEntriesInOrderExactlyOnce) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(c.node(leader).propose(EntryType::Command, "cmd" + std::to_string(i)).ok());
    if (i % 7 == 0) c.settle();
  }
  c.advance(200);
  const std::vector<Entry>& reference = c.applied(leader);
  ASSERT_GE(reference.size(), 501u);
  for (std::size_t i = 0; i < reference.size(); ++i) EXPECT_EQ(reference[i].index, i + 1);
  for (NodeId i = 0; i < 3; ++i) EXPECT_EQ(c.applied(i), reference) << "node " << i;
}

TEST(Replication, NoCommitWithoutAMajority) {
  LocalCluster c(5, small_config(0, 5));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  c.advance(100);
  const Index before = c.node(leader).commit_index();
  for (NodeId i = 0; i < 5; ++i) {
    if (i != leader && i != (leader + 1) % 5) c.down[i] = true;
  }
  Result r = c.node(leader).propose(EntryType::Command, "lonely");
  ASSERT_TRUE(r.ok());
  c.advance(100);
  EXPECT_EQ(c.node(leader).commit_index(), before) << "2 of 5 is not a majority";
  c.down.clear();
  c.advance(200);
  EXPECT_GE(c.node(leader).commit_index(), r.index);
}

TEST(Replication, DeposedLeaderWithUncommittedEntriesAdoptsTheNewLeadersLog) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId old_leader = c.elect();
  ASSERT_NE(old_leader, kNoNode);
  c.advance(100);
  c.drop = [&](const Message& m) { return m.from == old_leader || m.to == old_leader; };
  for (int i = 0; i < 5; ++i) c.node(old_leader).propose(EntryType::Command, "lost");
  c.settle();
  NodeId new_leader = kNoNode;
  ASSERT_TRUE(c.advance_until(
      [&] {
        new_leader = c.leader();
        return new_leader != kNoNode && new_leader != old_leader;
      },
      5000));
  Result r = c.node(new_leader).propose(EntryType::Command, "kept");
  ASSERT_TRUE(r.ok());
  c.drop = nullptr;
  c.advance(1000);
  EXPECT_EQ(c.node(old_leader).role(), Role::Follower);
  EXPECT_EQ(c.node(old_leader).log().last_index(), c.node(new_leader).log().last_index());
  for (const Entry& e : c.applied(old_leader)) EXPECT_NE(e.data, "lost");
  EXPECT_EQ(c.applied(old_leader).back().data, "kept");
}

TEST(Replication, ProposalsAreRefusedOffTheLeaderWithAHint) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  c.advance(100);
  Result r = c.node((leader + 1) % 3).propose(EntryType::Command, "x");
  EXPECT_EQ(r.status, Status::NotLeader);
  EXPECT_EQ(r.leader_hint, leader);
}

TEST(Replication, LostAppendsAreRetransmitted) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  c.advance(100);
  const NodeId f = (leader + 1) % 3;
  int dropped = 0;
  c.drop = [&](const Message& m) {
    if (m.to == f && m.type == MessageType::AppendEntries && !m.entries.empty() && dropped < 3) {
      ++dropped;
      return true;
    }
    return false;
  };
  for (int i = 0; i < 3; ++i) c.node(leader).propose(EntryType::Command, "x");
  c.advance(300);
  EXPECT_EQ(dropped, 3);
  EXPECT_EQ(c.node(f).log().last_index(), c.node(leader).log().last_index());
}

}  // namespace
}  // namespace raft
