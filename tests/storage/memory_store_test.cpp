#include "storage/memory_store.hpp"

#include <gtest/gtest.h>

namespace raft::storage {
namespace {

Entry entry(Index i, Term t) { return {t, i, EntryType::Command, "x"}; }

TEST(MemoryStore, UnsyncedWritesAreLostOnCrash) {
  MemoryStore s;
  s.save_hard_state({3, 1, 0});
  s.append({entry(1, 1), entry(2, 1)});
  s.sync();
  s.append({entry(3, 2)});
  s.save_hard_state({4, 2, 0});
  s.crash();
  RecoveredState r = s.load();
  EXPECT_EQ(r.hard_state.term, 3u);
  ASSERT_EQ(r.entries.size(), 2u);
}

TEST(MemoryStore, AppendTruncatesConflictingSuffix) {
  MemoryStore s;
  s.append({entry(1, 1), entry(2, 1), entry(3, 1)});
  s.append({entry(2, 2)});
  s.sync();
  RecoveredState r = s.load();
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[1].term, 2u);
}

TEST(MemoryStore, SnapshotKeepsOnlyAMatchingSuffix) {
  MemoryStore s;
  s.append({entry(1, 1), entry(2, 1), entry(3, 2)});
  s.install_snapshot({{2, 1}, std::make_shared<const std::string>("state")});
  s.sync();
  RecoveredState r = s.load();
  ASSERT_TRUE(r.snapshot.has_value());
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].index, 3u);

  s.install_snapshot({{3, 9}, std::make_shared<const std::string>("other")});
  s.sync();
  r = s.load();
  EXPECT_TRUE(r.entries.empty());
  EXPECT_EQ(r.snapshot->meta.last_term, 9u);
}

}  // namespace
}  // namespace raft::storage
