#include "sim_network.hpp"

#include <algorithm>
#include <cassert>

namespace raft::sim {

SimNetwork::SimNetwork(std::size_t node_count, std::uint64_t seed)
    : node_count_(node_count), rng_(seed), link_cut_(node_count * node_count, false) {}

void SimNetwork::send(Message message, TimeMs now_ms) {
  ++stats_.sent;
  if (observer_) observer_(message);
  if (filter_ && filter_(message)) {
    ++stats_.filtered;
    return;
  }
  if (!link_up(message.from, message.to)) {
    ++stats_.cut;
    return;
  }
  if (rng_.chance(options_.loss_per_mille, 1000)) {
    ++stats_.lost;
    return;
  }
  if (rng_.chance(options_.duplicate_per_mille, 1000)) {
    ++stats_.duplicated;
    enqueue(message, now_ms);
  }
  enqueue(std::move(message), now_ms);
}

void SimNetwork::enqueue(Message message, TimeMs now_ms) {
  TimeMs delay_ms = rng_.uniform(options_.delay_min_ms, options_.delay_max_ms);
  if (rng_.chance(options_.reorder_per_mille, 1000)) {
    delay_ms += rng_.uniform(1, options_.reorder_delay_max_ms);
  }
  if (delay_hook_) delay_ms += delay_hook_(message);
  // At least 1 ms: a reply can never arrive in the same instant as its request.
  if (delay_ms == 0) delay_ms = 1;
  in_flight_.emplace(std::make_pair(now_ms + delay_ms, next_seq_++), std::move(message));
}

std::optional<TimeMs> SimNetwork::next_arrival_ms() const {
  if (in_flight_.empty()) return std::nullopt;
  return in_flight_.begin()->first.first;
}

std::optional<Message> SimNetwork::pop_arrival(TimeMs now_ms) {
  while (!in_flight_.empty() && in_flight_.begin()->first.first <= now_ms) {
    auto node = in_flight_.extract(in_flight_.begin());
    Message& m = node.mapped();
    if (!link_up(m.from, m.to)) {
      ++stats_.cut;
      continue;
    }
    ++stats_.delivered;
    return std::move(m);
  }
  return std::nullopt;
}

bool SimNetwork::link_up(NodeId from, NodeId to) const {
  if (from < 0 || to < 0 || static_cast<std::size_t>(from) >= node_count_ ||
      static_cast<std::size_t>(to) >= node_count_) {
    return false;
  }
  return !link_cut_[static_cast<std::size_t>(from) * node_count_ + static_cast<std::size_t>(to)];
}

void SimNetwork::set_link(NodeId from, NodeId to, bool up) {
  assert(from >= 0 && to >= 0);
  const std::size_t at =
      static_cast<std::size_t>(from) * node_count_ + static_cast<std::size_t>(to);
  assert(at < link_cut_.size());
  if (link_cut_[at] == !up) return;
  link_cut_[at] = !up;
  if (up) {
    --cut_links_;
  } else {
    ++cut_links_;
  }
}

void SimNetwork::cut(NodeId from, NodeId to) {
  if (from != to) set_link(from, to, false);
}

void SimNetwork::cut_both(NodeId a, NodeId b) {
  cut(a, b);
  cut(b, a);
}

void SimNetwork::isolate(NodeId id) {
  for (std::size_t other = 0; other < node_count_; ++other) {
    cut_both(id, static_cast<NodeId>(other));
  }
}

void SimNetwork::partition(const std::vector<std::vector<NodeId>>& groups) {
  std::vector<int> group_of(node_count_, -1);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (NodeId id : groups[g]) group_of.at(static_cast<std::size_t>(id)) = static_cast<int>(g);
  }
  for (std::size_t a = 0; a < node_count_; ++a) {
    for (std::size_t b = 0; b < node_count_; ++b) {
      if (a == b) continue;
      const bool same = group_of[a] >= 0 && group_of[a] == group_of[b];
      set_link(static_cast<NodeId>(a), static_cast<NodeId>(b), same);
    }
  }
}

void SimNetwork::heal() {
  std::fill(link_cut_.begin(), link_cut_.end(), false);
  cut_links_ = 0;
}

}  // namespace raft::sim
