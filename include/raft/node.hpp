#pragma once
/// raft::Node: the pure, deterministic Raft state machine.
///
/// It only implements the algorithm. It never reads a clock, draws global
/// random numbers, touches a file or a socket, or starts a thread: time comes
/// in through `tick(now_ms)`, randomness from `Config::seed`, messages through
/// `step()`, and everything it wants done comes out of `ready()`.
///
/// The owner's loop (etcd's order):
///   node.tick(now); node.step(msg)...; node.propose(...)...
///   if (node.has_ready()) {
///     Ready rd = node.ready();
///     persist rd.hard_state, rd.snapshot, rd.entries; storage.sync();
///     send rd.messages;               // only after the sync above
///     restore rd.snapshot into the state machine, then apply rd.committed;
///     serve rd.reads once the state machine has applied up to their index;
///   }
/// `ready()` hands each item out exactly once; the core assumes the owner does
/// all of the above before it calls the node again.
///
/// Thread-safety: none. One owner calls every method.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raft/config.hpp"
#include "raft/log.hpp"
#include "raft/membership.hpp"
#include "raft/message.hpp"
#include "raft/progress.hpp"
#include "raft/rng.hpp"
#include "raft/storage.hpp"
#include "raft/types.hpp"

namespace raft {

enum class EventKind : std::uint8_t {
  RoleChanged,        ///< role, term
  LeaderChanged,      ///< node = new leader (kNoNode if unknown), term
  ElectionStarted,    ///< term; pre_vote says whether it is the PreVote round
  VoteGranted,        ///< node = candidate we voted for, term
  SnapshotInstalled,  ///< a snapshot from the leader replaced our log prefix
  /// The configuration in effect changed (a Config entry appended, or rolled
  /// back with a truncated suffix, or a snapshot installed): node = the
  /// node the change is about (kNoNode for a rollback or a snapshot),
  /// detail = describe_conf() of the new one.
  ConfigChanged,
  /// A configuration became committed: detail = describe_conf(), node = the
  /// node it changed (kNoNode if unknown).
  ConfigCommitted,
};

struct Event {
  EventKind kind = EventKind::RoleChanged;
  Term term = 0;
  Role role = Role::Follower;
  NodeId node = kNoNode;
  bool pre_vote = false;
  std::string detail;  ///< a short human-readable reason, for the node's log
};

/// The answer to a linearizable read request: once the state machine has
/// applied up to `index`, reading it is linearizable. `ok == false` means
/// leadership was lost before the read was confirmed; retry elsewhere.
struct ReadState {
  std::uint64_t request_id = 0;
  Index index = 0;
  bool ok = false;
};

struct Ready {
  std::optional<HardState> hard_state;
  /// A snapshot received from the leader: persist it (Storage::install_snapshot)
  /// before `entries`, and restore the state machine from it before applying.
  std::optional<Snapshot> snapshot;
  /// Entries to append; the first may overwrite a conflicting suffix.
  std::vector<Entry> entries;
  /// To send after everything above is durable, unless send_before_sync.
  std::vector<Message> messages;
  /// The messages may leave while `entries` are being written: a leader
  /// replicating its own entries (Raft thesis §10.2.1), with no change of
  /// term or vote and no snapshot to persist. The leader counts itself
  /// toward the commit quorum only once Node::persisted() says the entries
  /// are durable, so a crash between the send and the sync loses nothing
  /// that was committed.
  bool send_before_sync = false;
  /// Committed entries to apply, in order, each exactly once.
  std::vector<Entry> committed;
  std::vector<ReadState> reads;
  std::vector<Event> events;
};

enum class Status : std::uint8_t {
  Ok,
  NotLeader,        ///< ask `leader_hint` (may be kNoNode)
  Refused,          ///< not valid in the current state (error says why)
  InvalidArgument,  ///< a bad argument (error says which)
};

struct Result {
  Status status = Status::Ok;
  std::string error;  ///< one sentence, empty when ok
  Index index = 0;    ///< propose: index of the (first) new entry
  Term term = 0;
  NodeId leader_hint = kNoNode;

  bool ok() const { return status == Status::Ok; }
};

class Node {
 public:
  /// A node with no history.
  Node(Config config, TimeMs now_ms);
  /// A node rebuilt from its durable state (restart after a crash).
  Node(Config config, const RecoveredState& recovered, TimeMs now_ms);

