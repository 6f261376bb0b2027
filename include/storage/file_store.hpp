#pragma once
/// FileStore: the durable raft::Storage of one node, kept in one directory
/// (`<data_dir>/node-<rank>/`).
///
/// ON-DISK FORMAT (version 2; all integers little-endian; version 1 files are
/// read as they are, see file_format.hpp)
///
///   segment-<seq>.log    the log stream, <seq> = 20 decimal digits, 1, 2, ...
///   snapshot-<seq>.snap  the snapshot belonging to checkpoint segment <seq>
///   *.tmp                a file being written; never read, removed on load
///
/// Segment file = 40-byte header, then records:
///   header: magic "RAFTSEG\0" | u32 version | u32 flags (bit 0: checkpoint) |
///           u64 seq (must match the file name) | u64 sealed_bytes |
///           u32 reserved (0) | u32 CRC-32C of the 36 bytes before it
///   record: u32 payload length (1 .. 64 MiB) | u32 CRC-32C of (length, payload) |
///           payload = u8 type + fields:
///     1 hard state  u64 term, i32 voted_for, u64 commit
///     2 entry       u64 term, u64 index, u8 entry type, data (rest of payload)
///     3 snapshot    u64 last_index, u64 last_term, u64 data bytes, u32 data CRC
///     4 hard state with configuration: the fields of 1, then a configuration
///     5 snapshot marker with configuration: the fields of 3, then a configuration
///   configuration: u64 index, u32 voters n, u32 learners m, u32 promoting k,
///                  then n + m + k u32 node ids (HardState::conf and
///                  SnapshotMeta::conf; a record without one is written as 1 or 3)
///
/// The records are a replay log with exactly MemoryStore's semantics: a hard
/// state record replaces the hard state, an entry record at or below the last
/// index first drops the stored suffix from its index on (conflict
/// truncation), a snapshot marker installs snapshot-<seq>.snap. So conflict
/// truncation is a plain append: no file is ever modified in place except by
/// appending at its end.
///
/// Hard state lives in the same stream: a 29-byte record, only when it
/// changed, riding on the same write and fdatasync as the entries (no second
/// file to sync). Every segment starts with one, so the hard state never
/// depends on a segment that compaction may delete.
///
/// A checkpoint segment starts with hard state, snapshot marker, and a copy of
/// the entries the snapshot retained: it alone reproduces the whole state, so
/// every older segment and snapshot is dead once it is durable. Copying costs
/// O(entries after the snapshot index), normally a short tail, and spares any
/// in-place rewrite. Recovery replays from the newest checkpoint (or from
/// segment 1 if there is none) to the newest segment; the hard state is the
/// last hard state record in that stream.
///
/// Snapshot file = 48-byte header, then the snapshot data:
///   magic "RAFTSNP\0" | u32 version | u32 flags (0) | u64 last_index |
///   u64 last_term | u64 data bytes | u32 data CRC-32C | u32 header CRC-32C
///
/// HOW THINGS ARE WRITTEN
/// - Writes are encoded into memory at call time; sync() writes them (one
///   pwrite for the open segment, one writev per new file) and makes them
///   durable: one fdatasync of the segment for a whole batch (group commit).
/// - With fsync on, the open segment is extended ahead of its records in
///   steps of kPreallocateBytes (fallocate(2), which reads back as zeros),
///   so that most fdatasyncs flush only data, not a new file size (on ext4
///   in this VM a 200-byte append's fdatasync took 199-219 us at p50 with
///   three writers, against 159-177 us inside allocated space). Before a
///   newer segment is created, the open one is cut back to its records.
/// - A new segment (roll-over at `segment_bytes_max`, or a checkpoint) is
///   written completely as segment-<seq>.log.tmp, fdatasync'd, renamed, and
///   the directory fsync'd, after the previous segment was fdatasync'd. Its
///   header records those `sealed_bytes`, which can never be a torn tail.
/// - install_snapshot: snapshot-<seq>.snap.tmp is written, fdatasync'd,
///   renamed, directory fsync'd; then the checkpoint segment as above; then
///   older segments and snapshots are deleted and the directory fsync'd.
///
/// WHAT A CRASH CAN LEAVE BEHIND, AND WHAT load() DOES WITH IT
/// - A torn or partial record at the end of the newest segment, past its
///   sealed bytes: unsynced data. It is cut off (the file is truncated at
///   the first sync() after load) and reported in warnings(). Zeros alone
///   there are space allocated ahead: cut off the same way, without a
///   warning.
/// - *.tmp files: an interrupted new file; removed with a warning.
/// - Segments older than the newest checkpoint, snapshots other than the
///   newest checkpoint's (an interrupted clean-up, or a snapshot whose
///   checkpoint never landed): removed with a warning.
/// Everything else is refused with raft::StorageError naming the file: a bad
/// record followed by a valid one, any bad record in an older segment or in a
/// sealed part, a missing segment in the sequence, a hard state or entry that
/// does not parse, a bad magic, header checksum or unknown format version, a
/// missing or damaged snapshot file, snapshot files without any segment.
/// Only a directory without segment or snapshot files (absent, empty, or
/// holding nothing but *.tmp leftovers) is a fresh node.
///
/// Assumption: the file system keeps appended data in order within the newest
/// file (ext4 data=ordered does); if a crash persisted a later page of an
/// unsynced write but not an earlier one, load() refuses to start rather than
/// guess, and the operator decides.
///
/// Thread-safety: none; one owner (the node's loop). One FileStore per
/// directory at a time: nothing locks it.
///
/// Errors: any failed system call while writing (disk full, permission
/// denied, read-only file system, EIO from fdatasync) throws StorageError
/// naming the file and the system's reason; a segment write that failed
/// halfway is truncated back first, so no file is left corrupt. The store
/// then refuses every later call (load, writes, sync) with a StorageError
/// repeating the first one: reopen the directory with a new FileStore, which
/// recovers exactly what was synced.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raft/storage.hpp"
#include "storage/file_format.hpp"

