#include "storage/file_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <system_error>
#include <utility>

#include "storage/crc32c.hpp"

namespace raft::storage {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSegmentPrefix = "segment-";
constexpr std::string_view kSegmentSuffix = ".log";
constexpr std::string_view kSnapshotPrefix = "snapshot-";
constexpr std::string_view kSnapshotSuffix = ".snap";
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr std::size_t kSeqDigits = 20;

std::string seq_name(std::string_view prefix, std::uint64_t seq, std::string_view suffix) {
  char digits[kSeqDigits + 1];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
  std::string name(prefix);
  name.append(digits, kSeqDigits);
  name.append(suffix);
  return name;
}

/// The seq of "<prefix><20 digits><suffix>", or nullopt for any other name.
std::optional<std::uint64_t> parse_seq_name(std::string_view name, std::string_view prefix,
                                            std::string_view suffix) {
  if (name.size() != prefix.size() + kSeqDigits + suffix.size()) return std::nullopt;
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  const std::string_view digits = name.substr(prefix.size(), kSeqDigits);
  std::uint64_t seq = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size() || seq == 0) return std::nullopt;
  return seq;
}

std::string errno_text(int err) { return std::strerror(err); }

[[noreturn]] void throw_file_error(const fs::path& path, std::string_view what, int err) {
  throw StorageError(path.string() + ": " + std::string(what) + ": " + errno_text(err));
}

[[noreturn]] void throw_corrupt(const fs::path& path, std::string_view what) {
  throw StorageError(path.string() + ": " + std::string(what));
}

int open_or_throw(const fs::path& path, int flags, std::string_view what, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_file_error(path, what, errno);
  return fd;
}

