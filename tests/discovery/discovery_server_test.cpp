// discovery_server as a process, over loopback HTTP: the API, its error
// answers, persistence across a restart, start-up errors and clean shutdown.

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace raft::discovery::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kStartDeadline = 10s;
constexpr auto kStopDeadline = 5s;

class DiscoveryServerTest : public ::testing::Test {
 protected:
  std::vector<std::string> args(std::vector<std::string> extra = {}) const {
    std::vector<std::string> all = {"--port", std::to_string(port_), "--state_file",
                                    state_file().string()};
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  }

  std::unique_ptr<DiscoveryProcess> start(std::vector<std::string> extra = {}) {
    auto process = std::make_unique<DiscoveryProcess>(args(std::move(extra)), log_file());
    EXPECT_TRUE(process->wait_healthy(port_, kStartDeadline)) << process->output();
    return process;
  }

  std::filesystem::path state_file() const { return dir_.path() / "discovery_state.json"; }
  std::filesystem::path log_file() const { return dir_.path() / "discovery.log"; }

  TempDir dir_;
  int port_ = free_port();
};

TEST_F(DiscoveryServerTest, HealthzAnswersOkAndStateStartsEmpty) {
  auto server = start();
  HttpAnswer health = http_get(port_, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok");

  HttpAnswer state = http_get(port_, "/state");
  EXPECT_EQ(state.status, 200);
  EXPECT_EQ(state.content_type, "application/json");
  auto json = state.json();
  EXPECT_EQ(json["nodes"], nlohmann::json::object());
  EXPECT_EQ(json["leader"], nullptr);
  EXPECT_EQ(json["leader_term"], 0);
  EXPECT_EQ(json["members"], nlohmann::json::object());
  EXPECT_EQ(server->stop(SIGTERM, kStopDeadline), 0);
}

TEST_F(DiscoveryServerTest, RegisterSetLeaderAndDeregister) {
  auto server = start();
  auto answer = http_post(port_, "/register", R"({"node_id":"0","address":"127.0.0.1:7000"})");
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.json()["ok"], true);
  answer = http_post(port_, "/register", R"({"node_id":1,"address":"127.0.0.1:7001"})");
  EXPECT_EQ(answer.status, 200) << answer.body;
  answer = http_post(port_, "/set_leader", R"({"node_id":"1","term":3})");
  EXPECT_EQ(answer.status, 200) << answer.body;
  answer = http_post(port_, "/set_leader", R"({"node_id":"0","term":2})");
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.json()["ignored"], true);

  auto state = http_get(port_, "/state").json();
  EXPECT_EQ(state["nodes"], (nlohmann::json{{"0", "127.0.0.1:7000"}, {"1", "127.0.0.1:7001"}}));
  EXPECT_EQ(state["leader"], "1");
  EXPECT_EQ(state["leader_term"], 3);
  EXPECT_EQ(state["members"]["0"]["alive"], true);

  answer = http_post(port_, "/register", R"({"node_id":"0","address":null})");
  EXPECT_EQ(answer.status, 200);
  state = http_get(port_, "/state").json();
  EXPECT_FALSE(state["nodes"].contains("0"));

  answer = http_post(port_, "/reset", "");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(http_get(port_, "/state").json()["nodes"], nlohmann::json::object());
}

TEST_F(DiscoveryServerTest, ANodeThatStopsHeartbeatingIsShownNotAlive) {
  auto server = start({"--alive_timeout_ms", "200"});
  http_post(port_, "/register", R"({"node_id":"4","address":"127.0.0.1:7004"})");
  EXPECT_TRUE(wait_until(
      [&] { return http_get(port_, "/state").json()["members"]["4"]["alive"] == false; }, 5s));
  auto state = http_get(port_, "/state").json();
  EXPECT_EQ(state["nodes"]["4"], "127.0.0.1:7004");
  EXPECT_GE(state["members"]["4"]["last_seen_ms_ago"].get<int>(), 200);
  // The silence is logged once (by the periodic sweep).
  EXPECT_TRUE(wait_until(
      [&] { return server->output().find("node 4 not heard from") != std::string::npos; }, 5s))
      << server->output();
}

TEST_F(DiscoveryServerTest, OversizedBodyGets413Json) {
  auto server = start();
  std::string big = R"({"node_id":"0","address":")" + std::string(70 * 1024, 'a') + R"("})";
  auto answer = http_post(port_, "/register", big);
  EXPECT_EQ(answer.status, 413);
  EXPECT_EQ(answer.content_type, "application/json");
  EXPECT_EQ(answer.json()["ok"], false);
  EXPECT_NE(answer.json()["error"].get<std::string>().find("larger than"), std::string::npos);
  // Still serving.
  EXPECT_EQ(http_get(port_, "/healthz").status, 200);
}

