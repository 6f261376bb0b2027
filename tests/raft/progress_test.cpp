// The leader's view of one follower: each state change of Progress and the
// invariant it leaves behind (include/raft/progress.hpp).
#include "raft/progress.hpp"

#include <gtest/gtest.h>

namespace raft {
namespace {

Progress replicating_from(Index match) {
  Progress p;
  p.match = match;
  p.become_replicate();
  return p;
}

TEST(Progress, ProbeAndReplicateRestartRightAfterWhatTheFollowerHolds) {
  Progress p = replicating_from(3);
  p.sent_append(7);
  EXPECT_EQ(p.next, 8u);
  p.become_probe();
  EXPECT_EQ(p.state, Progress::State::Probe);
  EXPECT_EQ(p.next, 4u);
  EXPECT_TRUE(p.inflight.empty());
  EXPECT_FALSE(p.probe_sent);
}

TEST(Progress, ReplicatePipelinesBatchesUpToTheInflightLimit) {
  Progress p = replicating_from(0);
  p.sent_append(2);
  p.sent_append(5);
  EXPECT_EQ(p.next, 6u);
  EXPECT_EQ(p.inflight.size(), 2u);
  EXPECT_TRUE(p.inflight_full(2));
  EXPECT_FALSE(p.inflight_full(3));
  p.sent_append(std::nullopt);  // a heartbeat-like append moves nothing
  EXPECT_EQ(p.next, 6u);
}

TEST(Progress, AnAcknowledgementFreesTheAppendsItCovers) {
  Progress p = replicating_from(0);
  p.sent_append(2);
  p.sent_append(5);
  EXPECT_TRUE(p.maybe_update(2));
  EXPECT_EQ(p.match, 2u);
  EXPECT_EQ(p.next, 6u) << "next stays ahead; only match moved";
  ASSERT_EQ(p.inflight.size(), 1u);
  EXPECT_EQ(p.inflight.front(), 5u);
  EXPECT_FALSE(p.maybe_update(1)) << "an old acknowledgement changes nothing";
  EXPECT_EQ(p.match, 2u);
}

TEST(Progress, AnAcknowledgementBeyondNextMovesNextPastIt) {
  Progress p;
  p.become_probe();
  EXPECT_TRUE(p.maybe_update(9));
  EXPECT_EQ(p.next, 10u);
}

TEST(Progress, ProbeWaitsForAnAnswerOrTheNextHeartbeat) {
  Progress p;
  p.sent_append(std::nullopt);
  EXPECT_TRUE(p.probe_sent);
  EXPECT_EQ(p.next, 1u);
  p.resume_probe();
  EXPECT_FALSE(p.probe_sent);
}

TEST(Progress, OnlyRejectionsOfWhatIsStillOutstandingCount) {
  Progress replicate = replicating_from(4);
  EXPECT_TRUE(replicate.rejection_is_stale(4)) << "index 4 is already acknowledged";
  EXPECT_FALSE(replicate.rejection_is_stale(5));

  Progress probe;
  probe.match = 2;
  probe.become_probe();
  EXPECT_FALSE(probe.rejection_is_stale(2)) << "the answer to the probe with prev 2";
  EXPECT_TRUE(probe.rejection_is_stale(6)) << "the answer to an older probe";

  Progress snapshot;
  snapshot.become_snapshot(SnapshotMeta{10, 2});
  EXPECT_TRUE(snapshot.rejection_is_stale(0));
}

TEST(Progress, AGenuineRejectionProbesFromTheHintButNeverBelowMatch) {
  Progress p = replicating_from(4);
  p.sent_append(9);
  p.decrease_to(9, 7);
  EXPECT_EQ(p.state, Progress::State::Probe);
  EXPECT_EQ(p.next, 7u);
  EXPECT_TRUE(p.inflight.empty());

  Progress q = replicating_from(4);
  q.sent_append(9);
  q.decrease_to(9, 2);
  EXPECT_EQ(q.next, 5u) << "the follower holds up to 4 whatever the hint says";
}

TEST(Progress, SnapshotStreamsFromItsFirstByteWithNothingInFlight) {
  Progress p = replicating_from(0);
  p.sent_append(3);
  p.snapshot_offset = 99;
  p.become_snapshot(SnapshotMeta{20, 3});
  EXPECT_EQ(p.state, Progress::State::Snapshot);
  EXPECT_EQ(p.snapshot_sending, (SnapshotMeta{20, 3}));
  EXPECT_EQ(p.snapshot_offset, 0u);
  EXPECT_TRUE(p.inflight.empty());
  EXPECT_EQ(p.next, 4u) << "next is left inside the snapshot";
}

TEST(Progress, AReplicateFollowerWithoutProgressForAHeartbeatIsStalled) {
  Progress p = replicating_from(3);
  p.match_at_last_heartbeat = 3;
  EXPECT_FALSE(p.stalled(10)) << "nothing outstanding: not stalled";
  p.sent_append(6);
  EXPECT_TRUE(p.stalled(10));
  EXPECT_FALSE(p.stalled(3)) << "it holds our whole log";
  p.maybe_update(4);
  EXPECT_FALSE(p.stalled(10)) << "it moved since the last heartbeat";
}

}  // namespace
}  // namespace raft
