#pragma once
/// SimCluster: N raft::Nodes, each with a SimDisk (a MemoryStore, or a real
/// FileStore in a directory) and a KvModel, on a
/// SimNetwork, in virtual time. Every node's Ready goes through the node
/// loop's own runtime::ReadyStep (persist with production's sync rule, send,
/// restore, apply, serve reads), then compacts, and everything it sees goes
/// to an InvariantChecker after every step. Faults: pauses (the node's clock stands still: each
/// node has its own clock offset), crashes (volatile state lost, unsynced writes dropped,
/// optionally right before a sync), restarts from the store, and everything
/// SimNetwork does. Deterministic for a given ClusterOptions::seed.
/// Not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "invariant_checker.hpp"
#include "kv_model.hpp"
#include "raft/config.hpp"
#include "raft/node.hpp"
#include "raft/rng.hpp"
#include "runtime/ready_step.hpp"
#include "sim_disk.hpp"
#include "sim_network.hpp"
#include "trace.hpp"

namespace raft::sim {

struct ClusterOptions {
  std::size_t node_count = 3;
  /// The initial voters are nodes 0..voter_count-1 (0: every node); the
  /// others start STANDBY, to be added by membership changes.
  std::size_t voter_count = 0;
  /// Template for every node; id, voters, node_count and seed are set per node.
  Config config;
  std::uint64_t seed = 1;
  NetworkOptions network;
  /// Each node is ticked every `tick_interval_ms` of its own clock, at its own phase.
  TimeMs tick_interval_ms = 5;
  /// The state machine compacts once it has applied this many entries past the
  /// last snapshot (0: never).
  Index snapshot_every_entries = 0;
  /// Steps between full Log Matching scans of every log in memory.
  std::size_t full_check_every_steps = 512;
  std::size_t trace_capacity = 50;
  /// Non-empty: every node keeps its state in a FileStore under
  /// `<storage_dir>/node-<id>` (see sim_disk.hpp) instead of in memory.
  std::filesystem::path storage_dir;
  /// A slow disk: what a Ready sends after a sync leaves this much later, as
  /// if its fsync took that long.
  TimeMs sync_latency_ms = 0;
  /// Lagging loops: node i ticks every tick_interval_ms * tick_factor[i]
  /// (missing entries: 1), as a node whose loop wakes late sees its timers.
  std::vector<TimeMs> tick_factor;
  /// Self-check only: the disks lose synced bytes in crashes (sim_disk.hpp).
  bool disks_lose_synced_tail = false;
  /// Print the trace as it happens (replaying one seed).
  bool echo_trace = false;

  /// Short timeouts that suit the simulator: election 150-300 ms, heartbeat 50 ms.
  static ClusterOptions fast(std::size_t node_count, std::uint64_t seed);
};

struct ClusterStats {
  std::uint64_t steps = 0;
  std::uint64_t elections = 0;  ///< real (not PreVote) elections started
  std::uint64_t leaders = 0;    ///< times a node became leader
  std::uint64_t crashes = 0;
  std::uint64_t restarts = 0;
  std::uint64_t disk_restarts = 0;   ///< restarts that recovered a FileStore from its files
  std::uint64_t torn_tails_cut = 0;  ///< recoveries that cut a torn tail or cleaned up
  std::uint64_t pauses = 0;
  /// Leaders that crashed between sending their entries and syncing them.
  std::uint64_t crashes_after_send = 0;
  std::uint64_t compactions = 0;
  std::uint64_t snapshots_installed = 0;  ///< snapshots received from a leader
  std::uint64_t proposals_accepted = 0;
  std::uint64_t writes_acked = 0;  ///< applied by the leader that accepted them
  std::uint64_t reads_ok = 0;      ///< linearizable reads answered and checked
  std::uint64_t reads_failed = 0;
  /// Messages delivered, by raft::MessageType (index 0 unused).
  std::array<std::uint64_t, kMessageTypeMax + 1> delivered_by_type{};

