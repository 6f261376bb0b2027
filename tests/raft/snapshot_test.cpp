// Log compaction and InstallSnapshot (Raft §7).
#include <gtest/gtest.h>

#include "local_cluster.hpp"
#include "test_util.hpp"

namespace raft {
namespace {

using test::small_config;
using testing::LocalCluster;

TEST(Compaction, RefusesToCompactPastTheAppliedIndex) {
  LocalCluster c(1, small_config(0, 1));
  ASSERT_EQ(c.elect(), 0);
  c.settle();
  const Index applied = c.node(0).applied_index();
  auto data = std::make_shared<const std::string>("s");
  Snapshot snap;
  EXPECT_EQ(c.node(0).compact(applied + 1, data, &snap).status, Status::InvalidArgument);
  EXPECT_TRUE(c.node(0).compact(applied, data, &snap).ok());
  EXPECT_EQ(snap.meta.last_index, applied);
  EXPECT_EQ(c.node(0).log().first_index(), applied + 1);
  EXPECT_EQ(c.node(0).compact(applied, data, &snap).status, Status::Refused);
}

TEST(InstallSnapshot, AFollowerBehindTheCompactionPointCatchesUpFromChunks) {
  Config cfg = small_config(0, 3);
  cfg.snapshot_chunk_bytes = 1000;
  LocalCluster c(3, cfg);
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  c.advance(100);
  const NodeId lagging = (leader + 1) % 3;
  c.down[lagging] = true;
  for (int i = 0; i < 200; ++i) c.node(leader).propose(EntryType::Command, "v" + std::to_string(i));
  c.advance(100);
  const Index applied = c.node(leader).applied_index();
  ASSERT_GT(applied, 200u);
  // A 10 kB "state machine image": ten chunks of 1000 bytes.
  auto image = std::make_shared<const std::string>(std::string(10'000, 's'));
  Snapshot snap;
  ASSERT_TRUE(c.node(leader).compact(applied, image, &snap).ok());
  c.store(leader).install_snapshot(snap);
  c.store(leader).sync();

  std::uint64_t chunks_before = c.delivered[MessageType::InstallSnapshot];
  c.down[lagging] = false;
  ASSERT_TRUE(c.advance_until([&] { return c.node(lagging).applied_index() >= applied; }, 2000));
  EXPECT_EQ(c.delivered[MessageType::InstallSnapshot] - chunks_before, 10u);
  EXPECT_EQ(c.node(lagging).log().snapshot().last_index, applied);
  ASSERT_TRUE(c.store(lagging).load().snapshot.has_value());
  EXPECT_EQ(*c.store(lagging).load().snapshot->data, *image);

  // And it keeps replicating normally afterwards.
  Result r = c.node(leader).propose(EntryType::Command, "after");
  ASSERT_TRUE(r.ok());
  c.advance(100);
  EXPECT_GE(c.node(lagging).commit_index(), r.index);
}

TEST(InstallSnapshot, RestartRebuildsFromSnapshotPlusLog) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  for (int i = 0; i < 20; ++i) c.node(leader).propose(EntryType::Command, "a");
  c.advance(100);
  const NodeId f = (leader + 1) % 3;
  const Index applied = c.node(f).applied_index();
  Snapshot snap;
  ASSERT_TRUE(
      c.node(f).compact(applied - 5, std::make_shared<const std::string>("img"), &snap).ok());
  c.store(f).install_snapshot(snap);
  c.store(f).sync();
  const Index last = c.node(f).log().last_index();
  c.restart(f);
  EXPECT_EQ(c.node(f).log().snapshot().last_index, applied - 5);
  EXPECT_EQ(c.node(f).log().last_index(), last);
  EXPECT_EQ(c.node(f).applied_index(), applied - 5);
}

}  // namespace
}  // namespace raft
