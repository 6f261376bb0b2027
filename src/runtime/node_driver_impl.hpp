#pragma once
// NodeDriver's private state, shared by node_driver.cpp (the loop) and
// node_driver_commands.cpp (operator commands). Everything except the members
// under "shared" is touched by the loop thread only.

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "raft/node.hpp"
#include "runtime/kv_state_machine.hpp"
#include "runtime/loop_wait.hpp"
#include "runtime/node_driver.hpp"
#include "runtime/ready_step.hpp"
#include "storage/file_store.hpp"
#include "transport/delaying_transport.hpp"

namespace raft::runtime {

/// The loop's wall clock, in ms since an arbitrary start.
inline std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

/// Status is republished at least this often, and at once on role/term/leader changes.
inline constexpr std::uint64_t kPublishEveryMs = 50;
inline constexpr std::size_t kHistoryLines = 100;

/// What one pass of the loop did.
struct LoopPass {
  bool active = false;  ///< stepped a message, ran a request or a Ready
  /// Client traffic (not mere heartbeats): keeps a transport without a
  /// doorbell in its fast polling tiers.
  bool client_traffic = false;
};

/// What the loop remembers across passes to decide how long to sleep.
struct LoopPace {
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_busy = Clock::now() - std::chrono::hours(1);
  /// A peer rang but its message had not shown yet (MPI may make it visible
  /// a moment after the datagram), since when.
  bool ring_unanswered = false;
  Clock::time_point ring_unanswered_since{};
  bool unpublished_work = false;

  void note_ring(bool rung, std::size_t received);
};

/// The node's private state. It is the ReadyHost of its own Ready step: the
/// effects (FileStore writes, MPI sends, the KV state machine, waiting HTTP
/// requests) are its; the order is ReadyStep's.
struct NodeDriver::Impl final : ReadyHost {
  using Clock = std::chrono::steady_clock;
  struct PendingWrite {
    Term term = 0;
    KvDone done;
    /// For the stage histograms (Metrics::write_*): when an HTTP thread
    /// queued it, when the loop proposed it, when the leader's copy was synced.
    Clock::time_point queued_at{};
    Clock::time_point proposed_at{};
    Clock::time_point synced_at{};
    std::size_t bytes = 0;  ///< of its entry
  };
  struct PendingRead {
    std::string key;
    Index read_index = 0;
    bool confirmed = false;
    KvDone done;
  };

  NodeOptions options;
  std::unique_ptr<transport::Transport> transport;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<Metrics> metrics;
  std::uint64_t started_ms = 0;
  std::uint64_t started_us = 0;
  /// The `delay` faults: the wrapper `transport` points to (owned by it).
  transport::DelayingTransport* delays = nullptr;
  /// The Raft events (thread-safe ring) and what fills it (loop thread).
  std::shared_ptr<RaftEventLog> events;
  std::unique_ptr<RaftEventRecorder> recorder;

  // ---- loop thread only ----
  std::unique_ptr<storage::FileStore> file_store;
  std::unique_ptr<Node> node;  ///< null while crashed
  std::unique_ptr<KvStateMachine> kv;
  bool paused = false;
  bool crashed = false;
  std::uint64_t pause_started_ms = 0;
  std::uint64_t paused_total_ms = 0;
  /// Persist, send, apply; it also holds the operator's partitions and
  /// one-way cuts (its LinkFilter), which survive a crash and restart.
  ReadyStep ready;
  std::string storage_error;
  Role last_role = Role::Initial;
  std::map<Index, PendingWrite> pending_writes;
  std::size_t pending_write_bytes = 0;  ///< of the entries of pending_writes
  /// Bytes of entries applied since the last snapshot (compaction by size).
  std::size_t applied_bytes_since_snapshot = 0;
  std::map<std::uint64_t, PendingRead> pending_reads;
  std::uint64_t next_read_id = 0;
  /// The last index a sync made durable (on_durable).
  Index durable_up_to = 0;
  std::uint64_t last_publish_ms = 0;
  Role published_role = Role::Initial;
  Term published_term = 0;
  NodeId published_leader = kNoNode;
  std::shared_ptr<const NodeStatus> last_status;