  // Membership (each counted where it happened, once per node and event).
  std::uint64_t conf_changes_accepted = 0;  ///< change_membership calls a leader took
  /// ...and refused, by the rule that refused them (MembershipRefusal).
  std::array<std::uint64_t, 5> conf_changes_refused{};
  std::array<std::uint64_t, 4> conf_changes_by_type{};  ///< accepted, by ConfChangeType
  std::uint64_t auto_promotions = 0;                    ///< promote entries a leader made by itself
  std::uint64_t confs_committed = 0;                    ///< ConfigCommitted events
  std::uint64_t conf_rollbacks = 0;                     ///< configurations undone by a truncation
  std::uint64_t removed_leaders = 0;                    ///< leaders that stepped down, removed
  std::uint64_t standby_to_member = 0;                  ///< STANDBY nodes that were added
  std::uint64_t member_to_standby = 0;                  ///< members that were removed
  std::uint64_t snapshot_confs = 0;  ///< snapshots installed that carried a change
};

/// Why a leader refused a membership change, as the simulator counts it.
enum class MembershipRefusal : std::uint8_t {
  NewTermEntryFirst,  ///< the leader has not committed an entry of its term
  OneAtATime,         ///< the previous change is not committed
  CatchUp,            ///< the learner has not caught up
  NoQuorum,           ///< the new voters would lack a reachable majority
  Other,              ///< ineligible node, transfer in progress, ...
};

/// A client write a leader accepted.
struct Proposal {
  NodeId node = kNoNode;
  Index index = 0;
  Term term = 0;
  std::string data;
  bool acked = false;
};

struct ReadRecord {
  enum class State : std::uint8_t { Pending, Ok, Failed };
  NodeId node = kNoNode;
  std::string key;
  /// The last committed write to `key` when the read was issued.
  Index required_index = 0;
  State state = State::Pending;
  Index read_index = 0;
  std::optional<KvValue> value;
};

class SimCluster {
 public:
  explicit SimCluster(ClusterOptions options);
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  // ---- time ------------------------------------------------------------------
  TimeMs now_ms() const { return now_ms_; }
  /// Processes the next event: a message arrival or a node's tick.
  void step();
  /// Processes every event up to `time_ms`, then sets the clock to it.
  void run_until_time(TimeMs time_ms);
  void run_for(TimeMs duration_ms) { run_until_time(now_ms_ + duration_ms); }
  /// Steps until `done()` holds (checked before every step) or `limit_ms`
  /// pass; true if it held.
  bool run_until(const std::function<bool()>& done, TimeMs limit_ms);
  /// A safety invariant was violated: the simulation stops moving.
  bool halted() const { return !checker_.ok(); }

  // ---- nodes -----------------------------------------------------------------
  std::size_t size() const { return nodes_.size(); }
  bool is_crashed(NodeId id) const { return !slot(id).node.has_value(); }
  bool is_paused(NodeId id) const { return slot(id).paused; }
  /// Neither crashed nor paused.
  bool is_running(NodeId id) const { return !is_crashed(id) && !is_paused(id); }
  /// Precondition: !is_crashed(id).
  const Node& node(NodeId id) const { return *slot(id).node; }
  const KvModel& kv(NodeId id) const { return slot(id).kv; }
  bool on_disk() const { return !options_.storage_dir.empty(); }
  /// The node's own clock: virtual time minus the time it spent paused or down.
  TimeMs local_now_ms(NodeId id) const { return now_ms_ - slot(id).clock_offset_ms; }
  /// The running leader with the highest term, or kNoNode.
  NodeId leader() const;
  /// A running leader that every running member of its configuration
  /// follows in its term, or kNoNode. (STANDBY nodes, and removed nodes that
  /// missed their removal, are not waited for.)
  NodeId stable_leader() const;
  /// The members (voters and learners) of `id`'s configuration in effect.
  std::vector<NodeId> members_of(NodeId id) const;
  /// `id` was a member of a committed configuration (the initial one, or one
  /// a node reported committed), at some point of the run.
  bool was_committed_member(NodeId id) const {
    return committed_members_.at(static_cast<std::size_t>(id));
  }

  // ---- faults ------------------------------------------------------------------
  SimNetwork& network() { return network_; }
  const SimNetwork& network() const { return network_; }
  void pause(NodeId id);
  void resume(NodeId id);
  /// Loses the node's volatile state and every unsynced write.
  void crash(NodeId id);
  /// The node crashes inside its next Ready, after writing but before syncing
  /// (and so before sending anything that depends on those writes).
  void crash_before_next_sync(NodeId id);
  bool crash_pending(NodeId id) const { return slot(id).crash_before_sync; }
  /// Rebuilds a crashed node from its store.
  void restart(NodeId id);
  /// The network heals and becomes reliable; every node runs again.
  void heal_all();

