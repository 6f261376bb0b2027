#pragma once
/// The durable half of a Raft node. The core keeps the log after the last
/// snapshot in memory and tells its owner, through `Ready`, what to write
/// here; `load()` gives it all back after a crash or restart.
///
/// Contract for implementations (MemoryStore for tests, FileStore for real):
/// - Writes (`save_hard_state`, `append`, `install_snapshot`) may be buffered;
///   only `sync()` makes them durable. After `sync()` returns, a crash at any
///   instant loses none of them. Before it, a crash may lose any suffix of the
///   unsynced writes but never corrupts what was synced.
/// - Not thread-safe: one owner (the node's loop, or the simulator).
/// - Errors (disk full, permission denied, corruption found by `load()`)
///   throw `StorageError` whose message names the file; a node that sees one
///   from a write must stop accepting writes.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "raft/types.hpp"

namespace raft {

class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Everything a node needs to rebuild itself.
struct RecoveredState {
  HardState hard_state;
  std::optional<Snapshot> snapshot;
  /// The log after the snapshot, consecutive, first index = snapshot index + 1
  /// (or 1 without a snapshot).
  std::vector<Entry> entries;
};

class Storage {
 public:
  virtual ~Storage() = default;

  /// Reads back the durable state. Throws StorageError on corruption that is
  /// not a torn tail; a torn tail is cut off (and reported by the caller's log).
  virtual RecoveredState load() = 0;

  virtual void save_hard_state(const HardState& state) = 0;

  /// Appends consecutive entries. If `entries.front().index` is at or below the
  /// current last index, every stored entry from that index on is dropped first
  /// (conflict truncation). Entries at or below the snapshot index are ignored.
  /// Taken by value so an in-memory store can keep them without a copy.
  virtual void append(std::vector<Entry> entries) = 0;

  /// Stores a snapshot and drops the log it covers. Entries after
  /// `snapshot.meta.last_index` are kept only if the stored entry at that index
  /// has `snapshot.meta.last_term` (Raft §7); otherwise the whole log goes.
  /// Used both for local compaction and for a snapshot received from a leader.
  virtual void install_snapshot(const Snapshot& snapshot) = 0;

  /// Makes every write above durable (one fdatasync for a whole batch).
  virtual void sync() = 0;
};

}  // namespace raft
