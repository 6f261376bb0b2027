// Disk full and permission errors: a clear StorageError naming the file, the
// store refuses every later call, and the directory still loads afterwards
// with exactly what was synced.
//
// A small tmpfs (mounted here; needs root) gives a real ENOSPC and a real
// read-only file system. Without mount rights the tmpfs tests skip with a
// message; the RLIMIT_FSIZE test (EFBIG) runs everywhere.
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <cstring>

#include <gtest/gtest.h>

#include "storage/file_store.hpp"
#include "storage_test_util.hpp"

namespace raft::storage {
namespace {

namespace fs = std::filesystem;
using testing::make_entries;
using testing::make_snapshot;
using testing::TempDir;

/// A tmpfs of `size` mounted inside a temporary directory, unmounted at the end.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const std::string& size) : mount_point_(tmp_ / "mnt") {
    fs::create_directory(mount_point_);
    const std::string options = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const fs::path& path() const { return mount_point_; }
  bool remount(bool read_only) {
    const unsigned long flags = MS_REMOUNT | (read_only ? MS_RDONLY : 0);
    return ::mount("tmpfs", mount_point_.c_str(), "tmpfs", flags, nullptr) == 0;
  }

 private:
  TempDir tmp_;
  fs::path mount_point_;
  bool mounted_ = false;
  std::string error_;
};

#define SKIP_UNLESS_MOUNTED(tmpfs)                                                  \
  if (!(tmpfs).mounted()) {                                                         \
    GTEST_SKIP() << "cannot mount a tmpfs (" << (tmpfs).error()                     \
                 << "; needs root or CAP_SYS_ADMIN); the RLIMIT_FSIZE test covers " \
                    "write errors instead";                                         \
  }

/// Every write-side call of a failed store throws and mentions the first error.
void expect_refuses_everything(FileStore& store, const std::string& first_error) {
  EXPECT_TRUE(store.failed());
  auto expect_refusal = [&](const char* what, auto&& call) {
    try {
      call();
      ADD_FAILURE() << what << " succeeded on a failed store";
    } catch (const StorageError& e) {
      EXPECT_NE(std::string(e.what()).find(first_error), std::string::npos) << e.what();
    }
  };
  expect_refusal("append", [&] { store.append(make_entries(1000, 1, 9)); });
  expect_refusal("save_hard_state", [&] { store.save_hard_state({9, 1, 0}); });
  expect_refusal("install_snapshot", [&] { store.install_snapshot(make_snapshot(1, 1, "x")); });
  expect_refusal("sync", [&] { store.sync(); });
  expect_refusal("load", [&] { store.load(); });
}

/// Appends batches of `entry_bytes`-byte entries, syncing each, until a
/// StorageError. Returns the entries that were synced and the error text.
std::pair<std::vector<Entry>, std::string> fill_until_error(FileStore& store,
                                                            std::size_t entry_bytes) {
  std::vector<Entry> synced;
  for (Index next = 1; next < 100000; next += 4) {
    auto batch = make_entries(next, 4, 1, entry_bytes);
    try {
      store.append(batch);
      store.save_hard_state({1, 0, next});
      store.sync();
    } catch (const StorageError& e) {
      return {synced, e.what()};
    }
    synced.insert(synced.end(), batch.begin(), batch.end());
  }
  ADD_FAILURE() << "the disk never filled up";
  return {synced, ""};
}

TEST(FileStoreFaults, DiskFullIsAClearErrorAndTheFilesStillLoad) {
  SmallTmpfs tmpfs("64k");
  SKIP_UNLESS_MOUNTED(tmpfs);
  // Several shapes, so that the disk fills up both while appending to the
  // open segment and while creating a new one.
  bool failed_appending = false;
  bool failed_creating = false;
  for (std::uint64_t segment_bytes : {16000, 9000, 5000, 3000, 2000}) {
    SCOPED_TRACE("segment bytes " + std::to_string(segment_bytes));
    const fs::path dir = tmpfs.path() / "node-0";
    fs::remove_all(dir);
    FileStoreOptions options;
    options.segment_bytes_max = segment_bytes;
    FileStore store(dir, options);
    store.load();
    const auto [synced, error] = fill_until_error(store, 900);
    ASSERT_FALSE(synced.empty());
    EXPECT_NE(error.find(dir.string() + "/segment-"), std::string::npos) << error;
    EXPECT_NE(error.find("No space left on device"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
    (error.find(".tmp:") != std::string::npos ? failed_creating : failed_appending) = true;
    expect_refuses_everything(store, error);

    FileStore reopened(dir, options);
    const RecoveredState state = reopened.load();
    EXPECT_EQ(state.entries, synced);
    EXPECT_TRUE(reopened.warnings().empty()) << reopened.warnings()[0];
    for (const auto& e : fs::directory_iterator(dir)) {
      EXPECT_NE(e.path().extension(), ".tmp") << "left behind: " << e.path();
    }
  }
  EXPECT_TRUE(failed_appending);
  EXPECT_TRUE(failed_creating);
}

TEST(FileStoreFaults, DiskFullWhileWritingASnapshotKeepsTheOldState) {
  SmallTmpfs tmpfs("64k");
  SKIP_UNLESS_MOUNTED(tmpfs);
  const fs::path dir = tmpfs.path() / "node-0";
  {
    FileStore store(dir);
    store.load();
    store.append(make_entries(1, 10, 1, 100));
    store.save_hard_state({1, 0, 10});
    store.sync();
    store.install_snapshot(make_snapshot(8, 1, std::string(200 * 1024, 's')));
    try {
      store.sync();
      FAIL() << "a 200 KiB snapshot fitted on a 64 KiB file system";
    } catch (const StorageError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dir.string() + "/snapshot-00000000000000000002.snap.tmp"),
                std::string::npos)
          << what;
      EXPECT_NE(what.find("No space left on device"), std::string::npos) << what;
      expect_refuses_everything(store, what);
    }
  }
  FileStore reopened(dir);
  const RecoveredState state = reopened.load();
  EXPECT_FALSE(state.snapshot);
  EXPECT_EQ(state.entries, make_entries(1, 10, 1, 100));
  EXPECT_EQ(state.hard_state, (HardState{1, 0, 10}));
}

TEST(FileStoreFaults, FileSizeLimitIsAClearErrorAndTheFilesStillLoad) {
  TempDir tmp;
  const fs::path dir = tmp / "node-0";
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto* const old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
  struct rlimit limited = saved;
  limited.rlim_cur = 20000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);

