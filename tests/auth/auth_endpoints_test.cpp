// The auth token end to end on loopback, without root: discovery_server,
// web_monitor and a one-rank raft_node (under mpirun) all get the token
// through RAFT_AUTH_TOKEN, as launch_cluster hands it over. Every mutating
// endpoint answers 401 without it and works with it; reads stay open; the
// monitor passes the client's header on to the node. Processes are started
// in their own process groups and stopped by PID; ports are free ones.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "auth/auth_token.hpp"
#include "launcher/child_process.hpp"
#include "launcher/mpi_command.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using raft::launcher::ChildProcess;
namespace fs = std::filesystem;

constexpr const char* kToken = "test-token-0123456789abcdef";

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

struct Answer {
  int status = -1;
  std::string body;
};

Answer request(int port, const std::string& method, const std::string& path,
               const std::string& body, const std::string& token) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(8, 0);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", raft::auth::bearer(token));
  httplib::Result r = method == "GET" ? client.Get(path, headers)
                      : method == "PUT"
                          ? client.Put(path, headers, body, "application/octet-stream")
                          : client.Post(path, headers, body, "application/json");
  if (!r) return {};
  return {r->status, r->body};
}

class AuthEndpoints : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("raft-auth-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // Below the ephemeral range, where mpirun's own listeners cannot take them.
    discovery_port_ = raft::launcher::free_port_range(1);
    monitor_port_ = raft::launcher::free_port_range(1);
    node_port_ = raft::launcher::free_port_range(1);
    const std::string discovery_url = "http://127.0.0.1:" + std::to_string(discovery_port_);
    const std::map<std::string, std::string> env = {{raft::auth::kTokenEnv, kToken}};
    discovery_ = std::make_unique<ChildProcess>(
        "discovery_server",
        std::vector<std::string>{DISCOVERY_SERVER_PATH, "--port", std::to_string(discovery_port_),
                                 "--state_file", (dir_ / "discovery.json").string(), "--log_level",
                                 "warn"},
        env);
    if (!raft::launcher::wait_healthy("127.0.0.1", discovery_port_, 10s, discovery_.get())) {
      setup_error_ = "discovery_server did not become healthy";
      return;
    }
    raft::launcher::RaftNodeFlags flags;
    flags.binary = RAFT_NODE_PATH;
    flags.base_port = node_port_;  // one rank: rank 0 listens on the base port
    flags.discovery_url = discovery_url;
    flags.data_dir = (dir_ / "data").string();
    flags.initial_delay_ms = 0;
    flags.min_election_timeout_ms = 300;
    flags.max_election_timeout_ms = 600;
    flags.heartbeat_interval_ms = 100;
    flags.fsync = "never";
    flags.log_level = "warn";
    raft::launcher::MpiCommandOptions mpi;
    mpi.mpirun = MPIRUN_PATH;
    mpi.ranks = 1;
    mpi.as_root = ::geteuid() == 0;
    mpi.forwarded_env = {raft::auth::kTokenEnv};
    mpi.program = raft::launcher::raft_node_argv(flags);
    const std::vector<std::string> node = raft::launcher::mpirun_argv(mpi);
    node_ = std::make_unique<ChildProcess>("raft_node", node, env);
    monitor_ = std::make_unique<ChildProcess>(
        "web_monitor",
        std::vector<std::string>{WEB_MONITOR_PATH, "--port", std::to_string(monitor_port_),
                                 "--discovery_url", discovery_url, "--log_level", "warn"},
        env);
    if (!raft::launcher::wait_healthy("127.0.0.1", monitor_port_, 10s, monitor_.get())) {
      setup_error_ = "web_monitor did not become healthy";
      return;
    }
    const bool leader = wait_until(
        [] {
          const Answer a = request(node_port_, "GET", "/status", "", "");
          return a.status == 200 &&
                 json::parse(a.body, nullptr, false).value("state", "") == "LEADER";
        },
        30s);
    if (!leader) setup_error_ = "the one-node cluster elected no leader";
  }

  /// A failed start fails every test (gtest would only skip them).
  void SetUp() override {
    if (!setup_error_.empty()) FAIL() << setup_error_;
  }

  static void TearDownTestSuite() {
    if (monitor_) monitor_->stop(3000ms);
    if (node_) node_->stop(6000ms);
    if (discovery_) discovery_->stop(3000ms);
    monitor_.reset();
    node_.reset();
    discovery_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static inline std::string setup_error_;
  static inline fs::path dir_;
  static inline int discovery_port_ = 0;
  static inline int monitor_port_ = 0;
  static inline int node_port_ = 0;
  static inline std::unique_ptr<ChildProcess> discovery_;
  static inline std::unique_ptr<ChildProcess> node_;
  static inline std::unique_ptr<ChildProcess> monitor_;
};