  // ---- shared, each under its own mutex ----
  std::mutex queue_mutex;
  std::deque<std::function<void()>> queue;
  LoopWaker waker;  ///< notified when `queue` grows or a stop is asked for
  bool stop_requested = false;
  mutable std::mutex status_mutex;
  std::shared_ptr<const NodeStatus> status;
  mutable std::mutex history_mutex;
  std::deque<std::string> history;

  // node_driver.cpp
  void open_and_recover();
  /// Drops the core, the state machine and the store, as a crash does: what
  /// is on disk is all that survives ('restart' rebuilds from it).
  void drop_volatile_state();
  /// After a storage failure: the node stops as if crashed (a store that
  /// failed to sync cannot be trusted to hold what it acknowledged), until a
  /// 'restart' reloads from the files.
  void stop_if_storage_failed();
  std::uint64_t raft_now_ms() const;
  /// How long until the core's next timer deadline; nullopt if no timer runs.
  std::optional<std::chrono::microseconds> until_core_deadline() const;
  /// The same, or sooner when a delayed message is due to leave.
  std::optional<std::chrono::microseconds> until_deadline() const;
  /// Why a message from `from` is dropped on arrival; nullopt: it is stepped.
  std::optional<DropReason> inbound_drop(NodeId from) const;
  /// Records what changed in this pass (RaftEventRecorder::observe).
  void observe_events();
  bool deliver(Message m);
  /// The core may be ticked and stepped: it exists, is not paused, has storage.
  bool runnable() const { return node && !paused && !storage_failed(); }
  /// Steps what the transport has; returns how many messages came.
  std::size_t receive(std::vector<Message>& inbox, LoopPass& pass);
  /// Runs the queued HTTP requests; false once a stop is asked for.
  bool run_requests(std::deque<std::function<void()>>& requests, LoopPass& pass);
  void publish_and_sleep(const LoopPass& pass, LoopPace& pace);
  void resolve_writes_up_to(Index index);
  /// Answers the write at `it` and forgets it.
  void answer_write(std::map<Index, PendingWrite>::iterator it, KvReply reply);
  /// Why a valid write cannot be taken now (limits of memory), or nullopt.
  std::optional<KvReply> refuse_for_memory(const KvCommand& command, std::size_t bytes) const;

  // ReadyHost: the effects of a Ready, in ReadyStep's order.
  Storage& store() override { return *file_store; }
  void sync() override;
  void on_durable(Index index) override;
  void on_storage_failure(const std::string& what) override;
  bool send(Message m) override;
  void sent_before_sync() override { transport->wake_peers(); }
  void on_filtered(const Message& m) override;
  bool restore(const Snapshot& snapshot) override;
  void apply(Entry e) override;
  void on_read_state(const ReadState& r) override;
  void serve_reads() override;
  void on_event(const Event& e) override;
  void maybe_compact();
  bool take_snapshot(std::string* error);
  void fail_everything(const std::string& why);
  /// Publishes a fresh NodeStatus if forced, changed or due; true if it did.
  bool publish(bool force);
  /// The Raft part of a status: role, term, log, timers, peers.
  void fill_raft_status(NodeStatus& s) const;
  void enqueue(std::function<void()> request);
  std::optional<KvReply> refuse_kv(bool write) const;
  bool storage_failed() const { return !storage_error.empty(); }
  /// The ranks of the job (voters, learners and standby nodes alike).
  int ranks() const { return static_cast<int>(options.raft.node_count_or_voters()); }

  // node_driver_commands.cpp
  CommandReply execute(const std::string& name, const std::vector<std::string>& args);
  void record_history(const std::string& line);
};

}  // namespace raft::runtime
