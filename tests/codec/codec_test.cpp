// Unit tests of the MPI message codec: round trips, the pinned wire format,
// truncations and hand-made hostile inputs. The randomized mutation test is in
// codec_mutation_test.cpp.

#include "codec/codec.hpp"

#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raft/rng.hpp"
#include "random_message.hpp"

namespace raft::codec {
namespace {

using testing::describe;
using testing::random_message;

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

DecodeResult decode_as_sent(const std::string& bytes, const Message& m) {
  return decode(bytes.data(), bytes.size(), m.from, m.to, mpi_tag(m.type));
}

void expect_round_trip(const Message& m) {
  const std::string bytes = encode(m);
  const DecodeResult result = decode_as_sent(bytes, m);
  ASSERT_TRUE(result.ok()) << result.error().text << " for " << describe(m);
  EXPECT_TRUE(result.message() == m)
      << "sent     " << describe(m) << "\nreceived " << describe(result.message());
}

/// Builds wire bytes by hand, so that tests can say exactly what is wrong.
class Bytes {
 public:
  Bytes& u8(std::uint8_t value) {
    data_.push_back(static_cast<char>(value));
    return *this;
  }
  Bytes& varint(std::uint64_t value) {
    while (value >= 0x80) {
      u8(static_cast<std::uint8_t>(value) | 0x80);
      value >>= 7;
    }
    return u8(static_cast<std::uint8_t>(value));
  }
  Bytes& raw(const std::string& bytes) {
    data_ += bytes;
    return *this;
  }
  /// Magic, version, type, from, to and term.
  Bytes& header(MessageType type, NodeId from = 1, NodeId to = 2, Term term = 5) {
    return u8(kMagic0)
        .u8(kMagic1)
        .u8(kFormatVersion)
        .u8(static_cast<std::uint8_t>(type))
        .varint(static_cast<std::uint32_t>(from))
        .varint(static_cast<std::uint32_t>(to))
        .varint(term);
  }
  const std::string& str() const { return data_; }

 private:
  std::string data_;
};

DecodeResult decode_bytes(const Bytes& bytes, int tag, NodeId from = 1, NodeId to = 2) {
  return decode(bytes.str().data(), bytes.str().size(), from, to, tag);
}

void expect_rejected(const DecodeResult& result, ErrorReason reason) {
  ASSERT_FALSE(result.ok()) << "accepted " << describe(result.message());
  EXPECT_EQ(result.error().reason, reason) << result.error().text;
  EXPECT_EQ(result.error().text.find('\n'), std::string::npos) << result.error().text;
  EXPECT_EQ(result.error().text.rfind(std::string(reason_name(reason)) + ": ", 0), 0u)
      << result.error().text;
}

Message full_message(MessageType type) {
  Message m;
  m.type = type;
  m.from = 3;
  m.to = 4;
  m.term = 77;
  switch (type) {
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest:
      m.last_log_index = 1000;
      m.last_log_term = 76;
      m.force = true;
      break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse: m.granted = true; break;
    case MessageType::AppendEntries:
      m.prev_log_index = 99;
      m.prev_log_term = 70;
      m.commit = 98;
      m.read_ctx = 12345;
      m.entries = {Entry{71, 100, EntryType::Noop, ""},
                   Entry{77, 101, EntryType::Command, std::string("set k\0v", 7)},
                   Entry{77, 102, EntryType::Config, "voters=0,1,2"}};
      break;
    case MessageType::AppendResponse:
      m.success = true;
      m.match_index = 102;
      m.reject_index = 55;
      m.conflict_term = 9;
      m.hint_index = 40;
      m.read_ctx = 12345;
      break;
    case MessageType::InstallSnapshot:
      m.snapshot = SnapshotMeta{5000, 60, ConfState{{0, 1, 2}, {4}, {4}, 4990}};
      m.offset = 65536;
      m.chunk = std::string(1000, '\xAB');
      m.done = true;
      break;
    case MessageType::InstallSnapshotResponse:
      m.snapshot = SnapshotMeta{5000, 60};
      m.offset = 66536;
      m.match_index = 5000;
      m.success = true;
      m.done = true;
      m.granted = true;
      break;
    case MessageType::TimeoutNow: break;
    case MessageType::RemovedNotice:
      m.commit = 5000;
      m.commit_term = 76;
      m.conf = ConfState{{0, 1, 2}, {4}, {4}, 4990};
      break;
  }
  return m;
}

TEST(CodecRoundTrip, EveryTypeWithAllItsFields) {
  for (int type = kMessageTypeMin; type <= kMessageTypeMax; ++type) {
    SCOPED_TRACE(type);
    expect_round_trip(full_message(static_cast<MessageType>(type)));
  }
}

TEST(CodecRoundTrip, DefaultMessageOfEveryType) {
  for (int type = kMessageTypeMin; type <= kMessageTypeMax; ++type) {
    Message m;
    m.type = static_cast<MessageType>(type);
    expect_round_trip(m);  // kNoNode ids included
  }
}

TEST(CodecRoundTrip, ExtremeValues) {
  Message m = full_message(MessageType::AppendEntries);
  m.from = std::numeric_limits<NodeId>::min();
  m.to = std::numeric_limits<NodeId>::max();
  m.term = kU64Max;
  m.commit = kU64Max;
  m.prev_log_term = kU64Max;
  m.read_ctx = kU64Max;
  m.prev_log_index = kU64Max - 3;
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    m.entries[i].index = m.prev_log_index + 1 + i;  // the last one is 2^64-1
    m.entries[i].term = kU64Max;
  }
  expect_round_trip(m);

