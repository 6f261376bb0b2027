// Named snapshot scenario (Raft §7): a follower that fell behind the leader's
// compaction catches up through InstallSnapshot, sent in several chunks.
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "scenario_support.hpp"
#include "sim_cluster.hpp"

namespace raft::sim {
namespace {

TEST(SnapshotScenario, AFollowerFarBehindCatchesUpByInstallSnapshot) {
  ClusterOptions o = scenario_options(3);
  o.snapshot_every_entries = 20;
  o.config.snapshot_chunk_bytes = 16;  // several chunks per snapshot
  SimCluster c(o);
  const NodeId leader = c.wait_for_leader(3000);
  ASSERT_NE(leader, kNoNode);
  const NodeId laggard = (leader + 1) % 3;
  ASSERT_NE(write_and_wait(c, leader, "k0", "first", all_nodes(c)), 0u);
  const Index laggard_last = c.node(laggard).log().last_index();

  c.pause(laggard);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(c.write(leader, "k" + std::to_string(i % 5), "v" + std::to_string(i)).ok());
  }
  const Index last = c.node(leader).log().last_index();
  ASSERT_TRUE(c.run_until([&] { return group_applied(c, all_but(c, {laggard}), last); }, 3000));
  // The entries the laggard needs next are gone from the leader's log.
  ASSERT_GT(c.node(leader).log().snapshot().last_index, laggard_last + 1);

  auto chunks = std::make_shared<std::uint64_t>(0);
  c.network().set_send_observer([chunks, laggard](const Message& m) {
    if (m.type == MessageType::InstallSnapshot && m.to == laggard) ++*chunks;
  });
  c.resume(laggard);
  ASSERT_TRUE(c.run_until([&] { return c.kv(laggard).applied_index() >= last; }, 3000))
      << failure_report(c);
  EXPECT_GE(*chunks, 2u);
  EXPECT_GE(c.stats().snapshots_installed, 1u);
  EXPECT_EQ(c.kv(laggard), c.kv(leader));

  // The installed snapshot is durable: a crash and restart rebuild the same state.
  c.crash(laggard);
  c.restart(laggard);
  ASSERT_TRUE(c.run_until([&] { return c.kv(laggard).applied_index() >= last; }, 3000))
      << failure_report(c);
  EXPECT_EQ(c.kv(laggard), c.kv(leader));
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

}  // namespace
}  // namespace raft::sim
