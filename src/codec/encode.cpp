// Encoder: validate and measure in one pass, grow the buffer once, then write
// every field straight into it. The field order lives in emit() only, which
// both passes share, so the size computed is always the size written.

#include <cstring>
#include <limits>
#include <stdexcept>

#include "codec/codec.hpp"
#include "raft/assert.hpp"
#include "varint.hpp"

namespace raft::codec {
namespace {

using detail::node_id_bits;
using detail::put_varint;
using detail::varint_size;

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

CodecError make_error(ErrorReason reason, const std::string& text) {
  return CodecError{reason, std::string(reason_name(reason)) + ": " + text};
}

/// Counts bytes instead of writing them.
struct Sizer {
  std::size_t bytes = 0;
  void u8(std::uint8_t) { bytes += 1; }
  void boolean(bool) { bytes += 1; }
  void varint(std::uint64_t value) { bytes += varint_size(value); }
  void blob(const std::string& data) { bytes += varint_size(data.size()) + data.size(); }
};

/// Writes into memory that the caller sized with Sizer beforehand.
struct Writer {
  char* out;
  void u8(std::uint8_t value) { *out++ = static_cast<char>(value); }
  void boolean(bool value) { *out++ = value ? 1 : 0; }
  void varint(std::uint64_t value) { out = put_varint(out, value); }
  void blob(const std::string& data) {
    out = put_varint(out, data.size());
    if (!data.empty()) std::memcpy(out, data.data(), data.size());
    out += data.size();
  }
};

/// A configuration: its index, then voters, learners and promoting, each a
/// count and that many ids.
template <class Out>
void emit_conf(const ConfState& conf, Out& o) {
  o.varint(conf.index);
  for (const auto* ids : {&conf.voters, &conf.learners, &conf.promoting}) {
    o.varint(ids->size());
    for (NodeId id : *ids) o.varint(node_id_bits(id));
  }
}

/// The one place that says which fields each type sends, in which order (the
/// decoder mirrors it). Precondition: validate(m) found nothing.
template <class Out>
void emit(const Message& m, Out& o) {
  o.u8(kMagic0);
  o.u8(kMagic1);
  o.u8(kFormatVersion);
  o.u8(static_cast<std::uint8_t>(m.type));
  o.varint(node_id_bits(m.from));
  o.varint(node_id_bits(m.to));
  o.varint(m.term);
  switch (m.type) {
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest:
      o.varint(m.last_log_index);
      o.varint(m.last_log_term);
      o.boolean(m.force);
      break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse: o.boolean(m.granted); break;
    case MessageType::AppendEntries:
      o.varint(m.prev_log_index);
      o.varint(m.prev_log_term);
      o.varint(m.commit);
      o.varint(m.read_ctx);
      o.varint(m.entries.size());
      for (const Entry& e : m.entries) {
        o.varint(e.term);
        o.varint(e.index);
        o.u8(static_cast<std::uint8_t>(e.type));
        o.blob(e.data);
      }
      break;
    case MessageType::AppendResponse:
      o.boolean(m.success);
      o.varint(m.match_index);
      o.varint(m.reject_index);
      o.varint(m.conflict_term);
      o.varint(m.hint_index);
      o.varint(m.read_ctx);
      break;
    case MessageType::InstallSnapshot:
      o.varint(m.snapshot.last_index);
      o.varint(m.snapshot.last_term);
      emit_conf(m.snapshot.conf, o);
      o.varint(m.offset);
      o.boolean(m.done);
      o.blob(m.chunk);
      break;
    case MessageType::InstallSnapshotResponse:
      o.varint(m.snapshot.last_index);
      o.varint(m.snapshot.last_term);
      o.varint(m.offset);
      o.varint(m.match_index);
      o.boolean(m.success);
      o.boolean(m.done);
      o.boolean(m.granted);
      break;
    case MessageType::TimeoutNow: break;
    case MessageType::RemovedNotice:
      o.varint(m.commit);
      o.varint(m.commit_term);
      emit_conf(m.conf, o);
      break;
  }
}

/// Everything the decoder would refuse, checked before anything is written, so
/// that whatever encodes also decodes.
std::optional<CodecError> validate(const Message& m) {
  const auto type = static_cast<std::uint8_t>(m.type);
  if (type < kMessageTypeMin || type > kMessageTypeMax) {
    return make_error(
        ErrorReason::BadMessageType,
        "message type " + std::to_string(type) + " is not 1.." + std::to_string(kMessageTypeMax));
  }
  if (m.type == MessageType::AppendEntries) {
    if (m.entries.size() > kEntryCountMax) {
      return make_error(ErrorReason::CountTooLarge, std::to_string(m.entries.size()) +
                                                        " entries exceed the limit of " +
                                                        std::to_string(kEntryCountMax));
    }
    Index previous = m.prev_log_index;
    for (std::size_t i = 0; i < m.entries.size(); ++i) {
      const Entry& e = m.entries[i];
      if (previous == kU64Max || e.index != previous + 1) {
        return make_error(ErrorReason::BadEntryIndex,
                          "entry " + std::to_string(i) + " has index " + std::to_string(e.index) +
                              " after index " + std::to_string(previous));
      }
      previous = e.index;
      if (static_cast<std::uint8_t>(e.type) > static_cast<std::uint8_t>(EntryType::Config)) {
        return make_error(ErrorReason::BadEntryType,
                          "entry " + std::to_string(i) + " has type " +
                              std::to_string(static_cast<std::uint8_t>(e.type)));
      }
      if (e.data.size() > kEntryDataBytesMax) {
        return make_error(ErrorReason::LengthTooLarge,
                          "entry " + std::to_string(i) + " holds " + std::to_string(e.data.size()) +
                              " bytes, above the limit of " + std::to_string(kEntryDataBytesMax));
      }
    }
  }
  if (m.type == MessageType::InstallSnapshot || m.type == MessageType::RemovedNotice) {
    const ConfState& conf = m.type == MessageType::InstallSnapshot ? m.snapshot.conf : m.conf;
    for (const auto* ids : {&conf.voters, &conf.learners, &conf.promoting}) {
      if (ids->size() > kConfNodesMax) {
        return make_error(ErrorReason::CountTooLarge,
                          "a configuration list of " + std::to_string(ids->size()) +
                              " nodes is above the limit of " + std::to_string(kConfNodesMax));
      }
    }
  }
  if (m.type == MessageType::InstallSnapshot) {
    if (m.chunk.size() > kChunkBytesMax) {
      return make_error(ErrorReason::LengthTooLarge,
                        "snapshot chunk of " + std::to_string(m.chunk.size()) +
                            " bytes is above the limit of " + std::to_string(kChunkBytesMax));
    }
    if (m.offset > kU64Max - m.chunk.size()) {
      return make_error(ErrorReason::OffsetOverflow, "snapshot offset " + std::to_string(m.offset) +
                                                         " plus " + std::to_string(m.chunk.size()) +
                                                         " chunk bytes overflows");
    }
  }
  return std::nullopt;
}

template <class Buffer>
std::optional<CodecError> encode_into_buffer(const Message& message, Buffer& out) {
  auto size = encoded_size(message);
  if (auto* error = std::get_if<CodecError>(&size)) return std::move(*error);
  const std::size_t bytes = std::get<std::size_t>(size);
  const std::size_t start = out.size();
  out.resize(start + bytes);
  Writer writer{out.data() + start};
  emit(message, writer);
  RAFT_ASSERT(writer.out == out.data() + out.size(), "the size measured is the size written");
  return std::nullopt;
}

}  // namespace

std::variant<std::size_t, CodecError> encoded_size(const Message& message) {
  if (auto error = validate(message)) return std::move(*error);
  Sizer sizer;
  emit(message, sizer);
  if (sizer.bytes > kMessageBytesMax) {
    return make_error(ErrorReason::MessageTooLarge,
                      "encoding takes " + std::to_string(sizer.bytes) +
                          " bytes, above the limit of " + std::to_string(kMessageBytesMax));
  }
  return sizer.bytes;
}

std::optional<CodecError> encode_into(const Message& message, std::string& out) {
  return encode_into_buffer(message, out);
}

std::optional<CodecError> encode_into(const Message& message, std::vector<char>& out) {
  return encode_into_buffer(message, out);
}

std::string encode(const Message& message) {
  std::string out;
  if (auto error = encode_into(message, out)) throw std::invalid_argument(error->text);
  return out;
}

}  // namespace raft::codec
