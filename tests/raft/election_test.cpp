// Leader election (Raft §5.2), the INITIAL state of SPEC.md, PreVote and
// CheckQuorum (thesis §9.6), and the operator commands.
#include <set>

#include <gtest/gtest.h>

#include "local_cluster.hpp"
#include "test_util.hpp"

namespace raft {
namespace {

using test::of_type;
using test::small_config;
using test::take_messages;
using testing::LocalCluster;

TEST(Initial, StaysInitialUntilTheDelayThenBecomesFollower) {
  Node n(small_config(0, 3, /*initial_delay_ms=*/1000), 0);
  EXPECT_EQ(n.role(), Role::Initial);
  n.tick(999);
  EXPECT_EQ(n.role(), Role::Initial);
  n.tick(1000);
  EXPECT_EQ(n.role(), Role::Follower);
}

TEST(Initial, NeitherVotesNorStands) {
  Node n(small_config(0, 3, 10'000), 0);
  n.step(test::vote_request(1, 0, 1, 0, 0));
  auto replies = of_type(take_messages(n), MessageType::VoteResponse);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].granted);

  n.tick(5000);  // far past any election timeout
  EXPECT_TRUE(take_messages(n).empty()) << "an INITIAL node never starts an election";
  EXPECT_EQ(n.trigger_election().status, Status::Refused);
  EXPECT_EQ(n.force_timeout().status, Status::Refused);
}

TEST(Initial, BecomeFollowerLeavesInitialAtOnce) {
  Node n(small_config(0, 3, 10'000), 0);
  EXPECT_TRUE(n.become_follower().ok());
  EXPECT_EQ(n.role(), Role::Follower);
  EXPECT_EQ(n.become_follower().status, Status::Refused) << "already a follower";
}

TEST(Election, TimeoutStartsPreVoteWithoutRaisingTheTerm) {
  Node n(small_config(0, 3), 0);
  n.tick(300);
  auto pre = of_type(take_messages(n), MessageType::PreVoteRequest);
  ASSERT_EQ(pre.size(), 2u);
  EXPECT_EQ(pre[0].term, 1u);
  EXPECT_EQ(n.term(), 0u) << "PreVote must not inflate the term";
  EXPECT_EQ(n.role(), Role::Follower);
  EXPECT_TRUE(n.pre_voting());
}

TEST(Election, WinningPreVoteStartsARealElectionAndPersistsTheVote) {
  Node n(small_config(0, 3), 0);
  n.tick(300);
  take_messages(n);
  Message grant = test::make(MessageType::PreVoteResponse, 1, 0, 1);
  grant.granted = true;
  n.step(grant);
  EXPECT_EQ(n.role(), Role::Candidate);
  EXPECT_EQ(n.term(), 1u);
  Ready rd = n.ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 1u);
  EXPECT_EQ(rd.hard_state->voted_for, 0);
  EXPECT_EQ(of_type(rd.messages, MessageType::VoteRequest).size(), 2u);
}

TEST(Election, TimeoutIsRandomisedWithinTheConfiguredRange) {
  Node n(small_config(0, 3), 0);
  std::set<TimeMs> seen;
  TimeMs now = 0;
  for (int i = 0; i < 50; ++i) {
    const TimeMs timeout = n.election_timeout_ms();
    EXPECT_GE(timeout, 150u);
    EXPECT_LE(timeout, 300u);
    seen.insert(timeout);
    now = n.election_timer_start_ms() + timeout;
    n.tick(now);  // expires: PreVote resets the timer with a new draw
    take_messages(n);
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(Election, GrantsAtMostOneVotePerTerm) {
  Node n(small_config(0, 3), 0);
  n.step(test::vote_request(1, 0, 1, 0, 0));
  n.step(test::vote_request(2, 0, 1, 0, 0));
  n.step(test::vote_request(1, 0, 1, 0, 0));  // a retry of the same candidate
  auto replies = of_type(take_messages(n), MessageType::VoteResponse);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_TRUE(replies[0].granted);
  EXPECT_FALSE(replies[1].granted);
  EXPECT_TRUE(replies[2].granted);
  EXPECT_EQ(n.voted_for(), 1);
}

TEST(Election, RefusesCandidateWhoseLogIsBehind) {
  Node n(small_config(0, 3), 0);
  n.step(test::append(1, 0, 2, 0, 0, test::entries_of_terms(1, {1, 2})));
  take_messages(n);
  n.step(test::vote_request(2, 0, 3, 5, 1, false, /*force=*/true));  // longer, older last term
  auto replies = of_type(take_messages(n), MessageType::VoteResponse);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].granted);
  EXPECT_EQ(n.term(), 3u);
}

TEST(PreVote, VotersThatHearFromALeaderIgnoreADisruptiveCandidate) {
  Node n(small_config(0, 3), 0);
  n.step(test::append(1, 0, 1, 0, 0));  // leader 1 of term 1 is alive
  take_messages(n);
  n.step(test::vote_request(2, 0, 5, 10, 4));
  auto replies = of_type(take_messages(n), MessageType::VoteResponse);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].granted);
  EXPECT_EQ(n.term(), 1u) << "the disruptive term must not be adopted";
  EXPECT_EQ(n.leader(), 1);

  // An election an operator asked for (or a leadership transfer) is forced.
  n.step(test::vote_request(2, 0, 5, 10, 4, false, /*force=*/true));
  replies = of_type(take_messages(n), MessageType::VoteResponse);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].granted);
  EXPECT_EQ(n.term(), 5u);
}

