#include "sim_disk.hpp"

#include <cstdint>
#include <fstream>
#include <utility>

namespace raft::sim {

namespace {

storage::FileStoreOptions sim_file_options() {
  storage::FileStoreOptions o;
  o.fsync = storage::FsyncMode::Never;
  // Small segments, so roll-overs and multi-segment recovery happen often.
  o.segment_bytes_max = 4096;
  return o;
}

}  // namespace

SimDisk::SimDisk(std::filesystem::path dir, bool lose_synced_tail)
    : dir_(std::move(dir)),
      lose_synced_tail_(lose_synced_tail),
      file_(std::make_unique<storage::FileStore>(dir_, sim_file_options())) {}

Storage& SimDisk::store() {
  if (file_) return *file_;
  return memory_;
}

void SimDisk::crash(std::string_view torn_tail) {
  if (!on_disk()) {
    memory_.crash();
    return;
  }
  file_.reset();  // drops the unsynced writes, as the dying process would
  const std::filesystem::path segment = newest_segment();
  if (segment.empty()) return;
  if (lose_synced_tail_) {
    // Past the 40-byte header, every byte is a record that was synced.
    constexpr std::uintmax_t kCut = 30;
    const std::uintmax_t size = std::filesystem::file_size(segment);
    if (size > 40 + kCut) std::filesystem::resize_file(segment, size - kCut);
    return;
  }
  if (torn_tail.empty()) return;
  std::ofstream out(segment, std::ios::binary | std::ios::app);
  out.write(torn_tail.data(), static_cast<std::streamsize>(torn_tail.size()));
}

RecoveredState SimDisk::recover(std::vector<std::string>* warnings) {
  if (!on_disk()) return memory_.load();
  file_ = std::make_unique<storage::FileStore>(dir_, sim_file_options());
  RecoveredState state = file_->load();
  if (warnings != nullptr) *warnings = file_->warnings();
  return state;
}

std::filesystem::path SimDisk::newest_segment() const {
  std::error_code ec;
  std::filesystem::path newest;
  for (const auto& item : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = item.path().filename().string();
    // segment-<20 digits>.log: names sort as their sequence numbers do.
    if (name.rfind("segment-", 0) != 0 || !name.ends_with(".log")) continue;
    if (newest.empty() || name > newest.filename().string()) newest = item.path();
  }
  return newest;
}

}  // namespace raft::sim
