// The Raft event stream of one node: the ring's bounds and ordering, and the
// recorder's sampling, coalescing and summaries (runtime/raft_events.hpp,
// runtime/raft_event_recorder.hpp). Time is passed in, so nothing sleeps.
#include "runtime/raft_events.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/raft_event_recorder.hpp"

namespace raft::runtime {
namespace {

constexpr std::uint64_t kSecondUs = 1'000'000;
constexpr std::uint64_t kT0 = 1'700'000'000ULL * kSecondUs;

RaftEvent command_event(const std::string& text) {
  RaftEvent e;
  e.kind = RaftEventKind::Command;
  e.text = text;
  return e;
}

Message heartbeat(NodeId from, NodeId to) {
  Message m;
  m.type = MessageType::AppendEntries;
  m.from = from;
  m.to = to;
  m.term = 2;
  m.prev_log_index = 7;
  m.commit = 7;
  return m;
}

Message vote_request(NodeId from, NodeId to, Term term) {
  Message m;
  m.type = MessageType::VoteRequest;
  m.from = from;
  m.to = to;
  m.term = term;
  m.last_log_index = 4;
  return m;
}

std::vector<RaftEvent> all(const RaftEventLog& log) { return log.read(0, 100000).events; }

// ---- the ring ------------------------------------------------------------------

TEST(RaftEventLog, NumbersEventsInOrderFromOne) {
  RaftEventLog log(8);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(log.append(command_event(std::to_string(i))), i + 1u);
  const RaftEventLog::Page page = log.read(0, 100);
  ASSERT_EQ(page.events.size(), 5u);
  for (std::size_t i = 0; i < page.events.size(); ++i) {
    EXPECT_EQ(page.events[i].seq, i + 1);
    EXPECT_EQ(page.events[i].text, std::to_string(i));
  }
  EXPECT_EQ(page.first_seq, 1u);
  EXPECT_EQ(page.last_seq, 5u);
  EXPECT_EQ(page.lost, 0u);
  EXPECT_EQ(page.overwritten, 0u);
}

TEST(RaftEventLog, ReadsAfterASequenceNumberUpToALimit) {
  RaftEventLog log(16);
  for (int i = 0; i < 10; ++i) log.append(command_event(std::to_string(i)));
  const RaftEventLog::Page page = log.read(4, 3);
  ASSERT_EQ(page.events.size(), 3u);
  EXPECT_EQ(page.events.front().seq, 5u);
  EXPECT_EQ(page.events.back().seq, 7u);
  EXPECT_TRUE(log.read(10, 5).events.empty());
  EXPECT_TRUE(log.read(99, 5).events.empty());
}

TEST(RaftEventLog, KeepsOnlyItsCapacityAndCountsWhatWasOverwritten) {
  RaftEventLog log(4);
  for (int i = 0; i < 10; ++i) log.append(command_event(std::to_string(i)));
  const RaftEventLog::Page page = log.read(0, 100);
  ASSERT_EQ(page.events.size(), 4u);
  EXPECT_EQ(page.events.front().seq, 7u);
  EXPECT_EQ(page.events.front().text, "6");
  EXPECT_EQ(page.events.back().seq, 10u);
  EXPECT_EQ(page.first_seq, 7u);
  EXPECT_EQ(page.overwritten, 6u);
  // A reader that had seen up to 2 lost 3..6.
  EXPECT_EQ(log.read(2, 100).lost, 4u);
  // One that had seen up to 6 lost nothing.
  EXPECT_EQ(log.read(6, 100).lost, 0u);
}

TEST(RaftEventLog, EmptyRingAnswersNothing) {
  RaftEventLog log(4);
  const RaftEventLog::Page page = log.read(0, 10);
  EXPECT_TRUE(page.events.empty());
  EXPECT_EQ(page.first_seq, 0u);
  EXPECT_EQ(page.last_seq, 0u);
}

TEST(RaftEventJson, MessageEventsCarryTheirKindsFields) {
  RaftEvent e;
  e.seq = 3;
  e.t_us = kT0;
  e.kind = RaftEventKind::Send;
  e.type = MessageType::VoteResponse;
  e.peer = 2;
  e.term = 5;
  e.ok = true;
  e.hold_ms = 300;
  const nlohmann::json j = raft_event_json(e);
  EXPECT_EQ(j["k"], "send");
  EXPECT_EQ(j["type"], "vote_resp");
  EXPECT_EQ(j["peer"], "2");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["hold_ms"], 300);
  EXPECT_EQ(j["t"], kT0);
  EXPECT_FALSE(j.contains("index"));

