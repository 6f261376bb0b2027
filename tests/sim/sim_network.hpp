#pragma once
/// SimNetwork: the simulated network between nodes, in virtual time. Each
/// message may be lost, duplicated, delayed (with jitter) or held back so that
/// later ones overtake it; links can be cut one way or both ways. A link is
/// checked when a message is sent and again when it arrives, so a partition
/// also swallows what was in flight. All randomness comes from one seeded
/// raft::Rng and in-flight messages are kept ordered by (arrival, send order):
/// a seed replays exactly. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "raft/message.hpp"
#include "raft/rng.hpp"
#include "raft/types.hpp"

namespace raft::sim {

struct NetworkOptions {
  /// Each copy of a message takes uniform [delay_min_ms, delay_max_ms].
  TimeMs delay_min_ms = 1;
  TimeMs delay_max_ms = 5;
  /// Chances per message, in thousandths.
  std::uint32_t loss_per_mille = 0;
  std::uint32_t duplicate_per_mille = 0;
  /// A reordered message is held back by up to `reorder_delay_max_ms` more.
  std::uint32_t reorder_per_mille = 0;
  TimeMs reorder_delay_max_ms = 40;

  bool reliable() const {
    return loss_per_mille == 0 && duplicate_per_mille == 0 && reorder_per_mille == 0;
  }
};

struct NetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;        ///< random loss
  std::uint64_t duplicated = 0;  ///< extra copies made
  std::uint64_t cut = 0;         ///< dropped by a partition (at send or on arrival)
  std::uint64_t filtered = 0;    ///< dropped by a scenario's filter
};

class SimNetwork {
 public:
  SimNetwork(std::size_t node_count, std::uint64_t seed);

  void set_options(const NetworkOptions& options) { options_ = options; }
  const NetworkOptions& options() const { return options_; }

  /// Takes a message a node sent at `now_ms`.
  void send(Message message, TimeMs now_ms);
  /// When the next in-flight message arrives, if there is one.
  std::optional<TimeMs> next_arrival_ms() const;
  /// The next message arriving at or before `now_ms` whose link is still up;
  /// messages whose link was cut meanwhile are dropped on the way.
  std::optional<Message> pop_arrival(TimeMs now_ms);
  std::size_t in_flight() const { return in_flight_.size(); }

  // ---- partitions ---------------------------------------------------------
  /// Messages from `from` to `to` are dropped (one way).
  void cut(NodeId from, NodeId to);
  void cut_both(NodeId a, NodeId b);
  /// Cuts every link to and from `id`.
  void isolate(NodeId id);
  /// Only nodes in the same group can talk; a node in no group is isolated.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  /// One direction of one link, up or down.
  void set_link(NodeId from, NodeId to, bool up);
  /// Restores every link (filters stay).
  void heal();
  bool link_up(NodeId from, NodeId to) const;
  bool any_link_cut() const { return cut_links_ != 0; }

  /// A scenario's scalpel: messages it returns true for are dropped at send.
  void set_drop_filter(std::function<bool(const Message&)> filter) { filter_ = std::move(filter); }
  /// Another scalpel: extra delay for the messages it returns non-zero for.
  void set_delay_hook(std::function<TimeMs(const Message&)> hook) { delay_hook_ = std::move(hook); }
  /// Sees every message a node sends, before any fault (scenarios count with it).
  void set_send_observer(std::function<void(const Message&)> observer) {
    observer_ = std::move(observer);
  }

  const NetworkStats& stats() const { return stats_; }

 private:
  void enqueue(Message message, TimeMs now_ms);

  std::size_t node_count_;
  Rng rng_;
  NetworkOptions options_;
  /// (arrival time, send sequence) -> message: a total, replayable order.
  std::map<std::pair<TimeMs, std::uint64_t>, Message> in_flight_;
  std::uint64_t next_seq_ = 0;
  /// link_cut_[from * node_count_ + to]
  std::vector<bool> link_cut_;
  std::size_t cut_links_ = 0;
  std::function<bool(const Message&)> filter_;
  std::function<TimeMs(const Message&)> delay_hook_;
  std::function<void(const Message&)> observer_;
  NetworkStats stats_;
};

}  // namespace raft::sim
