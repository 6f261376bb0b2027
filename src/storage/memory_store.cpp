#include "storage/memory_store.hpp"

namespace raft::storage {

RecoveredState MemoryStore::load() {
  // What a restart sees: the durable state plus nothing else. Callers crash()
  // first when they model a power cut; a clean restart syncs first.
  RecoveredState state = durable_;
  for (const Write& w : pending_) apply(state, w);
  return state;
}

void MemoryStore::save_hard_state(const HardState& state) { pending_.push_back({state, {}, {}}); }

void MemoryStore::append(const std::vector<Entry>& entries) {
  if (!entries.empty()) pending_.push_back({{}, {}, entries});
}

void MemoryStore::install_snapshot(const Snapshot& snapshot) {
  pending_.push_back({{}, snapshot, {}});
}

void MemoryStore::sync() {
  for (const Write& w : pending_) apply(durable_, w);
  pending_.clear();
  ++sync_count_;
}

void MemoryStore::crash() { pending_.clear(); }

void MemoryStore::apply(RecoveredState& state, const Write& write) {
  if (write.hard_state) state.hard_state = *write.hard_state;
  if (write.snapshot) {
    const SnapshotMeta& meta = write.snapshot->meta;
    const Index first = state.snapshot ? state.snapshot->meta.last_index + 1 : 1;
    std::vector<Entry> kept;
    const bool has_matching_entry = meta.last_index >= first &&
                                    meta.last_index < first + state.entries.size() &&
                                    state.entries[meta.last_index - first].term == meta.last_term;
    if (has_matching_entry) {
      kept.assign(state.entries.begin() + static_cast<std::ptrdiff_t>(meta.last_index - first + 1),
                  state.entries.end());
    }
    state.entries = std::move(kept);
    state.snapshot = *write.snapshot;
  }
  if (!write.entries.empty()) {
    const Index first = state.snapshot ? state.snapshot->meta.last_index + 1 : 1;
    for (const Entry& e : write.entries) {
      if (e.index < first) continue;  // already folded into the snapshot
      const Index offset = e.index - first;
      if (offset < state.entries.size()) state.entries.resize(offset);  // conflict truncation
      // Entries are consecutive by contract; a gap is a caller bug.
      if (offset == state.entries.size()) state.entries.push_back(e);
    }
  }
}

}  // namespace raft::storage
