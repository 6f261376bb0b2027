// DelayingTransport (the `delay` fault) over a recording inner transport and
// a clock the test moves: what is held, for how long, in which order, and
// what clearing a delay does.
#include "transport/delaying_transport.hpp"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace raft::transport {
namespace {

using namespace std::chrono_literals;

/// Records what it is asked to send; can refuse.
class RecordingTransport final : public Transport {
 public:
  NodeId rank() const override { return 0; }
  int size() const override { return 4; }
  bool send(const Message& m) override {
    if (refuse) return false;
    sent.push_back(m);
    return true;
  }
  std::size_t poll(std::vector<Message>&, std::size_t) override { return 0; }
  TransportStats stats() const override { return {}; }
  void shutdown() override {}

  std::vector<Message> sent;
  bool refuse = false;
};

class DelayingTransportTest : public ::testing::Test {
 protected:
  DelayingTransportTest() {
    auto inner = std::make_unique<RecordingTransport>();
    sink = inner.get();
    delaying = std::make_unique<DelayingTransport>(std::move(inner), [this] { return now; });
  }

  Message to(NodeId peer, Index marker) {
    Message m;
    m.type = MessageType::AppendEntries;
    m.from = 0;
    m.to = peer;
    m.prev_log_index = marker;
    return m;
  }
  void advance(std::chrono::milliseconds d) {
    now += d;
    std::vector<Message> none;
    delaying->poll(none, 10);
  }

  DelayingTransport::Clock::time_point now{};
  RecordingTransport* sink = nullptr;
  std::unique_ptr<DelayingTransport> delaying;
};

TEST_F(DelayingTransportTest, PassesMessagesStraightThroughWithoutADelay) {
  EXPECT_TRUE(delaying->send(to(1, 1)));
  ASSERT_EQ(sink->sent.size(), 1u);
  EXPECT_FALSE(delaying->next_due().has_value());
}

TEST_F(DelayingTransportTest, HoldsMessagesToADelayedRankForItsDelay) {
  delaying->set_delay(1, 300);
  EXPECT_TRUE(delaying->send(to(1, 1)));
  EXPECT_TRUE(delaying->send(to(2, 2)));  // rank 2 has no delay
  ASSERT_EQ(sink->sent.size(), 1u);
  EXPECT_EQ(sink->sent[0].to, 2);
  EXPECT_EQ(delaying->held(), 1u);
  ASSERT_TRUE(delaying->next_due().has_value());
  EXPECT_EQ(*delaying->next_due(), now + 300ms);
  advance(299ms);
  EXPECT_EQ(sink->sent.size(), 1u);
  advance(1ms);
  ASSERT_EQ(sink->sent.size(), 2u);
  EXPECT_EQ(sink->sent[1].to, 1);
  EXPECT_EQ(delaying->held(), 0u);
  EXPECT_FALSE(delaying->next_due().has_value());
}

TEST_F(DelayingTransportTest, KeepsTheOrderWhenTheDelayShrinks) {
  delaying->set_delay(1, 500);
  delaying->send(to(1, 1));
  delaying->set_delay(1, 100);
  delaying->send(to(1, 2));
  advance(100ms);
  EXPECT_TRUE(sink->sent.empty()) << "the second message must not overtake the first";
  advance(400ms);
  ASSERT_EQ(sink->sent.size(), 2u);
  EXPECT_EQ(sink->sent[0].prev_log_index, 1u);
  EXPECT_EQ(sink->sent[1].prev_log_index, 2u);
}

TEST_F(DelayingTransportTest, ClearingADelayReleasesWhatIsHeldInOrder) {
  delaying->set_delay(1, 10'000);
  delaying->send(to(1, 1));
  delaying->send(to(1, 2));
  delaying->set_delay(1, 0);
  // A message sent after the clear still queues behind the held ones.
  delaying->send(to(1, 3));
  EXPECT_TRUE(sink->sent.empty());
  advance(0ms);
  ASSERT_EQ(sink->sent.size(), 3u);
  EXPECT_EQ(sink->sent[2].prev_log_index, 3u);
  EXPECT_TRUE(delaying->delays().empty());
  // Nothing held any more: straight through again.
  delaying->send(to(1, 4));
  EXPECT_EQ(sink->sent.size(), 4u);
}

TEST_F(DelayingTransportTest, ClearDelaysClearsEveryRank) {
  delaying->set_delay(1, 200);
  delaying->set_delay(3, 700);
  EXPECT_EQ(delaying->delay_ms(3), 700u);
  delaying->send(to(3, 1));
  delaying->clear_delays();
  EXPECT_TRUE(delaying->delays().empty());
  EXPECT_EQ(delaying->delay_ms(3), 0u);
  advance(0ms);
  EXPECT_EQ(sink->sent.size(), 1u);
}

TEST_F(DelayingTransportTest, RefusesBeyondItsBoundAndCountsIt) {
  delaying->set_delay(1, 1000);
  for (std::size_t i = 0; i < DelayingTransport::kMaxHeldPerPeer; ++i) {
    ASSERT_TRUE(delaying->send(to(1, i)));
  }
  EXPECT_FALSE(delaying->send(to(1, 0)));
  EXPECT_EQ(delaying->held_dropped(), 1u);
  EXPECT_EQ(delaying->stats().dropped_queue_full, 1u);
}

TEST_F(DelayingTransportTest, CountsHeldMessagesTheInnerTransportRefuses) {
  delaying->set_delay(2, 50);
  delaying->send(to(2, 1));
  sink->refuse = true;
  advance(50ms);
  EXPECT_EQ(delaying->held(), 0u);
  EXPECT_EQ(delaying->held_dropped(), 1u);
}

TEST_F(DelayingTransportTest, CapsTheDelay) {
  delaying->set_delay(1, 999'999);
  EXPECT_EQ(delaying->delay_ms(1), DelayingTransport::kMaxDelayMs);
}

}  // namespace
}  // namespace raft::transport
