// Crash points: a power cut can stop any write at any byte. For every byte
// offset inside the last unsynced write we truncate a copy of the files there
// and recover: recovery must succeed, keep every synced entry, and hold
// nothing past the cut (no partial entry, no half record).
#include <memory>

#include <gtest/gtest.h>

#include "storage/file_format.hpp"
#include "storage/file_store.hpp"
#include "storage/memory_store.hpp"
#include "storage_test_util.hpp"

namespace raft::storage {
namespace {

namespace fs = std::filesystem;
using testing::make_entries;
using testing::make_snapshot;
using testing::same_state;
using testing::TempDir;

/// The loops below test what recovery makes of the bytes, not durability.
const FileStoreOptions kNoFsync{FsyncMode::Never, 8u << 20};

void copy_dir(const fs::path& from, const fs::path& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

/// What recovery must give when the last write stopped after `ops_done` of
/// its operations: the synced model plus exactly that many of them.
struct Op {
  std::optional<Entry> entry;
  std::optional<HardState> hard_state;
  std::size_t record_bytes = 0;
};

TEST(FileStoreCrash, EveryCutInTheLastAppendKeepsSyncedDataAndNoPartialEntry) {
  TempDir tmp;
  const fs::path dir = tmp / "node-0";
  MemoryStore synced;
  {
    FileStore store(dir);
    store.load();
    Index next = 1;
    for (std::size_t batch : {1u, 3u, 16u, 2u, 7u}) {
      auto entries = make_entries(next, batch, 1, 50);
      next += batch;
      const HardState hs{1, 0, next - 2};
      for (Storage* s : {static_cast<Storage*>(&store), static_cast<Storage*>(&synced)}) {
        s->append(entries);
        s->save_hard_state(hs);
        s->sync();
      }
    }
  }
  const fs::path tail = dir / testing::files_with_prefix(dir, "segment-").back();
  const std::uint64_t synced_bytes = fs::file_size(tail);

  // The last write: a conflicting suffix (term 2 from index 27 on), entries of
  // several sizes, a hard state in the middle and at the end.
  std::vector<Op> ops;
  {
    Index index = 27;
    for (std::size_t size : {0u, 1u, 100u, 7u, 300u}) {
      Entry e = testing::make_entry(index++, 2, size);
      ops.push_back({e, std::nullopt, format::entry_record_bytes(e)});
      if (index == 29) {
        ops.push_back({std::nullopt, HardState{2, 1, 20}, 8 + 21});
      }
    }
    ops.push_back({std::nullopt, HardState{2, 1, 28}, 8 + 21});
  }
  {
    FileStore store(dir);
    store.load();
    for (const Op& op : ops) {
      if (op.entry) store.append({*op.entry});
      if (op.hard_state) store.save_hard_state(*op.hard_state);
    }
    store.sync();
  }
  const std::string full = testing::read_all(tail);
  std::size_t total = 0;
  for (const Op& op : ops) total += op.record_bytes;
  ASSERT_EQ(full.size(), synced_bytes + total) << "the last write must be one contiguous append";

  const fs::path work = tmp / "work";
  for (std::uint64_t cut = synced_bytes; cut < full.size(); ++cut) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut));
    copy_dir(dir, work);  // the files after the last write...
    // ...cut short with truncate(2), not a rewrite: ext4 flushes a file rewritten after O_TRUNC
    // on close (auto_da_alloc), which would make this loop crawl.
    fs::resize_file(work / tail.filename(), cut);

    MemoryStore expected = synced;
    std::uint64_t end = synced_bytes;
    std::uint64_t boundary = synced_bytes;
    for (const Op& op : ops) {
      end += op.record_bytes;
      if (end > cut) break;
      boundary = end;
      if (op.entry) expected.append({*op.entry});
      if (op.hard_state) expected.save_hard_state(*op.hard_state);
    }
    FileStore store(work, kNoFsync);
    const RecoveredState got = store.load();
    ASSERT_TRUE(same_state(expected.load(), got));
    if (cut == boundary) {
      EXPECT_TRUE(store.warnings().empty());
    } else {
      ASSERT_EQ(store.warnings().size(), 1u);
      EXPECT_NE(store.warnings()[0].find(tail.filename().string()), std::string::npos);
      EXPECT_NE(store.warnings()[0].find("offset " + std::to_string(boundary)), std::string::npos)
          << store.warnings()[0];
    }
    // Every 13th cut: the store keeps working after the repair, and the torn
    // bytes never resurface behind new records.
    if (cut % 13 == 0) {
      const Index next = got.entries.back().index + 1;
      store.append(make_entries(next, 2, 3));
      store.sync();
      expected.append(make_entries(next, 2, 3));
      expected.sync();
      FileStore again(work, kNoFsync);
      ASSERT_TRUE(same_state(expected.load(), again.load()));
      EXPECT_TRUE(again.warnings().empty());
    }
  }
}