  std::pair<std::vector<Entry>, std::string> result;
  {
    FileStoreOptions options;
    options.fsync = FsyncMode::Never;
    FileStore store(dir, options);
    store.load();
    result = fill_until_error(store, 700);
    if (!result.second.empty()) expect_refuses_everything(store, result.second);
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);

  const auto& [synced, error] = result;
  EXPECT_NE(error.find(dir.string() + "/segment-00000000000000000001.log"), std::string::npos)
      << error;
  EXPECT_NE(error.find("File too large"), std::string::npos) << error;
  FileStore reopened(dir);
  EXPECT_EQ(reopened.load().entries, synced);
  EXPECT_TRUE(reopened.warnings().empty()) << "the failed write was truncated back";
}

TEST(FileStoreFaults, ReadOnlyFileSystemRefusesWritesButStillLoads) {
  SmallTmpfs tmpfs("1m");
  SKIP_UNLESS_MOUNTED(tmpfs);
  const fs::path dir = tmpfs.path() / "node-0";
  {
    FileStore store(dir);
    store.load();
    store.append(make_entries(1, 5, 1));
    store.sync();
  }
  ASSERT_TRUE(tmpfs.remount(true)) << std::strerror(errno);
  {
    FileStore store(dir);
    EXPECT_EQ(store.load().entries, make_entries(1, 5, 1));  // reading needs no write access
    store.append(make_entries(6, 1, 1));
    try {
      store.sync();
      ADD_FAILURE() << "wrote to a read-only file system";
    } catch (const StorageError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dir.string() + "/segment-00000000000000000001.log"), std::string::npos)
          << what;
      EXPECT_NE(what.find("Read-only file system"), std::string::npos) << what;
      expect_refuses_everything(store, what);
    }
  }
  {
    // A brand-new node cannot even create its directory.
    FileStore store(tmpfs.path() / "node-1");
    store.load();
    store.save_hard_state({1, 1, 0});
    try {
      store.sync();
      ADD_FAILURE() << "created a directory on a read-only file system";
    } catch (const StorageError& e) {
      EXPECT_NE(std::string(e.what()).find((tmpfs.path() / "node-1").string()), std::string::npos)
          << e.what();
    }
  }
  ASSERT_TRUE(tmpfs.remount(false));
  FileStore store(dir);
  EXPECT_EQ(store.load().entries, make_entries(1, 5, 1));
  store.append(make_entries(6, 1, 1));
  store.sync();
}

}  // namespace
}  // namespace raft::storage
