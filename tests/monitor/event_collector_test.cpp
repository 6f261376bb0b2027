// EventCollector: the nodes' events into the history, in order, once each,
// with what nodes send treated as data; status frames when something changed.
#include "monitor/event_collector.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace raft::monitor {
namespace {

using nlohmann::json;

constexpr std::uint64_t kBoot = 1'790'000'000'000'000;

FetchResult answer(const json& body) {
  FetchResult r;
  r.status = 200;
  r.body = body.dump();
  return r;
}

json events_body(std::uint64_t boot, const std::vector<json>& events, std::uint64_t lost = 0) {
  const std::uint64_t last = events.empty() ? 0 : events.back()["seq"].get<std::uint64_t>();
  return {{"boot", boot}, {"events", events}, {"last_seq", last}, {"lost", lost}};
}

json vote(std::uint64_t seq, std::uint64_t t) {
  return {{"seq", seq},  {"t", t},    {"k", "send"}, {"type", "vote"},
          {"peer", "2"}, {"term", 3}, {"index", 7}};
}

std::vector<json> stored(const HistoryStore& store) {
  std::vector<json> out;
  for (const std::string& line : store.after(0, 100000).lines) out.push_back(json::parse(line));
  return out;
}

/// A round over nodes 0..n-1, all reachable with `status`.
ClusterSnapshot round_of(int n, const json& status) {
  ClusterSnapshot s;
  for (int i = 0; i < n; ++i) {
    NodeTarget t;
    t.id = i;
    t.address = "127.0.0.1:" + std::to_string(7000 + i);
    s.targets.push_back(t);
    NodeProbe p;
    p.reachable = true;
    p.status = status;
    s.probes.push_back(p);
  }
  return s;
}

json follower_status(std::uint64_t elapsed_ms) {
  return {{"state", "FOLLOWER"},
          {"term", 3},
          {"leader_id", "1"},
          {"commit_index", 5},
          {"paused", false},
          {"crashed", false},
          {"partitioned", json::array()},
          {"delaying", {{"2", 400}}},
          {"timers",
           {{"election_timeout_ms", 1000},
            {"election_elapsed_ms", elapsed_ms},
            {"heartbeat_interval_ms", 100},
            {"running", true}}}};
}

TEST(EventRecord, KeepsOnlyKnownFieldsOfTheExpectedTypes) {
  const json e = {{"seq", 4},  {"t", kBoot},  {"k", "send"},        {"type", "vote"}, {"peer", "2"},
                  {"term", 3}, {"ok", "yes"}, {"evil", "<script>"}, {"hold_ms", 300}};
  const std::optional<json> r = event_record(1, e);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["node"], "1");
  EXPECT_EQ((*r)["peer"], "2");
  EXPECT_EQ((*r)["hold_ms"], 300);
  EXPECT_FALSE(r->contains("evil"));
  EXPECT_FALSE(r->contains("ok")) << "a string is no boolean";
  EXPECT_FALSE(event_record(1, {{"seq", 1}, {"t", 1}, {"k", "<b>"}}));
  EXPECT_FALSE(event_record(1, {{"seq", -1}, {"t", 1}, {"k", "send"}}));
  EXPECT_FALSE(event_record(1, json::array()));
  const json typed = {{"seq", 1}, {"t", 1}, {"k", "send"}, {"type", "<img>"}, {"peer", "x"}};
  EXPECT_FALSE(event_record(1, typed)->contains("type"));
  EXPECT_FALSE(event_record(1, typed)->contains("peer"));
  const std::string long_text(1000, 'a');
  const auto command =
      event_record(1, {{"seq", 1}, {"t", 1}, {"k", "command"}, {"text", long_text}});
  EXPECT_LE((*command)["text"].get<std::string>().size(), 200u);
}