/// A 401 carries one line of JSON with ok:false and a sentence.
void expect_refused(const Answer& a, const std::string& what) {
  EXPECT_EQ(a.status, 401) << what << ": " << a.body;
  const json body = json::parse(a.body, nullptr, false);
  EXPECT_EQ(body.value("ok", true), false) << what;
  EXPECT_FALSE(body.value("error", "").empty()) << what;
  EXPECT_EQ(a.body.find(kToken), std::string::npos) << what << " must not echo the token";
}

TEST_F(AuthEndpoints, TheNodeWantsTheTokenForCommandsAndWritesOnly) {
  const std::string cmd = json{{"cmd", "check_timers"}}.dump();
  expect_refused(request(node_port_, "POST", "/command", cmd, ""), "no token");
  expect_refused(request(node_port_, "POST", "/command", cmd, "a-wrong-token-0000000"), "wrong");
  EXPECT_EQ(request(node_port_, "POST", "/command", cmd, kToken).status, 200);
  expect_refused(request(node_port_, "PUT", "/kv/colour", "green", ""), "PUT /kv");
  expect_refused(request(node_port_, "POST", "/kv/colour?cas=1", "{}", ""), "POST /kv cas");
  EXPECT_EQ(request(node_port_, "PUT", "/kv/colour", "green", kToken).status, 200);
  // Reads stay open.
  EXPECT_EQ(request(node_port_, "GET", "/kv/colour", "", "").status, 200);
  EXPECT_EQ(request(node_port_, "GET", "/status", "", "").status, 200);
}

TEST_F(AuthEndpoints, DiscoveryWantsTheTokenForItsWrites) {
  const std::string reg = json{{"node_id", "7"}, {"address", "127.0.0.1:1"}}.dump();
  expect_refused(request(discovery_port_, "POST", "/register", reg, ""), "/register");
  expect_refused(request(discovery_port_, "POST", "/set_leader",
                         json{{"node_id", "7"}, {"term", 99}}.dump(), ""),
                 "/set_leader");
  expect_refused(request(discovery_port_, "POST", "/reset", "", ""), "/reset");
  EXPECT_EQ(request(discovery_port_, "GET", "/state", "", "").status, 200);
  // The node, holding the token, registered itself.
  ASSERT_TRUE(wait_until(
      [] {
        const json s =
            json::parse(request(discovery_port_, "GET", "/state", "", "").body, nullptr, false);
        return s.is_object() &&
               s["nodes"].value("0", "") == "127.0.0.1:" + std::to_string(node_port_);
      },
      10s));
}

TEST_F(AuthEndpoints, TheMonitorChecksTheTokenAndPassesItOn) {
  const std::string cmd = json{{"cmd", "check_timers"}}.dump();
  // The monitor knows node 0 once it registered and a poll round saw it.
  ASSERT_TRUE(wait_until(
      [] {
        const json c =
            json::parse(request(monitor_port_, "GET", "/api/cluster", "", "").body, nullptr, false);
        if (!c.is_object() || !c.contains("nodes") || !c["nodes"].is_array()) return false;
        for (const json& n : c["nodes"]) {
          if (n.value("reachable", false)) return true;
        }
        return false;
      },
      10s));
  expect_refused(request(monitor_port_, "POST", "/api/nodes/0/command", cmd, ""), "monitor cmd");
  expect_refused(request(monitor_port_, "PUT", "/api/kv/colour", "blue", ""), "monitor PUT");
  const Answer forwarded = request(monitor_port_, "POST", "/api/nodes/0/command", cmd, kToken);
  EXPECT_EQ(forwarded.status, 200) << forwarded.body;
  EXPECT_EQ(json::parse(forwarded.body, nullptr, false).value("ok", false), true);
}

}  // namespace