  // ---- clients and operators (each runs the node's Ready afterwards) ---------------
  Result propose(NodeId id, std::string data);
  Result write(NodeId id, std::string_view key, std::string_view value) {
    return propose(id, format_write(key, value));
  }
  /// Starts a ReadIndex read; the id to look up with read_result(), or 0 if refused.
  std::uint64_t read(NodeId id, std::string_view key);
  const ReadRecord* read_result(std::uint64_t read_id) const;
  Result trigger_election(NodeId id);
  Result force_timeout(NodeId id);
  Result transfer_leadership(NodeId id, NodeId target);
  /// A membership change asked of node `id` (Node::change_membership).
  Result change_membership(NodeId id, ConfChange change);
  /// Runs until there is a stable leader; kNoNode if none appears in `limit_ms`.
  NodeId wait_for_leader(TimeMs limit_ms);
  /// Triggers elections on `id` until it leads a term above the one it is in
  /// now; false if it does not within `limit_ms`.
  bool elect(NodeId id, TimeMs limit_ms);

  /// Called with a node that has just become leader, once its input is
  /// fully processed (a driver may then ask it for something at once).
  void set_new_leader_hook(std::function<void(NodeId)> hook) { new_leader_hook_ = std::move(hook); }

  // ---- checks and records --------------------------------------------------------
  InvariantChecker& checker() { return checker_; }
  const InvariantChecker& checker() const { return checker_; }
  /// Full Log Matching scan of every log in memory.
  void check_all_logs();
  Trace& trace() { return trace_; }
  const Trace& trace() const { return trace_; }
  const ClusterStats& stats() const { return stats_; }
  const std::vector<Proposal>& proposals() const { return proposals_; }
  const ClusterOptions& options() const { return options_; }
  /// A one-line picture of every node (role, term, log, commit, applied).
  std::string describe_nodes() const;

 private:
  class Host;  // the ReadyHost of one node (sim_cluster.cpp)

  struct Slot {
    std::optional<Node> node;  ///< empty while crashed
    runtime::ReadyStep ready;
    SimDisk disk;
    KvModel kv;
    bool paused = false;
    bool crash_before_sync = false;
    TimeMs clock_offset_ms = 0;
    TimeMs stopped_at_ms = 0;  ///< when it paused or crashed
    TimeMs next_tick_ms = 0;   ///< virtual time of its next tick
    std::uint64_t incarnation = 0;
    /// Confirmed reads waiting for the state machine to reach their index.
    std::vector<std::uint64_t> waiting_reads;
    /// The configuration last seen in effect (a lower index is a rollback).
    ConfState conf;
  };

  Slot& slot(NodeId id) { return *nodes_.at(static_cast<std::size_t>(id)); }
  const Slot& slot(NodeId id) const { return *nodes_.at(static_cast<std::size_t>(id)); }
  Config config_for(NodeId id, std::uint64_t incarnation) const;
  NodeId next_tick_node() const;
  void deliver();
  void tick(NodeId id);
  /// After any input to a node: its Ready loop, then the invariant checks.
  void after_input(NodeId id);
  void process_ready(NodeId id);
  void restore_snapshot(NodeId id, const Snapshot& snapshot);
  void apply(NodeId id, const Entry& entry);
  void on_read_state(NodeId id, const ReadState& read);
  void serve_reads(NodeId id);
  void on_event(NodeId id, const Event& event);
  void on_membership_event(NodeId id, const Event& event);
  void maybe_compact(NodeId id);
  void crash_now(NodeId id, const char* why);
  void note(std::string text) { trace_.note(now_ms_, std::move(text)); }

  ClusterOptions options_;
  TimeMs now_ms_ = 0;
  SimNetwork network_;
  InvariantChecker checker_;
  Trace trace_;
  std::vector<std::unique_ptr<Slot>> nodes_;
  ClusterStats stats_;
  std::vector<Proposal> proposals_;
  /// (node, index) -> position in proposals_, until applied there.
  std::map<std::pair<NodeId, Index>, std::size_t> unacked_;
  std::map<std::uint64_t, ReadRecord> reads_;
  std::uint64_t next_read_id_ = 1;
  std::size_t steps_since_full_check_ = 0;
  /// Inside change_membership(): a promotion then is the operator's.
  bool operator_change_ = false;
  std::function<void(NodeId)> new_leader_hook_;
  /// Nodes that became leader during the input being processed.
  std::vector<NodeId> new_leaders_;
  /// By node: see was_committed_member().
  std::vector<bool> committed_members_;
  /// Torn tails left by crashes on disk: a stream of its own, so memory-backed
  /// schedules draw exactly what they drew before disks existed.
  Rng disk_rng_;
};

}  // namespace raft::sim
