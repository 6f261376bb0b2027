// Named fault scenarios: agreement on a lossy, duplicating, reordering
// network, and continuous crash/restart churn under client load.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "raft/rng.hpp"
#include "scenario_support.hpp"
#include "sim_cluster.hpp"

namespace raft::sim {
namespace {

constexpr TimeMs kElectionMaxMs = 300;

/// After the faults: one leader, and every node has applied its whole log.
::testing::AssertionResult converges(SimCluster& c) {
  c.heal_all();
  if (c.wait_for_leader(10 * kElectionMaxMs) == kNoNode) {
    return ::testing::AssertionFailure() << "no leader after healing\n" << failure_report(c);
  }
  const bool done = c.run_until(
      [&] {
        const NodeId l = c.stable_leader();
        return l != kNoNode && group_applied(c, all_nodes(c), c.node(l).log().last_index());
      },
      10 * kElectionMaxMs);
  if (!done) return ::testing::AssertionFailure() << "no convergence\n" << failure_report(c);
  for (NodeId id : all_nodes(c)) {
    if (!(c.kv(id) == c.kv(0))) {
      return ::testing::AssertionFailure() << "n" << id << " differs from n0\n"
                                           << failure_report(c);
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(FaultScenario, AgreementOnAnUnreliableNetwork) {
  ClusterOptions o = scenario_options(5);
  o.network.delay_min_ms = 1;
  o.network.delay_max_ms = 10;
  o.network.loss_per_mille = 200;
  o.network.duplicate_per_mille = 100;
  o.network.reorder_per_mille = 200;
  o.network.reorder_delay_max_ms = 50;
  SimCluster c(o);
  for (int i = 0; i < 500; ++i) {
    c.run_for(10);
    const NodeId leader = c.leader();
    if (leader != kNoNode) c.write(leader, "k" + std::to_string(i % 3), "v" + std::to_string(i));
  }
  ASSERT_TRUE(c.checker().ok()) << failure_report(c);
  EXPECT_GT(c.network().stats().lost, 100u);
  EXPECT_GT(c.network().stats().duplicated, 100u);
  EXPECT_GT(c.stats().writes_acked, 100u) << failure_report(c);
  EXPECT_TRUE(converges(c));
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(FaultScenario, ChurnNodesCrashAndRestartWhileClientsWrite) {
  ClusterOptions o = scenario_options(5);
  o.snapshot_every_entries = 10;
  SimCluster c(o);
  Rng rng(42);
  std::vector<TimeMs> down_since(c.size(), 0);
  std::uint64_t value = 0;
  for (TimeMs t = 0; t < 8000; t += 10) {
    c.run_for(10);
    const NodeId leader = c.leader();
    if (leader != kNoNode) {
      c.write(leader, "k" + std::to_string(value % 4), "v" + std::to_string(value));
      ++value;
    }
    std::size_t down = 0;
    for (NodeId id : all_nodes(c)) {
      if (c.is_crashed(id) || c.crash_pending(id)) ++down;
      if (c.is_crashed(id) && c.now_ms() - down_since[id] >= rng.uniform(100, 400)) c.restart(id);
    }
    // Two of five down at most, so the cluster can keep going.
    if (t % 100 == 0 && down < 2) {
      const NodeId victim = static_cast<NodeId>(rng.uniform(0, c.size() - 1));
      if (c.is_crashed(victim)) continue;
      down_since[victim] = c.now_ms();
      if (rng.chance(1, 2)) {
        c.crash(victim);
      } else {
        c.crash_before_next_sync(victim);
      }
    }
  }
  ASSERT_TRUE(c.checker().ok()) << failure_report(c);
  EXPECT_GE(c.stats().crashes, 30u);
  EXPECT_GT(c.stats().writes_acked, 100u);
  ASSERT_TRUE(converges(c));
  // Every write a leader applied (acknowledged) survived every crash.
  for (const Proposal& p : c.proposals()) {
    if (p.acked) {
      EXPECT_EQ(c.checker().committed_term(p.index), p.term) << p.data;
    }
  }
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

}  // namespace
}  // namespace raft::sim
