// Named election scenarios (Raft §5.2, PreVote and CheckQuorum from Ongaro's
// thesis §9.6, leadership transfer §3.10), each a deterministic simulation.
#include <gtest/gtest.h>

#include "scenario_support.hpp"
#include "sim_cluster.hpp"

namespace raft::sim {
namespace {

constexpr TimeMs kElectionMaxMs = 300;

TEST(ElectionScenario, FirstElectionChoosesExactlyOneLeader) {
  for (std::size_t n : {3u, 5u, 7u}) {
    SimCluster c(scenario_options(n, /*seed=*/n));
    const NodeId leader = c.wait_for_leader(10 * kElectionMaxMs);
    ASSERT_NE(leader, kNoNode) << n << " nodes\n" << failure_report(c);
    // One election timeout plus a couple of round trips, even with a split vote or two.
    EXPECT_LE(c.now_ms(), 3 * kElectionMaxMs) << n << " nodes";
    std::size_t leaders = 0;
    for (NodeId id : all_nodes(c)) leaders += c.node(id).role() == Role::Leader ? 1 : 0;
    EXPECT_EQ(leaders, 1u);
    c.run_for(2000);  // and it stays: heartbeats keep everyone a follower
    EXPECT_EQ(c.stable_leader(), leader);
    EXPECT_TRUE(c.checker().ok()) << failure_report(c);
  }
}

TEST(ElectionScenario, ReelectionWhenTheLeaderIsCutOff) {
  SimCluster c(scenario_options(5));
  const NodeId old_leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(old_leader, kNoNode);
  const Term old_term = c.node(old_leader).term();

  c.network().isolate(old_leader);
  const std::vector<NodeId> rest = all_but(c, {old_leader});
  ASSERT_TRUE(c.run_until([&] { return group_leader(c, rest) != kNoNode; }, 10 * kElectionMaxMs))
      << failure_report(c);
  const NodeId new_leader = group_leader(c, rest);
  EXPECT_GT(c.node(new_leader).term(), old_term);

  // The majority goes on committing without the old leader.
  EXPECT_NE(write_and_wait(c, new_leader, "k", "v", rest), 0u) << failure_report(c);

  c.network().heal();
  EXPECT_EQ(c.wait_for_leader(10 * kElectionMaxMs), new_leader) << failure_report(c);
  EXPECT_EQ(c.node(old_leader).role(), Role::Follower);
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ElectionScenario, PreVoteKeepsARejoiningNodeFromDisruptingTheLeader) {
  SimCluster c(scenario_options(5));
  const NodeId leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(leader, kNoNode);
  const Term term = c.node(leader).term();
  const NodeId loner = (leader + 1) % 5;

  c.network().isolate(loner);
  c.run_for(20 * kElectionMaxMs);  // many election timeouts alone
  // PreVote rounds that nobody answers never raise its term.
  EXPECT_EQ(c.node(loner).term(), term);
  EXPECT_EQ(c.node(leader).role(), Role::Leader);

  c.network().heal();
  c.run_for(5 * kElectionMaxMs);
  EXPECT_EQ(c.stable_leader(), leader) << failure_report(c);
  for (NodeId id : all_nodes(c)) EXPECT_EQ(c.node(id).term(), term) << "n" << id;
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ElectionScenario, WithoutPreVoteARejoiningNodeDoesRaiseTheTerm) {
  // The control for the test above: it shows the scenario would notice.
  ClusterOptions o = scenario_options(5);
  o.config.pre_vote = false;
  SimCluster c(o);
  const NodeId leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(leader, kNoNode);
  const Term term = c.node(leader).term();
  const NodeId loner = (leader + 1) % 5;

  c.network().isolate(loner);
  c.run_for(20 * kElectionMaxMs);
  EXPECT_GT(c.node(loner).term(), term);
  c.network().heal();
  ASSERT_NE(c.wait_for_leader(10 * kElectionMaxMs), kNoNode) << failure_report(c);
  EXPECT_GT(c.node(c.stable_leader()).term(), term);
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ElectionScenario, CheckQuorumMakesACutOffLeaderStepDown) {
  SimCluster c(scenario_options(5));
  const NodeId leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(leader, kNoNode);
  const NodeId buddy = (leader + 1) % 5;
  // The leader keeps one follower: still a minority.
  c.network().partition({{leader, buddy}, all_but(c, {leader, buddy})});
  const TimeMs cut_at_ms = c.now_ms();
  ASSERT_TRUE(
      c.run_until([&] { return c.node(leader).role() != Role::Leader; }, 10 * kElectionMaxMs))
      << failure_report(c);
  // One CheckQuorum period (the min election timeout) to notice, at most two to act.
  EXPECT_LE(c.now_ms() - cut_at_ms, 2 * 150 + 10);
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ElectionScenario, WithoutCheckQuorumACutOffLeaderStaysLeader) {
  ClusterOptions o = scenario_options(5);
  o.config.check_quorum = false;
  SimCluster c(o);
  const NodeId leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(leader, kNoNode);
  c.network().isolate(leader);
  c.run_for(10 * kElectionMaxMs);
  EXPECT_EQ(c.node(leader).role(), Role::Leader);
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ElectionScenario, LeadershipTransferHandsOverToTheTarget) {
  SimCluster c(scenario_options(5));
  const NodeId leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(leader, kNoNode);
  const Term term = c.node(leader).term();
  ASSERT_NE(write_and_wait(c, leader, "k", "v1", all_nodes(c)), 0u);

  const NodeId target = (leader + 2) % 5;
  ASSERT_TRUE(c.transfer_leadership(leader, target).ok());
  // While the transfer runs the old leader refuses writes: they could be lost.
  EXPECT_EQ(c.write(leader, "k", "during").status, Status::Refused);
  ASSERT_TRUE(c.run_until([&] { return c.stable_leader() == target; }, kElectionMaxMs))
      << failure_report(c);
  EXPECT_EQ(c.node(target).term(), term + 1);
  EXPECT_EQ(c.node(leader).role(), Role::Follower);
  EXPECT_NE(write_and_wait(c, target, "k", "v2", all_nodes(c)), 0u) << failure_report(c);
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ElectionScenario, LeadershipTransferToALaggingFollowerCatchesItUpFirst) {
  SimCluster c(scenario_options(3));
  const NodeId leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(leader, kNoNode);
  const NodeId target = (leader + 1) % 3;
  c.pause(target);
  Index last = 0;
  for (int i = 0; i < 50; ++i) last = c.write(leader, "k", "v" + std::to_string(i)).index;
  c.run_for(100);
  c.resume(target);
  ASSERT_TRUE(c.transfer_leadership(leader, target).ok());
  ASSERT_TRUE(c.run_until([&] { return c.stable_leader() == target; }, 2 * kElectionMaxMs))
      << failure_report(c);
  // It could only win the election with every entry the old leader had.
  EXPECT_GE(c.node(target).log().last_index(), last);
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

// Regression for a core bug the random schedules found (RAFT_SIM_SEED=30870,
// 38069 and 53646: two leaders in one term). A candidate whose election timer
// fires (here: force_timeout) starts a PreVote while it is still a candidate
// of its term, and the PreVote round shares one tally with the real election:
// a PreVote grant plus a late real vote make it leader of a term that already
// has one. Disabled until the core counts the two rounds apart (etcd ignores
// responses of the other round's type); enable it with the fix.
TEST(ElectionScenario, ACandidatesPreVoteGrantsDoNotCountAsRealVotes) {
  ClusterOptions o = scenario_options(5);
  o.config.check_quorum = false;  // so n1 grants PreVotes although n4 leads
  o.network.delay_min_ms = 2;
  o.network.delay_max_ms = 2;
  SimCluster c(o);
  // n1 and n2 hear only n4's candidacy, n3 only n0's; n4's appends reach
  // neither n0 (it would step down) nor n1 (it would stop granting PreVotes).
  c.network().set_drop_filter([](const Message& m) {
    if (m.type == MessageType::VoteRequest) {
      return (m.from == 4 && m.to == 3) || (m.from == 0 && (m.to == 1 || m.to == 2));
    }
    return m.type == MessageType::AppendEntries && m.from == 4 && (m.to == 0 || m.to == 1);
  });
  // n3's real vote for n0 arrives late, after n0 moved on to a PreVote round.
  c.network().set_delay_hook([](const Message& m) -> TimeMs {
    return m.type == MessageType::VoteResponse && m.from == 3 && m.to == 0 ? 30 : 0;
  });
  ASSERT_TRUE(c.trigger_election(4).ok());
  ASSERT_TRUE(c.trigger_election(0).ok());
  ASSERT_TRUE(c.run_until([&] { return c.node(4).role() == Role::Leader; }, 20));
  const Term term = c.node(4).term();
  ASSERT_EQ(c.node(0).role(), Role::Candidate);
  ASSERT_EQ(c.node(0).term(), term);
  ASSERT_TRUE(c.force_timeout(0).ok());
  c.run_for(100);
  // n0 had its own vote, n1's PreVote grant and n3's real vote: not a majority
  // of real votes, so it must not lead `term`.
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
  EXPECT_FALSE(c.node(0).role() == Role::Leader && c.node(0).term() == term);
}

}  // namespace
}  // namespace raft::sim
