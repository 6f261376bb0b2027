#pragma once
/// DelayingTransport: the operator's slow network (SPEC.md Additions, the
/// `delay` command). It wraps the real transport and holds each message to a
/// chosen rank for that rank's delay before handing it on, so an election
/// can be watched in slow motion on the monitor and `raft_chaos` can model a
/// slow link. Messages to one rank keep their order (a later message never
/// overtakes an earlier one, even when the delay shrinks); ranks without a
/// delay pass straight through.
///
/// Held messages are bounded (kMaxHeldPerPeer per rank); beyond that send()
/// refuses them, like a full MPI queue, and counts them. Clearing a delay
/// (0, clear_delays(), `heal`) lets what is held leave at the next poll().
///
/// Thread-safety: none; the node's loop thread calls every method, as for any
/// Transport. Standard library only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "transport/transport.hpp"

namespace raft::transport {

class DelayingTransport final : public Transport {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  /// The longest delay the `delay` command accepts.
  static constexpr std::uint32_t kMaxDelayMs = 60'000;
  /// Messages held per destination; more are refused (and counted).
  static constexpr std::size_t kMaxHeldPerPeer = 4096;

  /// `now` defaults to the steady clock (tests pass their own).
  explicit DelayingTransport(std::unique_ptr<Transport> inner, NowFn now = {});

  /// Holds messages to `peer` for `delay_ms` (at most kMaxDelayMs; 0 clears).
  void set_delay(NodeId peer, std::uint32_t delay_ms);
  /// Clears every delay; held messages leave at the next poll().
  void clear_delays();
  /// The delay of each rank that has one, by rank.
  const std::map<NodeId, std::uint32_t>& delays() const { return delays_; }
  /// The delay towards `peer` (0: none).
  std::uint32_t delay_ms(NodeId peer) const;

  /// When the earliest held message is due; nullopt when none is held. The
  /// loop must wake by then (release happens in poll()).
  std::optional<Clock::time_point> next_due() const;
  /// Hands every due message to the inner transport, in order. poll() calls it.
  std::size_t release_due();
  std::size_t held() const { return held_count_; }
  /// Messages refused because kMaxHeldPerPeer were held, or that the inner
  /// transport refused when their time came.
  std::uint64_t held_dropped() const { return held_dropped_; }

  Transport& inner() { return *inner_; }

  // Transport
  NodeId rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  /// Held (true) when `message.to` has a delay or still has messages held;
  /// else sent at once.
  bool send(const Message& message) override;
  /// Releases what is due, then polls the inner transport.
  std::size_t poll(std::vector<Message>& out, std::size_t max) override;
  TransportStats stats() const override;
  int wake_fd() const override { return inner_->wake_fd(); }
  bool drain_wakes() override { return inner_->drain_wakes(); }
  void wake_peers() override { inner_->wake_peers(); }
  bool transfers_pending() const override { return inner_->transfers_pending(); }
  /// Drops what is held and shuts the inner transport down.
  void shutdown() override;

 private:
  struct Held {
    Clock::time_point due;
    Message message;
  };

  Clock::time_point now() const { return now_ ? now_() : Clock::now(); }

  std::unique_ptr<Transport> inner_;
  NowFn now_;
  std::map<NodeId, std::uint32_t> delays_;
  std::map<NodeId, std::deque<Held>> held_;  ///< per destination, in send order
  std::size_t held_count_ = 0;
  std::uint64_t held_dropped_ = 0;
};

}  // namespace raft::transport