TEST(EventCollector, StoresEachEventOnceInTimeOrder) {
  HistoryStore store(HistoryOptions{});
  EventCollector c(store);
  EXPECT_EQ(c.extra_path(1), "/events?after=0&limit=1000");
  c.on_extra(1, answer(events_body(kBoot, {vote(1, kBoot + 20), vote(2, kBoot + 30)})));
  c.on_extra(0, answer(events_body(kBoot + 5, {vote(1, kBoot + 10)})));
  c.on_round(round_of(0, json::object()));
  EXPECT_EQ(c.extra_path(1), "/events?after=2&limit=1000");
  // The same events again (a node answering late, a retry): not stored twice.
  c.on_extra(1, answer(events_body(kBoot, {vote(1, kBoot + 20), vote(2, kBoot + 30)})));
  c.on_round(round_of(0, json::object()));
  std::vector<std::uint64_t> times;
  int votes = 0, boots = 0;
  for (const json& r : stored(store)) {
    if (r["k"] == "send") ++votes;
    if (r["k"] == "boot") ++boots;
    times.push_back(r["t"].get<std::uint64_t>());
  }
  EXPECT_EQ(votes, 3);
  EXPECT_EQ(boots, 2) << "one per node, the first time it is heard";
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
}

TEST(EventCollector, RecordsAGapWhenANodeOverwroteEventsFirst) {
  HistoryStore store(HistoryOptions{});
  EventCollector c(store);
  c.on_extra(1, answer(events_body(kBoot, {vote(50, kBoot + 1)}, /*lost=*/49)));
  c.on_round(round_of(0, json::object()));
  bool gap = false;
  for (const json& r : stored(store)) gap |= r["k"] == "gap" && r["lost"] == 49;
  EXPECT_TRUE(gap);
  EXPECT_EQ(c.lost_total(), 49u);
}

TEST(EventCollector, StartsOverWhenANodeRestarts) {
  HistoryStore store(HistoryOptions{});
  EventCollector c(store);
  c.on_extra(1, answer(events_body(kBoot, {vote(1, kBoot + 1), vote(2, kBoot + 2)})));
  c.on_round(round_of(0, json::object()));
  // A new boot: numbering from 1 again; asked from 0 on the next round.
  c.on_extra(1, answer(events_body(kBoot + 999, {vote(3, kBoot + 1000)})));
  EXPECT_EQ(c.extra_path(1), "/events?after=0&limit=1000");
  c.on_extra(1, answer(events_body(kBoot + 999, {vote(1, kBoot + 1001)})));
  c.on_round(round_of(0, json::object()));
  int votes = 0;
  for (const json& r : stored(store)) votes += r["k"] == "send" ? 1 : 0;
  EXPECT_EQ(votes, 3);
}

TEST(EventCollector, ARestartedMonitorGoesOnWhereItsHistoryEnds) {
  HistoryStore store(HistoryOptions{});
  {
    EventCollector c(store);
    c.on_extra(1, answer(events_body(kBoot, {vote(1, kBoot + 1), vote(2, kBoot + 2)})));
    c.on_round(round_of(0, json::object()));
  }
  EventCollector again(store);
  EXPECT_EQ(again.extra_path(1), "/events?after=2&limit=1000");
  again.on_extra(
      1, answer(events_body(kBoot, {vote(1, kBoot + 1), vote(2, kBoot + 2), vote(3, kBoot + 3)})));
  again.on_round(round_of(0, json::object()));
  int votes = 0;
  for (const json& r : stored(store)) votes += r["k"] == "send" ? 1 : 0;
  EXPECT_EQ(votes, 3);
}

TEST(EventCollector, WritesAFrameWhenSomethingButTheTimerChanged) {
  HistoryStore store(HistoryOptions{});
  FrameOptions o;
  o.timer_every_ms = 60'000;  // the timer alone never makes a frame here
  EventCollector c(store, o);
  c.on_round(round_of(2, follower_status(50)));
  EXPECT_EQ(store.size(), 2u);
  c.on_round(round_of(2, follower_status(60)));
  EXPECT_EQ(store.size(), 2u) << "only the timer moved";
  json changed = follower_status(60);
  changed["paused"] = true;
  c.on_round(round_of(2, changed));
  EXPECT_EQ(store.size(), 4u);
  const json frame = stored(store).back();
  EXPECT_EQ(frame["k"], "status");
  EXPECT_EQ(frame["paused"], true);
  EXPECT_EQ(frame["delaying"]["2"], 400);
  EXPECT_EQ(frame["election_timeout_ms"], 1000);
}

