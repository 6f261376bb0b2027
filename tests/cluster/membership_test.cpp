// Membership changes of a real cluster under load (issue 15): grow 3 -> 5,
// shrink 5 -> 3 removing the leader, replace a paused node. Clients of the
// chaos tool read, write and compare-and-set throughout; their history goes
// through the chaos checker (every key linearizable, no acknowledged write
// lost, and faults planted into the same history caught, so the check could
// have failed). A writer of keys written once reads each one back right
// after its write was acknowledged, and every acknowledged one again at the
// end.
#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "chaos/run_check.hpp"
#include "cluster_fixture.hpp"
#include "kv_client.hpp"

namespace raft::cluster_test {
namespace {

using chaos::HistoryRecorder;
using chaos::KvClient;
using chaos::Operation;
using chaos::Outcome;
using Clock = std::chrono::steady_clock;

/// A real cluster of `voters` voters and `spares` standby ranks (ranks
/// voters..voters+spares-1), with the cluster tests' timeouts.
class MemberCluster : public launcher::Cluster {
 public:
  MemberCluster(int voters, int spares) : launcher::Cluster(options(voters, spares)) {
    std::string error;
    if (!start(&error)) throw std::runtime_error("the cluster did not start: " + error);
  }
  int leader() const {
    const auto l = wait_leader(kDeadline);
    return l ? l->rank : -1;
  }

 private:
  static launcher::ClusterOptions options(int voters, int spares) {
    launcher::ClusterOptions o =
        launcher::local_cluster_options({.nodes = voters + spares}, bin_dir(), MPIEXEC_PATH);
    if (spares > 0) o.node.voters = voters;
    return o;
  }
};

std::set<int> id_set(const Json& ids) {
  std::set<int> out;
  if (!ids.is_array()) return out;
  for (const Json& id : ids) out.insert(std::stoi(id.get<std::string>()));
  return out;
}

/// The configuration the agreed leader has committed.
struct Committed {
  int leader = -1;
  long long term = 0;
  std::set<int> voters, learners;
};

std::optional<Committed> committed_config(const launcher::Cluster& c) {
  const auto l = c.agreed_leader();
  if (!l) return std::nullopt;
  const std::optional<Json> s = c.status(l->rank);
  if (!s || (*s)["state"] != "LEADER") return std::nullopt;
  if (s->value("commit_index", 0ULL) < s->value("config_index", 0ULL)) return std::nullopt;
  return Committed{l->rank, s->value("term", 0LL), id_set((*s)["voters"]),
                   id_set((*s)["learners"])};
}

/// Waits until the leader has committed exactly these voters and no learner.
::testing::AssertionResult config_becomes(const launcher::Cluster& c, const std::set<int>& voters) {
  std::optional<Committed> last;
  if (eventually([&] {
        last = committed_config(c);
        return last && last->voters == voters && last->learners.empty();
      })) {
    return ::testing::AssertionSuccess();
  }
  std::string seen = "no committed configuration with an agreed leader";
  if (last) {
    seen = "voters";
    for (int v : last->voters) seen += " " + std::to_string(v);
    seen += ", " + std::to_string(last->learners.size()) + " learner(s)";
  }
  return ::testing::AssertionFailure() << "configuration never committed; last seen: " << seen;
}

/// Sends a membership command to the leader until one accepts it: a new
/// leader refuses until its no-op commits, and a leader may change between
/// the look-up and the command. A retry of a change that did take effect
/// finds it done ("already", "not a member").
::testing::AssertionResult change(const launcher::Cluster& c, const std::string& cmd) {
  std::string last;
  if (eventually([&] {
        const auto l = c.agreed_leader();
        if (!l) return false;
        const HttpReply r = c.command(l->rank, cmd);
        last = r.raw;
        const bool ok = r.status == 200 && r.body.value("ok", false);
        return ok || last.find("already") != std::string::npos ||
               last.find("not a member") != std::string::npos;
      })) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << cmd << " never accepted; last answer: " << last;
}

/// Clients on the cluster until stop(): `registers` of them read, write and
/// compare-and-set two shared keys; one writes keys once each and reads
/// every one back as soon as its write is acknowledged.
class Load {
 public:
  Load(const launcher::Cluster& c, int registers) : epoch_(Clock::now()) {
    for (int i = 0; i <= registers; ++i) {
      chaos::ClientOptions o;
      o.index = i;
      o.client_id = "membership-" + std::to_string(::getpid()) + "-" + std::to_string(i);
      o.base_port = c.base_port();
      o.nodes = c.size();  // every rank: spares may lead by the end
      o.epoch = epoch_;
      clients_.push_back(std::make_unique<KvClient>(o, history_));
    }
    threads_.emplace_back([this] { write_once_loop(*clients_[0]); });
    for (int i = 1; i <= registers; ++i) {
      threads_.emplace_back(
          [this, i] { register_loop(*clients_[static_cast<std::size_t>(i)], i); });
    }
  }
  ~Load() { stop(); }