namespace raft::storage {

enum class FsyncMode : std::uint8_t {
  Always,  ///< sync() fdatasyncs: the Storage contract holds.
  Never,   ///< sync() only hands data to the OS: a power cut may lose or tear
           ///< acknowledged writes. For demos on slow disks only.
};

/// "always" / "never" (the `--fsync` flag); nullopt for anything else.
std::optional<FsyncMode> parse_fsync_mode(std::string_view text);
std::string_view fsync_mode_name(FsyncMode mode);

/// How far ahead of its records the open segment is allocated (fsync on).
inline constexpr std::uint64_t kPreallocateBytes = 1u << 20;

struct FileStoreOptions {
  FsyncMode fsync = FsyncMode::Always;
  /// A segment rolls over to a new file once it holds this many bytes.
  std::uint64_t segment_bytes_max = 8u << 20;
};

/// Counters for tests and the benchmark (group commit shows up here).
struct FileStoreStats {
  std::uint64_t syncs = 0;
  std::uint64_t fdatasyncs = 0;  ///< file fdatasync calls (0 with FsyncMode::Never)
  std::uint64_t dir_fsyncs = 0;
  std::uint64_t write_calls = 0;  ///< pwrite/writev system calls
  std::uint64_t bytes_written = 0;
};

class FileStore final : public Storage {
 public:
  /// `dir` is the node's own directory; it is created on the first sync()
  /// that has something to write. The constructor touches no file.
  explicit FileStore(std::filesystem::path dir, FileStoreOptions options = {});
  /// Drops unsynced writes, as a crash would: a clean shutdown syncs first.
  ~FileStore() override;
  FileStore(const FileStore&) = delete;
  FileStore& operator=(const FileStore&) = delete;

  /// First call: recovers from disk (see the top of this file) and fills
  /// warnings(). Later calls return the current state, unsynced writes
  /// included, like MemoryStore. Writes before any load() load implicitly.
  RecoveredState load() override;
  void save_hard_state(const HardState& state) override;
  /// Throws StorageError (without failing the store) for an entry larger
  /// than the format allows, before anything is buffered.
  void append(std::vector<Entry> entries) override;
  void install_snapshot(const Snapshot& snapshot) override;
  void sync() override;

  /// What the last recovery cut off or cleaned up, one line each, naming the
  /// file (and offset). For the caller to log.
  const std::vector<std::string>& warnings() const { return warnings_; }
  /// True once a write failed; every later call throws.
  bool failed() const { return !failure_.empty(); }
  const FileStoreStats& stats() const { return stats_; }
  const std::filesystem::path& dir() const { return dir_; }

  std::filesystem::path segment_path(std::uint64_t seq) const;
  std::filesystem::path snapshot_path(std::uint64_t seq) const;

 private:
  /// Where one live entry's record is, so the store does not keep a second
  /// copy of the log in memory (the core has one).
  struct EntryLoc {
    Term term = 0;
    std::uint64_t seq = 0;
    std::uint64_t offset = 0;  ///< of the record within the segment file
    std::uint64_t bytes = 0;
  };

  struct Segment {
    std::uint64_t seq = 0;
    /// Its header's format version; only current-version segments take writes.
    std::uint32_t version = format::kVersion;
    bool checkpoint = false;
    bool on_disk = false;
    /// On disk: the file's valid length. Not yet created: the header size,
    /// where its records will start.
    std::uint64_t disk_bytes = 0;
    std::string pending;  ///< encoded records not yet written, after disk_bytes
    /// A checkpoint not yet created: the snapshot to write before it.
    std::optional<Snapshot> snapshot;
    std::optional<format::SnapshotMarker> marker;

