// NodeDriver end to end in one process: real FileStores in a temporary
// folder, real clocks with short timeouts, drivers on threads, messages over
// an in-process transport. Every wait is for a condition with a deadline.
#include "runtime/node_driver.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "in_process_transport.hpp"

namespace raft::runtime {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kDeadline = 20s;

bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds limit = kDeadline) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

class DriverCluster {
 public:
  /// Ranks `voters`..size-1 start STANDBY (-1: every rank votes).
  DriverCluster(int size, const std::string& name, int voters = -1)
      : hub_(std::make_shared<testing::InProcessHub>(size)) {
    dir_ =
        fs::temp_directory_path() / ("raft_driver_test_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    for (int i = 0; i < size; ++i) {
      NodeOptions o;
      o.raft.id = i;
      for (int j = 0; j < (voters < 0 ? size : voters); ++j) o.raft.voters.push_back(j);
      o.raft.node_count = static_cast<std::size_t>(size);
      o.raft.election_timeout_min_ms = 150;
      o.raft.election_timeout_max_ms = 300;
      o.raft.heartbeat_interval_ms = 30;
      o.raft.initial_delay_ms = 0;
      o.raft.seed = 1000 + static_cast<std::uint64_t>(i);
      o.node_dir = dir_ / ("node-" + std::to_string(i));
      o.fsync = false;  // tests check logic, not the disk
      o.snapshot_every_entries = 50;
      auto logger =
          std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
      metrics_.push_back(std::make_shared<Metrics>());
      drivers_.push_back(
          std::make_unique<NodeDriver>(o, hub_->transport_for(i), logger, metrics_.back()));
    }
    for (auto& d : drivers_) threads_.emplace_back([&d] { d->run(); });
  }
  ~DriverCluster() {
    for (auto& d : drivers_) d->stop();
    for (auto& t : threads_) t.join();
    drivers_.clear();
    fs::remove_all(dir_);
  }

  NodeDriver& at(NodeId i) { return *drivers_.at(static_cast<std::size_t>(i)); }
  Metrics& metrics(NodeId i) { return *metrics_.at(static_cast<std::size_t>(i)); }
  /// Messages sent from one node to another so far (what left the sender).
  std::size_t posted(NodeId from, NodeId to) { return hub_->posted(from, to); }
  int size() const { return static_cast<int>(drivers_.size()); }

  /// The one leader all running nodes agree on, or kNoNode.
  NodeId agreed_leader() {
    NodeId leader = kNoNode;
    for (int i = 0; i < size(); ++i) {
      auto s = at(i).status();
      if (s->paused || s->crashed || s->role == Role::Standby) continue;
      if (s->leader_id == kNoNode || (leader != kNoNode && s->leader_id != leader)) return kNoNode;
      leader = s->leader_id;
    }
    if (leader == kNoNode || at(leader).status()->role != Role::Leader) return kNoNode;
    return leader;
  }
  NodeId wait_leader() {
    NodeId leader = kNoNode;
    wait_for([&] { return (leader = agreed_leader()) != kNoNode; });
    return leader;
  }

  CommandReply command(NodeId i, const std::string& name, std::vector<std::string> args = {}) {
    return at(i).command(name, std::move(args)).get();
  }
  KvReply put(NodeId i, const std::string& key, const std::string& value) {
    KvCommand c;
    c.op = KvOp::Put;
    c.key = key;
    c.value = value;
    return at(i).kv_write(c).get();
  }

 private:
  fs::path dir_;
  std::shared_ptr<testing::InProcessHub> hub_;
  std::vector<std::shared_ptr<Metrics>> metrics_;
  std::vector<std::unique_ptr<NodeDriver>> drivers_;
  std::vector<std::thread> threads_;
};

TEST(NodeDriver, ElectsOneLeaderAndReplicatesWrites) {
  DriverCluster c(3, "elect");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  KvReply w = c.put(leader, "greeting", "hello");
  ASSERT_TRUE(w.ok) << w.error;
  EXPECT_EQ(w.http_status, 200);
  KvReply r = c.at(leader).kv_read("greeting", false).get();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "hello");
  const NodeId follower = (leader + 1) % 3;
  KvReply redirected = c.put(follower, "k", "v");
  EXPECT_EQ(redirected.http_status, 307);
  EXPECT_EQ(redirected.leader_id, leader);
  EXPECT_TRUE(wait_for([&] {
    KvReply s = c.at(follower).kv_read("greeting", true).get();
    return s.ok && s.value == "hello";
  }));
  EXPECT_EQ(c.at(leader).kv_read("missing", false).get().http_status, 404);
}

