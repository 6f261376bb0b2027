// Every message the real core sends survives the codec. The round-trip
// property test draws messages from the codec's own idea of which fields each
// type uses; this test checks that idea against the core: a LocalCluster runs
// elections, replication, ReadIndex, a snapshot install, a leadership
// transfer and removals, and each message on its way is encoded, decoded and compared with
// the original. A field the core starts to use but the codec drops fails here.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "codec/codec.hpp"
#include "local_cluster.hpp"
#include "raft/node.hpp"
#include "random_message.hpp"

namespace raft::codec {
namespace {

Config cluster_config() {
  Config c;
  c.election_timeout_min_ms = 150;
  c.election_timeout_max_ms = 300;
  c.heartbeat_interval_ms = 50;
  c.snapshot_chunk_bytes = 1000;
  c.seed = 7;
  return c;
}

TEST(CodecCoreMessages, EveryMessageOfARealClusterRoundTrips) {
  raft::testing::LocalCluster c(3, cluster_config());
  std::map<MessageType, int> seen;
  std::vector<std::string> failures;
  c.drop = [&](const Message& m) {
    ++seen[m.type];
    std::string bytes;
    if (auto error = encode_into(m, bytes)) {
      failures.push_back(error->text + " for " + testing::describe(m));
      return false;
    }
    const DecodeResult result = decode(bytes.data(), bytes.size(), m.from, m.to, mpi_tag(m.type));
    if (!result.ok()) {
      failures.push_back(result.error().text + " for " + testing::describe(m));
    } else if (!(result.message() == m)) {
      failures.push_back("sent " + testing::describe(m) + " received " +
                         testing::describe(result.message()));
    }
    return false;  // deliver it: the cluster must keep working
  };

  const NodeId leader = c.elect();
  ASSERT_NE(leader, kNoNode);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.node(leader)
                    .propose(EntryType::Command, std::string("k\0v", 3) + std::to_string(i))
                    .ok());
  }
  ASSERT_TRUE(c.node(leader).read_index(1).ok());
  c.advance(200);

  // A follower falls behind the compaction point and catches up by snapshot.
  const NodeId lagging = (leader + 1) % 3;
  c.down[lagging] = true;
  for (int i = 0; i < 50; ++i) c.node(leader).propose(EntryType::Command, "v" + std::to_string(i));
  c.advance(100);
  const Index applied = c.node(leader).applied_index();
  Snapshot snap;
  ASSERT_TRUE(
      c.node(leader)
          .compact(applied, std::make_shared<const std::string>(std::string(3500, 's')), &snap)
          .ok());
  c.store(leader).install_snapshot(snap);
  c.store(leader).sync();
  c.down[lagging] = false;
  ASSERT_TRUE(c.advance_until([&] { return c.node(lagging).applied_index() >= applied; }, 5000));

  // Leadership transfer (TimeoutNow, then a forced election), then an
  // operator-forced election elsewhere.
  const NodeId target = (leader + 2) % 3;
  ASSERT_TRUE(c.node(leader).transfer_leadership(target).ok());
  ASSERT_TRUE(c.advance_until([&] { return c.leader() == target; }, 5000));
  ASSERT_TRUE(c.node(leader).trigger_election().ok());
  c.advance(2000);

  // A node removed while down, after which a further change commits, hears
  // of its removal from a member when it is back (RemovedNotice).
  const NodeId last_leader = c.leader();
  ASSERT_NE(last_leader, kNoNode);
  const NodeId gone = (last_leader + 1) % 3;
  c.down[gone] = true;
  for (NodeId removed : {gone, static_cast<NodeId>((last_leader + 2) % 3)}) {
    const Result r = c.node(last_leader).change_membership({ConfChangeType::Remove, removed});
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_TRUE(
        c.advance_until([&] { return c.node(last_leader).commit_index() >= r.index; }, 2000));
  }
  c.down[gone] = false;
  ASSERT_TRUE(c.advance_until([&] { return c.node(gone).role() == Role::Standby; }, 5000));

  for (const std::string& failure : failures) ADD_FAILURE() << failure;
  for (int type = kMessageTypeMin; type <= kMessageTypeMax; ++type) {
    EXPECT_GT(seen[static_cast<MessageType>(type)], 0)
        << "the scenario sent no " << message_type_name(static_cast<MessageType>(type));
  }
}

}  // namespace
}  // namespace raft::codec
