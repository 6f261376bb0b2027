// Decoder: a bounds-checked reader over the input with a sticky first error.
// Once a read fails every later read returns 0 and reads nothing, so the
// parsing code stays a straight list of fields; the places that act on a
// value (allocations, loops, cross-checks) test failed() first.

#include <limits>

#include "codec/codec.hpp"
#include "varint.hpp"

namespace raft::codec {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

std::string type_text(std::uint64_t type) {
  std::string text = std::to_string(type);
  if (type >= kMessageTypeMin && type <= kMessageTypeMax) {
    text += " (";
    text += message_type_name(static_cast<MessageType>(type));
    text += ")";
  }
  return text;
}

class Reader {
 public:
  explicit Reader(std::span<const std::byte> input)
      : begin_(reinterpret_cast<const std::uint8_t*>(input.data())),
        next_(begin_),
        end_(begin_ + input.size()) {}

  bool failed() const { return error_.has_value(); }
  std::optional<CodecError>& error() { return error_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - next_); }

  /// Records the first error only (later ones are consequences of it), with
  /// the byte offset where it was found, and stops all further reading.
  void fail(ErrorReason reason, const std::string& what) {
    if (error_) return;
    error_ = CodecError{reason, std::string(reason_name(reason)) + ": " + what + " (at byte " +
                                    std::to_string(next_ - begin_) + " of " +
                                    std::to_string(end_ - begin_) + ")"};
    next_ = end_;
  }
  /// Like fail(), but the offset reported is that of the field just read.
  void fail_at(const std::uint8_t* field, ErrorReason reason, const std::string& what) {
    if (error_) return;
    next_ = field;
    fail(reason, what);
  }

  std::uint8_t byte(const char* field) {
    if (next_ == end_) {
      fail(ErrorReason::Truncated, std::string("input ends before ") + field);
      return 0;
    }
    return *next_++;
  }

  bool boolean(const char* field) {
    const std::uint8_t* at = next_;
    const std::uint8_t value = byte(field);
    if (value > 1) {
      fail_at(at, ErrorReason::BadBool,
              std::string(field) + " is " + std::to_string(value) + ", not 0 or 1");
      return false;
    }
    return value == 1;
  }

  std::uint64_t varint(const char* field) {
    if (next_ != end_ && *next_ < 0x80) return *next_++;  // the common case
    const std::uint8_t* at = next_;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < detail::kVarintBytesMax; ++i) {
      if (at + i == end_) {
        fail(ErrorReason::Truncated, std::string("input ends inside ") + field);
        return 0;
      }
      const std::uint8_t group = at[i];
      // The 10th group holds bit 63 only; more would overflow 64 bits.
      if (i == detail::kVarintBytesMax - 1 && group > 1) {
        fail_at(at, ErrorReason::BadVarint, std::string(field) + " overflows 64 bits");
        return 0;
      }
      value |= static_cast<std::uint64_t>(group & 0x7F) << (7 * i);
      if (group < 0x80) {
        if (group == 0 && i > 0) {
          // A zero last group means a shorter encoding existed: refusing it
          // keeps every value's encoding unique.
          fail_at(at, ErrorReason::BadVarint, std::string(field) + " is not in shortest form");
          return 0;
        }
        next_ = at + i + 1;
        return value;
      }
    }
    // Unreachable: the 10th group either ends the varint or fails above.
    fail_at(at, ErrorReason::BadVarint, std::string(field) + " is too long");
    return 0;
  }

  NodeId node_id(const char* field) {
    const std::uint8_t* at = next_;
    const std::uint64_t bits = varint(field);
    if (bits > std::numeric_limits<std::uint32_t>::max()) {
      fail_at(at, ErrorReason::BadNodeId,
              std::string(field) + " " + std::to_string(bits) + " does not fit 32 bits");
      return kNoNode;
    }
    return static_cast<NodeId>(static_cast<std::uint32_t>(bits));
  }

  /// Reads a length-prefixed byte string into `out` (reusing its capacity),
  /// after checking the length against `length_max` and the unread input.
  void blob(std::string& out, std::size_t length_max, const char* field) {
    const std::uint8_t* at = next_;
    const std::uint64_t length = varint(field);
    if (failed()) return;
    if (length > length_max) {
      fail_at(at, ErrorReason::LengthTooLarge,
              std::string(field) + " length " + std::to_string(length) + " is above the limit of " +
                  std::to_string(length_max));
      return;
    }
    if (length > remaining()) {
      fail_at(at, ErrorReason::Truncated,
              std::string(field) + " length " + std::to_string(length) + " runs past the " +
                  std::to_string(remaining()) + " bytes left");
      return;
    }
    out.assign(reinterpret_cast<const char*>(next_), static_cast<std::size_t>(length));
    next_ += length;
  }

  const std::uint8_t* position() const { return next_; }

 private:
  const std::uint8_t* begin_;
  const std::uint8_t* next_;
  const std::uint8_t* end_;
  std::optional<CodecError> error_;
};