  Message s = full_message(MessageType::InstallSnapshot);
  s.offset = kU64Max - s.chunk.size();
  expect_round_trip(s);
}

// Seeded property test: thousands of random messages of every type survive
// encode -> decode unchanged, re-encode to the same bytes, and the measured
// size is the written size.
TEST(CodecRoundTrip, RandomMessagesProperty) {
  constexpr std::uint64_t kSeed = 0xC0DEC5EEDULL;
  Rng rng(kSeed);
  Message reused;  // decode_into must not leak anything between messages
  std::string buffer;
  for (int i = 0; i < 20000; ++i) {
    testing::RandomMessageOptions options;
    if (i % 100 == 0) options = {300, 200};  // now and then a big batch
    const Message m = random_message(rng, options);
    SCOPED_TRACE("seed " + std::to_string(kSeed) + " message " + std::to_string(i));

    const std::string bytes = encode(m);
    const auto size = encoded_size(m);
    ASSERT_EQ(std::get<std::size_t>(size), bytes.size());

    const DecodeResult result = decode_as_sent(bytes, m);
    ASSERT_TRUE(result.ok()) << result.error().text << " for " << describe(m);
    ASSERT_TRUE(result.message() == m)
        << "sent     " << describe(m) << "\nreceived " << describe(result.message());
    ASSERT_EQ(encode(result.message()), bytes);

    const auto error =
        decode_into(std::as_bytes(std::span(bytes)), m.from, m.to, mpi_tag(m.type), reused);
    ASSERT_FALSE(error.has_value()) << error->text;
    ASSERT_TRUE(reused == m) << describe(reused);

    // encode_into appends; it does not overwrite.
    buffer.assign("xy");
    ASSERT_FALSE(encode_into(m, buffer).has_value());
    ASSERT_EQ(buffer, "xy" + bytes);
  }
}

TEST(CodecRoundTrip, VectorBufferMatchesString) {
  const Message m = full_message(MessageType::AppendEntries);
  std::vector<char> out = {'z'};
  ASSERT_FALSE(encode_into(m, out).has_value());
  EXPECT_EQ(std::string(out.begin() + 1, out.end()), encode(m));
}

TEST(CodecRoundTrip, FieldsATypeDoesNotUseAreNotSent) {
  Message m = full_message(MessageType::VoteResponse);
  m.entries = full_message(MessageType::AppendEntries).entries;
  m.chunk = "ignored";
  m.commit = 9;
  const std::string bytes = encode(m);
  const DecodeResult result = decode_as_sent(bytes, m);
  ASSERT_TRUE(result.ok()) << result.error().text;
  EXPECT_TRUE(result.message() == full_message(MessageType::VoteResponse));
}

// Pins version 3 of the wire format byte for byte: if this fails, the format
// changed and kFormatVersion must change with it.
TEST(CodecWireFormat, VoteRequestBytes) {
  Message m;
  m.type = MessageType::VoteRequest;
  m.from = 1;
  m.to = 2;
  m.term = 300;  // varint AC 02
  m.last_log_index = 7;
  m.last_log_term = 3;
  m.force = true;
  EXPECT_EQ(encode(m), std::string("\x52\x46\x03\x01\x01\x02\xAC\x02\x07\x03\x01", 11));
}

TEST(CodecWireFormat, InstallSnapshotBytesCarryTheConfiguration) {
  Message m;
  m.type = MessageType::InstallSnapshot;
  m.from = 0;
  m.to = 3;
  m.term = 2;
  m.snapshot = SnapshotMeta{9, 2, ConfState{{0, 1, 2}, {3}, {3}, 7}};
  m.offset = 0;
  m.done = true;
  m.chunk = "s";
  EXPECT_EQ(encode(m), std::string("\x52\x46\x03\x07"
                                   "\x00\x03\x02"
                                   "\x09\x02"
                                   "\x07\x03\x00\x01\x02\x01\x03\x01\x03"
                                   "\x00\x01\x01s",
                                   22));
}

TEST(CodecWireFormat, AppendEntriesBytes) {
  Message m;
  m.type = MessageType::AppendEntries;
  m.from = 0;
  m.to = kNoNode;  // FF FF FF FF 0F
  m.term = 2;
  m.prev_log_index = 4;
  m.prev_log_term = 1;
  m.commit = 3;
  m.read_ctx = 0;
  m.entries = {Entry{2, 5, EntryType::Command, "hi"}};
  EXPECT_EQ(encode(m), std::string("\x52\x46\x03\x03"
                                   "\x00\xFF\xFF\xFF\xFF\x0F\x02"
                                   "\x04\x01\x03\x00\x01"
                                   "\x02\x05\x01\x02hi",
                                   22));
}

TEST(CodecWireFormat, RemovedNoticeBytesCarryTheConfiguration) {
  Message m;
  m.type = MessageType::RemovedNotice;
  m.from = 0;
  m.to = 3;
  m.term = 2;
  m.commit = 12;
  m.commit_term = 2;
  m.conf = ConfState{{0, 1, 2}, {4}, {}, 9};
  EXPECT_EQ(encode(m), std::string("\x52\x46\x03\x0A"
                                   "\x00\x03\x02"
                                   "\x0C\x02"
                                   "\x09\x03\x00\x01\x02\x01\x04\x00",
                                   17));
}

// Version 2 is version 3 without RemovedNotice: a rank of the previous
// binary is still understood, every type it can send decoding as before.
TEST(CodecWireFormat, Version2MessagesStillDecode) {
  for (int type = kMessageTypeMin; type <= message_type_max(2); ++type) {
    SCOPED_TRACE(type);
    const Message m = full_message(static_cast<MessageType>(type));
    std::string bytes = encode(m);
    ASSERT_EQ(bytes[2], '\x03');
    bytes[2] = '\x02';
    const DecodeResult result = decode_as_sent(bytes, m);
    ASSERT_TRUE(result.ok()) << result.error().text;
    EXPECT_TRUE(result.message() == m) << describe(result.message());
    std::string reencoded = encode(result.message());
    reencoded[2] = '\x02';
    EXPECT_EQ(reencoded, bytes) << "only the version byte differs";
  }
  std::string notice = encode(full_message(MessageType::RemovedNotice));
  notice[2] = '\x02';
  expect_rejected(decode(notice.data(), notice.size(), 3, 4, 10), ErrorReason::BadMessageType);
}

TEST(CodecWireFormat, HeartbeatIsSmall) {
  Message m;
  m.type = MessageType::AppendEntries;
  m.from = 0;
  m.to = 1;
  m.term = 3;
  m.prev_log_index = 1200;
  m.prev_log_term = 3;
  m.commit = 1200;
  EXPECT_LE(encode(m).size(), 16u);
}

TEST(CodecTruncation, EveryPrefixOfAValidEncodingIsRejected) {
  Rng rng(42);
  for (int i = 0; i < 600; ++i) {
    const Message m =
        i < kMessageTypeMax ? full_message(static_cast<MessageType>(i + 1)) : random_message(rng);
    const std::string bytes = encode(m);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      const DecodeResult result = decode(bytes.data(), n, m.from, m.to, mpi_tag(m.type));
      ASSERT_FALSE(result.ok()) << "prefix " << n << " of " << bytes.size() << " accepted for "
                                << describe(m);
      const ErrorReason reason = result.error().reason;
      // A cut field reads as truncated; a cut entry list as a count the bytes
      // left cannot hold.
      ASSERT_TRUE(reason == ErrorReason::Truncated || reason == ErrorReason::CountTooLarge)
          << result.error().text;
    }
  }
}