/// Reads up to `limit` bytes from the start of a file (all of it by default).
std::string read_file(const fs::path& path, std::size_t limit = SIZE_MAX) {
  const int fd = open_or_throw(path, O_RDONLY, "cannot open for reading");
  std::string data;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    data.reserve(std::min(limit, static_cast<std::size_t>(st.st_size)));
  }
  char buf[1 << 16];
  while (data.size() < limit) {
    const ssize_t n = ::read(fd, buf, std::min(sizeof buf, limit - data.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw_file_error(path, "read failed", err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return data;
}

std::string read_file_prefix(const fs::path& path) {
  return read_file(path, format::kSegmentHeaderBytes);
}

/// Every segment was renamed into place complete, so a bad header is damage,
/// never a torn write.
format::SegmentHeader read_segment_header(const fs::path& path, std::uint64_t seq,
                                          std::string_view bytes) {
  const format::SegmentHeaderResult result = format::decode_segment_header(bytes);
  if (!result.header) throw_corrupt(path, result.error);
  if (result.header->seq != seq) {
    throw_corrupt(path, "header names segment " + std::to_string(result.header->seq) +
                            " (file renamed or copied from elsewhere?)");
  }
  return *result.header;
}

/// Writes all of `iov` at `offset`, looping over short writes. Returns the
/// number of system calls; throws with errno on failure.
std::uint64_t pwritev_all(int fd, std::vector<iovec> iov, std::uint64_t offset,
                          const fs::path& path) {
  std::uint64_t calls = 0;
  std::size_t first = 0;
  while (first < iov.size()) {
    if (iov[first].iov_len == 0) {
      ++first;
      continue;
    }
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
    const ssize_t n = ::pwritev(fd, &iov[first], count, static_cast<off_t>(offset));
    ++calls;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_file_error(path, "write failed", errno);
    }
    if (n == 0) throw_file_error(path, "write failed", EIO);
    offset += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (left > 0) {
      if (left >= iov[first].iov_len) {
        left -= iov[first].iov_len;
        ++first;
      } else {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
        left = 0;
      }
    }
  }
  return calls;
}

/// Keeps a moderate buffer for the next batch instead of reallocating it.
void release_pending(std::string& pending) {
  if (pending.capacity() > (1u << 20)) {
    std::string().swap(pending);
  } else {
    pending.clear();
  }
}

iovec iov_of(const std::string& s) {
  return iovec{const_cast<char*>(s.data()), s.size()};  // pwritev does not write to it
}

/// Offset of the first valid record after a bad one at `bad_offset`, if any:
/// a valid record there means the bad one is damage, not a torn tail. Every
/// byte offset is tried, because damage to a length field hides where the
/// next record starts; the price is that a torn entry whose data embeds a
/// well-formed record (CRC included) is refused rather than cut: safe.
std::optional<std::size_t> find_valid_record_after(std::string_view data, std::size_t bad_offset) {
  for (std::size_t p = bad_offset + 1; p + format::kRecordHeaderBytes < data.size(); ++p) {
    const auto type = static_cast<std::uint8_t>(data[p + format::kRecordHeaderBytes]);
    if (type < 1 || type > format::kRecordTypeMax) continue;  // cheap filter before the CRC
    if (format::read_record(data, p).status == format::RecordStatus::Ok) return p;
  }
  return std::nullopt;
}

}  // namespace

std::optional<FsyncMode> parse_fsync_mode(std::string_view text) {
  if (text == "always") return FsyncMode::Always;
  if (text == "never") return FsyncMode::Never;
  return std::nullopt;
}

std::string_view fsync_mode_name(FsyncMode mode) {
  return mode == FsyncMode::Always ? "always" : "never";
}

FileStore::UniqueFd& FileStore::UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

void FileStore::UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

FileStore::FileStore(fs::path dir, FileStoreOptions options)
    : dir_(std::move(dir)), options_(options) {
  if (options_.segment_bytes_max == 0) options_.segment_bytes_max = 1;
}

// Unsynced writes are dropped, exactly as a crash would drop them: a clean
// shutdown calls sync() first. The space allocated ahead is given back (a
// crash leaves it, and load() takes it for what it is).
FileStore::~FileStore() {
  if (!tail_fd_ || !failure_.empty()) return;
  try {
    trim_tail();
    datasync_tail();
  } catch (const StorageError&) {
    // The records are durable already; the zeros stay for load() to cut.
  }
}

fs::path FileStore::segment_path(std::uint64_t seq) const {
  return dir_ / seq_name(kSegmentPrefix, seq, kSegmentSuffix);
}

fs::path FileStore::snapshot_path(std::uint64_t seq) const {
  return dir_ / seq_name(kSnapshotPrefix, seq, kSnapshotSuffix);
}

void FileStore::throw_if_failed() const {
  if (!failure_.empty()) {
    throw StorageError("storage refuses further use after an earlier error: " + failure_);
  }
}

void FileStore::ensure_loaded() {
  if (!loaded_) load();
}

// ---------------------------------------------------------------- recovery

RecoveredState FileStore::load() {
  throw_if_failed();
  if (loaded_) return current_state();
  warnings_.clear();
  RecoveredState state = recover();
  loaded_ = true;
  return state;
}

RecoveredState FileStore::recover() {
  // A failed earlier attempt may have left partial state behind.
  hard_state_ = HardState{};
  snapshot_.reset();
  first_index_ = 1;
  locs_.clear();
  segments_.clear();
  cut_seq_.reset();
  highest_seq_on_disk_ = 0;

  RecoveredState state;
  std::error_code ec;
  const fs::file_status status = fs::status(dir_, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw StorageError(dir_.string() + ": cannot inspect: " + ec.message());
  }
  if (!fs::exists(status)) return state;  // a fresh node
  if (!fs::is_directory(status)) throw_corrupt(dir_, "exists but is not a directory");

  const DirListing files = list_directory();
  if (files.segments.empty()) {
    if (!files.snapshots.empty()) {
      throw_corrupt(files.snapshots.begin()->second,
                    "snapshot file present but no log segment: refusing to start empty over "
                    "existing data");
    }
    for (const fs::path& tmp : files.tmps) {
      if (::unlink(tmp.c_str()) == 0) {
        warnings_.push_back(tmp.string() + ": leftover of an interrupted write removed");
      }
    }
    return state;
  }

  const std::uint64_t last_seq = files.segments.rbegin()->first;
  const std::uint64_t base_seq = find_base_segment(files.segments);
  Replay replay;
  for (std::uint64_t seq = base_seq; seq <= last_seq; ++seq) {
    replay_segment(files.segments.at(seq), seq, base_seq, seq == last_seq, state, replay);
  }
  if (replay.marker) {
    snapshot_ = load_snapshot_file(base_seq, *replay.marker);
    state.snapshot = snapshot_;
  }

  hard_state_ = state.hard_state;
  highest_seq_on_disk_ =
      std::max(last_seq, files.snapshots.empty() ? 0 : files.snapshots.rbegin()->first);
  if (replay.cut) cut_seq_ = last_seq;
  remove_leftovers(files, base_seq, replay.marker.has_value());
  return state;
}

FileStore::DirListing FileStore::list_directory() {
  DirListing files;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (auto seq = parse_seq_name(name, kSegmentPrefix, kSegmentSuffix)) {
      files.segments.emplace(*seq, it->path());
    } else if (auto snap = parse_seq_name(name, kSnapshotPrefix, kSnapshotSuffix)) {
      files.snapshots.emplace(*snap, it->path());
    } else if (name.ends_with(kTmpSuffix)) {
      files.tmps.push_back(it->path());
    } else if (name == "node.log") {
      // The node's own log file (spdlog) lives beside the store by design.
    } else {
      warnings_.push_back(it->path().string() + ": unknown file ignored");
    }
  }
  if (ec) throw StorageError(dir_.string() + ": cannot list directory: " + ec.message());
  return files;
}

