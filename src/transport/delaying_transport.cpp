// DelayingTransport: holds messages to chosen ranks (see delaying_transport.hpp).
#include "transport/delaying_transport.hpp"

#include <algorithm>
#include <utility>

#include "raft/assert.hpp"

namespace raft::transport {

DelayingTransport::DelayingTransport(std::unique_ptr<Transport> inner, NowFn now)
    : inner_(std::move(inner)), now_(std::move(now)) {
  RAFT_ASSERT(inner_ != nullptr, "DelayingTransport needs a transport to wrap");
}

void DelayingTransport::set_delay(NodeId peer, std::uint32_t delay_ms) {
  delay_ms = std::min(delay_ms, kMaxDelayMs);
  if (delay_ms == 0) {
    delays_.erase(peer);
    // What is held leaves at the next poll, still in order.
    auto it = held_.find(peer);
    if (it != held_.end()) {
      const Clock::time_point t = now();
      for (Held& h : it->second) h.due = std::min(h.due, t);
    }
    return;
  }
  delays_[peer] = delay_ms;
}

void DelayingTransport::clear_delays() {
  std::vector<NodeId> peers;
  for (const auto& [peer, ms] : delays_) peers.push_back(peer);
  for (NodeId peer : peers) set_delay(peer, 0);
}

std::uint32_t DelayingTransport::delay_ms(NodeId peer) const {
  auto it = delays_.find(peer);
  return it == delays_.end() ? 0 : it->second;
}

bool DelayingTransport::send(const Message& message) {
  const std::uint32_t delay = delay_ms(message.to);
  auto it = held_.find(message.to);
  const bool queued = it != held_.end() && !it->second.empty();
  if (delay == 0 && !queued) return inner_->send(message);
  std::deque<Held>& queue = held_[message.to];
  if (queue.size() >= kMaxHeldPerPeer) {
    ++held_dropped_;
    return false;
  }
  Clock::time_point due = now() + std::chrono::milliseconds(delay);
  // A shorter delay must not let this message overtake the ones held.
  if (!queue.empty()) due = std::max(due, queue.back().due);
  queue.push_back(Held{due, message});
  ++held_count_;
  RAFT_ASSERT(queue.size() <= kMaxHeldPerPeer, "held messages stay bounded");
  return true;
}

std::optional<DelayingTransport::Clock::time_point> DelayingTransport::next_due() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [peer, queue] : held_) {
    if (queue.empty()) continue;
    if (!earliest || queue.front().due < *earliest) earliest = queue.front().due;
  }
  return earliest;
}

std::size_t DelayingTransport::release_due() {
  if (held_count_ == 0) return 0;
  const Clock::time_point t = now();
  std::size_t released = 0;
  for (auto it = held_.begin(); it != held_.end();) {
    std::deque<Held>& queue = it->second;
    while (!queue.empty() && queue.front().due <= t) {
      if (!inner_->send(queue.front().message)) ++held_dropped_;
      queue.pop_front();
      --held_count_;
      ++released;
    }
    it = queue.empty() ? held_.erase(it) : std::next(it);
  }
  return released;
}

std::size_t DelayingTransport::poll(std::vector<Message>& out, std::size_t max) {
  release_due();
  return inner_->poll(out, max);
}

TransportStats DelayingTransport::stats() const {
  TransportStats s = inner_->stats();
  s.dropped_queue_full += held_dropped_;
  return s;
}

void DelayingTransport::shutdown() {
  held_.clear();
  held_count_ = 0;
  inner_->shutdown();
}

}  // namespace raft::transport