TEST(CodecHostile, EmptyAndNullInput) {
  expect_rejected(decode(nullptr, 0, 1, 2, 1), ErrorReason::Truncated);
  expect_rejected(decode(std::span<const std::byte>(), 1, 2, 1), ErrorReason::Truncated);
}

TEST(CodecHostile, BadMagic) {
  std::string bytes = encode(full_message(MessageType::VoteRequest));
  bytes[0] = 'X';
  expect_rejected(decode(bytes.data(), bytes.size(), 3, 4, 1), ErrorReason::BadMagic);
  bytes = encode(full_message(MessageType::VoteRequest));
  bytes[1] = 0;
  expect_rejected(decode(bytes.data(), bytes.size(), 3, 4, 1), ErrorReason::BadMagic);
}

TEST(CodecHostile, UnknownVersion) {
  for (std::uint8_t version : {0, 1, 4, 255}) {
    std::string bytes = encode(full_message(MessageType::VoteRequest));
    bytes[2] = static_cast<char>(version);
    expect_rejected(decode(bytes.data(), bytes.size(), 3, 4, 1), ErrorReason::BadVersion);
  }
}

TEST(CodecHostile, UnknownMessageType) {
  for (std::uint8_t type : {0, 11, 200, 255}) {
    expect_rejected(decode_bytes(Bytes().header(static_cast<MessageType>(type)), type),
                    ErrorReason::BadMessageType);
  }
}