  void stop() {
    stop_.store(true);
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  /// Waits until `more` further writes have been acknowledged.
  bool progresses(int more) {
    const int target = acked_.load() + more;
    return eventually([&] { return acked_.load() >= target; });
  }
  std::vector<std::string> read_back_problems() const { return read_back_problems_; }
  /// Acknowledged keys written once, and their values.
  std::map<std::string, std::string> written_once() const { return written_once_; }
  HistoryRecorder& history() { return history_; }
  Clock::time_point epoch() const { return epoch_; }

 private:
  void write_once_loop(KvClient& client) {
    for (int i = 0; !stop_.load(); ++i) {
      const std::string key = "once-" + std::to_string(i), value = "v" + std::to_string(i);
      if (client.write(key, value).outcome != Outcome::Ok) continue;
      written_once_[key] = value;
      ++acked_;
      const Operation r = client.read(key);
      if (r.outcome == Outcome::Ok && r.read_value != value) {
        read_back_problems_.push_back("read of " + key + " right after its write saw " +
                                      r.read_value.value_or("nothing"));
      }
    }
  }
  void register_loop(KvClient& client, int index) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(index));
    std::map<std::string, std::string> seen;
    for (int n = 0; !stop_.load(); ++n) {
      const std::string key = "reg-" + std::to_string(rng() % 2);
      const std::string fresh = "c" + std::to_string(index) + "-" + std::to_string(n);
      const int dice = static_cast<int>(rng() % 10);
      if (dice < 4 || (dice >= 8 && !seen.count(key))) {
        const Operation op = client.read(key);
        if (op.outcome == Outcome::Ok && op.read_value) seen[key] = *op.read_value;
      } else if (dice < 8) {
        if (client.write(key, fresh).outcome == Outcome::Ok) ++acked_, seen[key] = fresh;
      } else {
        const Operation op = client.cas(key, seen[key], fresh);
        if (op.outcome == Outcome::Ok && op.cas_swapped) ++acked_;
        seen.erase(key);
      }
    }
  }

