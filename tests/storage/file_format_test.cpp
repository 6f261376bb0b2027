// The byte-level format: headers and records round-trip, and every kind of
// damage is told apart (a torn tail must never look like a valid record).
#include "storage/file_format.hpp"

#include <gtest/gtest.h>

#include "storage_test_util.hpp"

namespace raft::storage::format {
namespace {

TEST(FileFormat, SegmentHeaderRoundTripAndRefusals) {
  SegmentHeader header;
  header.flags = kSegmentFlagCheckpoint;
  header.seq = 42;
  header.sealed_bytes = 1234;
  const std::string bytes = encode_segment_header(header);
  ASSERT_EQ(bytes.size(), kSegmentHeaderBytes);
  const SegmentHeaderResult decoded = decode_segment_header(bytes);
  ASSERT_TRUE(decoded.header) << decoded.error;
  EXPECT_TRUE(decoded.header->checkpoint());
  EXPECT_EQ(decoded.header->seq, 42u);
  EXPECT_EQ(decoded.header->sealed_bytes, 1234u);

  EXPECT_EQ(decode_segment_header(bytes.substr(0, 39)).error, "truncated header (39 of 40 bytes)");
  std::string bad = bytes;
  bad[0] = 'X';
  EXPECT_EQ(decode_segment_header(bad).error, "bad magic: not a raft log segment");
  bad = bytes;
  bad[8] = 7;
  EXPECT_EQ(decode_segment_header(bad).error,
            "format version 7 is not supported (this build reads versions 1 to 2)");
  bad = bytes;
  bad[20] ^= 1;
  EXPECT_EQ(decode_segment_header(bad).error, "header checksum mismatch");
}

TEST(FileFormat, SnapshotHeaderRoundTrip) {
  SnapshotHeader header;
  header.meta = {100, 7};
  header.data_bytes = 5;
  header.data_crc = 0xDEADBEEF;
  const SnapshotHeaderResult decoded = decode_snapshot_header(encode_snapshot_header(header));
  ASSERT_TRUE(decoded.header) << decoded.error;
  EXPECT_EQ(decoded.header->meta, (SnapshotMeta{100, 7}));
  EXPECT_EQ(decoded.header->data_bytes, 5u);
  EXPECT_EQ(decoded.header->data_crc, 0xDEADBEEFu);
  EXPECT_EQ(decode_segment_header(encode_snapshot_header(header)).error,
            "bad magic: not a raft log segment");
}

TEST(FileFormat, RecordsRoundTrip) {
  std::string buffer;
  append_hard_state_record(buffer, HardState{9, kNoNode, 4});
  Entry entry = testing::make_entry(17, 3, 100);
  entry.type = EntryType::Config;
  append_entry_record(buffer, entry);
  append_snapshot_marker_record(buffer, SnapshotMarker{{10, 2}, 99, 0x1234});

  RecordView r = read_record(buffer, 0);
  ASSERT_EQ(r.status, RecordStatus::Ok);
  EXPECT_EQ(decode_hard_state(r.payload), (HardState{9, kNoNode, 4}));
  EXPECT_FALSE(decode_entry(r.payload));
  std::size_t offset = r.total_bytes;
  r = read_record(buffer, offset);
  ASSERT_EQ(r.status, RecordStatus::Ok);
  EXPECT_EQ(r.total_bytes, entry_record_bytes(entry));
  EXPECT_EQ(decode_entry(r.payload), entry);
  offset += r.total_bytes;
  r = read_record(buffer, offset);
  ASSERT_EQ(r.status, RecordStatus::Ok);
  const auto marker = decode_snapshot_marker(r.payload);
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->meta, (SnapshotMeta{10, 2}));
  EXPECT_EQ(marker->data_bytes, 99u);
  EXPECT_EQ(marker->data_crc, 0x1234u);
  EXPECT_EQ(offset + r.total_bytes, buffer.size());
}

TEST(FileFormat, EveryPrefixOfARecordIsTruncatedNeverValid) {
  std::string buffer;
  append_entry_record(buffer, testing::make_entry(1, 1, 50));
  for (std::size_t cut = 0; cut < buffer.size(); ++cut) {
    EXPECT_NE(read_record(std::string_view(buffer).substr(0, cut), 0).status, RecordStatus::Ok)
        << cut;
  }
}

TEST(FileFormat, ZerosAndFlippedBitsAreNotRecords) {
  EXPECT_EQ(read_record(std::string(64, '\0'), 0).status, RecordStatus::BadLength);
  std::string buffer;
  append_entry_record(buffer, testing::make_entry(1, 1, 50));
  for (std::size_t byte = 0; byte < buffer.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = buffer;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      EXPECT_NE(read_record(damaged, 0).status, RecordStatus::Ok) << byte << ":" << bit;
    }
  }
  std::string huge(8, '\0');
  huge[3] = 0x7F;  // a length far beyond the limit
  EXPECT_EQ(read_record(huge + std::string(100, 'x'), 0).status, RecordStatus::BadLength);
}