TEST(CodecHostile, WrongTag) {
  const std::string bytes = encode(full_message(MessageType::AppendEntries));
  for (int tag : {0, 1, 2, 4, 9, 10, -1, 1000, std::numeric_limits<int>::min()}) {
    expect_rejected(decode(bytes.data(), bytes.size(), 3, 4, tag), ErrorReason::TagMismatch);
  }
}

TEST(CodecHostile, WrongSenderOrReceiver) {
  const std::string bytes = encode(full_message(MessageType::TimeoutNow));
  expect_rejected(decode(bytes.data(), bytes.size(), 2, 4, 9), ErrorReason::SenderMismatch);
  expect_rejected(decode(bytes.data(), bytes.size(), 3, 5, 9), ErrorReason::ReceiverMismatch);
  expect_rejected(decode(bytes.data(), bytes.size(), kNoNode, 4, 9), ErrorReason::SenderMismatch);
}

TEST(CodecHostile, NodeIdAbove32Bits) {
  Bytes bytes;
  bytes.u8(kMagic0).u8(kMagic1).u8(kFormatVersion).u8(9).varint(std::uint64_t{1} << 32);
  bytes.varint(2).varint(5);
  expect_rejected(decode_bytes(bytes, 9), ErrorReason::BadNodeId);
}

TEST(CodecHostile, TrailingGarbage) {
  for (int type = kMessageTypeMin; type <= kMessageTypeMax; ++type) {
    const Message m = full_message(static_cast<MessageType>(type));
    for (const char* garbage : {"\0", "x", "\x52\x46\x01\x01"}) {
      const std::string bytes =
          encode(m) +
          std::string(garbage, std::max<std::size_t>(1, std::char_traits<char>::length(garbage)));
      expect_rejected(decode_as_sent(bytes, m), ErrorReason::TrailingBytes);
    }
  }
}