TEST(NodeDriver, EachWriteIsTimedStageByStageInTheMetrics) {
  DriverCluster c(3, "stages");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  ASSERT_TRUE(c.put(leader, "a", "1").ok);
  ASSERT_TRUE(c.put(leader, "b", "2").ok);
  const std::string text = c.metrics(leader).render_prometheus();
  for (const char* stage : {"queued", "leader_sync", "replicate_commit", "total"}) {
    const std::string line =
        std::string("raft_write_stage_seconds_count{stage=\"") + stage + "\"} 2";
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line;
  }
  EXPECT_EQ(text.find("# TYPE raft_write_stage_seconds histogram"),
            text.rfind("# TYPE raft_write_stage_seconds histogram"))
      << "one TYPE line per family";
}

TEST(NodeDriver, MessagesAreCountedByTypeInTheMetrics) {
  DriverCluster c(3, "by-type");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  ASSERT_TRUE(c.put(leader, "a", "1").ok);
  const std::string text = c.metrics(leader).render_prometheus();
  for (const char* family : {"raft_messages_sent_total", "raft_messages_received_total"}) {
    const std::string type_line = std::string("# TYPE ") + family + " counter\n";
    EXPECT_NE(text.find(type_line), std::string::npos) << "missing: " << type_line;
    EXPECT_EQ(text.find(type_line), text.rfind(type_line)) << "one TYPE line per family";
  }
  EXPECT_NE(text.find("raft_messages_sent_total{type=\"append_entries\"} "), std::string::npos);
  EXPECT_NE(text.find("raft_messages_received_total{type=\"append_response\"} "),
            std::string::npos);
  EXPECT_EQ(text.find("raft_messages_sent_total{type=\"append_entries\"} 0\n"), std::string::npos)
      << "a leader that replicated a write sent AppendEntries";
}

TEST(NodeDriver, PausingTheLeaderElectsANewOneAndResumeRejoins) {
  DriverCluster c(3, "pause");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  ASSERT_TRUE(c.command(leader, "pause").ok);
  EXPECT_FALSE(c.command(leader, "pause").ok) << "already paused";
  NodeId next = kNoNode;
  ASSERT_TRUE(wait_for([&] { return (next = c.agreed_leader()) != kNoNode && next != leader; }));
  ASSERT_TRUE(c.put(next, "after", "pause").ok);
  ASSERT_TRUE(c.command(leader, "resume").ok);
  EXPECT_TRUE(wait_for([&] {
    auto s = c.at(leader).status();
    return s->role == Role::Follower && s->leader_id == next;
  }));
  EXPECT_EQ(c.agreed_leader(), next) << "the resumed node must not depose the new leader";
}

TEST(NodeDriver, CrashAndRestartRecoverTheLogFromDisk) {
  DriverCluster c(3, "crash");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.put(leader, "k" + std::to_string(i), "v").ok);
  const NodeId f = (leader + 1) % 3;
  ASSERT_TRUE(wait_for([&] { return c.at(f).status()->log_length >= 11; }));
  const Index length = c.at(f).status()->log_length;
  ASSERT_TRUE(c.command(f, "crash").ok);
  EXPECT_TRUE(c.at(f).status()->crashed);
  EXPECT_FALSE(c.command(f, "trigger_election").ok) << "crashed nodes only restart";
  EXPECT_EQ(c.at(f).kv_read("k1", true).get().http_status, 503);
  CommandReply r = c.command(f, "restart");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_GE(c.at(f).status()->log_length, length) << "the log came back from disk";
  EXPECT_TRUE(wait_for([&] {
    KvReply s = c.at(f).kv_read("k9", true).get();
    return s.ok && s.value == "v";
  }));
}

TEST(NodeDriver, PartitionIsolatesAndHealRestores) {
  DriverCluster c(3, "partition");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId a = (leader + 1) % 3;
  const NodeId b = (leader + 2) % 3;
  EXPECT_FALSE(c.command(leader, "partition", {"9"}).ok);
  EXPECT_FALSE(c.command(leader, "partition", {std::to_string(leader)}).ok);
  ASSERT_TRUE(c.command(leader, "partition", {std::to_string(a), std::to_string(b)}).ok);
  // Cut off from both followers, the leader steps down (CheckQuorum) and the
  // other two elect a leader among themselves.
  EXPECT_TRUE(wait_for([&] {
    auto sa = c.at(a).status();
    return sa->leader_id != kNoNode && sa->leader_id != leader &&
           c.at(sa->leader_id).status()->role == Role::Leader;
  }));
  EXPECT_TRUE(wait_for([&] { return c.at(leader).status()->role != Role::Leader; }));
  ASSERT_TRUE(c.command(leader, "heal").ok);
  EXPECT_TRUE(wait_for([&] { return c.agreed_leader() != kNoNode; }));
}

