// web_monitor end to end on loopback: the real binary, started as a child
// process, pointed at fake nodes and a fake discovery served by this test.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "monitor_test_support.hpp"

namespace raft::monitor::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kStartDeadline = 15s;
constexpr auto kStateDeadline = 15s;

/// Three fake nodes known to discovery, and a fourth configured rank
/// (--nodes 4) that discovery does not know and nobody listens for.
class WebMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int rank = 0; rank < 3; ++rank) nodes_.push_back(std::make_unique<FakeNode>(rank));
    // Node 0 still believes it leads term 4; node 1 leads term 5.
    nodes_[0]->set_status("LEADER", 4);
    nodes_[1]->set_status("LEADER", 5, 1);
    nodes_[2]->set_status("FOLLOWER", 5, 1);
    json members = json::object();
    json addresses = json::object();
    for (int rank = 0; rank < 3; ++rank) {
      addresses[std::to_string(rank)] = nodes_[rank]->address();
      members[std::to_string(rank)] = {
          {"address", nodes_[rank]->address()}, {"alive", rank != 2}, {"last_seen_ms_ago", 10}};
    }
    // Discovery lags: it still names node 0.
    discovery_state_ = {
        {"nodes", addresses}, {"leader", "0"}, {"leader_term", 4}, {"members", members}};
    discovery_.set_state(discovery_state_);
    offline_port_ = free_port();
    monitor_port_ = free_port();
  }

  void start_monitor(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--port", std::to_string(monitor_port_), "--bind", "127.0.0.1",
                                     "--discovery_url", "http://" + discovery_.address(),
                                     "--base_port", std::to_string(offline_port_ - 3), "--nodes",
                                     "4", "--poll_interval_ms", "100",
                                     // the fake nodes listen on ports the kernel picked
                                     "--node_ports", "any", "--log_level", "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    monitor_ = std::make_unique<MonitorProcess>(args);
    ASSERT_TRUE(monitor_->wait_healthy(monitor_port_, kStartDeadline)) << monitor_->output();
  }

  /// /api/cluster once every fake node is seen reachable and node 1 leads.
  json settled_cluster() {
    json cluster;
    const bool settled = wait_until(
        [&] {
          const HttpAnswer a = http_request(monitor_port_, "GET", "/api/cluster");
          if (a.status != 200) return false;
          cluster = a.json();
          if (!cluster.is_object() || !cluster["nodes"].is_array()) return false;
          int reachable = 0;
          for (const json& n : cluster["nodes"]) reachable += n.value("reachable", false) ? 1 : 0;
          return reachable == 3 && cluster["leader"] == "1";
        },
        kStateDeadline);
    EXPECT_TRUE(settled) << cluster.dump(2);
    return cluster;
  }

  HttpAnswer call(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& content_type = "application/json") {
    return http_request(monitor_port_, method, path, body, content_type);
  }

  std::vector<std::unique_ptr<FakeNode>> nodes_;
  FakeDiscovery discovery_;
  json discovery_state_;
  int offline_port_ = 0;
  int monitor_port_ = 0;
  std::unique_ptr<MonitorProcess> monitor_;
};

void expect_json_error(const HttpAnswer& answer, int status) {
  EXPECT_EQ(answer.status, status) << answer.body;
  const json body = answer.json();
  ASSERT_TRUE(body.is_object()) << answer.body;
  EXPECT_EQ(body["ok"], false) << answer.body;
  EXPECT_TRUE(body["error"].is_string()) << answer.body;
  EXPECT_EQ(answer.body.find('\n'), std::string::npos) << "one line: " << answer.body;
}