TEST(CodecHostile, BooleanOtherThanZeroOrOne) {
  // Every boolean field of every type.
  expect_rejected(
      decode_bytes(Bytes().header(MessageType::VoteRequest).varint(1).varint(1).u8(2), 1),
      ErrorReason::BadBool);
  expect_rejected(decode_bytes(Bytes().header(MessageType::PreVoteResponse).u8(255), 6),
                  ErrorReason::BadBool);
  expect_rejected(
      decode_bytes(Bytes().header(MessageType::AppendResponse).u8(2).raw(std::string(5, '\0')), 4),
      ErrorReason::BadBool);
  expect_rejected(decode_bytes(Bytes()
                                   .header(MessageType::InstallSnapshot)
                                   .varint(1)
                                   .varint(1)
                                   .raw(std::string(4, '\0'))  // an empty configuration
                                   .varint(0)
                                   .u8(2)
                                   .varint(0),
                               7),
                  ErrorReason::BadBool);
  // success, done, granted of an InstallSnapshotResponse, one at a time.
  for (int bad = 0; bad < 3; ++bad) {
    Bytes bytes;
    bytes.header(MessageType::InstallSnapshotResponse).varint(1).varint(1).varint(0).varint(1);
    for (int i = 0; i < 3; ++i) bytes.u8(i == bad ? 2 : 1);
    expect_rejected(decode_bytes(bytes, 8), ErrorReason::BadBool);
  }
}

Bytes append_entries_prefix(std::uint64_t prev_log_index = 9) {
  Bytes bytes;
  bytes.header(MessageType::AppendEntries).varint(prev_log_index).varint(1).varint(0).varint(0);
  return bytes;
}

TEST(CodecHostile, EntryTypeOutOfRange) {
  Bytes bytes = append_entries_prefix();
  bytes.varint(1).varint(5).varint(10).u8(3).varint(0);
  expect_rejected(decode_bytes(bytes, 3), ErrorReason::BadEntryType);
}

TEST(CodecHostile, HugeEntryCounts) {
  for (std::uint64_t count :
       {kU64Max, std::uint64_t{1} << 40, static_cast<std::uint64_t>(kEntryCountMax) + 1}) {
    Bytes bytes = append_entries_prefix();
    bytes.varint(count).raw(std::string(64, '\0'));
    expect_rejected(decode_bytes(bytes, 3), ErrorReason::CountTooLarge);
  }
  // Within the cap but more than the bytes left can hold: 3 entries in 11 bytes.
  Bytes bytes = append_entries_prefix();
  bytes.varint(3).raw(std::string(11, '\0'));
  expect_rejected(decode_bytes(bytes, 3), ErrorReason::CountTooLarge);
}

TEST(CodecHostile, HugeLengths) {
  for (std::uint64_t length :
       {kU64Max, std::uint64_t{1} << 40, static_cast<std::uint64_t>(kEntryDataBytesMax) + 1}) {
    Bytes bytes = append_entries_prefix();
    bytes.varint(1).varint(5).varint(10).u8(1).varint(length).raw("abc");
    expect_rejected(decode_bytes(bytes, 3), ErrorReason::LengthTooLarge);

    Bytes chunk;
    chunk.header(MessageType::InstallSnapshot).varint(1).varint(1).raw(std::string(4, '\0'));
    chunk.varint(0).u8(0);
    chunk.varint(length).raw("abc");
    expect_rejected(decode_bytes(chunk, 7), ErrorReason::LengthTooLarge);
  }
  // Below the cap but past the end of the input.
  Bytes bytes = append_entries_prefix();
  bytes.varint(1).varint(5).varint(10).u8(1).varint(4).raw("abc");
  expect_rejected(decode_bytes(bytes, 3), ErrorReason::Truncated);
}