std::uint64_t FileStore::find_base_segment(const std::map<std::uint64_t, fs::path>& segments) {
  // The base is the newest checkpoint, or segment 1; headers are read from
  // the newest segment down.
  const std::uint64_t last_seq = segments.rbegin()->first;
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    const auto& [seq, path] = *it;
    if (seq != last_seq && !segments.contains(seq + 1)) {
      throw_corrupt(segment_path(seq + 1), "log segment is missing (" + path.filename().string() +
                                               " exists and newer segments follow)");
    }
    const format::SegmentHeader header = read_segment_header(path, seq, read_file_prefix(path));
    if (header.checkpoint() || seq == 1) return seq;
  }
  const std::uint64_t oldest = segments.begin()->first;
  throw_corrupt(segment_path(oldest - 1), "log segment is missing (" +
                                              segment_path(oldest).filename().string() +
                                              " is neither the first segment nor a checkpoint)");
}

void FileStore::replay_segment(const fs::path& path, std::uint64_t seq, std::uint64_t base_seq,
                               bool last, RecoveredState& state, Replay& replay) {
  const std::string data = read_file(path);
  const format::SegmentHeader header = read_segment_header(path, seq, data);
  if (header.sealed_bytes < format::kSegmentHeaderBytes + format::kRecordHeaderBytes ||
      header.sealed_bytes > data.size()) {
    throw_corrupt(path, "file holds " + std::to_string(data.size()) + " bytes but " +
                            std::to_string(header.sealed_bytes) +
                            " were sealed when it was created");
  }
  std::size_t offset = format::kSegmentHeaderBytes;
  std::size_t record_no = 0;
  while (offset < data.size()) {
    const format::RecordView record = format::read_record(data, offset);
    if (record.status != format::RecordStatus::Ok) {
      cut_torn_tail(path, data, offset, header.sealed_bytes, last, record.status);
      replay.cut = true;
      replay.cut_offset = offset;
      break;
    }
    const auto type = static_cast<format::RecordType>(record.payload[0]);
    if (record_no == 0 && type != format::RecordType::HardState &&
        type != format::RecordType::HardStateWithConf) {
      throw_corrupt(path, "segment does not start with a hard state record");
    }
    if (record_no == 1 && header.checkpoint() && type != format::RecordType::SnapshotMarker &&
        type != format::RecordType::SnapshotMarkerWithConf) {
      throw_corrupt(
          path, "checkpoint segment lacks its snapshot marker at offset " + std::to_string(offset));
    }
    const bool marker_allowed = header.checkpoint() && record_no == 1 && seq == base_seq;
    RecordAt where{path, seq, offset, record.total_bytes};
    replay_record(where, record.payload, marker_allowed, state, replay);
    ++record_no;
    offset += record.total_bytes;
  }
  if (record_no < (header.checkpoint() ? 2u : 1u)) {
    throw_corrupt(path, "segment lacks its leading hard state / snapshot records");
  }
  Segment seg;
  seg.seq = seq;
  seg.version = header.version;
  seg.checkpoint = header.checkpoint();
  seg.on_disk = true;
  seg.disk_bytes = last && replay.cut ? replay.cut_offset : data.size();
  segments_.push_back(std::move(seg));
}