TEST_F(WebMonitorTest, ClusterListsEveryNodeIncludingAnOfflineOne) {
  start_monitor();
  const json cluster = settled_cluster();
  ASSERT_EQ(cluster["nodes"].size(), 4u) << cluster.dump(2);
  for (int rank = 0; rank < 3; ++rank) {
    const json& n = cluster["nodes"][rank];
    EXPECT_EQ(n["node_id"], std::to_string(rank));
    EXPECT_EQ(n["api_url"], "http://" + nodes_[rank]->address());  // as registered
    EXPECT_EQ(n["alive"], rank != 2);
    EXPECT_TRUE(n["term"].is_number());
    EXPECT_TRUE(n.contains("commit_index"));
  }
  const json& offline = cluster["nodes"][3];
  EXPECT_EQ(offline["node_id"], "3");
  EXPECT_EQ(offline["state"], "offline");
  EXPECT_EQ(offline["api_url"], "http://127.0.0.1:" + std::to_string(offline_port_));
  EXPECT_FALSE(offline.contains("alive"));  // discovery does not know it
  EXPECT_EQ(cluster["discovery"]["ok"], true);
}

TEST_F(WebMonitorTest, TheLeaderIsTheOneTheNodesAgreeOn) {
  start_monitor();
  const json cluster = settled_cluster();
  EXPECT_EQ(cluster["leader"], "1");  // the highest term, not node 0's stale claim
  EXPECT_EQ(cluster["leader_term"], 5);
  EXPECT_EQ(cluster["leader_source"], "nodes");
  EXPECT_EQ(cluster["discovery_leader"], "0");

  // No node leads now; discovery still names node 0, which answers as a
  // follower: that report is stale, so there is no leader.
  nodes_[0]->set_status("FOLLOWER", 6);
  nodes_[1]->set_status("CANDIDATE", 6);
  EXPECT_TRUE(wait_until(
      [&] {
        const json c = call("GET", "/api/cluster").json();
        return c.is_object() && c["leader"].is_null() && c["discovery_leader"] == "0";
      },
      kStateDeadline));

  // Where discovery names a node the monitor cannot reach, its word is used.
  json state = discovery_state_;
  state["leader"] = "3";
  state["leader_term"] = 6;
  discovery_.set_state(state);
  EXPECT_TRUE(wait_until(
      [&] {
        const json c = call("GET", "/api/cluster").json();
        return c.is_object() && c["leader"] == "3" && c["leader_source"] == "discovery" &&
               c["leader_term"] == 6;
      },
      kStateDeadline));
}

TEST_F(WebMonitorTest, CommandsAreForwardedWithStatusAndBodyVerbatim) {
  start_monitor();
  settled_cluster();
  const std::string ok_body = R"({"ok":true,"result":"election started for term 6","extra":[1,2]})";
  nodes_[2]->set_command_answer(200, ok_body);
  const std::string request = R"({"cmd":"trigger_election"})";
  const HttpAnswer ok = call("POST", "/api/nodes/2/command", request);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, ok_body);
  EXPECT_EQ(ok.header("Content-Type"), "application/json");
  const auto received = nodes_[2]->last("POST", "/command");
  ASSERT_TRUE(received);
  EXPECT_EQ(received->body, request);

  const std::string refused =
      R"({"ok":false,"error":"unknown command 'fly'","valid_commands":["pause"]})";
  nodes_[2]->set_command_answer(400, refused);
  const HttpAnswer bad = call("POST", "/api/nodes/2/command", R"({"cmd":"fly"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, refused);
}

TEST_F(WebMonitorTest, UnknownNodesAre404AndUnreachableOnes502) {
  start_monitor();
  settled_cluster();
  expect_json_error(call("POST", "/api/nodes/9/command", R"({"cmd":"pause"})"), 404);
  expect_json_error(call("POST", "/api/nodes/abc/command", R"({"cmd":"pause"})"), 404);
  expect_json_error(call("GET", "/api/nodes/9/log"), 404);
  const HttpAnswer down = call("POST", "/api/nodes/3/command", R"({"cmd":"pause"})");
  expect_json_error(down, 502);
  EXPECT_EQ(down.json()["error"], "node 3 is unreachable");
}