/// Resets `m` to a default Message but keeps the buffers worth reusing.
void reset_keeping_capacity(Message& m) {
  std::vector<Entry> entries = std::move(m.entries);
  std::string chunk = std::move(m.chunk);
  m = Message{};
  m.entries = std::move(entries);
  m.chunk = std::move(chunk);
  m.chunk.clear();
}

void read_entries(Reader& r, Message& m) {
  const std::uint8_t* at = r.position();
  const std::uint64_t count = r.varint("entry count");
  if (r.failed()) return;
  // Both bounds hold before anything is allocated: a hostile count can
  // neither exceed the cap nor promise more entries than the bytes left hold.
  if (count > kEntryCountMax) {
    r.fail_at(at, ErrorReason::CountTooLarge,
              "entry count " + std::to_string(count) + " is above the limit of " +
                  std::to_string(kEntryCountMax));
    return;
  }
  if (count > r.remaining() / kEntryBytesMin) {
    r.fail_at(at, ErrorReason::CountTooLarge,
              "entry count " + std::to_string(count) + " cannot fit in the " +
                  std::to_string(r.remaining()) + " bytes left");
    return;
  }
  m.entries.resize(static_cast<std::size_t>(count));
  Index previous = m.prev_log_index;
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    Entry& e = m.entries[i];
    e.term = r.varint("entry term");
    const std::uint8_t* index_at = r.position();
    e.index = r.varint("entry index");
    if (r.failed()) return;
    if (previous == kU64Max || e.index != previous + 1) {
      r.fail_at(index_at, ErrorReason::BadEntryIndex,
                "entry " + std::to_string(i) + " has index " + std::to_string(e.index) +
                    ", expected " +
                    (previous == kU64Max ? std::string("none (index space ends)")
                                         : std::to_string(previous + 1)));
      return;
    }
    previous = e.index;
    const std::uint8_t* type_at = r.position();
    const std::uint8_t type = r.byte("entry type");
    if (r.failed()) return;
    if (type > static_cast<std::uint8_t>(EntryType::Config)) {
      r.fail_at(type_at, ErrorReason::BadEntryType,
                "entry " + std::to_string(i) + " has type " + std::to_string(type) + ", not 0..2");
      return;
    }
    e.type = static_cast<EntryType>(type);
    r.blob(e.data, kEntryDataBytesMax, "entry data");
    if (r.failed()) return;
  }
}

/// Magic, version and type, checked against the MPI tag. Returns the message
/// type, or 0 after recording why the header is refused.
std::uint8_t read_header(Reader& r, int tag) {
  const std::uint8_t magic0 = r.byte("magic");
  const std::uint8_t magic1 = r.byte("magic");
  if (r.failed()) return 0;
  if (magic0 != kMagic0 || magic1 != kMagic1) {
    r.fail_at(r.position() - 2, ErrorReason::BadMagic,
              "magic is " + std::to_string(magic0) + " " + std::to_string(magic1) + ", not " +
                  std::to_string(kMagic0) + " " + std::to_string(kMagic1));
    return 0;
  }
  const std::uint8_t version = r.byte("version");
  if (r.failed()) return 0;
  if (version < kFormatVersionOldest || version > kFormatVersion) {
    r.fail_at(r.position() - 1, ErrorReason::BadVersion,
              "format version " + std::to_string(version) + " is unknown (this node speaks " +
                  std::to_string(kFormatVersionOldest) + " to " + std::to_string(kFormatVersion) +
                  ")");
    return 0;
  }
  const std::uint8_t type = r.byte("message type");
  if (r.failed()) return 0;
  const std::uint8_t type_max = message_type_max(version);
  if (type < kMessageTypeMin || type > type_max) {
    r.fail_at(r.position() - 1, ErrorReason::BadMessageType,
              "message type " + std::to_string(type) + " is not 1.." + std::to_string(type_max) +
                  " (format version " + std::to_string(version) + ")");
    return 0;
  }
  if (tag != static_cast<int>(type)) {
    r.fail_at(r.position() - 1, ErrorReason::TagMismatch,
              "MPI tag " +
                  (tag >= 0 ? type_text(static_cast<std::uint64_t>(tag)) : std::to_string(tag)) +
                  " but the message is of type " + type_text(type));
    return 0;
  }
  return type;
}

/// The common body: sender and receiver, checked against what MPI reports,
/// and the term.
void read_common(Reader& r, NodeId from, NodeId to, Message& out) {
  const std::uint8_t* from_at = r.position();
  out.from = r.node_id("from");
  if (!r.failed() && out.from != from) {
    r.fail_at(from_at, ErrorReason::SenderMismatch,
              "message says it is from node " + std::to_string(out.from) + " but MPI rank " +
                  std::to_string(from) + " sent it");
  }
  const std::uint8_t* to_at = r.position();
  out.to = r.node_id("to");
  if (!r.failed() && out.to != to) {
    r.fail_at(to_at, ErrorReason::ReceiverMismatch,
              "message is addressed to node " + std::to_string(out.to) + " but rank " +
                  std::to_string(to) + " received it");
  }
  out.term = r.varint("term");
}