void FileStore::cut_torn_tail(const fs::path& path, const std::string& data, std::size_t offset,
                              std::uint64_t sealed_bytes, bool last, format::RecordStatus status) {
  const std::string reason(format::record_status_name(status));
  const std::string at = " at offset " + std::to_string(offset);
  if (!last) throw_corrupt(path, reason + at + " in a segment that is not the newest");
  if (offset < sealed_bytes) throw_corrupt(path, reason + at + " in its sealed part");
  const bool zeros = std::all_of(data.begin() + static_cast<std::ptrdiff_t>(offset), data.end(),
                                 [](char c) { return c == 0; });
  if (zeros) return;  // space allocated ahead of the records (allocate_tail)
  if (auto valid = find_valid_record_after(data, offset)) {
    throw_corrupt(path, reason + at + " followed by a valid record at offset " +
                            std::to_string(*valid) + ": damage, not a torn write");
  }
  warnings_.push_back(path.string() + ": torn write" + at + " cut off (" +
                      std::to_string(data.size() - offset) + " bytes, " + reason + ")");
}

void FileStore::replay_record(const RecordAt& where, std::string_view payload, bool marker_allowed,
                              RecoveredState& state, Replay& replay) {
  // Built only for messages: recovery reads millions of records.
  const auto at = [&where] { return " at offset " + std::to_string(where.offset); };
  switch (static_cast<format::RecordType>(payload[0])) {
    case format::RecordType::HardState:
    case format::RecordType::HardStateWithConf: {
      auto hs = format::decode_hard_state(payload);
      if (!hs) throw_corrupt(where.path, "hard state record" + at() + " does not parse");
      state.hard_state = *hs;
      return;
    }
    case format::RecordType::SnapshotMarker:
    case format::RecordType::SnapshotMarkerWithConf: {
      if (!marker_allowed) throw_corrupt(where.path, "unexpected snapshot marker" + at());
      replay.marker = format::decode_snapshot_marker(payload);
      if (!replay.marker) throw_corrupt(where.path, "snapshot marker" + at() + " does not parse");
      first_index_ = replay.marker->meta.last_index + 1;
      return;
    }
    case format::RecordType::Entry: {
      std::optional<Entry> entry = format::decode_entry(payload);
      if (!entry) throw_corrupt(where.path, "entry record" + at() + " does not parse");
      replay_entry(where, std::move(*entry), state);
      return;
    }
    default:
      throw_corrupt(where.path, "unknown record type " +
                                    std::to_string(static_cast<unsigned char>(payload[0])) + at() +
                                    " (written by a newer version?)");
  }
}

void FileStore::replay_entry(const RecordAt& where, Entry entry, RecoveredState& state) {
  const auto at = [&where] { return " at offset " + std::to_string(where.offset); };
  if (entry.index < first_index_) {
    throw_corrupt(where.path, "entry " + std::to_string(entry.index) + at() +
                                  " lies at or below the snapshot index " +
                                  std::to_string(first_index_ - 1));
  }
  const Index pos = entry.index - first_index_;
  if (pos > state.entries.size()) {
    throw_corrupt(where.path, "entry " + std::to_string(entry.index) + at() +
                                  " leaves a gap after entry " +
                                  std::to_string(first_index_ + state.entries.size() - 1));
  }
  state.entries.resize(pos);  // conflict truncation, as when it was written
  locs_.resize(pos);
  locs_.push_back(EntryLoc{entry.term, where.seq, where.offset, where.bytes});
  state.entries.push_back(std::move(entry));
}