TEST(EventCollector, FollowsATimerThatMayBeRunningOut) {
  HistoryStore store(HistoryOptions{});
  FrameOptions o;
  o.timer_every_ms = 60'000;
  EventCollector c(store, o);
  c.on_round(round_of(1, follower_status(50)));
  // No heartbeat for more than two intervals: every round shows the timer.
  c.on_round(round_of(1, follower_status(250)));
  c.on_round(round_of(1, follower_status(500)));
  EXPECT_EQ(store.size(), 3u);
}

TEST(EventCollector, AFrameCarriesTheMembershipAndStandbyIsAState) {
  HistoryStore store(HistoryOptions{});
  EventCollector c(store);
  json spare = follower_status(50);
  spare["state"] = "STANDBY";
  spare["voters"] = {"0", "1", "2", "x", 3};
  spare["learners"] = {"4"};
  spare["config_index"] = 7;
  c.on_round(round_of(1, spare));
  json frame = stored(store).back();
  EXPECT_EQ(frame["state"], "STANDBY");
  EXPECT_EQ(frame["voters"], json({"0", "1", "2"})) << "only rank ids are kept";
  EXPECT_EQ(frame["learners"], json({"4"}));
  EXPECT_EQ(frame["config_index"], 7);
  // A change of membership alone is worth a frame: the ring redraws from it.
  spare["learners"] = json::array();
  spare["voters"] = {"0", "1", "2", "4"};
  c.on_round(round_of(1, spare));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(stored(store).back()["voters"], json({"0", "1", "2", "4"}));
  // A node that reports no membership gets none in its frame.
  c.on_round(round_of(1, follower_status(50)));
  EXPECT_FALSE(stored(store).back().contains("voters"));
}

TEST(EventCollector, TheTimersOfStandbyNodesAndLearnersAreNotFollowed) {
  HistoryStore store(HistoryOptions{});
  FrameOptions o;
  o.timer_every_ms = 60'000;
  EventCollector c(store, o);
  // Their timers run and are never reset: following them would write a
  // frame every round for nothing.
  json spare = follower_status(50);
  spare["state"] = "STANDBY";
  json learner = follower_status(50);
  learner["voters"] = {"1", "2", "3"};  // not node 0
  learner["learners"] = {"0"};
  for (json* s : {&spare, &learner}) {
    HistoryStore one(HistoryOptions{});
    EventCollector collector(one, o);
    collector.on_round(round_of(1, *s));
    (*s)["timers"]["election_elapsed_ms"] = 5000;
    collector.on_round(round_of(1, *s));
    (*s)["timers"]["election_elapsed_ms"] = 9000;
    collector.on_round(round_of(1, *s));
    EXPECT_EQ(one.size(), 1u) << s->dump();
  }
  json voter = learner;
  voter["voters"] = {"0", "1", "2"};
  c.on_round(round_of(1, voter));
  voter["timers"]["election_elapsed_ms"] = 9500;
  c.on_round(round_of(1, voter));
  EXPECT_EQ(store.size(), 2u) << "a voter's timer running out is followed";
}

TEST(EventCollector, AnUnreachableNodeIsAnOfflineFrame) {
  HistoryStore store(HistoryOptions{});
  EventCollector c(store);
  ClusterSnapshot s = round_of(1, follower_status(50));
  s.probes[0].reachable = false;
  c.on_round(s);
  const json frame = stored(store).back();
  EXPECT_EQ(frame["state"], "offline");
  EXPECT_EQ(frame["reachable"], false);
}

}  // namespace
}  // namespace raft::monitor