    std::uint64_t bytes() const { return disk_bytes + pending.size(); }
  };

  class UniqueFd {
   public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
      const int fd = fd_;
      fd_ = -1;
      return fd;
    }
    void reset(int fd = -1);

   private:
    int fd_ = -1;
  };

  /// One open read-only file at a time while reading entries back.
  struct ReadCache {
    std::uint64_t seq = 0;
    UniqueFd fd;
  };

  /// The store's files by kind, as recovery finds them.
  struct DirListing {
    std::map<std::uint64_t, std::filesystem::path> segments;
    std::map<std::uint64_t, std::filesystem::path> snapshots;
    std::vector<std::filesystem::path> tmps;
  };
  /// What replaying the segments found beyond the RecoveredState.
  struct Replay {
    std::optional<format::SnapshotMarker> marker;
    bool cut = false;  ///< the newest segment ends in a torn write
    std::uint64_t cut_offset = 0;
  };
  /// Where a record lies, for EntryLoc and for error messages.
  struct RecordAt {
    const std::filesystem::path& path;
    std::uint64_t seq = 0;
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;
  };

  void throw_if_failed() const;
  void ensure_loaded();
  // Recovery, in order: list, find the base, replay, load the snapshot, clean up.
  RecoveredState recover();
  DirListing list_directory();
  std::uint64_t find_base_segment(const std::map<std::uint64_t, std::filesystem::path>& segments);
  void replay_segment(const std::filesystem::path& path, std::uint64_t seq, std::uint64_t base_seq,
                      bool last, RecoveredState& state, Replay& replay);
  /// A bad record: throws unless it is a torn write at the end of the newest segment.
  void cut_torn_tail(const std::filesystem::path& path, const std::string& data, std::size_t offset,
                     std::uint64_t sealed_bytes, bool last, format::RecordStatus status);
  void replay_record(const RecordAt& where, std::string_view payload, bool marker_allowed,
                     RecoveredState& state, Replay& replay);
  void replay_entry(const RecordAt& where, Entry entry, RecoveredState& state);
  Snapshot load_snapshot_file(std::uint64_t base_seq, const format::SnapshotMarker& marker);
  void remove_leftovers(const DirListing& files, std::uint64_t base_seq, bool has_marker);
  RecoveredState current_state();
  void collect_garbage_after_load(std::uint64_t base_seq);

  Segment& start_segment(bool checkpoint, const Snapshot* snapshot);
  Segment& writable_tail();
  void buffer_entry(const Entry& entry);
  Entry read_entry(const EntryLoc& loc, ReadCache& cache);
  Segment& segment(std::uint64_t seq);

  void sync_unchecked();
  void ensure_directory();
  void open_tail(Segment& seg);
  void write_pending(Segment& seg);
  /// Extends the open segment's file (zeros) so that `bytes` fit in it.
  void allocate_tail(std::uint64_t bytes);
  /// Cuts the open segment's file back to its records (before a newer one).
  void trim_tail();
  void create_segment(Segment& seg);
  void write_snapshot_file(std::uint64_t seq, const Snapshot& snapshot,
                           const format::SnapshotMarker& marker);
  /// Writes `header` then `body` as `path` through `path`.tmp, fdatasync'd
  /// before the rename: `path` is absent or whole (the temporary is removed
  /// on failure). The caller fsyncs the directory. Returns the descriptor,
  /// valid across the rename.
  UniqueFd write_whole_file(const std::filesystem::path& path, const std::string& header,
                            const std::string& body);
  void datasync_tail();
  void datasync(int fd, const std::filesystem::path& path);
  void fsync_dir();
  void collect_garbage(std::uint64_t base_seq);

  std::filesystem::path dir_;
  FileStoreOptions options_;
  std::vector<std::string> warnings_;
  std::string failure_;  ///< the first write error; non-empty = failed
  FileStoreStats stats_;

  bool loaded_ = false;
  HardState hard_state_;
  std::optional<Snapshot> snapshot_;
  Index first_index_ = 1;  ///< index of locs_[0]
  std::vector<EntryLoc> locs_;

  /// Live segments, consecutive seqs: the base (segment 1 or the newest
  /// checkpoint) to the tail. Only the tail may have pending bytes among
  /// those on disk; segments not yet created follow it.
  std::deque<Segment> segments_;
  std::uint64_t highest_seq_on_disk_ = 0;
  /// The segment whose torn tail load() found, not yet truncated on disk.
  std::optional<std::uint64_t> cut_seq_;

  UniqueFd tail_fd_;
  std::uint64_t tail_fd_seq_ = 0;
  bool tail_dirty_ = false;  ///< written since its last fdatasync
  /// The open segment's file size: its records, then allocated zeros.
  std::uint64_t tail_file_bytes_ = 0;
  UniqueFd dir_fd_;
};

}  // namespace raft::storage