TEST(PreVote, LowerTermPreVoteIsAnsweredWithOurTerm) {
  Node n(small_config(0, 3), 0);
  n.step(test::append(1, 0, 7, 0, 0));
  take_messages(n);
  n.step(test::vote_request(2, 0, 3, 0, 0, /*pre=*/true));
  auto replies = of_type(take_messages(n), MessageType::PreVoteResponse);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].granted);
  EXPECT_EQ(replies[0].term, 7u);
}

TEST(Election, ThreeNodesElectExactlyOneLeaderWhoAppendsANoop) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  int leaders = 0;
  for (NodeId i = 0; i < 3; ++i) {
    if (c.node(i).role() == Role::Leader) ++leaders;
    EXPECT_EQ(c.node(i).leader(), leader);
  }
  EXPECT_EQ(leaders, 1);
  c.advance(100);
  for (NodeId i = 0; i < 3; ++i) {
    ASSERT_FALSE(c.applied(i).empty());
    EXPECT_EQ(c.applied(i)[0].type, EntryType::Noop);
  }
}

TEST(Election, SingleNodeClusterElectsItselfAndCommitsAlone) {
  LocalCluster c(1, small_config(0, 1));
  ASSERT_EQ(c.elect(), 0);
  Result r = c.node(0).propose(EntryType::Command, "x");
  ASSERT_TRUE(r.ok());
  c.settle();
  EXPECT_EQ(c.node(0).commit_index(), r.index);
}

TEST(Heartbeat, IdleLeaderSendsOneAppendPerFollowerPerInterval) {
  LocalCluster c(5, small_config(0, 5));
  ASSERT_NE(c.elect(), kNoNode);
  c.advance(500);  // let replication settle
  const auto before = c.delivered[MessageType::AppendEntries];
  c.advance(1000);  // 20 heartbeat intervals
  const auto sent = c.delivered[MessageType::AppendEntries] - before;
  EXPECT_EQ(sent, 20u * 4u);
}

TEST(CheckQuorum, LeaderCutOffFromTheMajorityStepsDown) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  c.drop = [&](const Message& m) { return m.from == leader || m.to == leader; };
  EXPECT_TRUE(c.advance_until([&] { return c.node(leader).role() != Role::Leader; }, 1000));
}

TEST(PreVote, RejoiningPartitionedNodeDoesNotRaiseTheTermOrDeposeTheLeader) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  const NodeId loner = (leader + 1) % 3;
  const Term term = c.node(leader).term();
  c.drop = [&](const Message& m) { return m.from == loner || m.to == loner; };
  c.advance(3000);  // the loner times out over and over
  EXPECT_EQ(c.node(loner).term(), term) << "PreVote failed, so its term stays";
  c.drop = nullptr;
  c.advance(1000);
  EXPECT_EQ(c.leader(), leader);
  EXPECT_EQ(c.node(leader).term(), term);
  EXPECT_EQ(c.node(loner).leader(), leader);
}

TEST(Operator, ForceTimeoutOnAHealthyFollowerFailsPreVote) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  const NodeId f = (leader + 1) % 3;
  const Term term = c.node(leader).term();
  ASSERT_TRUE(c.node(f).force_timeout().ok());
  c.advance(50);
  EXPECT_EQ(c.leader(), leader);
  EXPECT_EQ(c.node(f).term(), term);
}

TEST(Operator, TriggerElectionOnAFollowerMakesItLeader) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  c.advance(200);
  const NodeId f = (leader + 1) % 3;
  ASSERT_TRUE(c.node(f).trigger_election().ok());
  c.settle();
  EXPECT_EQ(c.leader(), f);
  EXPECT_EQ(c.node(leader).role(), Role::Follower);
}

TEST(Operator, TransferLeadershipHandsOverToTheTarget) {
  LocalCluster c(5, small_config(0, 5));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  const NodeId target = (leader + 3) % 5;
  ASSERT_TRUE(c.node(leader).transfer_leadership(target).ok());
  EXPECT_TRUE(c.advance_until([&] { return c.leader() == target; }, 1000));
  EXPECT_EQ(c.node(leader).transfer_leadership(leader).status, Status::NotLeader);
}

TEST(Operator, TransferLeadershipRejectsBadTargets) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  EXPECT_EQ(c.node(leader).transfer_leadership(leader).status, Status::Refused);
  EXPECT_EQ(c.node(leader).transfer_leadership(7).status, Status::InvalidArgument);
}

TEST(Operator, BecomeFollowerOnTheLeaderLeadsToANewElection) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  ASSERT_TRUE(c.node(leader).become_follower().ok());
  EXPECT_EQ(c.node(leader).role(), Role::Follower);
  EXPECT_NE(c.elect(5000), kNoNode);
}

TEST(Restart, TermVoteAndLogSurviveACrash) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  ASSERT_TRUE(c.node(leader).propose(EntryType::Command, "a").ok());
  c.settle();
  const Term term = c.node(leader).term();
  const Index last = c.node(leader).log().last_index();
  const NodeId voted = c.node(leader).voted_for();
  c.restart(leader);
  EXPECT_EQ(c.node(leader).term(), term);
  EXPECT_EQ(c.node(leader).voted_for(), voted);
  EXPECT_EQ(c.node(leader).log().last_index(), last);
  EXPECT_EQ(c.node(leader).role(), Role::Follower);
}

TEST(Config, ValidateNamesTheProblem) {
  Config c = small_config(0, 3);
  EXPECT_EQ(c.validate(), "");
  c.heartbeat_interval_ms = 150;
  EXPECT_NE(c.validate().find("heartbeat"), std::string::npos);
  c = small_config(0, 3);
  c.election_timeout_min_ms = 500;
  EXPECT_NE(c.validate().find("min election timeout"), std::string::npos);
  c = small_config(5, 3);
  EXPECT_NE(c.validate().find("not among the voters"), std::string::npos);
}

}  // namespace
}  // namespace raft
