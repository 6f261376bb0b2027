#pragma once
/// Versioned binary encoding of raft::Message, the payload of every MPI
/// point-to-point message between Raft nodes.
///
/// WIRE FORMAT, version 3
/// ======================
/// (Version 2 lacked type 10, RemovedNotice; version 1 also lacked the
/// configuration of type 7.)
/// One MPI message carries exactly one encoded raft::Message; the MPI tag is
/// the MessageType value (1 vote request, 2 vote response, 3 append entries,
/// 4 append response, 5.. further types; see raft::MessageType).
///
/// Field kinds:
///   u8      one byte.
///   bool    one byte, 0 or 1; any other value is rejected.
///   varint  unsigned LEB128, least significant group first, 1 to 10 bytes.
///           Only the shortest encoding is accepted (no trailing zero groups)
///           and the 10th byte may only be 0x01, so every value has exactly
///           one encoding and decode(encode(m)) == m and
///           encode(decode(b)) == b hold both ways (for version-3 bytes b;
///           see Compatibility). Small values (ids, terms,
///           indexes, lengths) take 1-3 bytes, hence varints, not fixed width.
///   id      a NodeId: varint of its 32-bit two's complement pattern
///           (kNoNode = -1 encodes as 0xFFFFFFFF); values above 2^32-1 are
///           rejected.
///   bytes   varint length N, then N raw bytes.
///
/// Header, 4 bytes, all types:
///   u8 magic0 = 0x52 ('R'), u8 magic1 = 0x46 ('F'), u8 version = 3,
///   u8 type   = MessageType (1..10); must equal the MPI tag.
/// Common body, all types (in this order):
///   id from, id to, varint term
/// `from` and `to` are sent although MPI knows them (source rank, own rank):
/// the decoder compares them with the values MPI reports, so a message that
/// reaches the wrong rank or claims another sender is rejected, not stepped.
/// Then, by type (only the fields that type uses; other Message fields are
/// not sent and decode as their defaults):
///   1 VoteRequest, 5 PreVoteRequest:
///       varint last_log_index, varint last_log_term, bool force
///       (force is sent with pre-votes too: a forced election may pre-vote.)
///   2 VoteResponse, 6 PreVoteResponse:
///       bool granted
///   3 AppendEntries:
///       varint prev_log_index, varint prev_log_term, varint commit,
///       varint read_ctx, varint entry_count, then entry_count times:
///         varint term, varint index, u8 entry_type (0 noop, 1 command,
///         2 config), bytes data
///       Entry indexes must be prev_log_index + 1, + 2, ... (consecutive,
///       never wrapping past 2^64-1).
///   4 AppendResponse:
///       bool success, varint match_index, varint reject_index,
///       varint conflict_term, varint hint_index, varint read_ctx
///       (all sent whatever `success` says: 4 bytes at worst, and the core is
///       free to fill any of them.)
///   7 InstallSnapshot:
///       varint snapshot.last_index, varint snapshot.last_term,
///       conf snapshot.conf,
///       varint offset, bool done, bytes chunk
///       (offset + chunk length must not exceed 2^64-1.)
///   8 InstallSnapshotResponse:
///       varint snapshot.last_index, varint snapshot.last_term,
///       varint offset, varint match_index, bool success, bool done,
///       bool granted
///       (no configuration: the leader matches an answer to the snapshot it
///       streams by position; the core answers with success, done and match_index, the index it
///       now holds; message.hpp also lists `granted` for this type, so it
///       travels too: one byte.)
///   9 TimeoutNow:
///       nothing more.
///   10 RemovedNotice (version 3 on):
///       varint commit, varint commit_term, conf conf
///   where `conf` (a configuration) is: varint index, then three lists
///   (voters, learners, promoting), each a varint count
///   (<= raft::kConfNodesMax) and that many ids.
/// The message ends exactly after the last field: trailing bytes are rejected.
///
/// Limits (checked by the encoder and the decoder alike):
///   whole message <= kMessageBytesMax (64 MiB), entry data <= kEntryDataBytesMax
///   (16 MiB), entries per message <= kEntryCountMax (65536), snapshot chunk
///   <= kChunkBytesMax (16 MiB).
/// A decoder checks every count and length against both its cap and the bytes
/// still unread before it allocates anything: an entry count above
/// remaining_bytes / kEntryBytesMin is rejected outright.
///
/// The codec checks the structure (and that entry indexes follow on), not
/// Raft's rules (e.g. entry terms not above the message term): those stay
/// with the core, which must treat every decoded message as untrusted.
///
/// Compatibility: a change to any of the above bumps kFormatVersion. A
/// decoder accepts versions kFormatVersionOldest..kFormatVersion and rejects
/// the rest. Version 2 is version 3 without type 10: its messages decode as
/// they always did (so a rank of the previous binary is still understood),
/// and re-encode as version 3, the version byte being the only difference.
/// The encoder writes kFormatVersion only.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "raft/membership.hpp"
#include "raft/message.hpp"
#include "raft/types.hpp"

