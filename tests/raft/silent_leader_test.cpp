// A leader never falls silent towards a follower, whatever order lost,
// duplicated or reordered messages arrive in: each heartbeat interval every
// follower is sent something (an append, a heartbeat or a snapshot chunk).
// Found by the simulator (seed 442767): a late InstallSnapshot answer raised
// a follower's match while an append was in flight; the append stayed
// counted as in flight, the window stayed full, and once the leader
// compacted past that match its heartbeat had nothing to anchor on, so the
// follower heard nothing, ever again.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace raft {
namespace {

using test::of_type;
using test::take_messages;

Message append_ok(NodeId from, Term term, Index match) {
  Message m = test::make(MessageType::AppendResponse, from, 0, term);
  m.success = true;
  m.match_index = match;
  return m;
}

/// Node 0 leads 1 and 2 in term 1, one append in flight at most, and both
/// followers hold the no-op at index 1.
Node leader_of_three() {
  Config c = test::small_config(0, 3);
  c.pre_vote = false;
  c.check_quorum = false;
  c.inflight_appends_max = 1;
  Node n(c, 0);
  n.tick(n.election_timeout_ms());
  Message grant = test::make(MessageType::VoteResponse, 1, 0, 1);
  grant.granted = true;
  n.step(grant);
  EXPECT_EQ(n.role(), Role::Leader);
  n.step(append_ok(1, 1, 1));
  n.step(append_ok(2, 1, 1));
  take_messages(n);
  return n;
}

std::size_t sent_to(const std::vector<Message>& messages, NodeId peer) {
  std::size_t count = 0;
  for (const Message& m : messages) count += m.to == peer ? 1 : 0;
  return count;
}

TEST(SilentLeader, ALateSnapshotAnswerFreesTheAppendItCovers) {
  Node n = leader_of_three();
  ASSERT_TRUE(n.propose(EntryType::Command, "a").ok());  // index 2, in flight to 1 and 2
  take_messages(n);                                      // and durable on the leader
  n.step(append_ok(2, 1, 2));                            // commits 2 with node 2
  take_messages(n);
  // A duplicated InstallSnapshot answer from an earlier round arrives late and
  // says node 1 holds index 2; the answer to the append itself is lost.
  Message late = test::make(MessageType::InstallSnapshotResponse, 1, 0, 1);
  late.done = true;
  late.success = true;
  late.match_index = 2;
  late.snapshot = {1, 1};
  n.step(late);
  EXPECT_EQ(n.progress().at(1).match, 2u);
  EXPECT_TRUE(n.progress().at(1).inflight.empty()) << "the append up to 2 is answered";

  ASSERT_TRUE(n.propose(EntryType::Command, "b").ok());  // index 3
  take_messages(n);
  n.step(append_ok(2, 1, 3));
  take_messages(n);
  Snapshot snap;
  ASSERT_TRUE(n.compact(3, std::make_shared<const std::string>("state"), &snap).ok());
  ASSERT_EQ(n.log().first_index(), 4u) << "node 1's match (2) is compacted away";

  // From now on node 1 must be sent something in every heartbeat interval
  // (50 ms in small_config), give or take the 10 ms between ticks.
  TimeMs now_ms = n.election_timeout_ms();
  for (int window = 0; window < 6; ++window) {
    std::size_t sent = 0;
    for (int t = 0; t < 6; ++t) {
      now_ms += 10;
      n.tick(now_ms);
      sent += sent_to(take_messages(n), 1);
    }
    EXPECT_GE(sent, 1u) << "60 ms window " << window << " left node 1 alone";
  }
}

}  // namespace
}  // namespace raft
