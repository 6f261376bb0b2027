#pragma once
/// MemoryStore: a Storage kept in memory, for the simulator and tests. It
/// models a disk: writes are buffered until sync(), and `crash()` loses every
/// unsynced write, exactly what a power cut does to a real file store.
/// Not thread-safe.

#include <optional>
#include <vector>

#include "raft/storage.hpp"

namespace raft::storage {

class MemoryStore final : public Storage {
 public:
  RecoveredState load() override;
  void save_hard_state(const HardState& state) override;
  void append(std::vector<Entry> entries) override;
  void install_snapshot(const Snapshot& snapshot) override;
  void sync() override;

  /// Drops every write since the last sync().
  void crash();

  std::size_t sync_count() const { return sync_count_; }

 private:
  /// Applies one buffered write to a state.
  struct Write {
    std::optional<HardState> hard_state;
    std::optional<Snapshot> snapshot;
    std::vector<Entry> entries;
  };
  static void apply(RecoveredState& state, Write write);

  RecoveredState durable_;
  std::vector<Write> pending_;
  std::size_t sync_count_ = 0;
};

}  // namespace raft::storage