namespace raft::codec {

inline constexpr std::uint8_t kMagic0 = 0x52;  // 'R'
inline constexpr std::uint8_t kMagic1 = 0x46;  // 'F'
inline constexpr std::uint8_t kFormatVersion = 3;
/// The oldest format version still decoded.
inline constexpr std::uint8_t kFormatVersionOldest = 2;
/// The highest message type a format version knows (0 for an unknown one).
constexpr std::uint8_t message_type_max(std::uint8_t version) {
  if (version == 2) return static_cast<std::uint8_t>(raft::MessageType::TimeoutNow);
  return version == kFormatVersion ? raft::kMessageTypeMax : 0;
}
inline constexpr std::size_t kHeaderBytes = 4;

inline constexpr std::size_t kMessageBytesMax = std::size_t{64} << 20;
inline constexpr std::size_t kEntryDataBytesMax = std::size_t{16} << 20;
inline constexpr std::size_t kChunkBytesMax = std::size_t{16} << 20;
/// Far above Config::append_entries_max (1024 by default), and low enough
/// that a hostile count can make a decoder reserve at most a few MiB.
inline constexpr std::size_t kEntryCountMax = std::size_t{1} << 16;
/// The smallest encoded entry: term, index, type and data length, 1 byte each.
inline constexpr std::size_t kEntryBytesMin = 4;

/// Why an encoding or decoding was refused. Stable names via reason_name().
enum class ErrorReason : std::uint8_t {
  MessageTooLarge,   ///< whole message above kMessageBytesMax
  Truncated,         ///< input ends before a field (or a length runs past the end)
  BadMagic,          ///< first two bytes are not 'R' 'F'
  BadVersion,        ///< format version this decoder does not know
  BadMessageType,    ///< message type outside 1..10 (1..9 in version 2)
  TagMismatch,       ///< MPI tag differs from the encoded message type
  SenderMismatch,    ///< encoded `from` differs from the MPI source rank
  ReceiverMismatch,  ///< encoded `to` differs from the receiving rank
  BadVarint,         ///< over-long, non-shortest or overflowing varint
  BadNodeId,         ///< node id varint above 2^32-1
  BadBool,           ///< boolean byte other than 0 or 1
  BadEntryType,      ///< entry type outside 0..2
  CountTooLarge,     ///< entry or configuration count above its cap or the bytes left
  LengthTooLarge,    ///< entry data or chunk length above its cap
  BadEntryIndex,     ///< entry indexes not prev_log_index+1, +2, ...
  OffsetOverflow,    ///< snapshot offset + chunk length above 2^64-1
  TrailingBytes,     ///< bytes left after the last field
};

/// "truncated", "bad_magic", ... (snake_case, for logs and metric labels).
std::string_view reason_name(ErrorReason reason);

/// A refused encoding or decoding: a reason to count by and one line of text
/// (no newline) that says what was wrong and where, for the log.
struct CodecError {
  ErrorReason reason;
  std::string text;
};

/// The outcome of decode(): a Message or a CodecError. A value type.
class DecodeResult {
 public:
  DecodeResult(raft::Message message) : value_(std::move(message)) {}
  DecodeResult(CodecError error) : value_(std::move(error)) {}

  bool ok() const noexcept { return value_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// Precondition: ok().
  const raft::Message& message() const& { return std::get<0>(value_); }
  raft::Message&& message() && { return std::get<0>(std::move(value_)); }
  /// Precondition: !ok().
  const CodecError& error() const { return std::get<1>(value_); }

 private:
  std::variant<raft::Message, CodecError> value_;
};

/// The MPI tag a message of this type travels under.
constexpr int mpi_tag(raft::MessageType type) { return static_cast<int>(type); }

// All functions below are pure: they keep no state, so any thread may call
// them at once on different arguments. None throws on bad input; only
// std::bad_alloc can escape (and encode() throws as documented).

/// Checks `message` against the wire limits (type and entry types in range,
/// caps, consecutive entry indexes, offset overflow, total size) and returns
/// its exact encoded size, or why it cannot be encoded.
[[nodiscard]] std::variant<std::size_t, CodecError> encoded_size(const raft::Message& message);

/// Appends the encoding of `message` to `out`, growing it once. On error
/// `out` is left as it was. The caller keeps ownership of `out` and may reuse
/// it across calls so that steady-state encoding allocates nothing.
[[nodiscard]] std::optional<CodecError> encode_into(const raft::Message& message, std::string& out);
[[nodiscard]] std::optional<CodecError> encode_into(const raft::Message& message,
                                                    std::vector<char>& out);

/// Returns the encoding of `message`. A message that breaks a wire limit is a
/// bug of the caller (the core never builds one with a valid Config), so this
/// throws std::invalid_argument carrying the error text; use encode_into() to
/// get the error as a value instead.
[[nodiscard]] std::string encode(const raft::Message& message);

/// Decodes one MPI payload. `from` is the MPI source rank, `to` this node's
/// rank, `tag` the MPI tag; each must agree with what the bytes say. Never
/// throws on bad input; never reads outside [data, data + size).
[[nodiscard]] DecodeResult decode(std::span<const std::byte> bytes, raft::NodeId from,
                                  raft::NodeId to, int tag);
[[nodiscard]] DecodeResult decode(const char* data, std::size_t size, raft::NodeId from,
                                  raft::NodeId to, int tag);

/// Like decode(), but decodes into `out` and reuses the capacity of its
/// entries (and of their data strings) and of its chunk, so a receive loop
/// that keeps one Message allocates only when messages grow. On success `out`
/// equals the decoded message exactly; on error its content is unspecified
/// (but valid) and the error is returned.
[[nodiscard]] std::optional<CodecError> decode_into(std::span<const std::byte> bytes,
                                                    raft::NodeId from, raft::NodeId to, int tag,
                                                    raft::Message& out);

}  // namespace raft::codec
