#pragma once
/// The in-memory Raft log after the last snapshot. Indexes are 1-based and
/// consecutive; index `snapshot().last_index` is the last one folded into the
/// snapshot (0 without one). Not thread-safe.

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "raft/types.hpp"

namespace raft {

class RaftLog {
 public:
  RaftLog() = default;
  /// `entries` must be consecutive and start at `snapshot.last_index + 1`.
  RaftLog(SnapshotMeta snapshot, std::vector<Entry> entries);

  const SnapshotMeta& snapshot() const { return snapshot_; }
  Index first_index() const { return snapshot_.last_index + 1; }
  Index last_index() const { return snapshot_.last_index + entries_.size(); }
  Term last_term() const;

  /// The term at `index`: known for 0, the snapshot index and every entry kept;
  /// nullopt for compacted or future indexes.
  std::optional<Term> term_at(Index index) const;
  bool matches(Index index, Term term) const;

  /// Precondition: first_index() <= index <= last_index().
  const Entry& at(Index index) const;

  /// Entries in [from, last_index()], at most `count_max` of them and, past the
  /// first, at most `bytes_max` of payload. Precondition: from >= first_index().
  std::vector<Entry> slice(Index from, std::size_t count_max, std::size_t bytes_max) const;

  /// Precondition: entry.index == last_index() + 1.
  void append(Entry entry);
  /// Drops every entry at or after `index` (index > snapshot index).
  void truncate_from(Index index);
  /// Folds everything up to `meta.last_index` into a snapshot. Later entries
  /// are kept only if the entry at that index has `meta.last_term`.
  void compact_to(SnapshotMeta meta);
  /// The configuration at the base of the log (the snapshot's, or the
  /// initial one when there is no snapshot); membership.hpp.
  void set_base_conf(ConfState conf) { snapshot_.conf = std::move(conf); }

  /// The first index of the run of entries with the same term as the entry at
  /// `index` (used as the fast back-off hint). Precondition: term_at(index).
  Index first_index_of_term_at(Index index) const;
  /// The last index whose term is `term`, or 0 if there is none.
  Index last_index_of_term(Term term) const;

  /// Raft §5.4.1: a log ending at (index, term) is at least as up to date as ours.
  bool candidate_is_up_to_date(Index last_log_index, Term last_log_term) const;

 private:
  SnapshotMeta snapshot_;
  std::deque<Entry> entries_;
};

}  // namespace raft
