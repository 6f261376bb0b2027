// raft_node as users run it: real `mpirun` jobs, real HTTP, real disks.
#include <signal.h>

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "cluster_fixture.hpp"

namespace raft::cluster_test {
namespace {

void expect_one_agreed_leader(Cluster& c) {
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0) << "no leader that every node agrees on";
  int leaders = 0;
  std::set<long long> terms;
  for (int i = 0; i < c.size(); ++i) {
    auto s = c.status(i);
    ASSERT_TRUE(s.has_value());
    if ((*s)["state"] == "LEADER" && (*s)["term"] == (*c.status(leader))["term"]) ++leaders;
  }
  EXPECT_EQ(leaders, 1);
}

TEST(RaftNode, ThreeRanksElectExactlyOneLeaderThatAllAgreeOn) {
  Cluster c({.nodes = 3});
  expect_one_agreed_leader(c);
  // Discovery learns the same leader.
  EXPECT_TRUE(eventually([&] {
    HttpReply s = http(c.discovery_port(), "GET", "/state");
    return s.status == 200 && s.body["leader"] == std::to_string(c.agreed_leader());
  }));
}

TEST(RaftNode, FiveRanksElectExactlyOneLeaderThatAllAgreeOn) {
  Cluster c({.nodes = 5});
  expect_one_agreed_leader(c);
}

TEST(RaftNode, StatusHasTheShapeOfTheSpec) {
  Cluster c({.nodes = 3});
  ASSERT_GE(c.wait_leader(), 0);
  auto s = c.status(0);
  ASSERT_TRUE(s.has_value());
  for (const char* field : {"node_id", "rank", "state", "term", "leader_id", "log_length",
                            "commit_index", "last_applied", "voted_for", "paused", "crashed"}) {
    EXPECT_TRUE(s->contains(field)) << field;
  }
  EXPECT_EQ((*s)["node_id"], "0");
  EXPECT_EQ((*s)["rank"], 0);
  HttpReply h = http(c.port(0), "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  HttpReply log = http(c.port(0), "GET", "/log");
  EXPECT_TRUE(log.body["log"].is_array());
  HttpReply page = http(c.port(0), "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.raw.find("<html"), std::string::npos);
  HttpReply metrics = http(c.port(0), "GET", "/metrics");
  EXPECT_NE(metrics.raw.find("raft_term"), std::string::npos);
}

TEST(RaftNode, EveryCommandGivesItsDocumentedAnswer) {
  Cluster c({.nodes = 3});
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  const int f = (leader + 1) % 3;
  const int g = (leader + 2) % 3;

  HttpReply r = c.command(f, "check_timers");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body.contains("election_timeout_ms"));
  EXPECT_TRUE(r.body.contains("time_since_last_heartbeat_ms"));
  EXPECT_TRUE(r.body.contains("heartbeat_interval_ms"));

  r = c.command(f, "state_details");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body["ok"].get<bool>());

  r = c.command(f, "show_known_nodes");
  ASSERT_EQ(r.status, 200) << r.raw;
  r = c.command(f, "sync_known_nodes");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(eventually([&] {
    HttpReply k = c.command(f, "show_known_nodes");
    return k.raw.find(std::to_string(c.port(g))) != std::string::npos;
  })) << "known nodes come from discovery";

  r = c.command(f, "become_follower");
  EXPECT_EQ(r.status, 400) << "already a follower: " << r.raw;
  EXPECT_FALSE(r.body["ok"].get<bool>());

  r = c.command(leader, "submit hello raft");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(eventually([&] {
    HttpReply e = http(c.port(g), "GET", "/entries?from=1&limit=100");
    return e.raw.find("hello raft") != std::string::npos;
  }));

  r = c.command(f, "force_timeout");  // PreVote fails against a live leader
  EXPECT_EQ(r.status, 200) << r.raw;

  r = c.command(f, "trigger_election");  // a forced election: f should win
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(eventually([&] { return c.agreed_leader() >= 0; }));

  const int now_leader = c.wait_leader();
  ASSERT_GE(now_leader, 0);
  const int target = (now_leader + 1) % 3;
  r = c.command(now_leader, "transfer_leadership " + std::to_string(target));
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(eventually([&] { return c.agreed_leader() == target; }));

  r = c.command(target, "snapshot");
  EXPECT_EQ(r.status, 200) << r.raw;

  r = c.command(g, "partition " + std::to_string(f));
  ASSERT_EQ(r.status, 200) << r.raw;
  r = c.command(g, "heal");
  ASSERT_EQ(r.status, 200) << r.raw;

  HttpReply history = http(c.port(g), "GET", "/cmd_history");
  ASSERT_TRUE(history.body["history"].is_array());
  EXPECT_GE(history.body["history"].size(), 2u);
  EXPECT_NE(history.raw.find(" - partition"), std::string::npos);
}

TEST(RaftNode, PausingTheLeaderElectsANewOneAndResumeDoesNotDeposeIt) {
  Cluster c({.nodes = 3});
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  ASSERT_EQ(c.command(leader, "pause").status, 200);
  int next = -1;
  ASSERT_TRUE(eventually([&] { return (next = c.agreed_leader()) >= 0 && next != leader; }));
  const auto term = (*c.status(next))["term"].get<long long>();
  ASSERT_EQ(c.command(leader, "resume").status, 200);
  ASSERT_TRUE(eventually([&] {
    auto s = c.status(leader);
    return s && (*s)["state"] == "FOLLOWER" && (*s)["leader_id"] == std::to_string(next);
  }));
  EXPECT_EQ(c.agreed_leader(), next) << "PreVote: the resumed node must not depose the new leader";
  EXPECT_EQ((*c.status(next))["term"].get<long long>(), term);
}

TEST(RaftNode, LeaderThatCannotBeHeardIsReplacedAndHealBringsAgreement) {
  Cluster c({.nodes = 3});
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  const auto term = (*c.status(leader))["term"].get<long long>();
  const int a = std::min((leader + 1) % 3, (leader + 2) % 3);
  const int b = std::max((leader + 1) % 3, (leader + 2) % 3);
  // The leader still hears both followers, but its heartbeats never arrive.
  HttpReply r = c.command(leader, "drop_to " + std::to_string(a) + " " + std::to_string(b));
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["dropping_to"], Json::array({a, b}));
  auto s = c.status(leader);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)["dropping_to"], Json::array({a, b}));
  EXPECT_EQ((*s)["partitioned"], Json::array()) << "a one-way cut is not a partition";

  long long next_term = 0;
  ASSERT_TRUE(eventually([&] {
    for (int f : {a, b}) {
      auto fs = c.status(f);
      if (fs && (*fs)["state"] == "LEADER" && (*fs)["term"].get<long long>() > term) {
        next_term = (*fs)["term"].get<long long>();
        return true;
      }
    }
    return false;
  })) << "the followers, hearing nothing, must elect one of themselves";
  // The old leader hears the new leader's higher term and follows it.
  EXPECT_TRUE(eventually([&] {
    auto old = c.status(leader);
    return old && (*old)["state"] != "LEADER" && (*old)["term"].get<long long>() >= next_term;
  }));

  r = c.command(leader, "heal");
  ASSERT_EQ(r.status, 200) << r.raw;
  s = c.status(leader);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)["dropping_to"], Json::array());
  EXPECT_EQ((*s)["dropping_from"], Json::array());
  expect_one_agreed_leader(c);
}

