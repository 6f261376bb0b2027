// DiscoveryClient::Options validation: a bad flag is refused at start-up with
// one sentence, before any thread or socket exists.

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "discovery/discovery_client.hpp"

namespace raft::discovery {
namespace {

TEST(DiscoveryClientOptions, DefaultsAreValid) {
  EXPECT_EQ(DiscoveryClient::Options{}.validate(), std::nullopt);
}

TEST(DiscoveryClientOptions, RefusesBadValuesWithOneSentence) {
  struct Case {
    DiscoveryClient::Options options;
    std::string reason;
  };
  auto with = [](auto change) {
    DiscoveryClient::Options options;
    change(options);
    return options;
  };
  for (const Case& c : std::initializer_list<Case>{
           {with([](auto& o) { o.url = "https://127.0.0.1:5000"; }), "http://"},
           {with([](auto& o) { o.url = "http://127.0.0.1:5000/x"; }), "path"},
           {with([](auto& o) { o.rank = -1; }), "rank"},
           {with([](auto& o) { o.advertise_address = "127.0.0.1"; }), "advertise address"},
           {with([](auto& o) { o.poll_interval_s = 0; }), "poll interval"},
           {with([](auto& o) { o.heartbeat_interval_ms = 10; }), "heartbeat interval"},
           {with([](auto& o) { o.leader_check_interval_ms = 5000; }), "leader check"},
           {with([](auto& o) { o.connect_timeout_ms = 0; }), "timeouts"},
       }) {
    auto error = c.options.validate();
    ASSERT_TRUE(error.has_value()) << c.reason;
    EXPECT_NE(error->find(c.reason), std::string::npos) << *error;
    try {
      DiscoveryClient client(c.options, nullptr);
      ADD_FAILURE() << "constructed with " << c.reason;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), *error);
    }
  }
}

TEST(DiscoveryClient, StopWithoutStartIsHarmless) {
  DiscoveryClient client(DiscoveryClient::Options{}, nullptr);
  client.stop();
  client.stop();
  EXPECT_FALSE(client.connected());
  EXPECT_TRUE(client.known_nodes().empty());
  EXPECT_EQ(client.discovery_leader(), std::nullopt);
}

}  // namespace
}  // namespace raft::discovery