TEST(CodecHostile, MalformedVarints) {
  // Not the shortest form: 0x80 0x00 is a long way to write 0.
  expect_rejected(decode_bytes(Bytes()
                                   .u8(kMagic0)
                                   .u8(kMagic1)
                                   .u8(kFormatVersion)
                                   .u8(9)
                                   .u8(0x81)
                                   .u8(0x00)
                                   .varint(2)
                                   .varint(5),
                               9),
                  ErrorReason::BadVarint);
  // Eleven groups, and a tenth group above 1: both overflow 64 bits.
  Bytes eleven = Bytes().header(MessageType::TimeoutNow, 1, 2, 0);
  std::string eleven_bytes = eleven.str();
  eleven_bytes.pop_back();  // drop the term
  eleven_bytes += std::string(10, '\xFF') + '\x01';
  expect_rejected(decode(eleven_bytes.data(), eleven_bytes.size(), 1, 2, 9),
                  ErrorReason::BadVarint);
  std::string tenth = eleven.str();
  tenth.pop_back();
  tenth += std::string(9, '\xFF') + '\x02';
  expect_rejected(decode(tenth.data(), tenth.size(), 1, 2, 9), ErrorReason::BadVarint);
  // 2^64-1 itself is fine.
  std::string max = eleven.str();
  max.pop_back();
  max += std::string(9, '\xFF') + '\x01';
  const DecodeResult ok = decode(max.data(), max.size(), 1, 2, 9);
  ASSERT_TRUE(ok.ok()) << ok.error().text;
  EXPECT_EQ(ok.message().term, kU64Max);
}

TEST(CodecHostile, EntryIndexesMustFollowPrevLogIndex) {
  // First entry not prev_log_index + 1.
  Bytes first = append_entries_prefix(9);
  first.varint(1).varint(5).varint(11).u8(1).varint(0);
  expect_rejected(decode_bytes(first, 3), ErrorReason::BadEntryIndex);
  // A gap, a repeat and a step back.
  for (std::uint64_t second : {12, 10, 9}) {
    Bytes bytes = append_entries_prefix(9);
    bytes.varint(2).varint(5).varint(10).u8(1).varint(0).varint(5).varint(second).u8(1).varint(0);
    expect_rejected(decode_bytes(bytes, 3), ErrorReason::BadEntryIndex);
  }
  // No index follows 2^64-1.
  Bytes wrap = append_entries_prefix(kU64Max);
  wrap.varint(1).varint(5).varint(0).u8(1).varint(0);
  expect_rejected(decode_bytes(wrap, 3), ErrorReason::BadEntryIndex);
}

TEST(CodecHostile, SnapshotOffsetOverflow) {
  Bytes bytes;
  bytes.header(MessageType::InstallSnapshot).varint(1).varint(1).raw(std::string(4, '\0'));
  bytes.varint(kU64Max - 1).u8(0).varint(2).raw("ab");
  expect_rejected(decode_bytes(bytes, 7), ErrorReason::OffsetOverflow);
}

TEST(CodecHostile, SnapshotConfigurationCountsAndIds) {
  // A list count above the cap, or above the bytes left, is refused before
  // anything is allocated; so is an id above 32 bits.
  for (std::uint64_t count :
       {kU64Max, static_cast<std::uint64_t>(kConfNodesMax) + 1, std::uint64_t{40}}) {
    Bytes bytes;
    bytes.header(MessageType::InstallSnapshot).varint(1).varint(1).varint(0).varint(count);
    bytes.raw(std::string(20, '\0'));
    expect_rejected(decode_bytes(bytes, 7), ErrorReason::CountTooLarge);
  }
  Bytes wide;
  wide.header(MessageType::InstallSnapshot).varint(1).varint(1).varint(0).varint(1);
  wide.varint(std::uint64_t{1} << 32).varint(0).varint(0).varint(0).u8(1).varint(0);
  expect_rejected(decode_bytes(wide, 7), ErrorReason::BadNodeId);
}

TEST(CodecHostile, MessageAboveSizeLimit) {
  std::string bytes = encode(full_message(MessageType::InstallSnapshot));
  bytes.resize(kMessageBytesMax + 1);
  expect_rejected(decode(bytes.data(), bytes.size(), 3, 4, 7), ErrorReason::MessageTooLarge);
}