// Issue #14: a fake registration made the monitor poll any address and
// forward writes, with the client's Authorization, to it.
TEST_F(WebMonitorTest, ARefusedAddressIsNeverDialled) {
  discovery_state_["members"]["2"]["address"] = "localhost:" + std::to_string(nodes_[2]->port());
  discovery_state_["nodes"]["2"] = discovery_state_["members"]["2"]["address"];
  discovery_.set_state(discovery_state_);
  start_monitor();
  json cluster;
  ASSERT_TRUE(wait_until(
      [&] {
        cluster = call("GET", "/api/cluster").json();
        return cluster.is_object() && cluster["leader"] == "1";
      },
      kStateDeadline))
      << cluster.dump(2);
  EXPECT_EQ(cluster["nodes"][2]["reachable"], false);
  EXPECT_NE(cluster["nodes"][2]["error"].get<std::string>().find("is a name, not an IP address"),
            std::string::npos)
      << cluster.dump(2);
  const HttpAnswer refused = call("POST", "/api/nodes/2/command", R"({"cmd":"pause"})");
  expect_json_error(refused, 502);
  EXPECT_NE(refused.json()["error"].get<std::string>().find("is a name"), std::string::npos);
  EXPECT_TRUE(nodes_[2]->received().empty()) << nodes_[2]->received().front().target;
}

TEST_F(WebMonitorTest, OnlyAMonitorWithATokenPassesAuthorizationOn) {
  const httplib::Headers bearer = {{"Authorization", "Bearer 0123456789abcdef0123"}};
  start_monitor();
  settled_cluster();
  nodes_[1]->set_kv_answer(200, R"({"ok":true,"index":7,"term":5})");
  EXPECT_EQ(http_request(monitor_port_, "PUT", "/api/kv/k", "v", "text/plain", bearer).status, 200);
  auto received = nodes_[1]->last("PUT", "/kv/k");
  ASSERT_TRUE(received);
  EXPECT_EQ(received->headers.count("Authorization"), 0u);
  monitor_.reset();

  start_monitor({"--auth_token", "0123456789abcdef0123"});
  settled_cluster();
  EXPECT_EQ(http_request(monitor_port_, "PUT", "/api/kv/k", "w", "text/plain", bearer).status, 200);
  received = nodes_[1]->last("PUT", "/kv/k");
  ASSERT_TRUE(received);
  EXPECT_EQ(received->body, "w");
  EXPECT_EQ(received->headers["Authorization"], "Bearer 0123456789abcdef0123");
}

TEST_F(WebMonitorTest, HugeBodiesAre413) {
  start_monitor();
  settled_cluster();
  const std::string big_command = R"({"cmd":"submit )" + std::string(100 * 1024, 'x') + "\"}";
  expect_json_error(call("POST", "/api/nodes/1/command", big_command), 413);
  EXPECT_FALSE(nodes_[1]->last("POST", "/command"));  // never forwarded
  expect_json_error(
      call("PUT", "/api/kv/big", std::string(2 << 20, 'v'), "application/octet-stream"), 413);
  expect_json_error(
      call("PUT", "/api/kv/big", std::string((1 << 20) + 1, 'v'), "application/octet-stream"), 413);
  EXPECT_FALSE(nodes_[1]->last("PUT", "/kv/"));
}

TEST_F(WebMonitorTest, EventsDeliverAtLeastTwoEvents) {
  start_monitor();
  httplib::Client client("127.0.0.1", monitor_port_);
  client.set_read_timeout(5s);
  std::string stream;
  int events = 0;
  std::string content_type;
  const auto start = std::chrono::steady_clock::now();
  auto result = client.Get(
      "/api/events",
      [&](const httplib::Response& response) {
        content_type = response.get_header_value("Content-Type");
        return response.status == 200;
      },
      [&](const char* data, std::size_t size) {
        stream.append(data, size);
        events = 0;
        for (std::size_t at = stream.find("\ndata: "); at != std::string::npos;
             at = stream.find("\ndata: ", at + 1)) {
          ++events;
        }
        return events < 2;  // enough: hang up
      });
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(events, 2) << stream;
  EXPECT_LT(took, 10s);
  EXPECT_EQ(content_type, "text/event-stream");
  // Each event is one /api/cluster body.
  const std::size_t data_at = stream.find("data: ");
  ASSERT_NE(data_at, std::string::npos);
  const std::size_t end = stream.find('\n', data_at);
  const json event = json::parse(stream.substr(data_at + 6, end - data_at - 6), nullptr, false);
  ASSERT_TRUE(event.is_object());
  EXPECT_TRUE(event["nodes"].is_array());
  EXPECT_TRUE(event.contains("leader"));
}

