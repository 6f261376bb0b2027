// DiscoveryClient against a real discovery_server process over loopback:
// registration and heartbeat, leadership reports, an outage (the node list is
// kept; the client comes back by itself), and a fast stop() whether discovery
// is up, down or hung.

#include "discovery/discovery_client.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "test_support.hpp"

namespace raft::discovery::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = 10s;

/// Counts how often `needle` occurs in `text`.
int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class DiscoveryClientTest : public ::testing::Test {
 protected:
  DiscoveryClientTest() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    logger_ = std::make_shared<spdlog::logger>("client-test", sink);
    logger_->set_level(spdlog::level::debug);
  }

  void start_server() {
    server_ = std::make_unique<DiscoveryProcess>(
        std::vector<std::string>{"--port", std::to_string(port_), "--state_file",
                                 (dir_.path() / "state.json").string()},
        dir_.path() / "discovery.log");
    ASSERT_TRUE(server_->wait_healthy(port_, kDeadline)) << server_->output();
  }

  std::unique_ptr<DiscoveryClient> make_client(NodeId rank) {
    DiscoveryClient::Options options;
    options.url = "http://127.0.0.1:" + std::to_string(port_);
    options.rank = rank;
    options.advertise_address = "127.0.0.1:" + std::to_string(7000 + rank);
    options.poll_interval_s = 1;
    return std::make_unique<DiscoveryClient>(options, logger_);
  }

  nlohmann::json state() { return http_get(port_, "/state").json(); }

  bool shown_alive(NodeId rank) {
    auto json = state();
    auto key = std::to_string(rank);
    return json.is_object() && json["members"].contains(key) &&
           json["members"][key]["alive"] == true;
  }

  /// The client's log so far (read it after stop(): the sink is written by
  /// the client's thread).
  std::string client_log() const { return log_.str(); }

  TempDir dir_;
  int port_ = free_port();
  std::unique_ptr<DiscoveryProcess> server_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<bool> is_leader_{false};
  std::atomic<Term> term_{0};
  std::function<LeaderInfo()> leader_source_ = [this] {
    return LeaderInfo{is_leader_.load(), term_.load()};
  };
};

TEST_F(DiscoveryClientTest, RegistersIsShownAliveAndDeregistersOnStop) {
  start_server();
  auto client = make_client(3);
  client->start(leader_source_);
  ASSERT_TRUE(wait_until([&] { return shown_alive(3); }, kDeadline));
  EXPECT_EQ(state()["nodes"]["3"], "127.0.0.1:7003");
  ASSERT_TRUE(wait_until([&] { return client->known_nodes().count(3) == 1; }, kDeadline));
  EXPECT_TRUE(client->connected());
  EXPECT_EQ(client->last_error(), "");

  client->stop();
  EXPECT_FALSE(state()["nodes"].contains("3"));
  EXPECT_EQ(count(client_log(), "registered with discovery"), 1) << client_log();
}

TEST_F(DiscoveryClientTest, ReportsLeadershipWithItsTermAtOnce) {
  start_server();
  auto client = make_client(1);
  client->start(leader_source_);
  ASSERT_TRUE(wait_until([&] { return client->connected(); }, kDeadline));

  term_ = 5;
  is_leader_ = true;
  auto changed_at = Clock::now();
  client->notify_leadership_changed();
  ASSERT_TRUE(wait_until([&] { return state()["leader"] == "1"; }, kDeadline));
  EXPECT_LT(Clock::now() - changed_at, 900ms) << "reported before the next heartbeat";
  EXPECT_EQ(state()["leader_term"], 5);

  term_ = 7;  // noticed without a notify, within the leader check interval
  ASSERT_TRUE(wait_until([&] { return state()["leader_term"] == 7; }, kDeadline));

  // A newer leader elsewhere: our stale reports are ignored by discovery.
  is_leader_ = false;
  http_post(port_, "/register", R"({"node_id":"0","address":"127.0.0.1:7000"})");
  auto answer = http_post(port_, "/set_leader", R"({"node_id":"0","term":9})");
  ASSERT_EQ(answer.status, 200);
  std::string error;
  ASSERT_TRUE(client->sync_now(&error)) << error;
  EXPECT_EQ(client->discovery_leader(), 0);
}