TEST(NodeDriver, OneWayCommandsRefuseBadRanks) {
  DriverCluster c(3, "oneway_args");
  for (const std::string cmd : {"drop_from", "drop_to"}) {
    CommandReply none = c.command(0, cmd);
    EXPECT_FALSE(none.ok);
    EXPECT_EQ(none.http_status, 400);
    EXPECT_EQ(none.error, cmd + " needs ranks: " + cmd + " R1 R2 ...");
    EXPECT_EQ(c.command(0, cmd, {"3"}).error, "'3' is not a rank of this cluster (0..2)");
    EXPECT_EQ(c.command(0, cmd, {"1", "x"}).error, "'x' is not a rank of this cluster (0..2)");
    EXPECT_EQ(c.command(0, cmd, {"-1"}).http_status, 400);
    EXPECT_EQ(c.command(0, cmd, {"0"}).error, "a node cannot " + cmd + " itself");
  }
  auto s = c.at(0).status();
  EXPECT_TRUE(s->dropping_from.empty() && s->dropping_to.empty())
      << "a refused command cuts nothing";
  EXPECT_FALSE(c.command(0, "heal", {"1"}).ok) << "heal takes no arguments";
}

TEST(NodeDriver, OneWayCutsAddUpAndHealClearsEverySet) {
  DriverCluster c(3, "oneway_sets");
  CommandReply from = c.command(0, "drop_from", {"1"});
  ASSERT_TRUE(from.ok) << from.error;
  EXPECT_EQ(from.fields["dropping_from"], nlohmann::json::array({1}));
  ASSERT_TRUE(c.command(0, "drop_from", {"2", "1"}).ok);
  ASSERT_TRUE(c.command(0, "drop_to", {"2"}).ok);
  ASSERT_TRUE(c.command(0, "partition", {"1"}).ok);
  auto s = c.at(0).status();
  EXPECT_EQ(s->dropping_from, (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(s->dropping_to, (std::vector<NodeId>{2}));
  EXPECT_EQ(s->partitioned, (std::vector<NodeId>{1}));
  CommandReply details = c.command(0, "state_details");
  EXPECT_EQ(details.fields["details"]["dropping_to"], nlohmann::json::array({2}));
  CommandReply heal = c.command(0, "heal");
  ASSERT_TRUE(heal.ok) << heal.error;
  s = c.at(0).status();
  EXPECT_TRUE(s->partitioned.empty());
  EXPECT_TRUE(s->dropping_from.empty());
  EXPECT_TRUE(s->dropping_to.empty());
}

TEST(NodeDriver, DropToSilencesOneDirectionOnly) {
  DriverCluster c(3, "oneway_dir");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId b = (leader + 1) % 3;
  ASSERT_TRUE(c.command(leader, "drop_to", {std::to_string(b)}).ok);
  // The command ran on the leader's loop, so every later send sees the cut.
  const std::size_t to_b = c.posted(leader, b);
  const std::size_t from_b = c.posted(b, leader);
  const std::uint64_t dropped = c.metrics(leader).messages_dropped.load();
  // Without heartbeats b times out and campaigns (PreVote): it keeps talking
  // to the leader, which keeps hearing it, while nothing reaches b from it.
  EXPECT_TRUE(wait_for([&] {
    return c.posted(b, leader) >= from_b + 3 && c.metrics(leader).messages_dropped > dropped + 3;
  }));
  EXPECT_EQ(c.posted(leader, b), to_b) << "the leader sent nothing to b through the cut";
  EXPECT_GT(c.posted(leader, (leader + 2) % 3), 0u);
  ASSERT_TRUE(c.command(leader, "heal").ok);
  EXPECT_TRUE(wait_for([&] { return c.posted(leader, b) > to_b; })) << "heal restores the link";
  EXPECT_TRUE(wait_for([&] { return c.agreed_leader() != kNoNode; }));
}

TEST(NodeDriver, DropFromIgnoresOneDirectionOnly) {
  DriverCluster c(3, "oneway_from");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId b = (leader + 1) % 3;
  const std::uint64_t received =
      c.metrics(b).messages_received[static_cast<std::size_t>(MessageType::AppendEntries)];
  ASSERT_TRUE(c.command(b, "drop_from", {std::to_string(leader)}).ok);
  const std::uint64_t dropped = c.metrics(b).messages_dropped.load();
  const std::size_t from_b = c.posted(b, leader);
  // b still receives the leader's heartbeats and drops them, so it stops
  // answering them: what it sends the leader now is only its own campaign.
  EXPECT_TRUE(wait_for([&] { return c.metrics(b).messages_dropped > dropped + 3; }));
  EXPECT_GT(c.metrics(b).messages_received[static_cast<std::size_t>(MessageType::AppendEntries)],
            received);
  EXPECT_TRUE(wait_for([&] { return c.posted(b, leader) > from_b; })) << "b still sends";
  ASSERT_TRUE(c.command(b, "heal").ok);
  EXPECT_TRUE(wait_for([&] { return c.agreed_leader() != kNoNode; }));
}

TEST(NodeDriver, CommandsAnswerAsDocumented) {
  DriverCluster c(3, "commands");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId f = (leader + 1) % 3;
  CommandReply timers = c.command(f, "check_timers");
  ASSERT_TRUE(timers.ok);
  EXPECT_TRUE(timers.fields.contains("election_timeout_ms"));
  EXPECT_TRUE(timers.fields.contains("time_since_last_heartbeat_ms"));
  EXPECT_EQ(timers.fields["heartbeat_interval_ms"], 30);
  CommandReply details = c.command(leader, "state_details");
  ASSERT_TRUE(details.ok);
  EXPECT_EQ(details.fields["details"]["state"], "LEADER");
  CommandReply submit = c.command(leader, "submit", {"hello world"});
  ASSERT_TRUE(submit.ok) << submit.error;
  EXPECT_GT(submit.fields["index"].get<Index>(), 0u);
  EXPECT_FALSE(c.command(f, "submit", {"x"}).ok) << "only the leader appends";
  EXPECT_FALSE(c.command(f, "become_follower").ok) << "already a follower";
  EXPECT_FALSE(c.command(f, "resume").ok) << "not paused";
  EXPECT_FALSE(c.command(f, "restart").ok) << "not crashed";
  EXPECT_FALSE(c.command(f, "transfer_leadership", {"x"}).ok);
  EXPECT_FALSE(c.command(f, "frobnicate").ok);
  CommandReply transfer = c.command(leader, "transfer_leadership", {std::to_string(f)});
  ASSERT_TRUE(transfer.ok) << transfer.error;
  EXPECT_TRUE(wait_for([&] { return c.agreed_leader() == f; }));
  CommandReply trigger = c.command(leader, "trigger_election");
  ASSERT_TRUE(trigger.ok) << trigger.error;
  EXPECT_TRUE(wait_for([&] { return c.agreed_leader() != kNoNode; }));
  const std::vector<std::string> history = c.at(leader).command_history();
  ASSERT_EQ(history.size(), 4u);  // state_details, submit, transfer_leadership, trigger_election
  EXPECT_NE(history[1].find(" - submit hello world"), std::string::npos) << history[1];
}

TEST(NodeDriver, SnapshotsCompactTheLogAndCatchUpALaggingFollower) {
  DriverCluster c(3, "snapshot");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId f = (leader + 1) % 3;
  ASSERT_TRUE(c.command(f, "crash").ok);
  for (int i = 0; i < 120; ++i)
    ASSERT_TRUE(c.put(leader, "key" + std::to_string(i % 7), std::to_string(i)).ok);
  ASSERT_TRUE(wait_for([&] { return c.at(leader).status()->snapshot_index > 0; }))
      << "automatic compaction every 50 entries";
  CommandReply snap = c.command(leader, "snapshot");
  EXPECT_TRUE(snap.ok || snap.error.find("nothing new") != std::string::npos) << snap.error;
  ASSERT_TRUE(c.command(f, "restart").ok);
  EXPECT_TRUE(wait_for([&] {
    KvReply s = c.at(f).kv_read("key1", true).get();
    return s.ok && s.value == "113";
  }));
  EXPECT_GT(c.at(f).status()->snapshot_index, 0u) << "it caught up through InstallSnapshot";
}

// ---- the `delay` fault and the Raft events (raft_events.hpp) ----------------------

TEST(NodeDriver, DelayHoldsMessagesToTheChosenRanksAndHealClearsIt) {
  DriverCluster c(3, "delay");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId f = (leader + 1) % 3;
  EXPECT_FALSE(c.command(leader, "delay", {"1"}).ok) << "needs ranks and ms";
  EXPECT_FALSE(c.command(leader, "delay", {"x", "50"}).ok);
  EXPECT_FALSE(c.command(leader, "delay", {std::to_string(f), "60001"}).ok);
  EXPECT_FALSE(c.command(leader, "delay", {std::to_string(leader), "50"}).ok) << "itself";
  CommandReply d = c.command(leader, "delay", {"all", "120"});
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.fields["delaying"].size(), 2u);
  EXPECT_EQ(c.at(leader).status()->delaying.size(), 2u);
  // Every append waits 120 ms in the leader's transport, so no write can
  // commit sooner (the timeouts are 150-300 ms: heartbeats still arrive).
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.put(leader, "slow", "motion").ok);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 120ms);
  ASSERT_TRUE(c.command(leader, "delay", {std::to_string(f), "0"}).ok);
  EXPECT_EQ(c.at(leader).status()->delaying.size(), 1u);
  ASSERT_TRUE(c.command(leader, "heal").ok);
  EXPECT_TRUE(c.at(leader).status()->delaying.empty());
}