  // ---- inputs ----------------------------------------------------------
  /// The owner made durable every entry up to `index` that ready() handed
  /// out (the last of a Ready's entries, or its snapshot's last index). Call
  /// it after each sync; ReadyStep does.
  void persisted(Index index);
  /// Advances the node's notion of time; fires due timers. Time never goes back.
  void tick(TimeMs now_ms);
  /// Handles a message addressed to this node. Messages of other nodes and
  /// stale ones are ignored. Taken by value: pass an rvalue and the entries
  /// move into the log without a copy.
  void step(Message message);

  /// Appends entries on the leader. All or nothing.
  Result propose(EntryType type, std::string data);
  Result propose_batch(std::vector<std::string> commands);
  /// Starts a ReadIndex read; the answer comes back in Ready::reads.
  Result read_index(std::uint64_t request_id);

  // ---- operator commands (SPEC.md) ---------------------------------------
  /// Campaigns now, skipping PreVote and the voters' leader lease (refused in INITIAL).
  Result trigger_election();
  /// Treats the election timer as expired now: the normal PreVote path.
  Result force_timeout();
  /// INITIAL -> FOLLOWER; a candidate or leader steps down to follower.
  Result become_follower();
  Result transfer_leadership(NodeId target);
  /// Folds the log up to `index` (<= applied) into a snapshot whose state
  /// machine bytes are `data`. The caller persists the returned snapshot
  /// (its meta carries the configuration at `index`).
  Result compact(Index index, SharedBytes data, Snapshot* out_snapshot);

  // ---- membership (membership.hpp; the rules are in docs/ARCHITECTURE.md) ----
  /// On the leader: appends a Config entry making `change`; it takes effect
  /// at once (on append). Refused, with a one-line reason, unless
  ///   - the leader has committed an entry of its own term (Ongaro's 2015
  ///     fix: its no-op, which every new leader appends);
  ///   - the previous configuration change is committed (one at a time);
  ///   - no leadership transfer is in progress;
  ///   - the node is a rank of the cluster and the change applies to it
  ///     (add: a non-member; promote: a learner; remove: a member);
  ///   - promote: the learner has caught up (Config::promote_lag_entries_max);
  ///   - the new voters include a reachable majority (heard from within the
  ///     minimum election timeout; the leader counts if it stays a voter);
  ///     so removing the last voter, or one of two voters while the other
  ///     is down, is refused.
  /// Result::index is the Config entry's index: the change is done when the
  /// commit index reaches it (Event ConfigCommitted).
  Result change_membership(ConfChange change);

  // ---- outputs -----------------------------------------------------------
  bool has_ready() const;
  Ready ready();

