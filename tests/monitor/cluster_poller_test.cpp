// ClusterPoller with a fake network: one round reads discovery, asks every
// node in parallel, and publishes one snapshot that everyone shares.

#include "monitor/cluster_poller.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace raft::monitor {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

/// A scripted network: answers by "host:port" and path; records calls.
class FakeNetwork {
 public:
  void answer(const std::string& address, const std::string& path, int status, std::string body) {
    std::lock_guard lock(mutex_);
    answers_[address + path] = {status, std::move(body)};
  }
  void forget(const std::string& address, const std::string& path) {
    std::lock_guard lock(mutex_);
    answers_.erase(address + path);
  }
  int calls(const std::string& address, const std::string& path) const {
    std::lock_guard lock(mutex_);
    auto it = calls_.find(address + path);
    return it == calls_.end() ? 0 : it->second;
  }
  int max_in_flight() const { return max_in_flight_.load(); }
  void set_delay(std::chrono::milliseconds delay) { delay_ = delay; }

  Fetcher fetcher() {
    return [this](const Endpoint& e, const FetchRequest& r, const FetchOptions&) {
      const int now = ++in_flight_;
      for (int seen = max_in_flight_.load();
           now > seen && !max_in_flight_.compare_exchange_weak(seen, now);) {
      }
      std::this_thread::sleep_for(delay_);
      FetchResult out;
      {
        std::lock_guard lock(mutex_);
        const std::string key = e.host + ":" + std::to_string(e.port) + r.path;
        ++calls_[key];
        auto it = answers_.find(key);
        if (it == answers_.end()) {
          out.error = "connection refused or host unreachable";
          out.connect_failed = true;
        } else {
          out.status = it->second.first;
          out.body = it->second.second;
          out.content_type = "application/json";
        }
      }
      --in_flight_;
      return out;
    };
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::pair<int, std::string>> answers_;
  std::map<std::string, int> calls_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::chrono::milliseconds delay_{0};
};

std::string status_body(NodeId id, const char* state, Term term) {
  return json{{"node_id", std::to_string(id)}, {"rank", id},      {"state", state},  {"term", term},
              {"leader_id", nullptr},          {"paused", false}, {"crashed", false}}
      .dump();
}

PollerOptions options_for(int nodes) {
  PollerOptions o;
  o.discovery_url = "http://127.0.0.1:5000";
  o.fallback_host = "127.0.0.1";
  o.base_port = 7000;
  o.nodes = nodes;
  return o;
}

TEST(ClusterPoller, OneRoundMergesDiscoveryAndNodes) {
  FakeNetwork net;
  net.answer("127.0.0.1:5000", "/state", 200,
             R"({"nodes":{"0":"10.0.0.1:9000"},"leader":"0","leader_term":2,
                      "members":{"0":{"address":"10.0.0.1:9000","alive":true}}})");
  net.answer("10.0.0.1:9000", "/status", 200, status_body(0, "FOLLOWER", 3));
  net.answer("127.0.0.1:7001", "/status", 200, status_body(1, "LEADER", 3));
  ClusterPoller poller(options_for(3), net.fetcher());

  const auto snap = poller.poll_once();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->seq, 1u);
  ASSERT_EQ(snap->targets.size(), 3u);
  EXPECT_EQ(snap->targets[0].address, "10.0.0.1:9000");  // as registered
  EXPECT_EQ(net.calls("127.0.0.1:7000", "/status"), 0);  // never port arithmetic for it
  EXPECT_TRUE(snap->reachable(0));
  EXPECT_TRUE(snap->reachable(1));
  EXPECT_FALSE(snap->reachable(2));
  EXPECT_EQ(snap->leader.leader, 1);

  const json body = json::parse(snap->json_text);
  EXPECT_EQ(body["leader"], "1");
  EXPECT_EQ(body["discovery_leader"], "0");
  EXPECT_EQ(body["nodes"][2]["state"], "offline");
  EXPECT_EQ(body["nodes"][0]["alive"], true);
  EXPECT_EQ(body["seq"], 1);
  EXPECT_EQ(poller.latest(), snap);
}

TEST(ClusterPoller, ADiscoveryOutageKeepsTheRegisteredAddresses) {
  FakeNetwork net;
  net.answer("127.0.0.1:5000", "/state", 200,
             R"({"members":{"4":{"address":"10.0.0.4:9004","alive":true}}})");
  net.answer("10.0.0.4:9004", "/status", 200, status_body(4, "LEADER", 1));
  ClusterPoller poller(options_for(0), net.fetcher());
  ASSERT_EQ(poller.poll_once()->targets.size(), 1u);

  net.forget("127.0.0.1:5000", "/state");
  const auto snap = poller.poll_once();
  ASSERT_EQ(snap->targets.size(), 1u);
  EXPECT_EQ(snap->targets[0].address, "10.0.0.4:9004");
  EXPECT_FALSE(snap->targets[0].alive.has_value());  // unknown while discovery is away
  EXPECT_TRUE(snap->reachable(0));
  const json body = json::parse(snap->json_text);
  EXPECT_EQ(body["discovery"]["ok"], false);
  EXPECT_NE(body["discovery"]["error"].get<std::string>().find("unreachable"), std::string::npos);
  EXPECT_EQ(body["leader"], "4");
}

