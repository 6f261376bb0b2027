// Round trips through FileStore: what is written and synced is what load()
// gives back, with MemoryStore's semantics for truncation and snapshots.
#include "storage/file_store.hpp"

#include <gtest/gtest.h>

#include "storage/memory_store.hpp"
#include "storage_test_util.hpp"

namespace raft::storage {
namespace {

using testing::files_with_prefix;
using testing::make_entries;
using testing::make_snapshot;
using testing::same_state;
using testing::TempDir;

FileStoreOptions small_segments(std::uint64_t bytes = 512) {
  FileStoreOptions options;
  options.segment_bytes_max = bytes;
  return options;
}

RecoveredState reload(const std::filesystem::path& dir, FileStoreOptions options = {}) {
  FileStore store(dir, options);
  return store.load();
}

TEST(FileStore, AbsentDirectoryIsAFreshNodeAndLoadCreatesNothing) {
  TempDir tmp;
  FileStore store(tmp / "node-0");
  const RecoveredState state = store.load();
  EXPECT_EQ(state.hard_state, HardState{});
  EXPECT_FALSE(state.snapshot);
  EXPECT_TRUE(state.entries.empty());
  EXPECT_TRUE(store.warnings().empty());
  EXPECT_FALSE(std::filesystem::exists(tmp / "node-0"));
  store.sync();  // nothing to write: still nothing on disk
  EXPECT_FALSE(std::filesystem::exists(tmp / "node-0"));
}

TEST(FileStore, HardStateRoundTrip) {
  TempDir tmp;
  const auto dir = tmp / "data" / "node-3";  // missing parents are created
  {
    FileStore store(dir);
    store.load();
    store.save_hard_state({5, 2, 0});
    store.save_hard_state({7, kNoNode, 3});
    store.sync();
  }
  EXPECT_EQ(reload(dir).hard_state, (HardState{7, kNoNode, 3}));
}

TEST(FileStore, AppendsRoundTripAcrossSegmentsAndReopens) {
  TempDir tmp;
  const auto dir = tmp / "node-0";
  std::vector<Entry> all;
  for (int round = 0; round < 3; ++round) {
    FileStore store(dir, small_segments());
    const RecoveredState before = store.load();
    EXPECT_EQ(before.entries, all);
    for (int batch = 0; batch < 5; ++batch) {
      auto entries = make_entries(all.size() + 1, 7, round + 1, 40);
      store.append(entries);
      store.save_hard_state({static_cast<Term>(round + 1), 1, all.size()});
      store.sync();
      all.insert(all.end(), entries.begin(), entries.end());
    }
  }
  const RecoveredState state = reload(dir, small_segments());
  EXPECT_EQ(state.entries, all);
  EXPECT_EQ(state.hard_state, (HardState{3, 1, all.size() - 7}));
  EXPECT_GT(files_with_prefix(dir, "segment-").size(), 5u);
}

TEST(FileStore, ConflictTruncationWithinAndAcrossSegments) {
  for (std::uint64_t segment_bytes : {std::uint64_t{8} << 20, std::uint64_t{300}}) {
    TempDir tmp;
    MemoryStore model;
    {
      FileStore store(tmp / "n", small_segments(segment_bytes));
      store.load();
      for (Storage* s : {static_cast<Storage*>(&store), static_cast<Storage*>(&model)}) {
        s->append(make_entries(1, 30, 1));
        s->sync();
        s->append(make_entries(12, 3, 2));  // drops 12..30, adds 12..14 at term 2
        s->sync();
        s->append(make_entries(14, 2, 3));  // drops 14, adds 14..15 at term 3
        s->sync();
      }
    }
    const RecoveredState state = reload(tmp / "n", small_segments(segment_bytes));
    EXPECT_TRUE(same_state(model.load(), state)) << "segment bytes " << segment_bytes;
    ASSERT_EQ(state.entries.size(), 15u);
    EXPECT_EQ(state.entries[12].term, 2u);
    EXPECT_EQ(state.entries[13].term, 3u);
  }
}

ConfState grown_conf(Index index) { return ConfState{{0, 1, 2, 3}, {4}, {4}, index}; }

/// Forty entries of term 2, commit 30 and a snapshot at 30, each with `conf`.
void write_forty_and_snapshot(const std::filesystem::path& dir, const ConfState& conf = {}) {
  FileStore store(dir, small_segments());
  store.load();
  store.append(make_entries(1, 40, 2));
  store.save_hard_state({2, 0, 30, conf});
  store.sync();
  Snapshot snap = make_snapshot(30, 2, "state at 30");
  snap.meta.conf = conf;
  store.install_snapshot(snap);
  store.sync();
}

TEST(FileStore, MatchingSnapshotKeepsTheLogAfterIt) {
  TempDir tmp;
  const auto dir = tmp / "n";
  write_forty_and_snapshot(dir);
  const RecoveredState state = reload(dir, small_segments());
  ASSERT_TRUE(state.snapshot);
  EXPECT_EQ(state.snapshot->meta, (SnapshotMeta{30, 2}));
  EXPECT_EQ(*state.snapshot->data, "state at 30");
  EXPECT_EQ(state.entries, make_entries(31, 10, 2));
  EXPECT_EQ(state.hard_state, (HardState{2, 0, 30}));
  // Only the checkpoint (and what follows it) and its snapshot remain.
  EXPECT_EQ(files_with_prefix(dir, "snapshot-").size(), 1u);
  const auto segments = files_with_prefix(dir, "segment-");
  EXPECT_EQ(files_with_prefix(dir, "snapshot-")[0].substr(9, 20), segments.front().substr(8, 20));
}

TEST(FileStore, NonMatchingSnapshotDropsTheWholeLog) {
  TempDir tmp;
  MemoryStore model;
  {
    FileStore store(tmp / "n");
    store.load();
    for (Storage* s : {static_cast<Storage*>(&store), static_cast<Storage*>(&model)}) {
      s->append(make_entries(1, 20, 1));
      s->sync();
      s->install_snapshot(make_snapshot(10, 3, "leader's state"));  // term differs at 10
      s->append(make_entries(11, 2, 3));
      s->sync();
    }
  }
  const RecoveredState state = reload(tmp / "n");
  EXPECT_TRUE(same_state(model.load(), state));
  EXPECT_EQ(state.entries, make_entries(11, 2, 3));
}

TEST(FileStore, SnapshotBeyondTheLogAndEntriesBelowItAreIgnored) {
  TempDir tmp;
  MemoryStore model;
  {
    FileStore store(tmp / "n");
    store.load();
    for (Storage* s : {static_cast<Storage*>(&store), static_cast<Storage*>(&model)}) {
      s->append(make_entries(1, 5, 1));
      s->install_snapshot(make_snapshot(50, 4, "far ahead"));
      s->append(make_entries(45, 10, 4));  // 45..50 are folded into the snapshot
      s->append(make_entries(70, 2, 4));   // a gap: dropped, as MemoryStore does
      s->sync();
    }
  }
  const RecoveredState state = reload(tmp / "n");
  EXPECT_TRUE(same_state(model.load(), state));
  EXPECT_EQ(state.entries, make_entries(51, 4, 4));
}

TEST(FileStore, CompactionDeletesEveryOlderSegmentAndSnapshot) {
  TempDir tmp;
  const auto dir = tmp / "n";
  FileStore store(dir, small_segments(256));
  store.load();
  store.append(make_entries(1, 100, 1, 30));
  store.sync();
  EXPECT_GT(files_with_prefix(dir, "segment-").size(), 10u);
  store.install_snapshot(make_snapshot(60, 1, "first"));
  store.sync();
  store.append(make_entries(101, 50, 1, 30));
  store.sync();
  store.install_snapshot(make_snapshot(140, 1, "second"));
  store.sync();
  const auto snapshots = files_with_prefix(dir, "snapshot-");
  ASSERT_EQ(snapshots.size(), 1u);
  const auto segments = files_with_prefix(dir, "segment-");
  EXPECT_EQ(segments.front().substr(8, 20), snapshots[0].substr(9, 20));
  EXPECT_LE(segments.size(), 3u);  // the 10 kept entries, rolled over at 256 bytes
  const RecoveredState state = reload(dir);
  EXPECT_EQ(state.entries, make_entries(141, 10, 1, 30));
  EXPECT_EQ(*state.snapshot->data, "second");
}

TEST(FileStore, ConfigurationsOfTheHardStateAndTheSnapshotRoundTrip) {
  TempDir tmp;
  const auto dir = tmp / "n";
  write_forty_and_snapshot(dir, grown_conf(12));
  const RecoveredState state = reload(dir, small_segments());
  EXPECT_EQ(state.hard_state.conf, grown_conf(12));
  ASSERT_TRUE(state.snapshot);
  EXPECT_EQ(state.snapshot->meta.conf, grown_conf(12));
  EXPECT_EQ(state.entries, make_entries(31, 10, 2));
}

/// Rewrites a segment's header as version 1 wrote it.
void make_version_one(const std::filesystem::path& path) {
  std::string data = testing::read_all(path);
  const format::SegmentHeaderResult decoded = format::decode_segment_header(data);
  ASSERT_TRUE(decoded.header) << decoded.error;
  format::SegmentHeader header = *decoded.header;
  header.version = 1;
  data.replace(0, format::kSegmentHeaderBytes, format::encode_segment_header(header));
  testing::write_all(path, data);
}

TEST(FileStore, VersionOneFilesAreReadAndNeverAppendedTo) {
  TempDir tmp;
  const auto dir = tmp / "n";
  {
    // No configuration anywhere: exactly the records version 1 wrote.
    FileStore store(dir);
    store.load();
    store.save_hard_state({3, 1, 5});
    store.append(make_entries(1, 8, 3));
    store.sync();
  }
  const auto segments = files_with_prefix(dir, "segment-");
  ASSERT_EQ(segments.size(), 1u);
  make_version_one(dir / segments[0]);
  {
    FileStore store(dir);
    const RecoveredState state = store.load();
    EXPECT_EQ(state.hard_state, (HardState{3, 1, 5}));
    EXPECT_EQ(state.entries, make_entries(1, 8, 3));
    // The first write after it starts a version-2 segment.
    store.save_hard_state({4, 1, 8, grown_conf(0)});
    store.append(make_entries(9, 2, 4));
    store.sync();
  }
  const auto after = files_with_prefix(dir, "segment-");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(testing::read_all(dir / after[0]).size(), testing::read_all(dir / segments[0]).size());
  const auto header = format::decode_segment_header(testing::read_all(dir / after[1])).header;
  ASSERT_TRUE(header);
  EXPECT_EQ(header->version, format::kVersion);
  const RecoveredState state = reload(dir);
  EXPECT_EQ(state.hard_state, (HardState{4, 1, 8, grown_conf(0)}));
  EXPECT_EQ(state.entries.size(), 10u);
}

TEST(FileStore, UnsyncedWritesAreLostLikeACrash) {
  TempDir tmp;
  {
    FileStore store(tmp / "n");
    store.load();
    store.append(make_entries(1, 3, 1));
    store.save_hard_state({1, 0, 0});
    store.sync();
    store.append(make_entries(4, 3, 1));
    store.save_hard_state({2, 1, 3});
    store.install_snapshot(make_snapshot(2, 1, "never synced"));
  }  // destroyed without sync()
  const RecoveredState state = reload(tmp / "n");
  EXPECT_EQ(state.entries, make_entries(1, 3, 1));
  EXPECT_EQ(state.hard_state, (HardState{1, 0, 0}));
  EXPECT_FALSE(state.snapshot);
}

TEST(FileStore, LoadAgainReturnsTheCurrentStateIncludingUnsyncedWrites) {
  TempDir tmp;
  FileStore store(tmp / "n", small_segments(200));
  MemoryStore model;
  store.load();
  for (Storage* s : {static_cast<Storage*>(&store), static_cast<Storage*>(&model)}) {
    s->append(make_entries(1, 10, 1));
    s->sync();
    s->append(make_entries(8, 6, 2));
    s->save_hard_state({2, 1, 5});
    s->install_snapshot(make_snapshot(9, 2, "mid"));
    s->append(make_entries(14, 2, 2));
  }
  EXPECT_TRUE(same_state(model.load(), store.load()));
  store.sync();
  model.sync();
  EXPECT_TRUE(same_state(model.load(), store.load()));
}

TEST(FileStore, WritesBeforeLoadRecoverFirst) {
  TempDir tmp;
  {
    FileStore store(tmp / "n");
    store.append(make_entries(1, 4, 1));
    store.sync();
  }
  {
    FileStore store(tmp / "n");
    store.append(make_entries(5, 2, 1));  // no load(): the store recovers implicitly
    store.sync();
  }
  EXPECT_EQ(reload(tmp / "n").entries, make_entries(1, 6, 1));
}

TEST(FileStore, GroupCommitUsesOneWriteAndOneFdatasyncPerSync) {
  TempDir tmp;
  FileStore store(tmp / "n");
  store.load();
  store.append(make_entries(1, 1, 1));
  store.sync();  // creates the first segment (write, fdatasync, rename, dir fsync)
  const FileStoreStats before = store.stats();
  for (Index i = 2; i < 102; ++i) {
    store.append(make_entries(i, 1, 1, 100));
    store.save_hard_state({1, 0, i - 1});
  }
  store.sync();
  const FileStoreStats after = store.stats();
  EXPECT_EQ(after.write_calls - before.write_calls, 1u);
  EXPECT_EQ(after.fdatasyncs - before.fdatasyncs, 1u);
  EXPECT_EQ(after.dir_fsyncs - before.dir_fsyncs, 0u);
  store.sync();  // nothing new: no system call at all
  EXPECT_EQ(store.stats().fdatasyncs, after.fdatasyncs);
  EXPECT_EQ(reload(tmp / "n").entries.size(), 101u);
}

TEST(FileStore, FsyncNeverStillWritesButNeverSyncs) {
  TempDir tmp;
  FileStoreOptions options = small_segments(300);
  options.fsync = FsyncMode::Never;
  {
    FileStore store(tmp / "n", options);
    store.load();
    store.append(make_entries(1, 30, 1));
    store.install_snapshot(make_snapshot(10, 1, "s"));
    store.sync();
    EXPECT_EQ(store.stats().fdatasyncs, 0u);
    EXPECT_EQ(store.stats().dir_fsyncs, 0u);
    EXPECT_GT(store.stats().write_calls, 0u);
  }
  EXPECT_EQ(reload(tmp / "n", options).entries, make_entries(11, 20, 1));
}

TEST(FileStore, OversizedEntryIsRefusedWithoutFailingTheStore) {
  TempDir tmp;
  FileStore store(tmp / "n");
  store.load();
  Entry huge = testing::make_entry(1, 1, 0);
  huge.data.assign(format::kRecordPayloadBytesMax, 'x');
  EXPECT_THROW(store.append({huge}), StorageError);
  EXPECT_FALSE(store.failed());
  store.append(make_entries(1, 1, 1));
  store.sync();
  EXPECT_EQ(reload(tmp / "n").entries.size(), 1u);
}

TEST(FileStore, ParsesFsyncModes) {
  EXPECT_EQ(parse_fsync_mode("always"), FsyncMode::Always);
  EXPECT_EQ(parse_fsync_mode("never"), FsyncMode::Never);
  EXPECT_EQ(parse_fsync_mode("sometimes"), std::nullopt);
  EXPECT_EQ(fsync_mode_name(FsyncMode::Never), "never");
}

}  // namespace
}  // namespace raft::storage