TEST_F(DiscoveryClientTest, AnOutageKeepsKnownNodesAndTheClientComesBack) {
  start_server();
  http_post(port_, "/register", R"({"node_id":"0","address":"127.0.0.1:7000"})");
  http_post(port_, "/register", R"({"node_id":"1","address":"127.0.0.1:7001"})");
  auto client = make_client(2);
  client->start(leader_source_);
  ASSERT_TRUE(wait_until([&] { return client->known_nodes().size() == 3; }, kDeadline));
  const auto before = client->known_nodes();

  ASSERT_EQ(server_->stop(SIGTERM, kDeadline), 0);
  ASSERT_TRUE(wait_until([&] { return !client->connected(); }, kDeadline));
  EXPECT_NE(client->last_error().find("unreachable"), std::string::npos) << client->last_error();
  EXPECT_EQ(client->known_nodes(), before);
  std::string error;
  EXPECT_FALSE(client->sync_now(&error));
  EXPECT_NE(error.find("unreachable"), std::string::npos) << error;
  EXPECT_EQ(client->known_nodes(), before);

  start_server();  // same port, same state file
  ASSERT_TRUE(wait_until([&] { return client->connected(); }, kDeadline)) << client->last_error();
  EXPECT_TRUE(shown_alive(2));
  EXPECT_EQ(client->known_nodes(), before);
  client->stop();
  // One line for the outage, one for the recovery; not one per retry.
  EXPECT_EQ(count(client_log(), "retrying in the background"), 1) << client_log();
  EXPECT_EQ(count(client_log(), "reachable again"), 1) << client_log();
}

TEST_F(DiscoveryClientTest, AClientStartedBeforeDiscoveryRegistersWhenItComesUp) {
  auto client = make_client(0);
  client->start(leader_source_);
  ASSERT_TRUE(wait_until([&] { return !client->last_error().empty(); }, kDeadline));
  EXPECT_FALSE(client->connected());
  EXPECT_TRUE(client->known_nodes().empty());

  start_server();
  ASSERT_TRUE(wait_until([&] { return shown_alive(0); }, kDeadline));
  ASSERT_TRUE(wait_until([&] { return client->known_nodes().count(0) == 1; }, kDeadline));
  EXPECT_TRUE(client->connected());
}

TEST_F(DiscoveryClientTest, SyncNowReadsTheListAtOnce) {
  start_server();
  http_post(port_, "/register", R"({"node_id":"0","address":"127.0.0.1:7000"})");
  http_post(port_, "/register", R"({"node_id":"5","address":"[::1]:7005"})");
  http_post(port_, "/set_leader", R"({"node_id":"5","term":2})");
  auto client = make_client(9);  // never started: sync_now works on its own
  std::string error;
  ASSERT_TRUE(client->sync_now(&error)) << error;
  EXPECT_EQ(client->known_nodes(),
            (std::map<NodeId, std::string>{{0, "127.0.0.1:7000"}, {5, "[::1]:7005"}}));
  EXPECT_EQ(client->discovery_leader(), 5);
}

TEST_F(DiscoveryClientTest, StopReturnsFastWhenDiscoveryIsDown) {
  auto client = make_client(0);
  client->start(leader_source_);
  ASSERT_TRUE(wait_until([&] { return !client->last_error().empty(); }, kDeadline));
  auto begin = Clock::now();
  client->stop();
  EXPECT_LT(Clock::now() - begin, 1s);
}

TEST_F(DiscoveryClientTest, StopReturnsFastWhenDiscoveryHangs) {
  // A listener that accepts connections and never answers.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port_));
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  std::atomic<int> accepted{0};
  std::vector<int> held;
  std::thread acceptor([&] {
    while (true) {
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;  // the listener was shut down
      held.push_back(fd);
      ++accepted;
    }
  });

  auto client = make_client(0);
  client->start(leader_source_);
  ASSERT_TRUE(wait_until([&] { return accepted.load() >= 1; }, kDeadline));  // request in flight
  auto begin = Clock::now();
  client->stop();
  EXPECT_LT(Clock::now() - begin, 1s);

  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  acceptor.join();
  for (int fd : held) ::close(fd);
}

TEST_F(DiscoveryClientTest, StopReturnsFastWhenARegisteredDiscoveryFreezes) {
  start_server();
  auto client = make_client(4);
  client->start(leader_source_);
  ASSERT_TRUE(wait_until([&] { return client->connected(); }, kDeadline));
  ASSERT_EQ(::kill(server_->pid(), SIGSTOP), 0);  // accepts (kernel backlog), never answers
  auto begin = Clock::now();
  client->stop();
  EXPECT_LT(Clock::now() - begin, 1500ms);
  ::kill(server_->pid(), SIGCONT);
}

}  // namespace
}  // namespace raft::discovery::testing