TEST_F(WebMonitorTest, ManyStreamsShareOnePoller) {
  start_monitor();
  settled_cluster();
  std::atomic<bool> hang_up{false};
  std::atomic<int> streaming{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      httplib::Client client("127.0.0.1", monitor_port_);
      client.set_read_timeout(10s);
      bool counted = false;
      client.Get("/api/events", [&](const char*, std::size_t) {
        if (!counted) {
          counted = true;
          ++streaming;
        }
        return !hang_up.load();
      });
    });
  }
  ASSERT_TRUE(wait_until([&] { return streaming.load() == 4; }, kStateDeadline));
  const auto count_status = [&] {
    int n = 0;
    for (const Received& r : nodes_[0]->received()) n += r.target == "/status" ? 1 : 0;
    return n;
  };
  const int before = count_status();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1s);  // a measurement window, not a wait for a state
  const auto window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  const int during = count_status() - before;
  hang_up = true;
  for (std::thread& t : readers) t.join();
  // One poller at 100 ms: about ten rounds, whatever the number of streams.
  EXPECT_LE(during, window_ms / 100 + 3) << during << " /status requests in " << window_ms << " ms";
  EXPECT_GE(during, 3);
}

TEST_F(WebMonitorTest, EventStreamsAreCapped) {
  start_monitor({"--max_sse_clients", "1"});
  std::atomic<bool> got_event{false};
  std::atomic<bool> hang_up{false};
  std::thread holder([&] {
    httplib::Client client("127.0.0.1", monitor_port_);
    client.set_read_timeout(10s);
    client.Get("/api/events", [&](const char* data, std::size_t size) {
      if (std::string(data, size).find("data: ") != std::string::npos) got_event = true;
      return !hang_up.load();
    });
  });
  ASSERT_TRUE(wait_until([&] { return got_event.load(); }, kStateDeadline));
  expect_json_error(call("GET", "/api/events"), 503);
  hang_up = true;
  holder.join();
  // The slot is free again once the first stream is gone.
  EXPECT_TRUE(wait_until(
      [&] {
        httplib::Client client("127.0.0.1", monitor_port_);
        client.set_read_timeout(5s);
        int status = 0;
        client.Get(
            "/api/events",
            [&](const httplib::Response& r) {
              status = r.status;
              return false;
            },
            [](const char*, std::size_t) { return false; });
        return status == 200;
      },
      kStateDeadline));
}

TEST_F(WebMonitorTest, PageAndAssetsAreServedWithNoExternalUrls) {
  start_monitor();
  const struct {
    const char* path;
    const char* type;
  } assets[] = {
      {"/", "text/html"}, {"/monitor.css", "text/css"}, {"/monitor.js", "text/javascript"}};
  for (const auto& asset : assets) {
    const HttpAnswer a = call("GET", asset.path);
    EXPECT_EQ(a.status, 200) << asset.path;
    EXPECT_EQ(a.header("Content-Type").rfind(asset.type, 0), 0u) << asset.path;
    EXPECT_GT(a.body.size(), 100u) << asset.path;
    EXPECT_EQ(a.body.find("http://"), std::string::npos) << asset.path;
    EXPECT_EQ(a.body.find("https://"), std::string::npos) << asset.path;
    EXPECT_EQ(a.body.find("//cdn"), std::string::npos) << asset.path;
  }
  const HttpAnswer page = call("GET", "/");
  EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page.body.find("/monitor.js"), std::string::npos);
  EXPECT_NE(page.body.find("/monitor.css"), std::string::npos);
  // The script builds the page from data with textContent, never innerHTML.
  EXPECT_EQ(call("GET", "/monitor.js").body.find("innerHTML"), std::string::npos);
}