  e.kind = RaftEventKind::Drop;
  e.type = MessageType::AppendEntries;
  e.inbound = true;
  e.reason = DropReason::Partition;
  e.count = 2;
  e.index = 9;
  const nlohmann::json d = raft_event_json(e);
  EXPECT_EQ(d["dir"], "in");
  EXPECT_EQ(d["why"], "partition");
  EXPECT_EQ(d["count"], 2);
  EXPECT_EQ(d["index"], 9);
  EXPECT_FALSE(d.contains("ok"));
}

// ---- the recorder ------------------------------------------------------------------

class RecorderTest : public ::testing::Test {
 protected:
  std::shared_ptr<RaftEventLog> log = std::make_shared<RaftEventLog>(10000);
};

TEST_F(RecorderTest, RecordsEveryVoteRequestWithinTheBudget) {
  RaftEventRecorder r(log, {});
  for (NodeId peer = 1; peer <= 4; ++peer) r.sent(vote_request(0, peer, 3), 0, kT0);
  const auto events = all(*log);
  ASSERT_EQ(events.size(), 4u);
  for (const RaftEvent& e : events) {
    EXPECT_EQ(e.kind, RaftEventKind::Send);
    EXPECT_EQ(e.type, MessageType::VoteRequest);
    EXPECT_EQ(e.term, 3u);
    EXPECT_EQ(e.index, 4u);
  }
}

TEST_F(RecorderTest, SamplesHeartbeatsOncePerIntervalPerPeer) {
  RecorderOptions o;
  o.heartbeat_sample_ms = 1000;
  o.events_per_second = 1;  // sampled heartbeats do not need the budget
  o.burst = 1;
  RaftEventRecorder r(log, o);
  // 10 heartbeats a second to two peers for 3 seconds.
  for (std::uint64_t ms = 0; ms < 3000; ms += 100) {
    r.sent(heartbeat(0, 1), 0, kT0 + ms * 1000);
    r.sent(heartbeat(0, 2), 0, kT0 + ms * 1000);
  }
  std::size_t per_peer[3] = {0, 0, 0};
  for (const RaftEvent& e : all(*log)) {
    ASSERT_EQ(e.kind, RaftEventKind::Send);
    EXPECT_TRUE(e.heartbeat);
    per_peer[e.peer]++;
  }
  EXPECT_EQ(per_peer[1], 3u);
  EXPECT_EQ(per_peer[2], 3u);
  EXPECT_EQ(r.left_out_total(), 60u - 6u);
}

TEST_F(RecorderTest, RecordsEveryHeartbeatOnADelayedLink) {
  RaftEventRecorder r(log, {});
  for (std::uint64_t ms = 0; ms < 1000; ms += 100) r.sent(heartbeat(0, 1), 250, kT0 + ms * 1000);
  const auto events = all(*log);
  ASSERT_EQ(events.size(), 10u);
  EXPECT_EQ(events.front().hold_ms, 250u);
}

TEST_F(RecorderTest, TheBudgetBoundsMessageEventsAndTheSummaryCountsTheRest) {
  RecorderOptions o;
  o.events_per_second = 50;
  o.burst = 50;
  o.summary_every_ms = 1000;
  RaftEventRecorder r(log, o);
  // 1000 vote requests within one millisecond: only the burst gets through.
  for (int i = 0; i < 1000; ++i)
    r.sent(vote_request(0, 1, 2), 0, kT0 + static_cast<std::uint64_t>(i));
  EXPECT_EQ(all(*log).size(), 50u);
  EXPECT_EQ(r.left_out_total(), 950u);
  r.flush(kT0 + 2 * kSecondUs);
  const auto events = all(*log);
  ASSERT_EQ(events.back().kind, RaftEventKind::Sampled);
  EXPECT_EQ(events.back().left_out[static_cast<std::size_t>(MessageType::VoteRequest)], 950u);
  // Tokens come back with time: 50 per second.
  const std::size_t before = all(*log).size();
  for (int i = 0; i < 100; ++i) r.sent(vote_request(0, 1, 2), 0, kT0 + 3 * kSecondUs);
  EXPECT_EQ(all(*log).size() - before, 50u);
}

TEST_F(RecorderTest, TellsTheAnswerToAHeartbeatFromOtherAnswers) {
  RecorderOptions o;
  o.heartbeat_sample_ms = 60'000;
  RaftEventRecorder r(log, o);
  Message ack;
  ack.type = MessageType::AppendResponse;
  ack.from = 1;
  ack.to = 0;
  ack.term = 2;
  ack.success = true;
  ack.match_index = 7;
  r.received(heartbeat(0, 1));
  r.sent(ack, 0, kT0);
  r.sent(ack, 0, kT0 + 1000);  // a second heartbeat's answer: sampled out
  Message append = heartbeat(0, 1);
  append.entries.push_back(Entry{2, 8, EntryType::Command, "x"});
  r.received(append);
  ack.match_index = 8;
  r.sent(ack, 0, kT0 + 2000);  // answers entries: always recorded
  const auto events = all(*log);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].heartbeat);
  EXPECT_FALSE(events[1].heartbeat);
  EXPECT_EQ(events[1].index, 8u);
  EXPECT_TRUE(events[1].ok);
}

