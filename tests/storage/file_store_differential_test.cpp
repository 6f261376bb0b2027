// FileStore against MemoryStore, the reference semantics: hundreds of seeded
// random operation sequences (appends with conflicts and gaps, hard states,
// matching and non-matching snapshots, syncs, in-process reloads, crashes
// that drop unsynced writes, clean reopens). After every reload both stores
// must give exactly the same state. A failing seed replays exactly.
#include <memory>

#include <gtest/gtest.h>

#include "raft/rng.hpp"
#include "storage/file_store.hpp"
#include "storage/memory_store.hpp"
#include "storage_test_util.hpp"

namespace raft::storage {
namespace {

using testing::same_state;
using testing::TempDir;

std::string random_bytes(Rng& rng, std::size_t max_bytes) {
  std::string s(rng.uniform(0, max_bytes), '\0');
  for (char& c : s) c = static_cast<char>(rng.next());
  return s;
}

struct Bounds {
  Index first = 1;  ///< first index after the snapshot
  Index last = 0;
};

Bounds bounds_of(const RecoveredState& state) {
  Bounds b;
  b.first = state.snapshot ? state.snapshot->meta.last_index + 1 : 1;
  b.last = b.first + state.entries.size() - 1;
  return b;
}

void run_sequence(std::uint64_t seed, const std::filesystem::path& dir) {
  Rng rng(seed);
  FileStoreOptions options;
  // fsync changes durability, not semantics; most seeds skip it for speed.
  options.fsync = seed % 16 == 0 ? FsyncMode::Always : FsyncMode::Never;
  options.segment_bytes_max = rng.uniform(100, 3000);
  auto store = std::make_unique<FileStore>(dir, options);
  ASSERT_TRUE(same_state(RecoveredState{}, store->load()));
  MemoryStore model;
  Term term = 1;

  auto reopen = [&](const char* why) {
    store = std::make_unique<FileStore>(dir, options);
    const RecoveredState got = store->load();
    ASSERT_TRUE(same_state(model.load(), got)) << "after " << why;
  };

  const std::uint64_t ops = rng.uniform(20, 90);
  for (std::uint64_t op = 0; op < ops; ++op) {
    SCOPED_TRACE("op " + std::to_string(op));
    const RecoveredState now = model.load();
    const Bounds b = bounds_of(now);
    const std::uint64_t dice = rng.uniform(0, 99);
    if (dice < 35) {
      // Mostly the next index; sometimes a conflict, sometimes below the
      // snapshot, rarely a gap (a caller bug both stores must drop alike).
      Index start = b.last + 1;
      if (rng.chance(1, 3)) start = rng.uniform(b.first > 3 ? b.first - 3 : 1, b.last + 1);
      if (rng.chance(1, 30)) start = b.last + 2;
      if (rng.chance(1, 4)) term += 1;
      std::vector<Entry> entries;
      const std::uint64_t count = rng.uniform(1, 8);
      for (Index i = start; i < start + count; ++i) {
        Entry e;
        e.index = i;
        e.term = term;
        e.type = static_cast<EntryType>(rng.uniform(0, 2));
        e.data = random_bytes(rng, 80);
        entries.push_back(std::move(e));
      }
      store->append(entries);
      model.append(entries);
    } else if (dice < 48) {
      HardState hs{rng.uniform(0, term + 1), static_cast<NodeId>(rng.uniform(0, 4)) - 1,
                   rng.uniform(0, b.last + 1)};
      store->save_hard_state(hs);
      model.save_hard_state(hs);
    } else if (dice < 56) {
      const Index index = rng.uniform(b.first > 2 ? b.first - 2 : 0, b.last + 3);
      Term snap_term = rng.uniform(1, term + 1);
      if (index >= b.first && index <= b.last && rng.chance(2, 3)) {
        snap_term = now.entries[index - b.first].term;  // a matching snapshot
      }
      const Snapshot snap{SnapshotMeta{index, snap_term},
                          std::make_shared<const std::string>(random_bytes(rng, 300))};
      store->install_snapshot(snap);
      model.install_snapshot(snap);
    } else if (dice < 76) {
      store->sync();
      model.sync();
    } else if (dice < 84) {
      ASSERT_TRUE(same_state(model.load(), store->load())) << "in-process load";
    } else if (dice < 93) {
      store.reset();  // unsynced writes die with the process
      model.crash();
      reopen("crash");
    } else {
      store->sync();
      model.sync();
      reopen("clean reopen");
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
  store->sync();
  model.sync();
  reopen("final");
}

TEST(FileStoreDifferential, MatchesMemoryStoreOnSeededRandomSequences) {
  constexpr std::uint64_t kSequences = 400;
  for (std::uint64_t seed = 1; seed <= kSequences; ++seed) {
    TempDir tmp;
    SCOPED_TRACE("seed " + std::to_string(seed));
    run_sequence(seed, tmp / "node-0");
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace raft::storage