TEST(RaftNode, DiscoveryKilledAndRestartedLosesNoRegistration) {
  Cluster c({.nodes = 3});
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  const auto state = [&] { return http(c.discovery_port(), "GET", "/state").body; };
  ASSERT_TRUE(eventually([&] {
    const Json s = state();
    return s.is_object() && s["nodes"].size() == 3 && s["leader"] == std::to_string(leader);
  })) << state().dump();
  const Json nodes = state()["nodes"];

  c.kill_discovery();  // kill -9: only what it saved survives
  c.start_discovery();
  const Json restarted = state();
  EXPECT_EQ(restarted["nodes"], nodes) << restarted.dump();
  EXPECT_EQ(restarted["leader"], std::to_string(leader)) << restarted.dump();
  // The nodes' heartbeats find it again, and it hears of the next leader.
  EXPECT_TRUE(eventually([&] {
    const Json s = state();
    if (s["members"].size() != 3) return false;
    for (const auto& [id, member] : s["members"].items()) {
      if (!member["alive"].get<bool>()) return false;
    }
    return true;
  })) << state().dump();
  ASSERT_EQ(c.command(leader, "pause").status, 200);
  int next = -1;
  EXPECT_TRUE(eventually([&] {
    next = c.agreed_leader();
    return next >= 0 && next != leader && state()["leader"] == std::to_string(next);
  })) << state().dump();
}

