// Named ReadIndex scenarios (Raft thesis §6.4): a linearizable read sees the
// latest committed write, and a deposed leader cannot answer one.
#include <string>

#include <gtest/gtest.h>

#include "scenario_support.hpp"
#include "sim_cluster.hpp"

namespace raft::sim {
namespace {

constexpr TimeMs kElectionMaxMs = 300;

/// Runs until the read is answered; the record, or nullptr if it still is not.
const ReadRecord* await_read(SimCluster& c, std::uint64_t read_id, TimeMs limit_ms = 1000) {
  c.run_until([&] { return c.read_result(read_id)->state != ReadRecord::State::Pending; },
              limit_ms);
  const ReadRecord* r = c.read_result(read_id);
  return r->state == ReadRecord::State::Pending ? nullptr : r;
}

TEST(ReadIndexScenario, ReadsAreLinearizable) {
  // Without CheckQuorum the cut-off leader keeps believing it leads, so it
  // accepts the read below: the case ReadIndex exists for.
  ClusterOptions o = scenario_options(5);
  o.config.check_quorum = false;
  SimCluster c(o);
  const NodeId old_leader = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(old_leader, kNoNode);
  const Index v1_index = write_and_wait(c, old_leader, "k", "v1", all_nodes(c));
  ASSERT_NE(v1_index, 0u);

  const std::uint64_t r1 = c.read(old_leader, "k");
  ASSERT_NE(r1, 0u);
  const ReadRecord* rec1 = await_read(c, r1);
  ASSERT_NE(rec1, nullptr);
  ASSERT_EQ(rec1->state, ReadRecord::State::Ok);
  EXPECT_GE(rec1->read_index, v1_index);
  EXPECT_EQ(rec1->value->value, "v1");

  // A follower does not serve linearizable reads.
  EXPECT_EQ(c.read((old_leader + 1) % 5, "k"), 0u);

  // The leader is cut off; the majority elects another and writes v2.
  c.network().isolate(old_leader);
  const std::vector<NodeId> rest = all_but(c, {old_leader});
  ASSERT_TRUE(c.run_until([&] { return group_leader(c, rest) != kNoNode; }, 10 * kElectionMaxMs));
  const NodeId new_leader = group_leader(c, rest);
  ASSERT_NE(write_and_wait(c, new_leader, "k", "v2", rest), 0u);

  // The old leader still accepts a read but must never answer it with v1:
  // it cannot get a majority to confirm its leadership.
  ASSERT_EQ(c.node(old_leader).role(), Role::Leader);
  const std::uint64_t stale = c.read(old_leader, "k");
  ASSERT_NE(stale, 0u);
  c.run_for(5 * kElectionMaxMs);
  EXPECT_EQ(c.read_result(stale)->state, ReadRecord::State::Pending);

  // Back in touch, it learns of the new term, steps down and fails the read.
  c.network().heal();
  const ReadRecord* stale_rec = await_read(c, stale);
  ASSERT_NE(stale_rec, nullptr) << failure_report(c);
  EXPECT_EQ(stale_rec->state, ReadRecord::State::Failed);

  const std::uint64_t r2 = c.read(new_leader, "k");
  ASSERT_NE(r2, 0u);
  const ReadRecord* rec2 = await_read(c, r2);
  ASSERT_NE(rec2, nullptr);
  ASSERT_EQ(rec2->state, ReadRecord::State::Ok);
  EXPECT_EQ(rec2->value->value, "v2");
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

TEST(ReadIndexScenario, AReadRightAfterAnElectionWaitsForTheNewLeadersFirstCommit) {
  SimCluster c(scenario_options(3));
  const NodeId first = c.wait_for_leader(10 * kElectionMaxMs);
  ASSERT_NE(first, kNoNode);
  ASSERT_NE(write_and_wait(c, first, "k", "v1", all_nodes(c)), 0u);
  const NodeId next = (first + 1) % 3;
  ASSERT_TRUE(c.elect(next, 10 * kElectionMaxMs)) << failure_report(c);
  // Its no-op is not committed yet: it does not know the commit index.
  const std::uint64_t r = c.read(next, "k");
  ASSERT_NE(r, 0u);
  const ReadRecord* rec = await_read(c, r);
  ASSERT_NE(rec, nullptr) << failure_report(c);
  ASSERT_EQ(rec->state, ReadRecord::State::Ok);
  EXPECT_EQ(rec->value->value, "v1");
  EXPECT_GT(rec->read_index, c.checker().committed_write_index("k"));  // past its no-op
  EXPECT_TRUE(c.checker().ok()) << failure_report(c);
}

}  // namespace
}  // namespace raft::sim