  Clock::time_point epoch_;
  HistoryRecorder history_;
  std::vector<std::unique_ptr<KvClient>> clients_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acked_{0};
  // Owned by the write-once thread until stop().
  std::map<std::string, std::string> written_once_;
  std::vector<std::string> read_back_problems_;
};

/// Stops the load, reads every key back, and checks the history.
void expect_nothing_lost_and_linearizable(const launcher::Cluster& c, Load& load) {
  load.stop();
  for (const std::string& p : load.read_back_problems()) ADD_FAILURE() << p;
  chaos::ClientOptions o;
  o.index = 99;
  o.client_id = "membership-final-" + std::to_string(::getpid());
  o.base_port = c.base_port();
  o.nodes = c.size();
  o.epoch = load.epoch();
  o.read_deadline = std::chrono::seconds(20);
  KvClient final_client(o, load.history());
  std::map<std::string, chaos::FinalRead> finals;
  const auto read_final = [&](const std::string& key) {
    const Operation r = final_client.read(key);
    EXPECT_EQ(r.outcome, Outcome::Ok) << "final read of " << key << ": " << r.note;
    finals[key] = {r.read_value, r.invoke_us};
    return r.read_value;
  };
  const std::map<std::string, std::string> once = load.written_once();
  ASSERT_GT(once.size(), 10u) << "too few writes acknowledged to prove anything";
  for (const auto& [key, value] : once) {
    EXPECT_EQ(read_final(key), value) << "acknowledged write of " << key << " lost";
  }
  for (const char* key : {"reg-0", "reg-1"}) read_final(key);

  const std::vector<Operation> history = load.history().snapshot();
  const chaos::RunCheck check = chaos::check_run(history, finals, {}, 15);
  std::printf("membership: %zu ops, %zu keys written once, %zu/%zu planted faults caught\n",
              history.size(), once.size(), check.planted.size() - chaos::missed_plants(check),
              check.planted.size());
  for (const chaos::KeyVerdict& v : check.verdicts) {
    EXPECT_TRUE(v.linearizable && !v.gave_up) << v.key << ": " << v.explanation;
  }
  for (const chaos::LostWrite& l : check.lost_writes) ADD_FAILURE() << l.explanation;
  EXPECT_FALSE(check.planted.empty()) << "no fault could be planted: the check proves nothing";
  EXPECT_EQ(chaos::missed_plants(check), 0u) << "the checker missed a planted fault";
}

/// The node's state, "" if it does not answer.
std::string state_of(const launcher::Cluster& c, int rank) {
  const std::optional<Json> s = c.status(rank);
  return s ? s->value("state", "") : "";
}

TEST(Membership, GrowsThreeToFiveUnderWritesAndTheNewVotersHoldTheData) {
  MemberCluster c(3, 2);
  ASSERT_GE(c.leader(), 0);
  EXPECT_EQ(state_of(c, 3), "STANDBY");
  Load load(c, 2);
  ASSERT_TRUE(load.progresses(20));
  ASSERT_TRUE(change(c, "add_node 3"));
  ASSERT_TRUE(config_becomes(c, {0, 1, 2, 3}));
  ASSERT_TRUE(load.progresses(20));
  ASSERT_TRUE(change(c, "add_node 4"));
  ASSERT_TRUE(config_becomes(c, {0, 1, 2, 3, 4}));
  ASSERT_TRUE(load.progresses(20));
  // The new voters hold what was written before they joined.
  for (int r : {3, 4}) {
    EXPECT_EQ(state_of(c, r) == "FOLLOWER" || state_of(c, r) == "LEADER", true) << r;
    EXPECT_TRUE(eventually([&] {
      const HttpReply a = http(c.port(r), "GET", "/kv/once-0?stale=true");
      return a.status == 200 && a.body.value("value", "") == "v0";
    })) << "node "
        << r << " has not applied the first write";
  }
  expect_nothing_lost_and_linearizable(c, load);
}

TEST(Membership, ShrinksFiveToThreeRemovingTheLeaderAmongOthers) {
  MemberCluster c(5, 0);
  const int first = c.leader();
  ASSERT_GE(first, 0);
  Load load(c, 2);
  ASSERT_TRUE(load.progresses(20));
  std::set<int> voters = {0, 1, 2, 3, 4};
  ASSERT_TRUE(change(c, "remove_node " + std::to_string(first)));
  voters.erase(first);
  ASSERT_TRUE(config_becomes(c, voters));
  EXPECT_TRUE(eventually([&] { return state_of(c, first) == "STANDBY"; }))
      << "the removed leader did not step down to STANDBY";
  ASSERT_TRUE(load.progresses(20));
  const int second = c.leader();
  ASSERT_GE(second, 0);
  ASSERT_NE(second, first);
  const int follower =
      *std::find_if(voters.begin(), voters.end(), [&](int v) { return v != second; });
  ASSERT_TRUE(change(c, "remove_node " + std::to_string(follower)));
  voters.erase(follower);
  ASSERT_TRUE(config_becomes(c, voters));
  EXPECT_TRUE(eventually([&] { return state_of(c, follower) == "STANDBY"; }));
  ASSERT_TRUE(load.progresses(20));
  expect_nothing_lost_and_linearizable(c, load);
}

TEST(Membership, ReplacesAPausedNodeWithASpare) {
  MemberCluster c(3, 1);
  const int leader = c.leader();
  ASSERT_GE(leader, 0);
  const int paused = (leader + 1) % 3;
  Load load(c, 2);
  ASSERT_TRUE(load.progresses(20));
  ASSERT_EQ(c.command(paused, "pause").status, 200);
  ASSERT_TRUE(load.progresses(20)) << "two voters of three still commit";
  ASSERT_TRUE(change(c, "add_node 3"));
  ASSERT_TRUE(config_becomes(c, {0, 1, 2, 3}));
  ASSERT_TRUE(change(c, "remove_node " + std::to_string(paused)));
  std::set<int> voters = {0, 1, 2, 3};
  voters.erase(paused);
  ASSERT_TRUE(config_becomes(c, voters));
  ASSERT_TRUE(load.progresses(20));

  // Resumed, the replaced node learns of its removal from the leader (which
  // keeps writing to the members of the configuration the committed one
  // replaced, until the next change) and goes STANDBY, without disturbing
  // anyone: PreVote keeps the term where it is.
  const std::optional<Committed> before = committed_config(c);
  ASSERT_TRUE(before);
  ASSERT_EQ(c.command(paused, "resume").status, 200);
  EXPECT_TRUE(eventually([&] { return state_of(c, paused) == "STANDBY"; }))
      << "the replaced node is " << state_of(c, paused);
  ASSERT_TRUE(load.progresses(20));
  const std::optional<Committed> after = committed_config(c);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->term, before->term) << "the replaced node disrupted the cluster";
  EXPECT_EQ(after->voters, voters);
  expect_nothing_lost_and_linearizable(c, load);
}

}  // namespace
}  // namespace raft::cluster_test