TEST(RaftNode, KvWritesLandInEveryNodesLogAndFollowersRedirect) {
  Cluster c({.nodes = 3});
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  HttpReply w = http(c.port(leader), "PUT", "/kv/color", "green", "text/plain");
  ASSERT_EQ(w.status, 200) << w.raw;
  EXPECT_TRUE(w.body["ok"].get<bool>());
  EXPECT_GT(w.body["index"].get<long long>(), 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(eventually([&] {
      HttpReply e = http(c.port(i), "GET", "/entries?from=1&limit=1000");
      return e.raw.find("color") != std::string::npos;
    })) << "node "
        << i;
  }
  HttpReply g = http(c.port(leader), "GET", "/kv/color");
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.body["value"], "green");
  const int f = (leader + 1) % 3;
  HttpReply redirect = http(c.port(f), "PUT", "/kv/color", "blue", "text/plain");
  EXPECT_EQ(redirect.status, 307) << redirect.raw;
  EXPECT_NE(redirect.location.find(std::to_string(c.port(leader))), std::string::npos);
  EXPECT_EQ(redirect.body["leader_id"], std::to_string(leader));
  EXPECT_EQ(http(c.port(leader), "GET", "/kv/nothing-here").status, 404);
  EXPECT_EQ(http(c.port(leader), "DELETE", "/kv/color").status, 200);
  EXPECT_EQ(http(c.port(leader), "GET", "/kv/color").status, 404);
}

TEST(RaftNode, BadInputGets4xxAndTheNodeStaysHealthy) {
  Cluster c({.nodes = 3});
  ASSERT_GE(c.wait_leader(), 0);
  EXPECT_EQ(http(c.port(0), "POST", "/command", "{not json").status, 400);
  EXPECT_EQ(http(c.port(0), "POST", "/command", "[1,2]").status, 400);
  EXPECT_EQ(http(c.port(0), "POST", "/command", R"({"cmd":42})").status, 400);
  HttpReply unknown = c.command(0, "make_coffee");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_TRUE(unknown.body["valid_commands"].is_array());
  EXPECT_EQ(http(c.port(0), "POST", "/command", std::string(3 << 20, 'x')).status, 413);
  EXPECT_EQ(http(c.port(0), "PUT", "/kv/" + std::string(2000, 'k'), "v", "text/plain").status, 413);
  EXPECT_EQ(http(c.port(0), "GET", "/entries?from=abc").status, 400);
  EXPECT_EQ(c.command(0, "partition 99").status, 400);
  EXPECT_EQ(http(c.port(0), "GET", "/no/such/page").status, 404);
  EXPECT_EQ(http(c.port(0), "GET", "/healthz").status, 200);
  EXPECT_GE(c.wait_leader(), 0);
}

TEST(RaftNode, CrashAndRestartRecoverTheLogFromDisk) {
  Cluster c({.nodes = 3});
  const int leader = c.wait_leader();
  ASSERT_GE(leader, 0);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(http(c.port(leader), "PUT", "/kv/k" + std::to_string(i), "v", "text/plain").status,
              200);
  }
  const int f = (leader + 1) % 3;
  ASSERT_TRUE(eventually([&] { return (*c.status(f))["log_length"].get<long long>() >= 6; }));
  const auto length = (*c.status(f))["log_length"].get<long long>();
  ASSERT_EQ(c.command(f, "crash").status, 200);
  EXPECT_TRUE((*c.status(f))["crashed"].get<bool>())
      << "a crashed node keeps answering and says so";
  HttpReply restart = c.command(f, "restart");
  ASSERT_EQ(restart.status, 200) << restart.raw;
  EXPECT_GE((*c.status(f))["log_length"].get<long long>(), length) << "the log came back from disk";
  EXPECT_TRUE(eventually([&] {
    HttpReply s = http(c.port(f), "GET", "/kv/k4?stale=true");
    return s.status == 200 && s.body["value"] == "v";
  }));
}

TEST(RaftNode, SigtermEndsEveryRankCleanly) {
  Cluster c({.nodes = 3});
  ASSERT_GE(c.wait_leader(), 0);
  const pid_t group = c.mpirun().pid();
  // mpirun forwards SIGTERM to the ranks. (mpirun itself then exits 1 because
  // its job was signalled; what matters is how the ranks go.)
  ::kill(group, SIGTERM);
  ASSERT_TRUE(
      eventually([&] { return c.mpirun().poll_exit().has_value(); }, std::chrono::seconds(15)));
  EXPECT_TRUE(eventually([&] { return ::kill(-group, 0) != 0; }, std::chrono::seconds(5)))
      << "no rank of the job may outlive it";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(http(c.port(i), "GET", "/healthz").status, 0) << "node " << i << " still serves HTTP";
  }
  // Every rank deregistered from discovery on its way out: the clean path ran.
  HttpReply s = http(c.discovery_port(), "GET", "/state");
  EXPECT_TRUE(s.body["nodes"].empty()) << s.raw;
}

}  // namespace
}  // namespace raft::cluster_test
