// Named log-replication scenarios (Raft §5.3, §5.4): commitment needs a
// majority, a deposed leader's uncommitted suffix is overwritten, the leader
// backs off over long conflicts in a few round trips, and Figure 8.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "figure8_scenario.hpp"
#include "scenario_support.hpp"
#include "sim_cluster.hpp"

namespace raft::sim {
namespace {

constexpr TimeMs kElectionMaxMs = 300;

TEST(ReplicationScenario, NoCommitWithoutAMajority) {
  SimCluster c(scenario_options(5));
  const NodeId leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(leader, kNoNode);
  ASSERT_NE(write_and_wait(c, leader, "k", "before", all_nodes(c)), 0u);

  // Leader plus one follower running: two of five.
  const std::vector<NodeId> followers = all_but(c, {leader});
  for (std::size_t i = 1; i < followers.size(); ++i) c.pause(followers[i]);
  const Result r = c.write(leader, "k", "lonely");
  ASSERT_TRUE(r.ok());
  c.run_for(10 * kElectionMaxMs);
  EXPECT_FALSE(c.checker().committed_term(r.index).has_value());
  for (NodeId id : all_nodes(c)) EXPECT_LT(c.kv(id).applied_index(), r.index) << "n" << id;

  // A third node back makes a majority: the entry commits (under whichever
  // of the two nodes holding it wins the election, since only they can).
  c.resume(followers[1]);
  const std::vector<NodeId> majority = {leader, followers[0], followers[1]};
  ASSERT_TRUE(c.run_until([&] { return group_applied(c, majority, r.index); }, 10 * kElectionMaxMs))
      << failure_report(c);
  EXPECT_EQ(c.checker().committed_term(r.index), r.term);
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ReplicationScenario, DeposedLeaderRejoinsAndItsUncommittedEntriesAreReplaced) {
  SimCluster c(scenario_options(5));
  const NodeId old_leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(old_leader, kNoNode);
  ASSERT_NE(write_and_wait(c, old_leader, "k", "committed", all_nodes(c)), 0u);

  c.network().isolate(old_leader);
  std::vector<Result> stale;
  for (int i = 0; i < 3; ++i) {
    stale.push_back(c.write(old_leader, "k", "stale" + std::to_string(i)));
    ASSERT_TRUE(stale.back().ok());
  }
  const std::vector<NodeId> rest = all_but(c, {old_leader});
  ASSERT_TRUE(c.run_until([&] { return group_leader(c, rest) != kNoNode; }, 10 * kElectionMaxMs));
  const NodeId new_leader = group_leader(c, rest);
  for (int i = 0; i < 3; ++i) {
    ASSERT_NE(write_and_wait(c, new_leader, "k", "won" + std::to_string(i), rest), 0u);
  }

  c.network().heal();
  ASSERT_EQ(c.wait_for_leader(10 * kElectionMaxMs), new_leader) << failure_report(c);
  const Index last = c.node(new_leader).log().last_index();
  ASSERT_TRUE(c.run_until([&] { return group_applied(c, all_nodes(c), last); }, 2000))
      << failure_report(c);
  for (const Result& r : stale) {
    const Entry& mine = c.node(old_leader).log().at(r.index);
    EXPECT_NE(mine.term, r.term) << "the stale entry at " << r.index << " survived";
    EXPECT_EQ(mine, c.node(new_leader).log().at(r.index));
  }
  EXPECT_EQ(c.kv(old_leader), c.kv(new_leader));
  EXPECT_EQ(c.kv(old_leader).get("k")->value, "won2");
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

/// Counts AppendEntries rejections sent by one node.
struct RejectionCounter {
  NodeId from = kNoNode;
  std::uint64_t count = 0;
  void operator()(const Message& m) {
    if (m.from == from && m.type == MessageType::AppendResponse && !m.success &&
        m.reject_index != 0) {
      ++count;
    }
  }
};

TEST(ReplicationScenario, FastBackOffOverAThousandConflictingEntries) {
  SimCluster c(scenario_options(3));
  const NodeId old_leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(old_leader, kNoNode);
  ASSERT_NE(write_and_wait(c, old_leader, "k", "base", all_nodes(c)), 0u);

  // The old leader, cut off, accepts 1000 entries nobody else will have.
  c.network().isolate(old_leader);
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(c.write(old_leader, "k", "x" + std::to_string(i)).ok());
  // Meanwhile the other two elect a leader and commit 1000 entries of their own.
  const std::vector<NodeId> rest = all_but(c, {old_leader});
  ASSERT_TRUE(c.run_until([&] { return group_leader(c, rest) != kNoNode; }, 10 * kElectionMaxMs));
  const NodeId second = group_leader(c, rest);
  Index last = 0;
  for (int i = 0; i < 1000; ++i) last = c.write(second, "k", "y" + std::to_string(i)).index;
  ASSERT_TRUE(c.run_until([&] { return group_applied(c, rest, last); }, 3000));
  // A third leader starts probing the old one at the end of its long log, so
  // every one of the 1000 entries conflicts on the way back.
  const NodeId third = rest[0] == second ? rest[1] : rest[0];
  ASSERT_TRUE(c.elect(third, 10 * kElectionMaxMs)) << failure_report(c);

  auto counter = std::make_shared<RejectionCounter>();
  counter->from = old_leader;
  c.network().set_send_observer([counter](const Message& m) { (*counter)(m); });
  c.network().heal();
  last = c.node(third).log().last_index();
  ASSERT_TRUE(c.run_until([&] { return c.kv(old_leader).applied_index() >= last; }, 3000))
      << failure_report(c);
  // Each rejection names the conflicting term and where it starts, and the
  // leader jumps past the whole run. Probing back one entry at a time would
  // take a thousand round trips.
  EXPECT_GE(counter->count, 1u);
  EXPECT_LT(counter->count, 20u);
  EXPECT_EQ(c.node(old_leader).log().last_index(), last);
  EXPECT_EQ(c.kv(old_leader), c.kv(third));
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ReplicationScenario, FastBackOffForAFollowerAThousandEntriesBehind) {
  SimCluster c(scenario_options(3));
  const NodeId leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(leader, kNoNode);
  const NodeId laggard = (leader + 1) % 3;
  c.pause(laggard);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(c.write(leader, "k", "v" + std::to_string(i)).ok());
  const Index last = c.node(leader).log().last_index();
  ASSERT_TRUE(c.run_until([&] { return group_applied(c, all_but(c, {laggard}), last); }, 3000));

  auto counter = std::make_shared<RejectionCounter>();
  counter->from = laggard;
  c.network().set_send_observer([counter](const Message& m) { (*counter)(m); });
  c.resume(laggard);
  ASSERT_TRUE(c.run_until([&] { return c.kv(laggard).applied_index() >= last; }, 3000))
      << failure_report(c);
  EXPECT_LT(counter->count, 20u);
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ReplicationScenario, Figure8AnOldTermEntryOnAMajorityIsNotCommitted) {
  SimCluster c(figure8_options());
  const Figure8Outcome out = run_figure8(c);
  ASSERT_TRUE(c.checker().ok()) << failure_report(c);
  ASSERT_EQ(out.setup_failure, "") << failure_report(c);
  // In (c) x sat on n0, n1, n2 (three of five) yet stayed uncommitted...
  EXPECT_LT(out.commit_in_c, out.x_index);
  // ...which is what made it safe for n4 to overwrite it in (d).
  EXPECT_GT(out.final_term_at_x, out.x_term);
  EXPECT_EQ(c.kv(0), c.kv(4));
}

}  // namespace
}  // namespace raft::sim