TEST_F(WebMonitorTest, LogAndEntriesAreForwarded) {
  start_monitor();
  settled_cluster();
  const HttpAnswer log = call("GET", "/api/nodes/0/log");
  EXPECT_EQ(log.status, 200);
  EXPECT_EQ(log.json()["log"][1], "<b>two</b>");  // data, passed on untouched
  const HttpAnswer entries = call("GET", "/api/nodes/2/entries?from=5&limit=40");
  EXPECT_EQ(entries.status, 200);
  EXPECT_EQ(entries.json()["entries"][0]["index"], 1);
  const auto received = nodes_[2]->last("GET", "/entries");
  ASSERT_TRUE(received);
  EXPECT_EQ(received->target, "/entries?limit=40&from=5");
  expect_json_error(call("GET", "/api/nodes/2/entries?from=x"), 400);
  EXPECT_EQ(call("GET", "/api/nodes/1/cmd_history").json()["history"][0], "12:00:00 - pause");
}

TEST_F(WebMonitorTest, KvGoesToTheLeaderAndFollowsOneRedirect) {
  start_monitor();
  settled_cluster();
  nodes_[1]->set_kv_answer(200, R"({"ok":true,"index":7,"term":5})");
  const HttpAnswer put = call("PUT", "/api/kv/color%2Fshade", "blue", "text/plain");
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.body, R"({"ok":true,"index":7,"term":5})");
  EXPECT_EQ(put.header("X-Raft-Node"), "1");
  auto received = nodes_[1]->last("PUT", "/kv/");
  ASSERT_TRUE(received);
  EXPECT_EQ(received->target, "/kv/color%2Fshade");
  EXPECT_EQ(received->body, "blue");

  // Leadership just moved to node 2: node 1 redirects, the monitor follows once.
  nodes_[1]->set_kv_answer(307,
                           json{{"ok", false},
                                {"error", "not leader"},
                                {"leader_id", "2"},
                                {"leader_url", "http://" + nodes_[2]->address()}}
                               .dump(),
                           {{"Location", "http://" + nodes_[2]->address() + "/kv/color"}});
  nodes_[2]->set_kv_answer(200, R"({"ok":true,"key":"color","value":"blue"})");
  const HttpAnswer get = call("GET", "/api/kv/color?stale=true");
  EXPECT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.json()["value"], "blue");
  EXPECT_EQ(get.header("X-Raft-Node"), "2");
  received = nodes_[2]->last("GET", "/kv/");
  ASSERT_TRUE(received);
  EXPECT_EQ(received->target, "/kv/color?stale=true");

  // A second redirect is not followed: the browser is never sent to a node.
  nodes_[2]->set_kv_answer(307, R"({"ok":false,"error":"not leader","leader_id":"1"})",
                           {{"Location", "http://" + nodes_[1]->address() + "/kv/color"}});
  const HttpAnswer moving = call("DELETE", "/api/kv/color");
  expect_json_error(moving, 503);
  EXPECT_TRUE(moving.header("Location").empty());

  nodes_[1]->set_kv_answer(404, R"({"ok":false,"error":"key not found"})");
  const HttpAnswer missing = call("GET", "/api/kv/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"ok":false,"error":"key not found"})");
}

TEST_F(WebMonitorTest, UnknownPathsAndWrongMethodsAreOneLineJsonErrors) {
  start_monitor();
  expect_json_error(call("GET", "/nope"), 404);
  expect_json_error(call("GET", "/api/nodes/1/reboot"), 404);
  const HttpAnswer wrong = call("POST", "/api/cluster", "{}");
  expect_json_error(wrong, 405);
  EXPECT_EQ(wrong.header("Allow"), "GET, HEAD");
  const HttpAnswer get_command = call("GET", "/api/nodes/1/command");
  expect_json_error(get_command, 405);
  EXPECT_EQ(get_command.header("Allow"), "POST");
  expect_json_error(call("PATCH", "/api/kv/a", "x"), 405);
  expect_json_error(call("GET", "/api/kv/%zz"), 400);
  EXPECT_EQ(call("GET", "/healthz").body, "ok");
}

