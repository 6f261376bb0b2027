#include "storage/memory_store.hpp"

#include <utility>

namespace raft::storage {

RecoveredState MemoryStore::load() {
  // What a restart sees: the durable state plus nothing else. Callers crash()
  // first when they model a power cut; a clean restart syncs first.
  RecoveredState state = durable_;
  for (const Write& w : pending_) apply(state, w);
  return state;
}

void MemoryStore::save_hard_state(const HardState& state) { pending_.push_back({state, {}, {}}); }

void MemoryStore::append(std::vector<Entry> entries) {
  if (!entries.empty()) pending_.push_back({{}, {}, std::move(entries)});
}

void MemoryStore::install_snapshot(const Snapshot& snapshot) {
  pending_.push_back({{}, snapshot, {}});
}

void MemoryStore::sync() {
  for (Write& w : pending_) apply(durable_, std::move(w));
  pending_.clear();
  ++sync_count_;
}

void MemoryStore::crash() { pending_.clear(); }

void MemoryStore::apply(RecoveredState& state, Write write) {
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
    for (Entry& e : write.entries) {
      if (e.index < first) continue;  // already folded into the snapshot
      const Index offset = e.index - first;
      if (offset < state.entries.size()) state.entries.resize(offset);  // conflict truncation
      // Entries are consecutive by contract; a gap is a caller bug.
      if (offset == state.entries.size()) state.entries.push_back(std::move(e));
    }
  }
}

}  // namespace raft::storage
