#pragma once
/// SimDisk: one simulated node's stable storage, either a MemoryStore or the
/// real FileStore in a directory of its own. A crash is what killing the
/// process does: every write not yet synced is lost (both stores buffer
/// writes in memory until sync()). On disk a crash may also leave a torn
/// tail, bytes of a write the crash cut short at the end of the newest
/// segment, which recovery must cut off. A restart recovers through load(),
/// so on disk every restart reads the node back from its files.
///
/// The FileStore runs with FsyncMode::Never: a simulated crash kills the
/// process, not the machine, so data handed to the OS survives it exactly as
/// it would after fdatasync, and the simulator stays fast.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "raft/storage.hpp"
#include "storage/file_store.hpp"
#include "storage/memory_store.hpp"

namespace raft::sim {

class SimDisk {
 public:
  /// In memory.
  SimDisk() = default;
  /// On disk, in `dir` (created on the first sync). `lose_synced_tail` is for
  /// the simulator's self-check only: a crash then also cuts bytes that were
  /// synced, as a disk that lies about fdatasync would.
  explicit SimDisk(std::filesystem::path dir, bool lose_synced_tail = false);

  bool on_disk() const { return !dir_.empty(); }
  Storage& store();
  /// The process dies. On disk, a non-empty `torn_tail` is appended to the
  /// newest segment file, as a write cut short by the crash would leave it.
  void crash(std::string_view torn_tail);
  /// Reads the durable state back; on disk, a new FileStore recovers the
  /// directory, and `warnings` receives what it cut off or cleaned up.
  RecoveredState recover(std::vector<std::string>* warnings);

 private:
  std::filesystem::path newest_segment() const;

  storage::MemoryStore memory_;
  std::filesystem::path dir_;
  bool lose_synced_tail_ = false;
  std::unique_ptr<storage::FileStore> file_;
};

}  // namespace raft::sim