/// One list of a snapshot's configuration: a count, then that many node ids.
void read_conf_list(Reader& r, std::vector<NodeId>& ids, const char* field) {
  const std::uint8_t* at = r.position();
  const std::uint64_t count = r.varint(field);
  if (r.failed()) return;
  // Both bounds before allocating: each id takes at least one byte.
  if (count > kConfNodesMax || count > r.remaining()) {
    r.fail_at(at, ErrorReason::CountTooLarge,
              std::string(field) + " " + std::to_string(count) + " is above the limit of " +
                  std::to_string(kConfNodesMax) + " or the bytes left");
    return;
  }
  ids.resize(static_cast<std::size_t>(count));
  for (NodeId& id : ids) id = r.node_id("configuration node id");
}

/// A configuration: its index, then its three lists.
void read_conf(Reader& r, ConfState& conf) {
  conf.index = r.varint("configuration index");
  read_conf_list(r, conf.voters, "voter count");
  read_conf_list(r, conf.learners, "learner count");
  read_conf_list(r, conf.promoting, "promoting count");
}

void read_install_snapshot(Reader& r, Message& out) {
  out.snapshot.last_index = r.varint("snapshot last_index");
  out.snapshot.last_term = r.varint("snapshot last_term");
  read_conf(r, out.snapshot.conf);
  out.offset = r.varint("offset");
  out.done = r.boolean("done");
  const std::uint8_t* chunk_at = r.position();
  r.blob(out.chunk, kChunkBytesMax, "snapshot chunk");
  if (!r.failed() && out.offset > kU64Max - out.chunk.size()) {
    r.fail_at(chunk_at, ErrorReason::OffsetOverflow,
              "snapshot offset " + std::to_string(out.offset) + " plus " +
                  std::to_string(out.chunk.size()) + " chunk bytes overflows");
  }
}

/// The fields of `out.type`, in the order codec.hpp lists them.
void read_body(Reader& r, Message& out) {
  switch (out.type) {
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest:
      out.last_log_index = r.varint("last_log_index");
      out.last_log_term = r.varint("last_log_term");
      out.force = r.boolean("force");
      break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse: out.granted = r.boolean("granted"); break;
    case MessageType::AppendEntries:
      out.prev_log_index = r.varint("prev_log_index");
      out.prev_log_term = r.varint("prev_log_term");
      out.commit = r.varint("commit");
      out.read_ctx = r.varint("read_ctx");
      read_entries(r, out);
      break;
    case MessageType::AppendResponse:
      out.success = r.boolean("success");
      out.match_index = r.varint("match_index");
      out.reject_index = r.varint("reject_index");
      out.conflict_term = r.varint("conflict_term");
      out.hint_index = r.varint("hint_index");
      out.read_ctx = r.varint("read_ctx");
      break;
    case MessageType::InstallSnapshot: read_install_snapshot(r, out); break;
    case MessageType::InstallSnapshotResponse:
      out.snapshot.last_index = r.varint("snapshot last_index");
      out.snapshot.last_term = r.varint("snapshot last_term");
      out.offset = r.varint("offset");
      out.match_index = r.varint("match_index");
      out.success = r.boolean("success");
      out.done = r.boolean("done");
      out.granted = r.boolean("granted");
      break;
    case MessageType::TimeoutNow: break;
    case MessageType::RemovedNotice:
      out.commit = r.varint("commit");
      out.commit_term = r.varint("commit_term");
      read_conf(r, out.conf);
      break;
  }
}

}  // namespace

std::optional<CodecError> decode_into(std::span<const std::byte> bytes, NodeId from, NodeId to,
                                      int tag, Message& out) {
  if (bytes.size() > kMessageBytesMax) {
    return CodecError{ErrorReason::MessageTooLarge,
                      std::string(reason_name(ErrorReason::MessageTooLarge)) + ": " +
                          std::to_string(bytes.size()) + " bytes, above the limit of " +
                          std::to_string(kMessageBytesMax)};
  }
  Reader r(bytes);
  const std::uint8_t type = read_header(r, tag);
  if (r.failed()) return std::move(r.error());

  reset_keeping_capacity(out);
  out.type = static_cast<MessageType>(type);
  read_common(r, from, to, out);
  read_body(r, out);
  if (out.type != MessageType::AppendEntries) out.entries.clear();
  if (!r.failed() && r.remaining() != 0) {
    r.fail(ErrorReason::TrailingBytes,
           std::to_string(r.remaining()) + " bytes follow the last field");
  }
  return std::move(r.error());
}

DecodeResult decode(std::span<const std::byte> bytes, NodeId from, NodeId to, int tag) {
  Message message;
  if (auto error = decode_into(bytes, from, to, tag, message)) return std::move(*error);
  return message;
}

DecodeResult decode(const char* data, std::size_t size, NodeId from, NodeId to, int tag) {
  return decode(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), from,
                to, tag);
}

}  // namespace raft::codec