ConfState sample_conf() { return ConfState{{0, 1, 2}, {4, 5}, {5}, 12}; }

TEST(FileFormat, ConfigurationsRoundTripInTheirOwnRecordTypes) {
  std::string buffer;
  const HardState hs{9, 1, 14, sample_conf()};
  append_hard_state_record(buffer, hs);
  append_snapshot_marker_record(buffer, SnapshotMarker{{13, 2, sample_conf()}, 99, 0x1234});
  RecordView r = read_record(buffer, 0);
  ASSERT_EQ(r.status, RecordStatus::Ok);
  EXPECT_EQ(r.payload[0], static_cast<char>(RecordType::HardStateWithConf));
  EXPECT_EQ(decode_hard_state(r.payload), hs);
  r = read_record(buffer, r.total_bytes);
  ASSERT_EQ(r.status, RecordStatus::Ok);
  EXPECT_EQ(r.payload[0], static_cast<char>(RecordType::SnapshotMarkerWithConf));
  const auto marker = decode_snapshot_marker(r.payload);
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->meta.conf, sample_conf());
  EXPECT_EQ(marker->data_bytes, 99u);
}

TEST(FileFormat, WithoutAConfigurationTheRecordsAreVersionOnesBytes) {
  // A store that never saw a configuration writes what version 1 wrote:
  // type 1 with a 21-byte payload, type 3 with a 29-byte one.
  std::string buffer;
  append_hard_state_record(buffer, HardState{9, kNoNode, 4});
  RecordView r = read_record(buffer, 0);
  EXPECT_EQ(r.payload[0], static_cast<char>(RecordType::HardState));
  EXPECT_EQ(r.payload.size(), 21u);
  buffer.clear();
  append_snapshot_marker_record(buffer, SnapshotMarker{{10, 2}, 99, 0x1234});
  r = read_record(buffer, 0);
  EXPECT_EQ(r.payload[0], static_cast<char>(RecordType::SnapshotMarker));
  EXPECT_EQ(r.payload.size(), 29u);
}

TEST(FileFormat, MalformedConfigurationsDoNotDecode) {
  const auto payload_of = [](const HardState& hs) {
    std::string buffer;
    append_hard_state_record(buffer, hs);
    return std::string(read_record(buffer, 0).payload);
  };
  const std::string good = payload_of(HardState{1, 0, 1, sample_conf()});
  ASSERT_TRUE(decode_hard_state(good));
  EXPECT_FALSE(decode_hard_state(good.substr(0, good.size() - 1))) << "one id short";
  EXPECT_FALSE(decode_hard_state(good + std::string(4, '\0'))) << "one id too many";
  // Rules of a configuration: voters ascending, disjoint from learners.
  EXPECT_FALSE(decode_hard_state(payload_of(HardState{1, 0, 1, ConfState{{2, 1}, {}, {}, 3}})));
  EXPECT_FALSE(decode_hard_state(payload_of(HardState{1, 0, 1, ConfState{{1}, {1}, {}, 3}})));
  EXPECT_FALSE(decode_hard_state(payload_of(HardState{1, 0, 1, ConfState{{1}, {}, {2}, 3}})));
  // A snapshot's configuration cannot come from after the snapshot.
  std::string buffer;
  append_snapshot_marker_record(buffer, SnapshotMarker{{10, 2, sample_conf()}, 1, 1});
  EXPECT_FALSE(decode_snapshot_marker(read_record(buffer, 0).payload));
}

TEST(FileFormat, UnknownEntryTypeDoesNotDecode) {
  std::string buffer;
  append_entry_record(buffer, testing::make_entry(1, 1, 4));
  std::string payload(read_record(buffer, 0).payload);
  payload[17] = 9;
  EXPECT_FALSE(decode_entry(payload));
}

}  // namespace
}  // namespace raft::storage::format
