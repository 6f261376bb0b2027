#pragma once
/// InvariantChecker: Raft's safety properties, checked after every step of a
/// simulation from what the nodes show (their state, the entries they hand
/// out to persist and to apply, the snapshots they restore, the reads they
/// answer). The first violation is kept with its details; the simulator stops
/// there so the trace ends where things went wrong.
///
/// Checked:
/// - Election Safety: at most one leader per term, and no node grants its
///   vote to two candidates in one term (seen from the VoteGranted events,
///   which a node reports only once its vote is durable).
/// - Election Quorum: a leader holds the votes of a majority of the voters
///   of the configuration it campaigned with (its log's configuration just
///   before its first entry of the term); learners' and strangers' votes
///   count for nothing. With the rule above, two leaders of one term would
///   need two disjoint majorities: configurations that differ by one server
///   at a time never have them.
/// - Leader Append-Only: a leader's log never shrinks during its term.
/// - Log Matching: two entries with the same index and term have the same
///   payload and the same predecessor term, so by induction the logs are
///   identical up to them (checked on every entry handed out to persist, and
///   by full scans of the logs in memory).
/// - Leader Completeness: an entry committed in term T is in the log of every
///   leader of a term above T (checked when a node becomes leader). T is the
///   lowest term a node was in when it saw the entry committed: never below
///   the real one, so the check cannot fire wrongly, e.g. for a leader of an
///   older term whose votes arrived late.
/// - State Machine Safety: no two different entries are committed or applied
///   at one index; entries are applied in order, each once; a restored
///   snapshot equals the state the committed entries produce.
/// - Monotonicity: a node's term and commit index never go back (after a
///   crash, commit may restart from the persisted one; the term may not go
///   below what was durable).
/// - Linearizable reads: a ReadIndex read sees every write committed before
///   it was issued.
/// Not thread-safe.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kv_model.hpp"
#include "raft/node.hpp"
#include "raft/storage.hpp"
#include "raft/types.hpp"

namespace raft::sim {

struct Violation {
  std::string invariant;
  std::string details;
  TimeMs at_ms = 0;
};

class InvariantChecker {
 public:
  explicit InvariantChecker(std::size_t node_count);

  bool ok() const { return violations_.empty(); }
  const std::vector<Violation>& violations() const { return violations_; }
  /// Virtual time, for the violation record.
  void set_now(TimeMs now_ms) { now_ms_ = now_ms; }
  /// For checks made outside (liveness, contracts).
  void report(std::string invariant, std::string details);

  // ---- observations, in the order the simulator makes them ---------------
  /// Entries a node handed out to persist (Ready::entries), before anything else changes.
  void on_entries(NodeId id, const Node& node, const std::vector<Entry>& entries);
  /// The node's state is durable up to its current term.
  void on_synced(NodeId id, Term term);
  /// One committed entry applied by a node in `node_term`; `applied_before` is
  /// the state machine's index before it.
  void on_applied(NodeId id, Term node_term, const Entry& entry, Index applied_before);
  /// The state machine was rebuilt from a snapshot (from a leader or on restart).
  void on_snapshot_restored(NodeId id, Term node_term, const SnapshotMeta& meta,
                            const KvModel& state);
  /// After every input to a node (tick, message, client or operator call).
  void after_step(NodeId id, const Node& node);
  void on_crash(NodeId id);
  /// `voter` granted its vote in `term` to `candidate` (durably).
  void on_vote(NodeId voter, Term term, NodeId candidate);
  void on_restart(NodeId id, const Node& node, const RecoveredState& recovered);
  /// A full Log Matching scan of one node's log in memory.
  void check_log(NodeId id, const Node& node);

  // ---- linearizable reads ----------------------------------------------------
  /// The highest log index of a committed write to `key` (0 if none): what a
  /// read issued now must at least see.
  Index committed_write_index(std::string_view key) const;
  /// A read issued when `required_index` was committed returned `value`.
  void on_read(NodeId id, std::string_view key, Index required_index, const KvValue* value,
               Index read_index);

  // ---- queries -------------------------------------------------------------
  /// The term of the entry known committed at `index`.
  std::optional<Term> committed_term(Index index) const;
  Index highest_committed_index() const;

 private:
  struct NodeTrack {
    Term term = 0;
    Index commit = 0;
    bool leader = false;
    Term leader_term = 0;
    Index leader_last_index = 0;
    Term synced_term = 0;
  };
  /// What is known about the entry with one (index, term).
  struct LogRecord {
    EntryType type = EntryType::Command;
    std::string data;
    std::optional<Term> prev_term;
    NodeId seen_on = kNoNode;
  };
  struct CommitRecord {
    Term term = 0;
    /// The lowest term of a node that saw it committed (>= the real commit term).
    Term seen_in_term = 0;
    bool has_entry = false;  ///< false if only its (index, term) is known (a snapshot's last)
    EntryType type = EntryType::Command;
    std::string data;
    NodeId node = kNoNode;
    const char* how = "";
  };

  void check_entry(NodeId id, const Entry& entry, std::optional<Term> prev_term);
  void record_commit(NodeId id, Term node_term, Index index, Term term, const Entry* entry,
                     const char* how);
  void check_leader_completeness(NodeId id, const Node& node);
  void check_election_quorum(NodeId id, const Node& node);
  void fail(std::string invariant, std::string details);

  std::vector<NodeTrack> nodes_;
  std::map<Term, NodeId> leader_of_term_;
  /// (term, voter) -> the candidate it voted for.
  std::map<std::pair<Term, NodeId>, NodeId> votes_;
  std::map<std::pair<Index, Term>, LogRecord> log_records_;
  std::map<Index, CommitRecord> committed_;
  std::map<std::string, Index, std::less<>> key_commit_index_;
  std::vector<Violation> violations_;
  TimeMs now_ms_ = 0;
};

}  // namespace raft::sim