  // ---- read-only views (status pages, simulator checks) -------------------
  const Config& config() const { return config_; }
  /// The configuration in effect: the newest Config entry of the log,
  /// committed or not, else the snapshot's, else the initial one. For
  /// /status: voters, learners and config_index (= conf_state().index).
  const ConfState& conf_state() const { return conf_; }
  /// The newest configuration at or below the commit index.
  const ConfState& committed_conf_state() const;
  /// The configuration in effect at `index` (the newest Config entry at or
  /// below it; the snapshot's for indexes at or below the snapshot).
  const ConfState& conf_at(Index index) const;
  /// The newest RemovedNotice taken: a commit index (0: none), the term of
  /// the entry there and the configuration committed there, which leaves
  /// this node out. While it supersedes every configuration of our log the
  /// node is STANDBY: it was removed while cut off and its log never caught
  /// up with the removal (reconfig.cpp). Not persisted (a restart asks
  /// again).
  const ConfState& removal_notice() const { return notice_conf_; }
  Index removal_notice_commit() const { return notice_commit_; }
  bool is_voter(NodeId id) const { return conf_has_voter(conf_, id); }
  bool is_learner(NodeId id) const { return conf_has_learner(conf_, id); }
  /// A voter or a learner of the configuration in effect.
  bool is_member(NodeId id) const { return conf_has_member(conf_, id); }
  NodeId id() const { return config_.id; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  NodeId voted_for() const { return voted_for_; }
  NodeId leader() const { return leader_; }
  Index commit_index() const { return commit_; }
  /// Last index handed out in Ready::committed (or restored from a snapshot).
  Index applied_index() const { return applied_; }
  const RaftLog& log() const { return log_; }
  const std::map<NodeId, Progress>& progress() const { return progress_; }
  bool pre_voting() const { return pre_voting_; }
  NodeId transfer_target() const { return transfer_target_; }
  TimeMs now_ms() const { return now_ms_; }
  /// The current randomised election timeout and when its timer last reset.
  TimeMs election_timeout_ms() const { return election_timeout_ms_; }
  TimeMs election_timer_start_ms() const { return election_timer_start_ms_; }
  /// When we last heard from a leader of our term (0 if never).
  TimeMs leader_contact_ms() const { return leader_contact_ms_; }
  TimeMs initial_deadline_ms() const { return initial_deadline_ms_; }
  /// The earliest time at which tick() has something to do: a loop may
  /// sleep until then (or until a message or a proposal arrives) and no
  /// timer fires late. Ticking earlier is harmless; it only costs a wake.
  TimeMs next_deadline_ms() const;
  /// A majority of the voters of the configuration in effect.
  std::size_t quorum() const { return conf_quorum(conf_); }

 private:
  // election.cpp
  void on_election_timeout();
  void start_pre_vote();
  void campaign(bool force, const char* why);
  void become_leader();
  void step_down(Term term, NodeId leader, const char* why);
  void handle_vote_request(const Message& m);
  void handle_vote_response(const Message& m);
  bool in_leader_lease() const;
  void check_quorum();
  void reset_election_timer();
  void set_role(Role role, const char* why);
  void set_leader(NodeId leader);
  /// A follower or candidate takes `leader` as the leader of our term and
  /// resets its timers; false (and nothing changes) if we lead this term.
  bool heard_from_leader(NodeId leader);

  // replication.cpp
  void handle_append_entries(Message& m);
  /// Fills a rejection with the fast back-off hint for a mismatch at `prev`.
  void reject_append(Message& reply, Index prev, Index rejected) const;
  /// Appends entries[skip..], cutting off a conflicting uncommitted suffix.
  void append_from_leader(std::vector<Entry>& entries, std::size_t skip);
  /// The Progress of follower `from`, marked as heard from this CheckQuorum
  /// round; null unless we lead and `from` is one of our followers.
  Progress* follower_heard(NodeId from);
  void handle_append_response(const Message& m);
  /// Where to probe next after the rejection `m` (fast back-off).
  Index back_off_hint(const Message& m) const;
  void send_append(NodeId peer, bool allow_empty);
  void send_heartbeat(NodeId peer);
  void broadcast_append();
  void broadcast_append_to(NodeId peer);
  void broadcast_heartbeat();
  void maybe_commit();
  void append_local(EntryType type, std::string data);
  void maybe_send_timeout_now(NodeId peer);

  // snapshot.cpp
  void send_snapshot_chunk(NodeId peer);
  void handle_install_snapshot(const Message& m);
  void handle_install_snapshot_response(const Message& m);

  // read_index.cpp
  void start_confirmed_read(std::uint64_t request_id);
  void on_commit_in_current_term();
  void confirm_reads();
  void fail_pending_reads();

  // reconfig.cpp
  /// Rebuilds the configuration history from recovered state (constructor).
  void recover_conf(const RecoveredState& recovered);
  /// Records the Config entry just appended at `e` (leader or follower).
  void note_conf_entry(const Entry& e);
  /// The log was cut from `index` on: forget its Config entries.
  void forget_conf_entries_from(Index index);
  /// The log was folded into a snapshot up to `index`.
  void forget_conf_entries_through(Index index);
  /// Takes the newest configuration of the log as the one in effect; roles
  /// and timers follow (STANDBY <-> FOLLOWER). `node` is for the event.
  void refresh_conf(NodeId node);
  /// FOLLOWER if we are a member of the configuration in effect (or may
  /// still campaign), else STANDBY.
  Role follower_role() const;
  /// A voter of the configuration in effect, or one removed by an entry not
  /// yet committed (dissertation §4.2.2: its log may be the one the others
  /// need; it counts the votes of the configuration that removes it).
  bool can_campaign() const;
  /// STANDBY <-> FOLLOWER as follower_role() says (not for a leader).
  void refresh_role();
  /// A RemovedNotice told us of a committed configuration without us that
  /// supersedes every configuration of our log.
  bool removed_by_notice() const;
  /// A committed log whose entry at `commit` has `commit_term` cannot hold
  /// our newest configuration unless it is the one committed there.
  bool conf_superseded(Index commit, Term commit_term) const;
  /// The configuration the committed one replaced (the committed one itself
  /// if it is the initial one).
  const ConfState& replaced_conf_state() const;
  /// A member of the configuration in effect, of the committed one or of the
  /// one it replaced: whom a leader replicates to.
  bool replicated_to(NodeId id) const;
  /// Answers a message from a node outside replicated_to() with the
  /// committed configuration, if that leaves the sender out.
  void maybe_send_removed_notice(const Message& m);
  /// The leader, once per CheckQuorum period: a notice to every rank of the
  /// cluster it replicates to in no configuration.
  void send_removed_notices();
  void handle_removed_notice(const Message& m);
  /// Why a change may not be made now (empty if it may): the rules of
  /// change_membership() that do not depend on the change itself.
  std::string change_blocked() const;
  std::string check_catch_up(NodeId learner) const;
  std::string check_quorum_after(const ConfState& next, const ConfChange& change) const;
  /// The leader heard from `peer` within the minimum election timeout.
  bool heard_recently(NodeId peer) const;
  /// heard_recently(), or tracked for less than that and not heard from yet.
  bool reachable(NodeId peer) const;
  void append_conf_change(const ConfChange& change, const ConfState& next);
  /// The leader tracks every member of the configuration in effect and of
  /// the committed one (so a removed node hears of its removal until it
  /// commits). Erases Progress, so only at safe points (no Progress& held).
  void sync_progress();
  /// The leader's bookkeeping after any input, at a safe point: step down
  /// once its own removal committed, track members, auto-promote learners,
  /// report newly committed configurations.
  void after_input();
  void step_down_removed_leader();
  void maybe_promote_learners();
  void report_committed_conf();

  // node.cpp
  /// Asserts what holds between any two calls (commit within the log, ...).
  void check_invariants() const;
  /// A message of `type` back to the sender of `m`, in our term.
  Message reply_to(const Message& m, MessageType type) const;
  void send(Message m);
  void emit(Event e);
  bool committed_in_current_term() const;
  Result not_leader() const;
  Result refused(std::string why) const;
  bool hard_state_changed() const;

  Config config_;
  Rng rng_;
  TimeMs now_ms_ = 0;

  // membership
  /// The configuration in effect (the newest of conf_entries_, else the
  /// log's base: log_.snapshot().conf).
  ConfState conf_;
  /// Config entries of the log after the snapshot, by index.
  std::map<Index, ConfState> conf_entries_;
  /// The committed configuration last reported (ConfigCommitted event).
  Index reported_conf_index_ = 0;
  /// The commit index after_input() last looked at.
  Index commit_seen_ = 0;
  /// See removal_notice().
  ConfState notice_conf_;
  Index notice_commit_ = 0;
  Term notice_commit_term_ = 0;

  Role role_ = Role::Follower;
  Term term_ = 0;
  NodeId voted_for_ = kNoNode;
  NodeId leader_ = kNoNode;
  RaftLog log_;
  SharedBytes snapshot_data_;
  Index commit_ = 0;
  Index applied_ = 0;
  /// Entries at or after this index have not been handed out for persisting.
  Index unstable_from_ = 1;
  /// Every entry up to here that ready() handed out is durable (persisted()).
  Index persisted_index_ = 0;
  HardState last_hard_state_;
  std::optional<Snapshot> snapshot_to_persist_;

  // timers
  TimeMs initial_deadline_ms_ = 0;
  TimeMs election_timer_start_ms_ = 0;
  TimeMs election_timeout_ms_ = 0;
  TimeMs leader_contact_ms_ = 0;
  TimeMs heartbeat_due_ms_ = 0;
  TimeMs check_quorum_due_ms_ = 0;

  // elections
  bool pre_voting_ = false;
  std::map<NodeId, bool> votes_;

  // leader
  std::map<NodeId, Progress> progress_;
  NodeId transfer_target_ = kNoNode;
  TimeMs transfer_deadline_ms_ = 0;

  // ReadIndex
  struct PendingRead {
    std::uint64_t request_id;
    Index index;
    std::uint64_t ctx;
  };
  std::uint64_t read_ctx_ = 0;
  std::vector<PendingRead> pending_reads_;
  std::vector<std::uint64_t> reads_awaiting_commit_;
  bool read_broadcast_due_ = false;

  // follower: snapshot being received
  SnapshotMeta incoming_snapshot_;
  std::string incoming_snapshot_bytes_;

  // outputs
  std::vector<Message> messages_;
  std::vector<ReadState> reads_out_;
  std::vector<Event> events_;
};

}  // namespace raft