TEST(NodeDriver, DelayReachesEveryRankOfTheJobNotJustTheInitialVoters) {
  DriverCluster c(4, "delay_spare", 3);  // rank 3 is a spare, a member once added
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  CommandReply d = c.command(leader, "delay", {"3", "50"});
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.fields["delaying"].size(), 1u);
  d = c.command(leader, "delay", {"all", "50"});
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.fields["delaying"].size(), 3u);
  EXPECT_FALSE(c.command(leader, "delay", {"4", "50"}).ok) << "not a rank of the job";
  ASSERT_TRUE(c.command(leader, "heal").ok);
}

/// The events of node `i` of kind `kind` (and message type `type`, for messages).
std::vector<RaftEvent> events_of(NodeDriver& d, RaftEventKind kind,
                                 std::optional<MessageType> type = std::nullopt) {
  std::vector<RaftEvent> out;
  for (const RaftEvent& e : d.events(0, 100000).events) {
    if (e.kind == kind && (!type || e.type == *type)) out.push_back(e);
  }
  return out;
}

TEST(NodeDriver, RecordsAnElectionAsEvents) {
  DriverCluster c(3, "events");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId f = (leader + 1) % 3;
  ASSERT_TRUE(c.command(f, "trigger_election").ok);
  ASSERT_TRUE(wait_for([&] { return c.agreed_leader() == f; }));
  std::vector<RaftEvent> states = events_of(c.at(f), RaftEventKind::State);
  const bool was_candidate = std::any_of(states.begin(), states.end(), [](const RaftEvent& e) {
    return e.role == Role::Candidate && e.timeout_ms > 0;
  });
  EXPECT_TRUE(was_candidate) << "the forced election shows the CANDIDATE with its timeout";
  EXPECT_GE(events_of(c.at(f), RaftEventKind::Send, MessageType::VoteRequest).size(), 2u);
  const Term term = c.at(f).status()->term;
  bool granted = false;
  for (NodeId other = 0; other < 3; ++other) {
    if (other == f) continue;
    for (const RaftEvent& e :
         events_of(c.at(other), RaftEventKind::Send, MessageType::VoteResponse)) {
      granted |= e.peer == f && e.ok && e.term == term;
    }
  }
  EXPECT_TRUE(granted) << "a voter's answer to the candidate is recorded as granted";
  const std::vector<RaftEvent> commands = events_of(c.at(f), RaftEventKind::Command);
  ASSERT_FALSE(commands.empty());
  EXPECT_EQ(commands.back().text, "trigger_election");
  // Every node numbers its events 1, 2, ... with time never going back.
  const std::vector<RaftEvent> all = c.at(f).events(0, 100000).events;
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, all[i - 1].seq + 1);
    EXPECT_GE(all[i].t_us + 1000, all[i - 1].t_us);
  }
}

TEST(NodeDriver, RecordsMessagesDroppedByAPartitionAndByAPause) {
  DriverCluster c(3, "dropevents");
  const NodeId leader = c.wait_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId f = (leader + 1) % 3;
  const NodeId g = (leader + 2) % 3;
  ASSERT_TRUE(c.command(leader, "partition", {std::to_string(f)}).ok);
  ASSERT_TRUE(c.command(g, "pause").ok);
  EXPECT_TRUE(wait_for([&] {
    bool partition = false;
    for (const RaftEvent& e : events_of(c.at(leader), RaftEventKind::Drop)) {
      partition |= e.peer == f && !e.inbound && e.reason == DropReason::Partition;
    }
    bool paused = false;
    for (const RaftEvent& e : events_of(c.at(g), RaftEventKind::Drop)) {
      paused |= e.inbound && e.reason == DropReason::Paused;
    }
    return partition && paused;
  }));
  ASSERT_TRUE(c.command(g, "resume").ok);
  ASSERT_TRUE(c.command(leader, "heal").ok);
}

}  // namespace
}  // namespace raft::runtime
