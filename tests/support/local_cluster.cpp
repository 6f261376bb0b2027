#include "local_cluster.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace raft::testing {

namespace {
Config config_for(Config base, int size, int voters, NodeId id) {
  base.id = id;
  base.voters.clear();
  for (int i = 0; i < (voters > 0 ? voters : size); ++i) base.voters.push_back(i);
  base.node_count = static_cast<std::size_t>(size);
  return base;
}
}  // namespace

LocalCluster::LocalCluster(int size, Config base, int voters)
    : base_(std::move(base)), voters_(voters) {
  for (int i = 0; i < size; ++i) {
    stores_.push_back(std::make_unique<storage::MemoryStore>());
    steps_.emplace_back();
    nodes_.push_back(std::make_unique<Node>(config_for(base_, size, voters_, i), now_ms_));
    applied_.emplace_back();
    reads_.emplace_back();
  }
}

/// A node's effects: its MemoryStore, the in-flight queue, and the list of
/// applied entries and confirmed reads that tests look at.
class LocalCluster::Host final : public runtime::ReadyHost {
 public:
  Host(LocalCluster& c, NodeId id) : c_(c), id_(id) {}

  Storage& store() override { return *c_.stores_[id_]; }
  void on_storage_failure(const std::string& what) override {
    throw std::runtime_error("LocalCluster: node " + std::to_string(id_) + ": " + what);
  }
  bool send(Message m) override {
    if (c_.record) c_.sent.push_back(m);
    c_.in_flight_.push_back(std::move(m));
    return true;
  }
  bool restore(const Snapshot& snapshot) override {
    // The "state machine" here is the list of applied entries; a snapshot
    // replaces the prefix it covers.
    std::vector<Entry>& a = c_.applied_[id_];
    while (!a.empty() && a.back().index > snapshot.meta.last_index) a.pop_back();
    return true;
  }
  void apply(Entry entry) override { c_.applied_[id_].push_back(std::move(entry)); }
  void on_read_state(const ReadState& read) override { c_.reads_[id_].push_back(read); }
  void serve_reads() override {}
  void on_event(const Event&) override {}

 private:
  LocalCluster& c_;
  NodeId id_;
};

void LocalCluster::process_ready(NodeId id) {
  Node& n = *nodes_[id];
  if (!n.has_ready()) return;
  Host host(*this, id);
  steps_[id].run(n, host);
}

void LocalCluster::settle() {
  for (int guard = 0; guard < 1'000'000; ++guard) {
    for (NodeId id = 0; id < size(); ++id) {
      if (!down[id]) process_ready(id);
    }
    if (in_flight_.empty()) return;
    while (!in_flight_.empty()) {
      Message m = std::move(in_flight_.front());
      in_flight_.pop_front();
      if (down[m.to] || (drop && drop(m))) continue;
      ++delivered[m.type];
      const NodeId to = m.to;
      nodes_[to]->step(std::move(m));
      process_ready(to);
    }
  }
}

void LocalCluster::advance(TimeMs duration_ms, TimeMs step_ms) {
  const TimeMs end = now_ms_ + duration_ms;
  while (now_ms_ < end) {
    now_ms_ += step_ms;
    for (NodeId id = 0; id < size(); ++id) {
      if (!down[id]) nodes_[id]->tick(now_ms_);
    }
    settle();
  }
}

bool LocalCluster::advance_until(const std::function<bool()>& predicate, TimeMs limit_ms,
                                 TimeMs step_ms) {
  const TimeMs end = now_ms_ + limit_ms;
  while (!predicate()) {
    if (now_ms_ >= end) return false;
    advance(step_ms, step_ms);
  }
  return true;
}

NodeId LocalCluster::leader() const {
  NodeId best = kNoNode;
  Term best_term = 0;
  for (NodeId id = 0; id < static_cast<NodeId>(nodes_.size()); ++id) {
    const Node& n = *nodes_[id];
    const auto it = down.find(id);
    const bool is_down = it != down.end() && it->second;
    if (n.role() == Role::Leader && n.term() >= best_term && !is_down) {
      best = id;
      best_term = n.term();
    }
  }
  return best;
}

NodeId LocalCluster::elect(TimeMs limit_ms) {
  advance_until([&] { return leader() != kNoNode; }, limit_ms);
  return leader();
}

void LocalCluster::restart(NodeId id) {
  stores_[id]->crash();
  const RecoveredState recovered = stores_[id]->load();
  steps_[id].reset_durable(recovered.hard_state);
  nodes_[id] = std::make_unique<Node>(config_for(base_, size(), voters_, id), recovered, now_ms_);
  applied_[id].clear();
  reads_[id].clear();
  down[id] = false;
}

}  // namespace raft::testing