TEST(CodecHostile, DecodeIntoLeavesAUsableMessageAfterAnError) {
  Message out = full_message(MessageType::AppendEntries);
  std::string bytes = encode(out);
  bytes.back() = '\x7F';  // mangle the last entry's data: still valid structurally
  bytes += "trailing";
  const auto error = decode_into(std::as_bytes(std::span(bytes)), 3, 4, 3, out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->reason, ErrorReason::TrailingBytes);
  const Message vote = full_message(MessageType::VoteRequest);
  const std::string vote_bytes = encode(vote);
  ASSERT_FALSE(decode_into(std::as_bytes(std::span(vote_bytes)), 3, 4, 1, out).has_value());
  EXPECT_TRUE(out == vote) << describe(out);
}

TEST(CodecEncode, RefusesWhatTheDecoderWouldRefuse) {
  auto expect_refused = [](const Message& m, ErrorReason reason) {
    std::string out = "keep";
    const auto error = encode_into(m, out);
    ASSERT_TRUE(error.has_value()) << describe(m);
    EXPECT_EQ(error->reason, reason) << error->text;
    EXPECT_EQ(out, "keep");
    EXPECT_THROW((void)encode(m), std::invalid_argument);
    EXPECT_TRUE(std::holds_alternative<CodecError>(encoded_size(m)));
  };
  Message m = full_message(MessageType::VoteRequest);
  m.type = static_cast<MessageType>(0);
  expect_refused(m, ErrorReason::BadMessageType);
  m.type = static_cast<MessageType>(11);
  expect_refused(m, ErrorReason::BadMessageType);

  m = full_message(MessageType::AppendEntries);
  m.entries[1].index = 200;
  expect_refused(m, ErrorReason::BadEntryIndex);
  m = full_message(MessageType::AppendEntries);
  m.prev_log_index = 0;
  expect_refused(m, ErrorReason::BadEntryIndex);
  m = full_message(MessageType::AppendEntries);
  m.entries[2].type = static_cast<EntryType>(3);
  expect_refused(m, ErrorReason::BadEntryType);
  m = full_message(MessageType::AppendEntries);
  m.entries[0].data.assign(kEntryDataBytesMax + 1, 'x');
  expect_refused(m, ErrorReason::LengthTooLarge);

  m = full_message(MessageType::AppendEntries);
  m.entries.clear();
  for (std::size_t i = 0; i <= kEntryCountMax; ++i) {
    m.entries.push_back(Entry{1, m.prev_log_index + 1 + i, EntryType::Noop, ""});
  }
  expect_refused(m, ErrorReason::CountTooLarge);
  m.entries.pop_back();
  EXPECT_FALSE(encode(m).empty());  // exactly the cap is fine

  m = full_message(MessageType::AppendEntries);
  m.entries.clear();
  for (std::size_t i = 0; i < 4; ++i) {
    m.entries.push_back(Entry{1, m.prev_log_index + 1 + i, EntryType::Command,
                              std::string(kEntryDataBytesMax, 'x')});
  }
  expect_refused(m, ErrorReason::MessageTooLarge);

  m = full_message(MessageType::InstallSnapshot);
  m.chunk.assign(kChunkBytesMax + 1, 'x');
  expect_refused(m, ErrorReason::LengthTooLarge);
  m = full_message(MessageType::InstallSnapshot);
  m.offset = kU64Max - m.chunk.size() + 1;
  expect_refused(m, ErrorReason::OffsetOverflow);
  m = full_message(MessageType::RemovedNotice);
  m.conf.voters.assign(kConfNodesMax + 1, 0);
  expect_refused(m, ErrorReason::CountTooLarge);
}

TEST(CodecNames, ReasonNamesAreDistinctSnakeCase) {
  std::set<std::string_view> names;
  for (int r = 0; r <= static_cast<int>(ErrorReason::TrailingBytes); ++r) {
    const std::string_view name = reason_name(static_cast<ErrorReason>(r));
    EXPECT_NE(name, "unknown");
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos);
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(ErrorReason::TrailingBytes) + 1);
}

}  // namespace
}  // namespace raft::codec
