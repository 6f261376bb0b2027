// http_call and poll_until: the two helpers every wait on a real cluster is
// made of.
#include "launcher/http_call.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include "launcher/child_process.hpp"
#include "launcher/poll.hpp"

namespace raft::launcher {
namespace {

using namespace std::chrono_literals;

TEST(HttpCall, NobodyListeningIsStatusZeroWithAReason) {
  const int port = free_port_range(1);
  ASSERT_GT(port, 0);
  HttpRequest request;
  request.path = "/healthz";
  request.connect_timeout_ms = 300ms;
  const HttpReply reply = http_call("127.0.0.1", port, request);
  EXPECT_EQ(reply.status, 0);
  EXPECT_FALSE(reply.error.empty());
}

TEST(PollUntil, ReturnsAsSoonAsTheConditionHolds) {
  int calls = 0;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(poll_until([&] { return ++calls == 3; }, 10s, 1ms));
  EXPECT_EQ(calls, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(PollUntil, GivesUpAfterTheLimitAndAsksOnceMore) {
  int calls = 0;
  EXPECT_FALSE(poll_until([&] { return ++calls < 0; }, 50ms, 10ms));
  EXPECT_GE(calls, 2);
}

}  // namespace
}  // namespace raft::launcher
