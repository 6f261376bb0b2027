#pragma once
/// Encoding and decoding of FileStore's on-disk structures (segment headers,
/// records, snapshot file headers). The layout itself is documented at the top
/// of storage/file_store.hpp; this header is what FileStore and its tests use
/// to write and check those bytes. All integers are little-endian.
///
/// Pure functions on byte buffers; thread-safe; no I/O. Decoders never throw:
/// they report what is wrong and let the caller name the file.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "raft/types.hpp"

namespace raft::storage::format {

/// The format written. Version 2 added record types 4 and 5 (hard state and
/// snapshot marker with the cluster configuration); the layouts of version 1
/// are unchanged, so this build reads versions 1 and 2 alike. A reader
/// refuses any other version with a message saying which one it found and
/// which ones it understands. A version-1 segment is never appended to: the
/// first write after loading one starts a version-2 segment.
inline constexpr std::uint32_t kVersion = 2;
inline constexpr std::uint32_t kVersionMin = 1;

inline constexpr std::string_view kSegmentMagic{"RAFTSEG\0", 8};
inline constexpr std::string_view kSnapshotMagic{"RAFTSNP\0", 8};

inline constexpr std::size_t kSegmentHeaderBytes = 40;
inline constexpr std::size_t kSnapshotHeaderBytes = 48;
/// u32 payload length + u32 CRC-32C.
inline constexpr std::size_t kRecordHeaderBytes = 8;
/// Larger lengths are treated as garbage. Generous: SPEC values are <= 1 MiB.
inline constexpr std::size_t kRecordPayloadBytesMax = 64u << 20;

/// Segment header flag: this segment starts with a full checkpoint (hard
/// state, snapshot marker, the retained entries), so older segments are dead.
inline constexpr std::uint32_t kSegmentFlagCheckpoint = 1;

struct SegmentHeader {
  std::uint32_t version = kVersion;
  std::uint32_t flags = 0;
  std::uint64_t seq = 0;
  /// Bytes (header included) written and fdatasync'd before the file was
  /// renamed into place: records inside them can never be a torn tail.
  std::uint64_t sealed_bytes = 0;

  bool checkpoint() const { return (flags & kSegmentFlagCheckpoint) != 0; }
};

struct SnapshotHeader {
  std::uint32_t version = kVersion;
  SnapshotMeta meta;
  std::uint64_t data_bytes = 0;
  std::uint32_t data_crc = 0;
};

enum class RecordType : std::uint8_t {
  HardState = 1,
  Entry = 2,
  SnapshotMarker = 3,
  HardStateWithConf = 4,       ///< version 2
  SnapshotMarkerWithConf = 5,  ///< version 2
};
inline constexpr std::uint8_t kRecordTypeMax = 5;

/// Points a checkpoint segment at its snapshot file and pins its content;
/// `meta.conf` is the snapshot's configuration (the snapshot file's own
/// header holds only its position).
struct SnapshotMarker {
  SnapshotMeta meta;
  std::uint64_t data_bytes = 0;
  std::uint32_t data_crc = 0;
};

std::string encode_segment_header(const SegmentHeader& header);
std::string encode_snapshot_header(const SnapshotHeader& header);

/// Decoded header, or an error phrase ("bad magic", "format version 7 is not
/// supported (this build reads version 1)", ...).
struct SegmentHeaderResult {
  std::optional<SegmentHeader> header;
  std::string error;
};
SegmentHeaderResult decode_segment_header(std::string_view bytes);

struct SnapshotHeaderResult {
  std::optional<SnapshotHeader> header;
  std::string error;
};
SnapshotHeaderResult decode_snapshot_header(std::string_view bytes);

/// Appends one framed record to `out`. The payload is the type byte followed
/// by the type's fields; entry data is copied once, straight into `out`. A
/// hard state or marker without a configuration (empty voters) is written as
/// type 1 or 3, byte for byte as version 1 wrote it; with one, as type 4 or
/// 5: the version-1 fields, then the configuration:
///   u64 index, u32 voter count, u32 learner count, u32 promoting count,
///   then that many u32 node ids (each list ascending).
void append_hard_state_record(std::string& out, const HardState& state);
void append_entry_record(std::string& out, const Entry& entry);
void append_snapshot_marker_record(std::string& out, const SnapshotMarker& marker);
/// Bytes append_entry_record adds for `entry`.
std::size_t entry_record_bytes(const Entry& entry);

enum class RecordStatus : std::uint8_t {
  Ok,
  Truncated,    ///< header or payload runs past the end of the buffer
  BadLength,    ///< length 0 or above kRecordPayloadBytesMax
  BadChecksum,  ///< CRC-32C over length and payload does not match
};

/// One framed record read from a buffer. `payload` views into that buffer.
struct RecordView {
  RecordStatus status = RecordStatus::Truncated;
  std::string_view payload;     ///< starts with the type byte; valid when Ok
  std::size_t total_bytes = 0;  ///< header + payload; valid when Ok
};
RecordView read_record(std::string_view buffer, std::size_t offset);
std::string_view record_status_name(RecordStatus status);

/// Payload decoders (the payload includes its leading type byte). nullopt when
/// the type byte or the length does not match, or a configuration is not
/// well-formed (raft::validate_conf_state). Each accepts both its types.
std::optional<HardState> decode_hard_state(std::string_view payload);
std::optional<Entry> decode_entry(std::string_view payload);
std::optional<SnapshotMarker> decode_snapshot_marker(std::string_view payload);

}  // namespace raft::storage::format