// Issue #14: with a fake registration the monitor showed leader "9" at term
// 999999999 and polled whatever address it was given.
TEST(ClusterPoller, OnlyTheJobsRanksAtVettedAddressesAreAsked) {
  FakeNetwork net;
  net.answer("127.0.0.1:5000", "/state", 200,
             R"({"leader":"9","leader_term":999999999,"members":{
                   "0":{"address":"127.0.0.1:7000","alive":true},
                   "1":{"address":"evil.example:7001","alive":true},
                   "2":{"address":"127.0.0.1:9999","alive":true},
                   "9":{"address":"127.0.0.1:7009","alive":true}}})");
  for (const char* address :
       {"127.0.0.1:7000", "evil.example:7001", "127.0.0.1:9999", "127.0.0.1:7009"}) {
    net.answer(address, "/status", 200, status_body(0, "LEADER", 999999999));
  }
  PollerOptions options = options_for(3);
  options.pin_ports = true;
  ClusterPoller poller(options, net.fetcher());
  const auto snap = poller.poll_once();

  ASSERT_EQ(snap->targets.size(), 3u);  // node 9 is no rank of the job
  EXPECT_EQ(net.calls("127.0.0.1:7000", "/status"), 1);
  EXPECT_EQ(net.calls("evil.example:7001", "/status"), 0);
  EXPECT_EQ(net.calls("127.0.0.1:9999", "/status"), 0);
  EXPECT_EQ(net.calls("127.0.0.1:7009", "/status"), 0);
  EXPECT_EQ(snap->endpoint(0), (Endpoint{"127.0.0.1", 7000}));
  EXPECT_FALSE(snap->endpoint(1));
  EXPECT_FALSE(snap->endpoint(2));
  EXPECT_FALSE(snap->endpoint(9));
  EXPECT_NE(snap->access_of(1)->refused.find("is a name"), std::string::npos);
  EXPECT_NE(snap->access_of(2)->refused.find("registered port 9999, not 7002"), std::string::npos);

  const json body = json::parse(snap->json_text);
  EXPECT_EQ(body["leader"], "0");  // the one node asked, never discovery's "9"
  EXPECT_TRUE(body["discovery_leader"].is_null()) << body.dump();
  EXPECT_EQ(body["discovery"]["skipped"], 1);
  EXPECT_NE(body["nodes"][1]["error"].get<std::string>().find("is a name"), std::string::npos);
}

TEST(ClusterPoller, DiscoverysLeaderCountsOnlyWhenTheMonitorMayDialIt) {
  FakeNetwork net;
  net.answer("127.0.0.1:5000", "/state", 200,
             R"({"leader":"1","leader_term":4,"members":{
                   "1":{"address":"evil.example:7001","alive":true}}})");
  ClusterPoller poller(options_for(2), net.fetcher());
  const auto snap = poller.poll_once();
  EXPECT_EQ(snap->leader.leader, kNoNode);
  EXPECT_TRUE(json::parse(snap->json_text)["leader"].is_null());
}

TEST(ClusterPoller, AsksTheNodesInParallel) {
  FakeNetwork net;
  net.set_delay(50ms);
  PollerOptions o = options_for(8);
  o.discovery_url.clear();
  ClusterPoller poller(o, net.fetcher());
  const auto start = std::chrono::steady_clock::now();
  const auto snap = poller.poll_once();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(snap->targets.size(), 8u);
  EXPECT_GT(net.max_in_flight(), 1);
  EXPECT_LT(took, 8 * 50ms);  // sequential would take 400 ms
  const json body = json::parse(snap->json_text);
  EXPECT_EQ(body["discovery"]["ok"], false);
  EXPECT_TRUE(body["discovery"]["url"].is_null());
}

TEST(ClusterPoller, TheBackgroundThreadPublishesAndWaitersWake) {
  FakeNetwork net;
  net.answer("127.0.0.1:7000", "/status", 200, status_body(0, "LEADER", 1));
  PollerOptions o = options_for(1);
  o.discovery_url.clear();
  o.poll_interval_ms = 20;
  ClusterPoller poller(o, net.fetcher());
  poller.start();
  poller.note_demand();
  auto first = poller.wait_newer(0, 2s);
  ASSERT_TRUE(first);
  auto second = poller.wait_newer(first->seq, 2s);
  ASSERT_TRUE(second);
  EXPECT_GT(second->seq, first->seq);
  poller.stop();
  poller.stop();  // idempotent
  EXPECT_TRUE(poller.stopped());
}

TEST(ClusterPoller, ACancelledWaiterWakesPromptly) {
  FakeNetwork net;
  PollerOptions o = options_for(0);
  o.discovery_url.clear();
  ClusterPoller poller(o, net.fetcher());
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    cancel = true;
    poller.interrupt_waiters();
  });
  const auto start = std::chrono::steady_clock::now();
  poller.wait_newer(0, 10s, &cancel);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  canceller.join();
}

TEST(ClusterPoller, AnIdlePollerSlowsDown) {
  FakeNetwork net;
  PollerOptions o = options_for(1);
  o.discovery_url.clear();
  o.poll_interval_ms = 10;
  o.idle_poll_interval_ms = 10000;
  o.demand_window_ms = 100000;
  ClusterPoller poller(o, net.fetcher());
  poller.start();
  ASSERT_TRUE(poller.wait_newer(0, 2s));
  std::this_thread::sleep_for(200ms);
  // Nobody asked: one round, maybe two, not twenty.
  EXPECT_LE(net.calls("127.0.0.1:7000", "/status"), 2);
  poller.note_demand();
  const auto before = poller.latest()->seq;
  EXPECT_GT(poller.wait_newer(before + 3, 2s)->seq, before + 3);
}

}  // namespace
}  // namespace raft::monitor