TEST_F(WebMonitorTest, SigtermStopsCleanlyWhileAStreamIsOpen) {
  start_monitor();
  std::atomic<bool> streaming{false};
  std::thread reader([&] {
    httplib::Client client("127.0.0.1", monitor_port_);
    client.set_read_timeout(10s);
    client.Get("/api/events", [&](const char*, std::size_t) {
      streaming = true;
      return true;  // until the monitor ends the stream
    });
  });
  ASSERT_TRUE(wait_until([&] { return streaming.load(); }, kStateDeadline));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(monitor_->stop(SIGTERM, 10s), 0) << monitor_->output();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  reader.join();
}

// ---- the event history ---------------------------------------------------------------

/// The records of /api/history (all of them), or an empty array.
json history_records(int port) {
  const HttpAnswer a = http_request(port, "GET", "/api/history?after=0&limit=20000");
  const json body = a.json();
  return a.status == 200 && body.is_object() ? body["records"] : json::array();
}

int count_records(const json& records, const std::string& kind, const std::string& node) {
  int n = 0;
  for (const json& r : records) n += r["k"] == kind && r["node"] == node ? 1 : 0;
  return n;
}

TEST_F(WebMonitorTest, HistoryGathersEachEventOnceAndKeepsItAcrossARestart) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("raft_monitor_history_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  nodes_[2]->add_event({{"t", 1'790'000'000'000'000},
                        {"k", "state"},
                        {"state", "CANDIDATE"},
                        {"term", 6},
                        {"timeout_ms", 700},
                        {"elapsed_ms", 0}});
  nodes_[2]->add_event({{"t", 1'790'000'000'000'100},
                        {"k", "send"},
                        {"type", "vote"},
                        {"peer", "1"},
                        {"term", 6},
                        {"index", 1},
                        {"hold_ms", 300}});
  start_monitor({"--data_dir", dir.string()});
  ASSERT_TRUE(wait_until(
      [&] {
        const json r = history_records(monitor_port_);
        return count_records(r, "send", "2") == 1 && count_records(r, "status", "1") >= 1;
      },
      kStateDeadline));
  // More rounds ask for what came after; nothing is stored twice.
  nodes_[2]->add_event({{"t", 1'790'000'000'000'200},
                        {"k", "send"},
                        {"type", "vote"},
                        {"peer", "0"},
                        {"term", 6},
                        {"index", 1}});
  ASSERT_TRUE(
      wait_until([&] { return count_records(history_records(monitor_port_), "send", "2") == 2; },
                 kStateDeadline));
  ASSERT_TRUE(nodes_[2]->last("GET", "/events?after=2"));
  EXPECT_EQ(count_records(history_records(monitor_port_), "state", "2"), 1);
  const json vote = [&] {
    for (const json& r : history_records(monitor_port_)) {
      if (r["k"] == "send" && r["peer"] == "1") return r;
    }
    return json();
  }();
  EXPECT_EQ(vote["hold_ms"], 300);
  EXPECT_EQ(vote["type"], "vote");

  // A restarted monitor has its history back and goes on after it.
  ASSERT_EQ(monitor_->stop(SIGTERM, 10s), 0) << monitor_->output();
  start_monitor({"--data_dir", dir.string()});
  EXPECT_EQ(count_records(history_records(monitor_port_), "send", "2"), 2);
  ASSERT_TRUE(
      wait_until([&] { return bool(nodes_[2]->last("GET", "/events?after=3")); }, kStateDeadline))
      << "the cursor was restored from the history";
  EXPECT_EQ(count_records(history_records(monitor_port_), "send", "2"), 2);
  std::filesystem::remove_all(dir);
}

TEST_F(WebMonitorTest, TheEventStreamCarriesNewHistoryRecords) {
  nodes_[1]->add_event(
      {{"t", 1'790'000'000'000'000}, {"k", "command"}, {"text", "<b>pause</b>"}, {"ok", true}});
  start_monitor();
  httplib::Client client("127.0.0.1", monitor_port_);
  client.set_read_timeout(5s);
  std::string stream;
  client.Get("/api/events?history=1&after=0", [&](const char* data, std::size_t size) {
    stream.append(data, size);
    return stream.find("<b>pause</b>") == std::string::npos;
  });
  const std::size_t at = stream.find("event: history\ndata: ");
  ASSERT_NE(at, std::string::npos) << stream;
  const std::size_t begin = at + std::string("event: history\ndata: ").size();
  const json records =
      json::parse(stream.substr(begin, stream.find('\n', begin) - begin), nullptr, false);
  ASSERT_TRUE(records.is_array()) << stream;
  EXPECT_GE(records.size(), 1u);
  for (const json& r : records) EXPECT_TRUE(r["id"].is_number_unsigned()) << r.dump();
}

TEST_F(WebMonitorTest, HistoryQueriesAreCheckedAndBadOnesAre400) {
  start_monitor();
  settled_cluster();
  const HttpAnswer ok = call("GET", "/api/history?from_ms=0&limit=10");
  EXPECT_EQ(ok.status, 200) << ok.body;
  const json body = ok.json();
  ASSERT_TRUE(body.is_object()) << ok.body;
  EXPECT_TRUE(body["records"].is_array());
  EXPECT_LE(body["records"].size(), 10u);
  EXPECT_TRUE(body["first_id"].is_number_unsigned());
  EXPECT_TRUE(body["more"].is_boolean());
  expect_json_error(call("GET", "/api/history?after=x"), 400);
  expect_json_error(call("GET", "/api/history?limit=0"), 400);
  expect_json_error(call("GET", "/api/history?limit=20001"), 400);
  expect_json_error(call("GET", "/api/history?after=1&from_ms=2"), 400);
  expect_json_error(call("GET", "/api/events?history=maybe"), 400);
}

TEST(WebMonitorAlone, WithNoNodeAtAllKvIs503) {
  FakeDiscovery discovery;
  const int port = free_port();
  MonitorProcess monitor({"--port", std::to_string(port), "--discovery_url",
                          "http://" + discovery.address(), "--nodes", "0"});
  ASSERT_TRUE(monitor.wait_healthy(port, kStartDeadline)) << monitor.output();
  const HttpAnswer put = http_request(port, "PUT", "/api/kv/a", "b", "text/plain");
  expect_json_error(put, 503);
  const json cluster = http_request(port, "GET", "/api/cluster").json();
  EXPECT_TRUE(cluster["nodes"].empty());
  EXPECT_TRUE(cluster["leader"].is_null());
  EXPECT_EQ(monitor.stop(SIGINT, 10s), 0);
}

TEST(WebMonitorAlone, InvalidFlagsExit2WithOneClearLine) {
  const std::vector<std::vector<std::string>> cases = {{"--nodes", "-1"},
                                                       {"--port", "70000"},
                                                       {"--base_port", "0"},
                                                       {"--discovery_url", "ftp://x"},
                                                       {"--bind", "not a host"},
                                                       {"--no_such_flag"},
                                                       {"--base_port", "65535", "--nodes", "2"},
                                                       {"extra"}};
  for (const auto& args : cases) {
    MonitorProcess monitor(args);
    EXPECT_EQ(monitor.wait_exit(10s), 2) << args[0];
    const std::string out = monitor.output();
    EXPECT_NE(out.find("web_monitor: "), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
}

TEST(WebMonitorAlone, APortInUseExits1) {
  FakeDiscovery discovery;  // listening: its port is taken
  MonitorProcess monitor({"--port", std::to_string(discovery.port())});
  EXPECT_EQ(monitor.wait_exit(10s), 1) << monitor.output();
}

}  // namespace
}  // namespace raft::monitor::testing