Snapshot FileStore::load_snapshot_file(std::uint64_t base_seq,
                                       const format::SnapshotMarker& marker) {
  const fs::path path = snapshot_path(base_seq);
  const std::string referenced_by = " (referenced by " + segment_path(base_seq).string() + ")";
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_corrupt(path, "snapshot file is missing" + referenced_by);
  const std::string data = read_file(path);
  const format::SnapshotHeaderResult result = format::decode_snapshot_header(data);
  if (!result.header) throw_corrupt(path, result.error);
  const format::SnapshotHeader& header = *result.header;
  if (!header.meta.same_point(marker.meta) || header.data_bytes != marker.data_bytes ||
      header.data_crc != marker.data_crc) {
    throw_corrupt(path, "snapshot does not match its marker" + referenced_by);
  }
  if (data.size() - format::kSnapshotHeaderBytes != header.data_bytes) {
    throw_corrupt(path, "snapshot data is " +
                            std::to_string(data.size() - format::kSnapshotHeaderBytes) +
                            " bytes, header says " + std::to_string(header.data_bytes));
  }
  auto bytes = std::make_shared<std::string>(data.substr(format::kSnapshotHeaderBytes));
  if (crc32c(*bytes) != header.data_crc) throw_corrupt(path, "snapshot data checksum mismatch");
  // The configuration is the marker's (the file's header holds only the position).
  return Snapshot{marker.meta, std::move(bytes)};
}

