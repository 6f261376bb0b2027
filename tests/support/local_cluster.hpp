#pragma once
/// LocalCluster: a few raft::Nodes wired together on a perfect, in-order,
/// instant network in virtual time, each with a MemoryStore and a list of
/// applied entries; their Readies go through the node loop's ReadyStep. For unit tests and the core
/// benchmark; the fault-injecting simulator lives in tests/sim. Not thread-safe.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "raft/node.hpp"
#include "runtime/ready_step.hpp"
#include "storage/memory_store.hpp"

namespace raft::testing {

class LocalCluster {
 public:
  /// Nodes 0..size-1 with `base` as their config (id, voters and node_count
  /// are set per node): the first `voters` vote (all if 0), the rest start
  /// STANDBY.
  LocalCluster(int size, Config base, int voters = 0);

  Node& node(NodeId id) { return *nodes_.at(id); }
  storage::MemoryStore& store(NodeId id) { return *stores_.at(id); }
  const std::vector<Entry>& applied(NodeId id) const { return applied_.at(id); }
  const std::vector<ReadState>& reads(NodeId id) const { return reads_.at(id); }
  TimeMs now_ms() const { return now_ms_; }
  int size() const { return static_cast<int>(nodes_.size()); }

  /// Messages for which this returns true are dropped (a partition, a loss).
  std::function<bool(const Message&)> drop;
  /// Nodes that are down: they neither tick nor receive.
  std::map<NodeId, bool> down;

  /// Processes every node's Ready and delivers messages until nothing moves.
  void settle();
  /// Advances virtual time in `step_ms` steps, settling after each.
  void advance(TimeMs duration_ms, TimeMs step_ms = 1);
  /// Advances until `predicate` holds or `limit_ms` passes; true if it held.
  bool advance_until(const std::function<bool()>& predicate, TimeMs limit_ms, TimeMs step_ms = 1);

  /// The leader of the highest term, or kNoNode.
  NodeId leader() const;
  /// Waits (in virtual time) for a leader and returns it, or kNoNode.
  NodeId elect(TimeMs limit_ms = 60'000);

  /// Crashes a node (unsynced writes lost) and rebuilds it from its store.
  void restart(NodeId id);

  /// Messages delivered so far, by type.
  std::map<MessageType, std::uint64_t> delivered;
  /// Every message sent, if `record` is set.
  bool record = false;
  std::vector<Message> sent;

 private:
  class Host;  // the ReadyHost of one node (local_cluster.cpp)
  void process_ready(NodeId id);

  Config base_;
  int voters_ = 0;
  TimeMs now_ms_ = 0;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<storage::MemoryStore>> stores_;
  std::vector<runtime::ReadyStep> steps_;
  std::vector<std::vector<Entry>> applied_;
  std::vector<std::vector<ReadState>> reads_;
  std::deque<Message> in_flight_;
};

}  // namespace raft::testing
