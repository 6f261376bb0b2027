// Refuse-to-start cases: anything but a torn tail makes load() throw
// StorageError with one line naming the damaged (or missing) file. A node
// must never start empty, or with a silently shortened log, over existing data.
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "storage/crc32c.hpp"
#include "storage/file_format.hpp"
#include "storage/file_store.hpp"
#include "storage_test_util.hpp"

namespace raft::storage {
namespace {

namespace fs = std::filesystem;
using testing::files_with_prefix;
using testing::make_entries;
using testing::make_snapshot;
using testing::read_all;
using testing::TempDir;
using testing::write_all;

FileStoreOptions small_segments() {
  FileStoreOptions options;
  options.segment_bytes_max = 400;
  options.fsync = FsyncMode::Never;  // these tests damage files; durability is not the point
  return options;
}

/// Three segments of entries 1..24 (term 1), hard state {1, 0, 20}.
void write_plain_log(const fs::path& dir) {
  FileStore store(dir, small_segments());
  store.load();
  for (Index first = 1; first <= 24; first += 4) {
    store.append(make_entries(first, 4, 1, 40));
    store.save_hard_state({1, 0, first});
    store.sync();
  }
  ASSERT_GE(files_with_prefix(dir, "segment-").size(), 3u);
}

/// A checkpoint with snapshot at 10 and entries 11..14 after it.
void write_snapshotted_log(const fs::path& dir) {
  FileStore store(dir, small_segments());
  store.load();
  store.append(make_entries(1, 14, 1, 10));
  store.install_snapshot(make_snapshot(10, 1, "snapshot data"));
  store.sync();
}

void flip_byte(const fs::path& path, std::size_t offset) {
  std::string data = read_all(path);
  ASSERT_LT(offset, data.size());
  data[offset] = static_cast<char>(data[offset] ^ 0x5A);
  write_all(path, data);
}

std::string raw_record(const std::string& payload) {
  std::string out(8, '\0');
  const auto len = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((len >> (8 * i)) & 0xFF);
  std::uint32_t crc = crc32c_extend(0, out.data(), 4);
  crc = crc32c_extend(crc, payload.data(), payload.size());
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  return out + payload;
}

/// Builds segment 1 by hand: header + the given records.
void write_segment_one(const fs::path& dir, const std::string& records) {
  fs::create_directories(dir);
  format::SegmentHeader header;
  header.seq = 1;
  header.sealed_bytes = format::kSegmentHeaderBytes + records.size();
  write_all(dir / "segment-00000000000000000001.log",
            format::encode_segment_header(header) + records);
}

std::string segment_name(int seq) {
  char name[64];
  std::snprintf(name, sizeof name, "segment-%020d.log", seq);
  return name;
}

/// Expects load() to throw one line that names `file` (and `phrase`).
void expect_refusal(const fs::path& dir, const std::string& file, const std::string& phrase) {
  FileStore store(dir, small_segments());
  try {
    store.load();
    ADD_FAILURE() << "load() accepted a damaged directory; expected an error naming " << file;
  } catch (const StorageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(file), std::string::npos) << what;
    EXPECT_NE(what.find(phrase), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

TEST(FileStoreCorruption, BadChecksumFollowedByValidRecordsInTheNewestSegment) {
  TempDir tmp;
  {
    FileStore store(tmp.path());
    store.load();
    for (Index first = 1; first <= 12; first += 4) {
      store.append(make_entries(first, 4, 1, 40));
      store.sync();
    }
  }
  // The first sync sealed header, hard state and entries 1..4; entry 5 is
  // the first record appended after that, and valid records follow it.
  const std::size_t entry5 = format::kSegmentHeaderBytes + (8 + 21) + 4 * (8 + 18 + 40);
  flip_byte(tmp / segment_name(1), entry5 + 8 + 5);
  expect_refusal(
      tmp.path(), segment_name(1),
      "checksum mismatch at offset " + std::to_string(entry5) + " followed by a valid record");
}

TEST(FileStoreCorruption, DamageInAnOlderSegment) {
  TempDir tmp;
  write_plain_log(tmp.path());
  const std::string first = files_with_prefix(tmp.path(), "segment-").front();
  const std::string data = read_all(tmp / first);
  flip_byte(tmp / first, data.size() - 3);  // its last record: a "torn tail" only if newest
  expect_refusal(tmp.path(), first, "not the newest");
}

TEST(FileStoreCorruption, DamageInTheSealedPartOfTheNewestSegment) {
  TempDir tmp;
  write_snapshotted_log(tmp.path());
  const std::string last = files_with_prefix(tmp.path(), "segment-").back();
  const std::string data = read_all(tmp / last);
  flip_byte(tmp / last, data.size() - 2);  // the checkpoint's last retained entry
  expect_refusal(tmp.path(), last, "sealed part");
}

TEST(FileStoreCorruption, MissingSegmentInTheMiddle) {
  TempDir tmp;
  write_plain_log(tmp.path());
  fs::remove(tmp / segment_name(2));
  expect_refusal(tmp.path(), segment_name(2), "missing");
}

TEST(FileStoreCorruption, MissingFirstSegment) {
  TempDir tmp;
  write_plain_log(tmp.path());
  fs::remove(tmp / segment_name(1));
  expect_refusal(tmp.path(), segment_name(1), "missing");
}

TEST(FileStoreCorruption, HardStateThatDoesNotParse) {
  TempDir tmp;
  // A hard state record with a valid checksum but a wrong length.
  write_segment_one(tmp.path(), raw_record(std::string("\x01", 1) + std::string(12, '\0')));
  expect_refusal(tmp.path(), segment_name(1), "hard state record at offset 40 does not parse");
}

TEST(FileStoreCorruption, SegmentWithoutHardState) {
  TempDir tmp;
  std::string entry_only;
  format::append_entry_record(entry_only, testing::make_entry(1, 1));
  write_segment_one(tmp.path(), entry_only);
  expect_refusal(tmp.path(), segment_name(1), "does not start with a hard state record");
}

TEST(FileStoreCorruption, UnknownRecordType) {
  TempDir tmp;
  std::string records;
  format::append_hard_state_record(records, HardState{1, 0, 0});
  records += raw_record("\x09 from the future");
  write_segment_one(tmp.path(), records);
  expect_refusal(tmp.path(), segment_name(1), "unknown record type 9");
}

TEST(FileStoreCorruption, BadMagic) {
  TempDir tmp;
  write_plain_log(tmp.path());
  flip_byte(tmp / segment_name(1), 0);
  expect_refusal(tmp.path(), segment_name(1), "bad magic");
}

TEST(FileStoreCorruption, NewerFormatVersion) {
  TempDir tmp;
  write_plain_log(tmp.path());
  std::string data = read_all(tmp / segment_name(3));
  data[8] = 3;  // version 3, header checksum left as it was
  write_all(tmp / segment_name(3), data);
  expect_refusal(tmp.path(), segment_name(3), "format version 3 is not supported");
}

TEST(FileStoreCorruption, HeaderChecksum) {
  TempDir tmp;
  write_plain_log(tmp.path());
  flip_byte(tmp / segment_name(2), 30);  // inside sealed_bytes
  expect_refusal(tmp.path(), segment_name(2), "header checksum mismatch");
}

TEST(FileStoreCorruption, SegmentRenamed) {
  TempDir tmp;
  write_plain_log(tmp.path());
  const std::string last = files_with_prefix(tmp.path(), "segment-").back();
  fs::rename(tmp / last, tmp / segment_name(9));
  fs::copy_file(tmp / segment_name(9), tmp / last);
  for (int seq = 4; seq < 9; ++seq) {
    if (!fs::exists(tmp / segment_name(seq)))
      fs::copy_file(tmp / segment_name(9), tmp / segment_name(seq));
  }
  expect_refusal(tmp.path(), segment_name(9), "header names segment");
}

TEST(FileStoreCorruption, SegmentShorterThanItsSealedSize) {
  TempDir tmp;
  write_plain_log(tmp.path());
  const std::string last = files_with_prefix(tmp.path(), "segment-").back();
  fs::resize_file(tmp / last, format::kSegmentHeaderBytes + 10);
  expect_refusal(tmp.path(), last, "sealed when it was created");
}

TEST(FileStoreCorruption, MissingSnapshotFileReferencedByTheLog) {
  TempDir tmp;
  write_snapshotted_log(tmp.path());
  const std::string snapshot = files_with_prefix(tmp.path(), "snapshot-").front();
  fs::remove(tmp / snapshot);
  expect_refusal(tmp.path(), snapshot, "missing");
}

TEST(FileStoreCorruption, SnapshotDataDamaged) {
  TempDir tmp;
  write_snapshotted_log(tmp.path());
  const std::string snapshot = files_with_prefix(tmp.path(), "snapshot-").front();
  flip_byte(tmp / snapshot, format::kSnapshotHeaderBytes + 3);
  expect_refusal(tmp.path(), snapshot, "checksum mismatch");
}

TEST(FileStoreCorruption, SnapshotTruncated) {
  TempDir tmp;
  write_snapshotted_log(tmp.path());
  const std::string snapshot = files_with_prefix(tmp.path(), "snapshot-").front();
  fs::resize_file(tmp / snapshot, format::kSnapshotHeaderBytes + 2);
  expect_refusal(tmp.path(), snapshot, "header says");
}

TEST(FileStoreCorruption, SnapshotWithoutAnySegment) {
  TempDir tmp;
  write_snapshotted_log(tmp.path());
  for (const std::string& name : files_with_prefix(tmp.path(), "segment-")) fs::remove(tmp / name);
  expect_refusal(tmp.path(), files_with_prefix(tmp.path(), "snapshot-").front(),
                 "refusing to start empty");
}

TEST(FileStoreCorruption, NodePathIsAFile) {
  TempDir tmp;
  write_all(tmp / "node-0", "not a directory");
  expect_refusal(tmp / "node-0", "node-0", "not a directory");
}

TEST(FileStoreCorruption, ZerosAtTheTailAreSpaceAllocatedAheadNotDamage) {
  TempDir tmp;
  write_plain_log(tmp.path());
  const std::string last = files_with_prefix(tmp.path(), "segment-").back();
  const auto size = fs::file_size(tmp / last);
  fs::resize_file(tmp / last, size + 4096);  // what allocate_tail leaves at a crash
  FileStore store(tmp.path(), small_segments());
  EXPECT_EQ(store.load().entries, make_entries(1, 24, 1, 40));
  EXPECT_TRUE(store.warnings().empty()) << store.warnings()[0];
}

TEST(FileStoreCorruption, ATornRecordBeforeZerosIsStillATornWrite) {
  TempDir tmp;
  write_plain_log(tmp.path());
  const std::string last = files_with_prefix(tmp.path(), "segment-").back();
  const auto size = fs::file_size(tmp / last);
  fs::resize_file(tmp / last, size + 4096);
  {
    std::fstream f(tmp / last, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size));
    f.write("\x20\0\0\0junk", 8);  // half a record header
  }
  FileStore store(tmp.path(), small_segments());
  EXPECT_EQ(store.load().entries, make_entries(1, 24, 1, 40));
  ASSERT_EQ(store.warnings().size(), 1u);
  EXPECT_NE(store.warnings()[0].find(last + ": torn write at offset " + std::to_string(size)),
            std::string::npos)
      << store.warnings()[0];
}

}  // namespace
}  // namespace raft::storage
