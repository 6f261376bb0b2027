// Linearizable reads through ReadIndex (Raft thesis §6.4).
#include <gtest/gtest.h>

#include "local_cluster.hpp"
#include "test_util.hpp"

namespace raft {
namespace {

using test::small_config;
using testing::LocalCluster;

TEST(ReadIndex, IsConfirmedByAMajorityBeforeItIsAnswered) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  c.advance(100);
  Result w = c.node(leader).propose(EntryType::Command, "x=1");
  ASSERT_TRUE(w.ok());
  c.settle();

  // Cut the leader off: its read cannot be confirmed.
  c.drop = [&](const Message& m) { return m.from == leader || m.to == leader; };
  ASSERT_TRUE(c.node(leader).read_index(7).ok());
  c.settle();
  EXPECT_TRUE(c.reads(leader).empty()) << "no majority has confirmed leadership";

  c.drop = nullptr;
  c.advance(60);  // next heartbeat round carries the read context
  ASSERT_EQ(c.reads(leader).size(), 1u);
  EXPECT_TRUE(c.reads(leader)[0].ok);
  EXPECT_EQ(c.reads(leader)[0].request_id, 7u);
  EXPECT_GE(c.reads(leader)[0].index, w.index);
}

TEST(ReadIndex, PendingReadsFailWhenLeadershipIsLost) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  c.advance(100);
  c.drop = [&](const Message& m) { return m.from == leader || m.to == leader; };
  ASSERT_TRUE(c.node(leader).read_index(1).ok());
  ASSERT_TRUE(c.advance_until([&] { return c.node(leader).role() != Role::Leader; }, 2000));
  ASSERT_EQ(c.reads(leader).size(), 1u);
  EXPECT_FALSE(c.reads(leader)[0].ok);
}

TEST(ReadIndex, WaitsForTheLeadersFirstCommitInItsTerm) {
  LocalCluster c(3, small_config(0, 3));
  NodeId leader = kNoNode;
  // Stop right at the election, before the no-op can commit.
  c.drop = [&](const Message& m) { return m.type == MessageType::AppendResponse; };
  ASSERT_TRUE(c.advance_until([&] { return (leader = c.leader()) != kNoNode; }, 5000));
  ASSERT_TRUE(c.node(leader).read_index(3).ok());
  c.settle();
  EXPECT_TRUE(c.reads(leader).empty());
  c.drop = nullptr;
  c.advance(100);
  ASSERT_EQ(c.reads(leader).size(), 1u);
  EXPECT_TRUE(c.reads(leader)[0].ok);
  EXPECT_GE(c.reads(leader)[0].index, 1u);
}

TEST(ReadIndex, FollowersRefuseWithALeaderHint) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  c.advance(100);
  Result r = c.node((leader + 1) % 3).read_index(1);
  EXPECT_EQ(r.status, Status::NotLeader);
  EXPECT_EQ(r.leader_hint, leader);
}

}  // namespace
}  // namespace raft