TEST(FileStoreCrash, ACrashLeavesSpaceAllocatedAheadThatRecoveryCutsSilently) {
  TempDir tmp;
  const fs::path dir = tmp / "node-0";
  const fs::path image = tmp / "crashed";
  const FileStoreOptions small{FsyncMode::Always, 64u << 10};  // a few roll-overs
  MemoryStore synced;
  {
    FileStore store(dir, small);
    store.load();
    for (Index next = 1; next <= 600; next += 20) {
      const auto entries = make_entries(next, 20, 1, 200);
      for (Storage* s : {static_cast<Storage*>(&store), static_cast<Storage*>(&synced)}) {
        s->append(entries);
        s->save_hard_state(HardState{1, 0, next});
        s->sync();
      }
    }
    // The store is open: the copy is what a power cut leaves.
    copy_dir(dir, image);
  }
  const auto segments = testing::files_with_prefix(image, "segment-");
  ASSERT_GE(segments.size(), 2u);
  EXPECT_EQ(fs::file_size(image / segments.back()) % kPreallocateBytes, 0u)
      << "the open segment was allocated ahead";
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    EXPECT_LT(fs::file_size(image / segments[i]), kPreallocateBytes)
        << segments[i] << " kept its zeros past a roll-over";
  }
  FileStore crashed(image, small);
  EXPECT_TRUE(same_state(synced.load(), crashed.load()));
  EXPECT_TRUE(crashed.warnings().empty()) << crashed.warnings()[0];
  // A clean close gives the space back.
  const auto closed = testing::files_with_prefix(dir, "segment-");
  EXPECT_LT(fs::file_size(dir / closed.back()), kPreallocateBytes);
}

TEST(FileStoreCrash, EveryCutWhileInstallingASnapshotRecoversOneSideOfIt) {
  TempDir tmp;
  const fs::path dir = tmp / "node-0";
  FileStoreOptions options;
  options.segment_bytes_max = 400;
  MemoryStore before;
  {
    FileStore store(dir, options);
    store.load();
    for (Storage* s : {static_cast<Storage*>(&store), static_cast<Storage*>(&before)}) {
      s->append(make_entries(1, 30, 1, 20));
      s->save_hard_state({1, 0, 25});
      s->sync();
    }
  }
  const fs::path pre = tmp / "pre";
  copy_dir(dir, pre);
  MemoryStore after = before;
  const Snapshot snap = make_snapshot(24, 1, std::string(500, 's'));
  {
    FileStore store(dir, options);
    store.load();
    store.install_snapshot(snap);
    store.sync();
    after.install_snapshot(snap);
    after.sync();
  }
  const std::string checkpoint_name = testing::files_with_prefix(dir, "segment-").front();
  const std::string snapshot_name = testing::files_with_prefix(dir, "snapshot-").front();
  const std::string checkpoint = testing::read_all(dir / checkpoint_name);
  const std::string snapshot = testing::read_all(dir / snapshot_name);
  const fs::path work = tmp / "work";
  FileStoreOptions no_fsync = options;
  no_fsync.fsync = FsyncMode::Never;  // the loops test recovery, not durability

  // 1. Cut while writing the snapshot's temporary file.
  for (std::size_t cut = 0; cut <= snapshot.size(); cut += 7) {
    copy_dir(pre, work);
    testing::write_all(work / (snapshot_name + ".tmp"), snapshot.substr(0, cut));
    FileStore store(work, no_fsync);
    ASSERT_TRUE(same_state(before.load(), store.load())) << "snapshot cut " << cut;
    EXPECT_FALSE(fs::exists(work / (snapshot_name + ".tmp")));
  }
  // 2. Snapshot renamed, cut while writing the checkpoint's temporary file.
  for (std::size_t cut = 0; cut <= checkpoint.size(); ++cut) {
    copy_dir(pre, work);
    testing::write_all(work / snapshot_name, snapshot);
    testing::write_all(work / (checkpoint_name + ".tmp"), checkpoint.substr(0, cut));
    FileStore store(work, no_fsync);
    ASSERT_TRUE(same_state(before.load(), store.load())) << "checkpoint cut " << cut;
    EXPECT_FALSE(fs::exists(work / snapshot_name)) << "an orphan snapshot is cleaned up";
  }
  // 3. Checkpoint renamed, old segments not yet deleted.
  copy_dir(pre, work);
  testing::write_all(work / snapshot_name, snapshot);
  testing::write_all(work / checkpoint_name, checkpoint);
  {
    FileStore store(work, options);
    ASSERT_TRUE(same_state(after.load(), store.load()));
    EXPECT_FALSE(store.warnings().empty());
  }
  EXPECT_EQ(testing::files_with_prefix(work, "segment-"),
            testing::files_with_prefix(dir, "segment-"));
}

}  // namespace
}  // namespace raft::storage