TEST_F(DiscoveryServerTest, MalformedJsonGets400WithOneSentence) {
  auto server = start();
  auto answer = http_post(port_, "/register", "{\"node_id\":");
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.json()["ok"], false);
  EXPECT_NE(answer.json()["error"].get<std::string>().find("not valid JSON"), std::string::npos);
  answer = http_post(port_, "/set_leader", R"({"node_id":"0","term":"x"})");
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.json()["ok"], false);
}

TEST_F(DiscoveryServerTest, UnknownPathGets404AndWrongMethod405AsJson) {
  auto server = start();
  auto answer = http_get(port_, "/nope");
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.content_type, "application/json");
  EXPECT_EQ(answer.json()["ok"], false);
  answer = http_post(port_, "/nope", "{}");
  EXPECT_EQ(answer.status, 404);

  answer = http_get(port_, "/register");
  EXPECT_EQ(answer.status, 405);
  EXPECT_EQ(answer.allow, "POST");
  EXPECT_EQ(answer.json()["ok"], false);
  answer = http_post(port_, "/state", "{}");
  EXPECT_EQ(answer.status, 405);
  EXPECT_EQ(answer.allow, "GET");
  answer = http_request(port_, "DELETE", "/set_leader", "");
  EXPECT_EQ(answer.status, 405);
}

TEST_F(DiscoveryServerTest, ARestartedServerLosesNothing) {
  auto server = start();
  http_post(port_, "/register", R"({"node_id":"0","address":"127.0.0.1:7000"})");
  http_post(port_, "/register", R"({"node_id":"2","address":"127.0.0.1:7002"})");
  http_post(port_, "/set_leader", R"({"node_id":"2","term":6})");
  EXPECT_EQ(server->stop(SIGTERM, kStopDeadline), 0);
  server = start();
  auto state = http_get(port_, "/state").json();
  EXPECT_EQ(state["nodes"], (nlohmann::json{{"0", "127.0.0.1:7000"}, {"2", "127.0.0.1:7002"}}));
  EXPECT_EQ(state["leader"], "2");
  EXPECT_EQ(state["leader_term"], 6);
  auto answer = http_post(port_, "/set_leader", R"({"node_id":"0","term":5})");
  EXPECT_EQ(answer.json()["ignored"], true);
  EXPECT_EQ(server->stop(SIGINT, kStopDeadline), 0);
  // Killed hard, it loses nothing either: every change was on disk first.
  server = start();
  http_post(port_, "/register", R"({"node_id":"3","address":"127.0.0.1:7003"})");
  EXPECT_EQ(server->stop(SIGKILL, kStopDeadline), 128 + SIGKILL);
  server = start();
  EXPECT_EQ(http_get(port_, "/state").json()["nodes"]["3"], "127.0.0.1:7003");
}

TEST_F(DiscoveryServerTest, ResetFlagStartsEmpty) {
  auto server = start();
  http_post(port_, "/register", R"({"node_id":"0","address":"127.0.0.1:7000"})");
  EXPECT_EQ(server->stop(SIGTERM, kStopDeadline), 0);
  server = start({"--reset"});
  EXPECT_EQ(http_get(port_, "/state").json()["nodes"], nlohmann::json::object());
}

TEST_F(DiscoveryServerTest, ACorruptStateFileIsRefusedNamingTheFile) {
  {
    std::ofstream out(state_file());
    out << "{not json";
  }
  RunResult result = run_discovery_server(args(), log_file(), kStartDeadline);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find(state_file().string()), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("--reset"), std::string::npos) << result.output;

  auto server = start({"--reset"});  // the way out
  EXPECT_EQ(http_get(port_, "/state").status, 200);
}

TEST_F(DiscoveryServerTest, InvalidFlagsExit2WithOneLine) {
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--port", "0"},
           {"--port", "abc"},
           {"--port", "70000"},
           {"--alive_timeout_ms", "-5"},
           {"--bogus"},
           {"--bind", "not a host"},
           {"--log_level", "loud"},
       }) {
    std::filesystem::remove(log_file());
    RunResult result = run_discovery_server(bad, log_file(), kStartDeadline);
    EXPECT_EQ(result.exit_code, 2) << bad[0] << ": " << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  }
}

TEST_F(DiscoveryServerTest, APortInUseIsRefused) {
  auto first = start();
  std::filesystem::path other_state = dir_.path() / "other.json";
  RunResult result =
      run_discovery_server({"--port", std::to_string(port_), "--state_file", other_state.string()},
                           dir_.path() / "second.log", kStartDeadline);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("cannot listen"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace raft::discovery::testing
