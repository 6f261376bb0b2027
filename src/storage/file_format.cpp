#include "storage/file_format.hpp"

#include <cstring>

#include "raft/membership.hpp"
#include "storage/crc32c.hpp"

namespace raft::storage::format {
namespace {

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

void store_u32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
}

std::uint32_t get_u32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

std::uint64_t get_u64(std::string_view s, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

std::string version_error(std::uint32_t version) {
  return "format version " + std::to_string(version) +
         " is not supported (this build reads versions " + std::to_string(kVersionMin) + " to " +
         std::to_string(kVersion) + ")";
}

bool version_known(std::uint32_t version) { return version >= kVersionMin && version <= kVersion; }

/// Reserves the record header, lets `fill` write the payload, then fills in
/// length and CRC. Writing in place avoids a temporary copy of entry data.
template <typename Fill>
void append_record(std::string& out, std::size_t payload_bytes, Fill&& fill) {
  const std::size_t start = out.size();
  out.reserve(start + kRecordHeaderBytes + payload_bytes);
  out.append(kRecordHeaderBytes, '\0');
  fill(out);
  const std::size_t written = out.size() - start - kRecordHeaderBytes;
  char* header = out.data() + start;
  store_u32(header, static_cast<std::uint32_t>(written));
  // The CRC covers the length too, so a torn or zeroed length is caught.
  std::uint32_t crc = crc32c_extend(0, header, 4);
  crc = crc32c_extend(crc, header + kRecordHeaderBytes, written);
  store_u32(header + 4, crc);
}

constexpr std::size_t kHardStatePayloadBytes = 1 + 8 + 4 + 8;
constexpr std::size_t kEntryFixedPayloadBytes = 1 + 8 + 8 + 1;
constexpr std::size_t kMarkerPayloadBytes = 1 + 8 + 8 + 8 + 4;
constexpr std::size_t kConfFixedBytes = 8 + 4 + 4 + 4;

std::size_t conf_bytes(const ConfState& conf) {
  return kConfFixedBytes + 4 * (conf.voters.size() + conf.learners.size() + conf.promoting.size());
}

void put_conf(std::string& out, const ConfState& conf) {
  put_u64(out, conf.index);
  put_u32(out, static_cast<std::uint32_t>(conf.voters.size()));
  put_u32(out, static_cast<std::uint32_t>(conf.learners.size()));
  put_u32(out, static_cast<std::uint32_t>(conf.promoting.size()));
  for (const std::vector<NodeId>* ids : {&conf.voters, &conf.learners, &conf.promoting}) {
    for (NodeId id : *ids) put_u32(out, static_cast<std::uint32_t>(id));
  }
}

/// The configuration filling `payload` from `at` to its end exactly.
std::optional<ConfState> get_conf(std::string_view payload, std::size_t at) {
  if (payload.size() < at + kConfFixedBytes) return std::nullopt;
  ConfState conf;
  conf.index = get_u64(payload, at);
  const std::size_t counts[3] = {get_u32(payload, at + 8), get_u32(payload, at + 12),
                                 get_u32(payload, at + 16)};
  if (counts[0] > raft::kConfNodesMax || counts[1] > raft::kConfNodesMax ||
      counts[2] > raft::kConfNodesMax ||
      payload.size() != at + kConfFixedBytes + 4 * (counts[0] + counts[1] + counts[2])) {
    return std::nullopt;
  }
  std::size_t pos = at + kConfFixedBytes;
  std::vector<NodeId>* lists[3] = {&conf.voters, &conf.learners, &conf.promoting};
  for (int l = 0; l < 3; ++l) {
    for (std::size_t i = 0; i < counts[l]; ++i, pos += 4) {
      lists[l]->push_back(static_cast<NodeId>(get_u32(payload, pos)));
    }
  }
  if (!raft::validate_conf_state(conf).empty()) return std::nullopt;
  return conf;
}

/// Which form `payload` has, for a record whose configuration is optional:
/// true for a `with_conf` record (get_conf from `fixed_bytes` on), false for
/// a `plain` one of exactly `fixed_bytes`, nullopt for anything else.
std::optional<bool> carries_conf(std::string_view payload, RecordType plain, RecordType with_conf,
                                 std::size_t fixed_bytes) {
  if (payload.size() < fixed_bytes) return std::nullopt;
  if (payload[0] == static_cast<char>(with_conf)) return true;
  if (payload[0] == static_cast<char>(plain) && payload.size() == fixed_bytes) return false;
  return std::nullopt;
}

/// What is wrong with what every file header shares: its length, the
/// 8-byte magic, the version after it and the CRC-32C in its last 4 bytes;
/// "" when nothing is. The version is checked before the checksum: a later
/// format may lay the header out differently.
std::string header_error(std::string_view bytes, std::size_t header_bytes, std::string_view magic,
                         const char* what) {
  if (bytes.size() < header_bytes) {
    return "truncated header (" + std::to_string(bytes.size()) + " of " +
           std::to_string(header_bytes) + " bytes)";
  }
  if (bytes.substr(0, 8) != magic) return std::string("bad magic: not a raft ") + what;
  const std::uint32_t version = get_u32(bytes, 8);
  if (!version_known(version)) return version_error(version);
  const std::size_t crc_at = header_bytes - 4;
  if (crc32c(bytes.substr(0, crc_at)) != get_u32(bytes, crc_at)) return "header checksum mismatch";
  return {};
}

}  // namespace

std::string encode_segment_header(const SegmentHeader& header) {
  std::string out(kSegmentMagic);
  put_u32(out, header.version);
  put_u32(out, header.flags);
  put_u64(out, header.seq);
  put_u64(out, header.sealed_bytes);
  put_u32(out, 0);  // reserved
  put_u32(out, crc32c(out));
  return out;
}

SegmentHeaderResult decode_segment_header(std::string_view bytes) {
  if (std::string error = header_error(bytes, kSegmentHeaderBytes, kSegmentMagic, "log segment");
      !error.empty()) {
    return {std::nullopt, std::move(error)};
  }
  SegmentHeader header;
  header.version = get_u32(bytes, 8);
  header.flags = get_u32(bytes, 12);
  header.seq = get_u64(bytes, 16);
  header.sealed_bytes = get_u64(bytes, 24);
  if ((header.flags & ~kSegmentFlagCheckpoint) != 0) {
    return {std::nullopt, "unknown header flags " + std::to_string(header.flags)};
  }
  return {header, {}};
}

std::string encode_snapshot_header(const SnapshotHeader& header) {
  std::string out(kSnapshotMagic);
  put_u32(out, header.version);
  put_u32(out, 0);  // flags
  put_u64(out, header.meta.last_index);
  put_u64(out, header.meta.last_term);
  put_u64(out, header.data_bytes);
  put_u32(out, header.data_crc);
  put_u32(out, crc32c(out));
  return out;
}

SnapshotHeaderResult decode_snapshot_header(std::string_view bytes) {
  if (std::string error = header_error(bytes, kSnapshotHeaderBytes, kSnapshotMagic, "snapshot");
      !error.empty()) {
    return {std::nullopt, std::move(error)};
  }
  if (get_u32(bytes, 12) != 0) return {std::nullopt, "unknown header flags"};
  SnapshotHeader header;
  header.version = get_u32(bytes, 8);
  header.meta.last_index = get_u64(bytes, 16);
  header.meta.last_term = get_u64(bytes, 24);
  header.data_bytes = get_u64(bytes, 32);
  header.data_crc = get_u32(bytes, 40);
  return {header, {}};
}

void append_hard_state_record(std::string& out, const HardState& state) {
  const bool with_conf = !state.conf.voters.empty();
  const std::size_t bytes = kHardStatePayloadBytes + (with_conf ? conf_bytes(state.conf) : 0);
  append_record(out, bytes, [&](std::string& o) {
    put_u8(o, static_cast<std::uint8_t>(with_conf ? RecordType::HardStateWithConf
                                                  : RecordType::HardState));
    put_u64(o, state.term);
    put_u32(o, static_cast<std::uint32_t>(state.voted_for));
    put_u64(o, state.commit);
    if (with_conf) put_conf(o, state.conf);
  });
}

std::size_t entry_record_bytes(const Entry& entry) {
  return kRecordHeaderBytes + kEntryFixedPayloadBytes + entry.data.size();
}

void append_entry_record(std::string& out, const Entry& entry) {
  append_record(out, kEntryFixedPayloadBytes + entry.data.size(), [&](std::string& o) {
    put_u8(o, static_cast<std::uint8_t>(RecordType::Entry));
    put_u64(o, entry.term);
    put_u64(o, entry.index);
    put_u8(o, static_cast<std::uint8_t>(entry.type));
    o.append(entry.data);
  });
}

void append_snapshot_marker_record(std::string& out, const SnapshotMarker& marker) {
  const ConfState& conf = marker.meta.conf;
  const bool with_conf = !conf.voters.empty();
  const std::size_t bytes = kMarkerPayloadBytes + (with_conf ? conf_bytes(conf) : 0);
  append_record(out, bytes, [&](std::string& o) {
    put_u8(o, static_cast<std::uint8_t>(with_conf ? RecordType::SnapshotMarkerWithConf
                                                  : RecordType::SnapshotMarker));
    put_u64(o, marker.meta.last_index);
    put_u64(o, marker.meta.last_term);
    put_u64(o, marker.data_bytes);
    put_u32(o, marker.data_crc);
    if (with_conf) put_conf(o, conf);
  });
}

RecordView read_record(std::string_view buffer, std::size_t offset) {
  RecordView view;
  if (offset > buffer.size() || buffer.size() - offset < kRecordHeaderBytes) return view;
  const std::uint32_t length = get_u32(buffer, offset);
  if (length == 0 || length > kRecordPayloadBytesMax) {
    view.status = RecordStatus::BadLength;
    return view;
  }
  if (buffer.size() - offset - kRecordHeaderBytes < length) return view;  // Truncated
  std::uint32_t crc = crc32c_extend(0, buffer.data() + offset, 4);
  crc = crc32c_extend(crc, buffer.data() + offset + kRecordHeaderBytes, length);
  if (crc != get_u32(buffer, offset + 4)) {
    view.status = RecordStatus::BadChecksum;
    return view;
  }
  view.status = RecordStatus::Ok;
  view.payload = buffer.substr(offset + kRecordHeaderBytes, length);
  view.total_bytes = kRecordHeaderBytes + length;
  return view;
}

std::string_view record_status_name(RecordStatus status) {
  switch (status) {
    case RecordStatus::Ok: return "ok";
    case RecordStatus::Truncated: return "truncated record";
    case RecordStatus::BadLength: return "impossible record length";
    case RecordStatus::BadChecksum: return "record checksum mismatch";
  }
  return "unknown record status";
}

std::optional<HardState> decode_hard_state(std::string_view payload) {
  const std::optional<bool> with_conf = carries_conf(
      payload, RecordType::HardState, RecordType::HardStateWithConf, kHardStatePayloadBytes);
  if (!with_conf) return std::nullopt;
  HardState state;
  state.term = get_u64(payload, 1);
  state.voted_for = static_cast<NodeId>(get_u32(payload, 9));
  state.commit = get_u64(payload, 13);
  if (*with_conf) {
    std::optional<ConfState> conf = get_conf(payload, kHardStatePayloadBytes);
    if (!conf) return std::nullopt;
    state.conf = std::move(*conf);
  }
  return state;
}

std::optional<Entry> decode_entry(std::string_view payload) {
  if (payload.size() < kEntryFixedPayloadBytes ||
      payload[0] != static_cast<char>(RecordType::Entry)) {
    return std::nullopt;
  }
  const auto type = static_cast<std::uint8_t>(payload[17]);
  if (type > static_cast<std::uint8_t>(EntryType::Config)) return std::nullopt;
  Entry entry;
  entry.term = get_u64(payload, 1);
  entry.index = get_u64(payload, 9);
  entry.type = static_cast<EntryType>(type);
  entry.data.assign(payload.substr(kEntryFixedPayloadBytes));
  return entry;
}

std::optional<SnapshotMarker> decode_snapshot_marker(std::string_view payload) {
  const std::optional<bool> with_conf = carries_conf(
      payload, RecordType::SnapshotMarker, RecordType::SnapshotMarkerWithConf, kMarkerPayloadBytes);
  if (!with_conf) return std::nullopt;
  SnapshotMarker marker;
  marker.meta.last_index = get_u64(payload, 1);
  marker.meta.last_term = get_u64(payload, 9);
  marker.data_bytes = get_u64(payload, 17);
  marker.data_crc = get_u32(payload, 25);
  if (*with_conf) {
    std::optional<ConfState> conf = get_conf(payload, kMarkerPayloadBytes);
    if (!conf || conf->index > marker.meta.last_index) return std::nullopt;
    marker.meta.conf = std::move(*conf);
  }
  return marker;
}

}  // namespace raft::storage::format