void FileStore::remove_leftovers(const DirListing& files, std::uint64_t base_seq, bool has_marker) {
  // Last, once everything checked out. Best effort: leftovers are harmless
  // to later recoveries, and a read-only directory must still load.
  bool removed = false;
  auto remove = [&](const fs::path& path, std::string_view why) {
    if (::unlink(path.c_str()) == 0) {
      warnings_.push_back(path.string() + ": " + std::string(why) + ", removed");
      removed = true;
    } else {
      warnings_.push_back(path.string() + ": " + std::string(why) +
                          ", but cannot remove it: " + errno_text(errno));
    }
  };
  for (const fs::path& tmp : files.tmps) remove(tmp, "leftover of an interrupted write");
  for (const auto& [seq, path] : files.segments) {
    if (seq < base_seq) remove(path, "segment older than checkpoint " + std::to_string(base_seq));
  }
  for (const auto& [seq, path] : files.snapshots) {
    if (seq == base_seq && has_marker) continue;
    remove(path, seq > base_seq ? "snapshot of an install that never completed"
                                : "snapshot superseded by checkpoint " + std::to_string(base_seq));
  }
  if (removed && options_.fsync == FsyncMode::Always) {
    const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
}

RecoveredState FileStore::current_state() {
  RecoveredState state;
  state.hard_state = hard_state_;
  state.snapshot = snapshot_;
  state.entries.reserve(locs_.size());
  ReadCache cache;
  for (const EntryLoc& loc : locs_) state.entries.push_back(read_entry(loc, cache));
  return state;
}

FileStore::Segment& FileStore::segment(std::uint64_t seq) {
  // segments_ holds consecutive seqs, so this is an index, not a search.
  return segments_.at(seq - segments_.front().seq);
}

Entry FileStore::read_entry(const EntryLoc& loc, ReadCache& cache) {
  Segment& seg = segment(loc.seq);
  std::string buffer;
  std::string_view bytes;
  if (loc.offset >= seg.disk_bytes) {
    bytes = std::string_view(seg.pending).substr(loc.offset - seg.disk_bytes, loc.bytes);
  } else {
    const fs::path path = segment_path(loc.seq);
    if (!cache.fd || cache.seq != loc.seq) {
      cache.fd.reset(open_or_throw(path, O_RDONLY, "cannot open for reading"));
      cache.seq = loc.seq;
    }
    buffer.resize(loc.bytes);
    std::size_t done = 0;
    while (done < buffer.size()) {
      const ssize_t n = ::pread(cache.fd.get(), buffer.data() + done, buffer.size() - done,
                                static_cast<off_t>(loc.offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_file_error(path, "read failed", errno);
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    buffer.resize(done);
    bytes = buffer;
  }
  const format::RecordView record = format::read_record(bytes, 0);
  std::optional<Entry> entry;
  if (record.status == format::RecordStatus::Ok) entry = format::decode_entry(record.payload);
  if (!entry) {
    throw_corrupt(segment_path(loc.seq), "entry record at offset " + std::to_string(loc.offset) +
                                             " changed after it was written");
  }
  return std::move(*entry);
}

// ------------------------------------------------------------ buffered writes

FileStore::Segment& FileStore::start_segment(bool checkpoint, const Snapshot* snapshot) {
  Segment seg;
  seg.seq = segments_.empty() ? highest_seq_on_disk_ + 1 : segments_.back().seq + 1;
  seg.checkpoint = checkpoint;
  seg.disk_bytes = format::kSegmentHeaderBytes;
  format::append_hard_state_record(seg.pending, hard_state_);
  if (checkpoint) {
    const std::string& data = *snapshot->data;
    seg.marker = format::SnapshotMarker{snapshot->meta, data.size(), crc32c(data)};
    seg.snapshot = *snapshot;
    format::append_snapshot_marker_record(seg.pending, *seg.marker);
  }
  segments_.push_back(std::move(seg));
  return segments_.back();
}

FileStore::Segment& FileStore::writable_tail() {
  if (segments_.empty() || segments_.back().bytes() >= options_.segment_bytes_max ||
      segments_.back().version < format::kVersion) {
    return start_segment(false, nullptr);
  }
  return segments_.back();
}

void FileStore::buffer_entry(const Entry& entry) {
  if (entry.index < first_index_) return;  // already folded into the snapshot
  const Index pos = entry.index - first_index_;
  if (pos > locs_.size()) return;  // a gap is a caller bug; MemoryStore drops it too
  locs_.resize(pos);               // conflict truncation: replay drops the same suffix
  Segment& tail = writable_tail();
  locs_.push_back(EntryLoc{entry.term, tail.seq, tail.bytes(), format::entry_record_bytes(entry)});
  format::append_entry_record(tail.pending, entry);
}

void FileStore::save_hard_state(const HardState& state) {
  throw_if_failed();
  ensure_loaded();
  if (state == hard_state_ && !segments_.empty()) return;
  hard_state_ = state;
  if (segments_.empty() || segments_.back().version < format::kVersion) {
    start_segment(false, nullptr);  // its leading record carries the new state
  } else {
    format::append_hard_state_record(segments_.back().pending, state);
  }
}

void FileStore::append(std::vector<Entry> entries) {
  throw_if_failed();
  ensure_loaded();
  for (const Entry& e : entries) {
    if (format::entry_record_bytes(e) - format::kRecordHeaderBytes >
        format::kRecordPayloadBytesMax) {
      throw StorageError(dir_.string() + ": entry " + std::to_string(e.index) + " holds " +
                         std::to_string(e.data.size()) + " bytes, more than a record can");
    }
  }
  for (const Entry& e : entries) buffer_entry(e);
}

void FileStore::install_snapshot(const Snapshot& snapshot) {
  throw_if_failed();
  ensure_loaded();
  Snapshot snap = snapshot;
  if (!snap.data) snap.data = std::make_shared<const std::string>();
  const SnapshotMeta& meta = snap.meta;
  const bool matching = meta.last_index >= first_index_ &&
                        meta.last_index - first_index_ < locs_.size() &&
                        locs_[meta.last_index - first_index_].term == meta.last_term;
  std::vector<Entry> kept;
  if (matching) {
    try {
      ReadCache cache;
      for (std::size_t i = meta.last_index - first_index_ + 1; i < locs_.size(); ++i) {
        kept.push_back(read_entry(locs_[i], cache));
      }
    } catch (const StorageError& e) {
      failure_ = e.what();
      throw;
    }
  }
  // The checkpoint reproduces the whole state, so every write not yet on
  // disk is superseded (losing it in a crash is allowed: it is unsynced), and
  // the segments on disk die once the checkpoint is durable.
  segments_.clear();
  tail_fd_.reset();
  tail_dirty_ = false;
  cut_seq_.reset();
  snapshot_ = snap;
  first_index_ = meta.last_index + 1;
  locs_.clear();
  start_segment(true, &snap);
  for (const Entry& e : kept) buffer_entry(e);
}

// --------------------------------------------------------------------- sync

void FileStore::sync() {
  throw_if_failed();
  ensure_loaded();
  try {
    sync_unchecked();
  } catch (const StorageError& e) {
    failure_ = e.what();
    throw;
  }
  ++stats_.syncs;
}

void FileStore::sync_unchecked() {
  bool have_work = cut_seq_.has_value();
  for (const Segment& seg : segments_)
    have_work = have_work || !seg.on_disk || !seg.pending.empty();
  if (!have_work) return;
  ensure_directory();

  std::optional<std::uint64_t> new_checkpoint;
  for (Segment& seg : segments_) {
    if (seg.on_disk) {
      if (!seg.pending.empty() || cut_seq_ == seg.seq) write_pending(seg);
      continue;
    }
    // The previous segment must be complete on disk before a newer one can
    // appear: recovery only forgives a torn tail in the newest segment.
    trim_tail();
    datasync_tail();
    if (seg.checkpoint) write_snapshot_file(seg.seq, *seg.snapshot, *seg.marker);
    create_segment(seg);
    if (seg.checkpoint) new_checkpoint = seg.seq;
  }
  datasync_tail();
  if (new_checkpoint) collect_garbage(*new_checkpoint);
}

void FileStore::ensure_directory() {
  if (dir_fd_) return;
  // Create missing ancestors one by one, each made durable in its parent.
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path p = dir_; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) {
      throw_file_error(*it, "cannot create directory", errno);
    }
    if (options_.fsync == FsyncMode::Always) {
      fs::path parent = it->parent_path();
      if (parent.empty()) parent = ".";
      UniqueFd fd(open_or_throw(parent, O_RDONLY | O_DIRECTORY, "cannot open directory"));
      if (::fsync(fd.get()) != 0) throw_file_error(parent, "fsync failed", errno);
      ++stats_.dir_fsyncs;
    }
  }
  dir_fd_.reset(open_or_throw(dir_, O_RDONLY | O_DIRECTORY, "cannot open directory"));
}

void FileStore::open_tail(Segment& seg) {
  if (tail_fd_ && tail_fd_seq_ == seg.seq) return;
  const fs::path path = segment_path(seg.seq);
  tail_fd_.reset(open_or_throw(path, O_WRONLY, "cannot open for writing"));
  tail_fd_seq_ = seg.seq;
  tail_file_bytes_ = seg.disk_bytes;
  if (cut_seq_ == seg.seq) {
    // Drop the torn tail load() found before anything lands after it.
    if (::ftruncate(tail_fd_.get(), static_cast<off_t>(seg.disk_bytes)) != 0) {
      throw_file_error(path, "cannot cut off the torn tail", errno);
    }
    cut_seq_.reset();
    tail_dirty_ = true;
  }
}

void FileStore::allocate_tail(std::uint64_t bytes) {
  if (options_.fsync != FsyncMode::Always || bytes <= tail_file_bytes_) return;
  const std::uint64_t to = (bytes / kPreallocateBytes + 1) * kPreallocateBytes;
  // Best effort: a file system without fallocate, or one nearly full,
  // still takes the append itself (and a full one fails it there).
  if (::fallocate(tail_fd_.get(), 0, static_cast<off_t>(tail_file_bytes_),
                  static_cast<off_t>(to - tail_file_bytes_)) == 0) {
    tail_file_bytes_ = to;
  }
}

void FileStore::trim_tail() {
  if (!tail_fd_) return;
  for (const Segment& seg : segments_) {
    if (seg.seq != tail_fd_seq_ || !seg.on_disk || seg.disk_bytes >= tail_file_bytes_) continue;
    if (::ftruncate(tail_fd_.get(), static_cast<off_t>(seg.disk_bytes)) != 0) {
      throw_file_error(segment_path(seg.seq), "cannot cut off the space allocated ahead", errno);
    }
    tail_file_bytes_ = seg.disk_bytes;
    tail_dirty_ = true;
  }
}

void FileStore::write_pending(Segment& seg) {
  open_tail(seg);
  if (seg.pending.empty()) return;
  const fs::path path = segment_path(seg.seq);
  allocate_tail(seg.disk_bytes + seg.pending.size());
  try {
    stats_.write_calls += pwritev_all(tail_fd_.get(), {iov_of(seg.pending)}, seg.disk_bytes, path);
  } catch (const StorageError&) {
    // Leave no partial record behind: a full disk can still shrink a file.
    if (::ftruncate(tail_fd_.get(), static_cast<off_t>(seg.disk_bytes)) == 0) {
      tail_file_bytes_ = seg.disk_bytes;
      ::fdatasync(tail_fd_.get());
    }
    throw;
  }
  stats_.bytes_written += seg.pending.size();
  seg.disk_bytes += seg.pending.size();
  release_pending(seg.pending);
  tail_dirty_ = true;
}

FileStore::UniqueFd FileStore::write_whole_file(const fs::path& path, const std::string& header,
                                                const std::string& body) {
  fs::path tmp = path;
  tmp += kTmpSuffix;
  UniqueFd fd(open_or_throw(tmp, O_WRONLY | O_CREAT | O_TRUNC, "cannot create"));
  try {
    stats_.write_calls += pwritev_all(fd.get(), {iov_of(header), iov_of(body)}, 0, tmp);
    datasync(fd.get(), tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw_file_error(path, "cannot rename into place", errno);
  } catch (const StorageError&) {
    ::unlink(tmp.c_str());
    throw;
  }
  return fd;
}

void FileStore::create_segment(Segment& seg) {
  format::SegmentHeader header;
  header.flags = seg.checkpoint ? format::kSegmentFlagCheckpoint : 0;
  header.seq = seg.seq;
  header.sealed_bytes = format::kSegmentHeaderBytes + seg.pending.size();
  UniqueFd fd =
      write_whole_file(segment_path(seg.seq), format::encode_segment_header(header), seg.pending);
  fsync_dir();
  stats_.bytes_written += header.sealed_bytes;
  seg.on_disk = true;
  seg.disk_bytes = header.sealed_bytes;
  release_pending(seg.pending);
  seg.snapshot.reset();
  highest_seq_on_disk_ = std::max(highest_seq_on_disk_, seg.seq);
  tail_fd_ = std::move(fd);  // the descriptor survives the rename
  tail_fd_seq_ = seg.seq;
  tail_file_bytes_ = seg.disk_bytes;
  tail_dirty_ = false;
}

void FileStore::write_snapshot_file(std::uint64_t seq, const Snapshot& snapshot,
                                    const format::SnapshotMarker& marker) {
  format::SnapshotHeader header;
  header.meta = marker.meta;
  header.data_bytes = marker.data_bytes;
  header.data_crc = marker.data_crc;
  const std::string header_bytes = format::encode_snapshot_header(header);
  write_whole_file(snapshot_path(seq), header_bytes, *snapshot.data);
  stats_.bytes_written += header_bytes.size() + snapshot.data->size();
  // Durable before the checkpoint that names it can be.
  fsync_dir();
}

void FileStore::datasync_tail() {
  if (!tail_dirty_) return;
  datasync(tail_fd_.get(), segment_path(tail_fd_seq_));
  tail_dirty_ = false;
}

void FileStore::datasync(int fd, const fs::path& path) {
  if (options_.fsync != FsyncMode::Always) return;
  if (::fdatasync(fd) != 0) throw_file_error(path, "fdatasync failed", errno);
  ++stats_.fdatasyncs;
}

void FileStore::fsync_dir() {
  if (options_.fsync != FsyncMode::Always) return;
  if (::fsync(dir_fd_.get()) != 0) throw_file_error(dir_, "directory fsync failed", errno);
  ++stats_.dir_fsyncs;
}

void FileStore::collect_garbage(std::uint64_t base_seq) {
  std::vector<fs::path> dead;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (auto seq = parse_seq_name(name, kSegmentPrefix, kSegmentSuffix)) {
      if (*seq < base_seq) dead.push_back(it->path());
    } else if (auto snap = parse_seq_name(name, kSnapshotPrefix, kSnapshotSuffix)) {
      if (*snap != base_seq) dead.push_back(it->path());
    }
  }
  if (ec) throw StorageError(dir_.string() + ": cannot list directory: " + ec.message());
  for (const fs::path& path : dead) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      throw_file_error(path, "cannot remove obsolete file", errno);
    }
  }
  if (!dead.empty()) fsync_dir();
}

}  // namespace raft::storage