TEST_F(RecorderTest, RecordsStateChangesOnlyWhenSomethingChanged) {
  RaftEventRecorder r(log, {});
  ObservedState s;
  s.has_node = true;
  s.role = Role::Follower;
  s.term = 1;
  s.timeout_ms = 400;
  r.observe(s, kT0);
  s.elapsed_ms = 100;  // the timer runs: no news
  r.observe(s, kT0 + 1000);
  s.role = Role::Candidate;
  s.term = 2;
  s.vote = 0;
  s.elapsed_ms = 0;
  r.observe(s, kT0 + 2000);
  s.paused = true;
  r.observe(s, kT0 + 3000);
  const auto events = all(*log);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].role, Role::Candidate);
  EXPECT_EQ(events[1].term, 2u);
  EXPECT_EQ(events[1].timeout_ms, 400u);
  EXPECT_TRUE(events[2].paused);
  // Sequence numbers and timestamps grow together.
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].seq, events[i - 1].seq);
    EXPECT_GE(events[i].t_us, events[i - 1].t_us);
  }
}

TEST_F(RecorderTest, CoalescesCommitsAndFlushesTheLastOne) {
  RecorderOptions o;
  o.commit_every_ms = 100;
  RaftEventRecorder r(log, o);
  ObservedState s;
  s.has_node = true;
  s.role = Role::Leader;
  s.term = 1;
  for (Index c = 1; c <= 50; ++c) {
    s.commit = c;
    r.observe(s, kT0 + c * 1000);  // one commit per millisecond
  }
  r.flush(kT0 + 500'000);
  std::vector<Index> commits;
  for (const RaftEvent& e : all(*log)) {
    if (e.kind == RaftEventKind::Commit) commits.push_back(e.index);
  }
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits.front(), 1u);
  EXPECT_EQ(commits.back(), 50u);
}

TEST_F(RecorderTest, ACrashedNodeIsRecordedAsWhatItWas) {
  RaftEventRecorder r(log, {});
  ObservedState s;
  s.has_node = true;
  s.role = Role::Leader;
  s.term = 4;
  s.leader = 0;
  r.observe(s, kT0);
  ObservedState crashed;  // no Raft state any more
  crashed.crashed = true;
  r.observe(crashed, kT0 + 1000);
  const auto events = all(*log);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[1].crashed);
  EXPECT_EQ(events[1].role, Role::Leader);
  EXPECT_EQ(events[1].term, 4u);
}

TEST_F(RecorderTest, RecordsNothingWhenDisabled) {
  RecorderOptions o;
  o.events_per_second = 0;
  RaftEventRecorder r(log, o);
  r.sent(vote_request(0, 1, 2), 0, kT0);
  ObservedState s;
  s.has_node = true;
  r.observe(s, kT0);
  r.command("pause", true, kT0);
  EXPECT_TRUE(all(*log).empty());
}

TEST_F(RecorderTest, DropsAreRecordedWithTheirDirectionAndReason) {
  RaftEventRecorder r(log, {});
  r.dropped(vote_request(2, 0, 4), /*inbound=*/true, DropReason::Paused, kT0);
  r.dropped(vote_request(0, 1, 4), /*inbound=*/false, DropReason::Cut, kT0 + 1);
  const auto events = all(*log);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].peer, 2);
  EXPECT_TRUE(events[0].inbound);
  EXPECT_EQ(events[0].reason, DropReason::Paused);
  EXPECT_EQ(events[1].peer, 1);
  EXPECT_FALSE(events[1].inbound);
  EXPECT_EQ(events[1].reason, DropReason::Cut);
}

}  // namespace
}  // namespace raft::runtime
