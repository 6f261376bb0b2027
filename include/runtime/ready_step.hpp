#pragma once
/// ReadyStep: the one place that turns a raft::Node's Ready into effects, in
/// the order Raft's safety needs (etcd's: persist, then send, then apply).
/// The node's loop (NodeDriver), the simulator (tests/sim) and the in-process
/// test cluster (LocalCluster) all run their Readies through it, so the
/// simulator exercises exactly the ordering and the sync rule of production.
///
///   1. persist: hard state, a received snapshot, then entries; one sync for
///      all of it (group commit), skipped when only the commit index changed
///      (the commit index is re-learned from the leader after a crash, as in
///      etcd's MustSync);
///   2. send, through the LinkFilter (partitions and one-way cuts), now that
///      what the messages promise is durable;
///   3. restore a received snapshot into the state machine, apply committed
///      entries in order, record confirmed reads, serve the reads whose index
///      is applied;
///   4. report events.
///
/// The owner supplies the effects through ReadyHost. Not thread-safe: the
/// thread that owns the Node runs it. Standard library only (it builds into
/// the sanitizer build with the core).

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "raft/node.hpp"
#include "raft/storage.hpp"

namespace raft::runtime {

/// The links an operator cut: a partition drops both directions, a one-way
/// cut one direction. Only `heal` clears them.
struct LinkFilter {
  std::set<NodeId> partitioned;
  std::set<NodeId> drop_from;  ///< what these ranks send us is dropped
  std::set<NodeId> drop_to;    ///< what we would send these ranks is dropped

  bool accepts_from(NodeId from) const {
    return partitioned.count(from) == 0 && drop_from.count(from) == 0;
  }
  bool allows_to(NodeId to) const { return partitioned.count(to) == 0 && drop_to.count(to) == 0; }
  bool empty() const { return partitioned.empty() && drop_from.empty() && drop_to.empty(); }
  void heal() {
    partitioned.clear();
    drop_from.clear();
    drop_to.clear();
  }
};

/// The effects of a Ready, supplied by the node's owner. Each call happens on
/// the owner's thread, inside ReadyStep::run, in the order documented above.
class ReadyHost {
 public:
  virtual ~ReadyHost() = default;

  /// The node's store; writes go here before the sync.
  virtual Storage& store() = 0;
  /// Entries are about to be appended (the simulator checks them first).
  virtual void on_entries(const std::vector<Entry>& entries) { (void)entries; }
  /// Between the writes and the sync. Returning false ends the step there, as
  /// a crash before the sync would: nothing is synced or applied, and
  /// nothing sent unless `messages_sent` (a leader's appends leave before its
  /// own sync, Ready::send_before_sync).
  virtual bool before_sync(bool messages_sent) {
    (void)messages_sent;
    return true;
  }
  /// Makes the writes durable (the node times it; the simulator tracks it).
  virtual void sync() { store().sync(); }
  /// After the sync: everything up to `index` this step wrote is durable
  /// (what the core was just told through Node::persisted).
  virtual void on_durable(Index index) { (void)index; }
  /// The persist phase threw `what` (a StorageError, say). Nothing that
  /// depends on the failed write leaves the node; the step ends.
  virtual void on_storage_failure(const std::string& what) = 0;
  /// Hands a message the link filter let through to the network; false if
  /// the network dropped it (a full queue).
  virtual bool send(Message message) = 0;
  /// A leader's appends have just left ahead of its own sync: the host
  /// tells the peers now (the node's doorbell), or they would start their
  /// own writes only after this node's sync and the two would not overlap.
  virtual void sent_before_sync() {}
  /// The link filter dropped `message` (a partition or a `drop_to` cut).
  virtual void on_filtered(const Message& message) { (void)message; }
  /// Replaces the state machine with a snapshot from the leader; false if its
  /// bytes are unreadable (the owner has stopped the node), which ends the step.
  virtual bool restore(const Snapshot& snapshot) = 0;
  /// Applies the next committed entry; it is the host's to keep.
  virtual void apply(Entry entry) = 0;
  /// A ReadIndex read was confirmed (or failed): remember its index.
  virtual void on_read_state(const ReadState& read) = 0;
  /// Answers every confirmed read whose index the state machine has reached.
  virtual void serve_reads() = 0;
  virtual void on_event(const Event& event) = 0;
};

/// What one step did.
struct ReadyOutcome {
  bool completed = false;  ///< false: the host ended the step (crash, failure)
  bool synced = false;
  std::size_t sent = 0;
  std::size_t dropped = 0;  ///< by the link filter or the network
};

class ReadyStep {
 public:
  /// `durable` is the hard state the store holds (what recovery read back).
  explicit ReadyStep(HardState durable = {}) : durable_(durable) {}

  /// Takes one Ready from `node` (which must have one) and carries it out.
  ReadyOutcome run(Node& node, ReadyHost& host);

  /// Takes Readies until the node has none left or the host ends a step.
  /// Returns false if a step was ended.
  bool run_all(Node& node, ReadyHost& host);

  LinkFilter& links() { return links_; }
  const LinkFilter& links() const { return links_; }
  /// After a restart: the hard state the store holds now.
  void reset_durable(HardState durable) { durable_ = durable; }
  const HardState& durable() const { return durable_; }

  /// The sync rule: a Ready needs a sync if it changes the term or the vote,
  /// installs a snapshot or appends entries; a new commit index alone rides
  /// on the next sync (nothing sent or answered depends on it being durable).
  static bool needs_sync(const Ready& ready, const HardState& durable);

 private:
  /// Writes and syncs; false if the host ended the step or the store failed.
  bool persist(Ready& ready, ReadyHost& host, ReadyOutcome& outcome, bool messages_sent);
  void send(std::vector<Message>& messages, ReadyHost& host, ReadyOutcome& outcome) const;
  bool apply(Ready& ready, ReadyHost& host);

  HardState durable_;
  LinkFilter links_;
};

}  // namespace raft::runtime
