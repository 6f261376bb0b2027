#pragma once
// InProcessHub: a Transport per rank over shared in-memory mailboxes, so
// several NodeDrivers can run on threads of one test process without MPI.
// Messages are copied as values (no codec). Thread-safe.

#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "transport/transport.hpp"

namespace raft::testing {

class InProcessHub : public std::enable_shared_from_this<InProcessHub> {
 public:
  explicit InProcessHub(int size)
      : mailboxes_(static_cast<std::size_t>(size)),
        posted_(static_cast<std::size_t>(size) * static_cast<std::size_t>(size), 0) {}

  std::unique_ptr<transport::Transport> transport_for(NodeId rank);

  int size() const { return static_cast<int>(mailboxes_.size()); }

  void post(const Message& m) {
    std::lock_guard lock(mutex_);
    mailboxes_.at(static_cast<std::size_t>(m.to)).push_back(m);
    posted_.at(link(m.from, m.to))++;
  }
  /// How many messages `from` has handed to the hub for `to`: what a one-way
  /// cut lets through shows here, per direction.
  std::size_t posted(NodeId from, NodeId to) {
    std::lock_guard lock(mutex_);
    return posted_.at(link(from, to));
  }
  std::size_t take(NodeId rank, std::vector<Message>& out, std::size_t max) {
    std::lock_guard lock(mutex_);
    auto& box = mailboxes_.at(static_cast<std::size_t>(rank));
    std::size_t n = 0;
    while (!box.empty() && n < max) {
      out.push_back(std::move(box.front()));
      box.pop_front();
      ++n;
    }
    return n;
  }

 private:
  std::size_t link(NodeId from, NodeId to) const {
    return static_cast<std::size_t>(from) * mailboxes_.size() + static_cast<std::size_t>(to);
  }

  std::mutex mutex_;
  std::vector<std::deque<Message>> mailboxes_;
  std::vector<std::size_t> posted_;  ///< [from * size + to]
};

class InProcessTransport final : public transport::Transport {
 public:
  InProcessTransport(std::shared_ptr<InProcessHub> hub, NodeId rank)
      : hub_(std::move(hub)), rank_(rank) {}
  NodeId rank() const override { return rank_; }
  int size() const override { return hub_->size(); }
  bool send(const Message& m) override {
    if (m.to < 0 || m.to >= hub_->size()) return false;
    hub_->post(m);
    stats_.sent[m.type]++;
    return true;
  }
  std::size_t poll(std::vector<Message>& out, std::size_t max) override {
    const std::size_t n = hub_->take(rank_, out, max);
    for (std::size_t i = out.size() - n; i < out.size(); ++i) stats_.received[out[i].type]++;
    return n;
  }
  transport::TransportStats stats() const override { return stats_; }
  void shutdown() override {}

 private:
  std::shared_ptr<InProcessHub> hub_;
  NodeId rank_;
  transport::TransportStats stats_;
};

inline std::unique_ptr<transport::Transport> InProcessHub::transport_for(NodeId rank) {
  return std::make_unique<InProcessTransport>(shared_from_this(), rank);
}

}  // namespace raft::testing
