// HistoryStore: numbering, ranges by id and by time, the size bound, and
// the segment files (kept across a restart, a torn tail skipped, a disk that
// cannot be written reported and survived). Files go to a temporary folder.
#include "monitor/history_store.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace raft::monitor {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::uint64_t kAt = 1'790'000'000'000;

std::vector<json> records(int from, int count) {
  std::vector<json> out;
  for (int i = from; i < from + count; ++i) {
    out.push_back({{"k", "send"}, {"node", "1"}, {"seq", i}, {"t", kAt * 1000 + i}});
  }
  return out;
}

json parsed(const std::string& line) { return json::parse(line); }

class HistoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("raft_history_test_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  HistoryOptions on_disk(std::size_t max_bytes = 1 << 20, std::size_t segment_bytes = 4096) {
    HistoryOptions o;
    o.dir = dir;
    o.max_bytes = max_bytes;
    o.segment_bytes = segment_bytes;
    return o;
  }

  std::vector<fs::path> segments() const {
    std::vector<fs::path> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir;
};

TEST_F(HistoryStoreTest, NumbersRecordsFromOneAndServesThemAfterAnId) {
  HistoryStore store(HistoryOptions{});
  EXPECT_EQ(store.append(records(0, 5), kAt), 5u);
  EXPECT_EQ(store.append({}, kAt), 5u);
  const HistoryStore::Range all = store.after(0, 100);
  ASSERT_EQ(all.lines.size(), 5u);
  for (std::size_t i = 0; i < all.lines.size(); ++i) {
    const json r = parsed(all.lines[i]);
    EXPECT_EQ(r["id"], i + 1);
    EXPECT_EQ(r["at"], kAt);
    EXPECT_EQ(r["seq"], i);
  }
  EXPECT_FALSE(all.more);
  const HistoryStore::Range tail = store.after(3, 1);
  ASSERT_EQ(tail.lines.size(), 1u);
  EXPECT_EQ(parsed(tail.lines[0])["id"], 4);
  EXPECT_TRUE(tail.more);
  EXPECT_EQ(tail.next_after, 4u);
  EXPECT_TRUE(store.after(5, 10).lines.empty());
  EXPECT_EQ(store.after(5, 10).next_after, 5u);
}

TEST_F(HistoryStoreTest, RangesByArrivalTime) {
  HistoryStore store(HistoryOptions{});
  store.append(records(0, 3), kAt);
  store.append(records(3, 3), kAt + 1000);
  store.append(records(6, 3), kAt + 2000);
  HistoryStore::Range r = store.since(kAt + 500, std::nullopt, 100);
  ASSERT_EQ(r.lines.size(), 6u);
  EXPECT_EQ(parsed(r.lines.front())["id"], 4);
  r = store.since(kAt + 500, kAt + 1500, 100);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_FALSE(r.more);
  EXPECT_EQ(r.oldest_at_ms, kAt);
  EXPECT_EQ(r.newest_at_ms, kAt + 2000);
}

TEST_F(HistoryStoreTest, KeepsAtMostItsBytesOldestFirstOut) {
  HistoryOptions o;
  o.max_bytes = 2000;
  HistoryStore store(o);
  for (int i = 0; i < 100; ++i) store.append(records(i * 10, 10), kAt + i);
  EXPECT_LE(store.bytes(), 2000u);
  EXPECT_GT(store.size(), 0u);
  const HistoryStore::Range r = store.after(0, 100000);
  EXPECT_EQ(parsed(r.lines.back())["id"], 1000) << "the newest stay";
  EXPECT_EQ(r.first_id, parsed(r.lines.front())["id"].get<std::uint64_t>());
  EXPECT_GT(r.first_id, 1u);
}

TEST_F(HistoryStoreTest, KeepsItsHistoryOnDiskAcrossARestart) {
  {
    HistoryStore store(on_disk());
    for (int i = 0; i < 20; ++i) store.append(records(i * 5, 5), kAt + i);
    EXPECT_EQ(store.disk_error(), "");
  }
  EXPECT_GT(segments().size(), 1u) << "segments of about 4 KiB";
  HistoryStore again(on_disk());
  EXPECT_EQ(again.size(), 100u);
  EXPECT_EQ(again.last_id(), 100u);
  // Numbering goes on where it stopped.
  EXPECT_EQ(again.append(records(100, 1), kAt + 100), 101u);
  HistoryStore third(on_disk());
  EXPECT_EQ(third.size(), 101u);
  EXPECT_EQ(parsed(third.after(100, 1).lines.at(0))["seq"], 100);
}

TEST_F(HistoryStoreTest, DeletesTheOldestSegmentsBeyondItsBound) {
  {
    HistoryStore store(on_disk(/*max_bytes=*/16 * 1024, /*segment_bytes=*/4096));
    for (int i = 0; i < 100; ++i) store.append(records(i * 10, 10), kAt + i);
    EXPECT_LE(store.bytes(), 16u * 1024);
  }
  std::uintmax_t on_disk_bytes = 0;
  for (const fs::path& p : segments()) on_disk_bytes += fs::file_size(p);
  EXPECT_LE(on_disk_bytes, 16u * 1024 + 4096 + 512) << "at most one segment beyond the bound";
  HistoryStore again(on_disk(16 * 1024, 4096));
  EXPECT_EQ(again.last_id(), 1000u);
}

TEST_F(HistoryStoreTest, SkipsATornLastLine) {
  {
    HistoryStore store(on_disk());
    store.append(records(0, 3), kAt);
  }
  {
    std::ofstream out(segments().back(), std::ios::app | std::ios::binary);
    out << R"({"id":4,"at":17900000)";  // killed mid-write
  }
  HistoryStore again(on_disk());
  EXPECT_EQ(again.size(), 3u);
  EXPECT_EQ(again.skipped_on_load(), 1u);
  EXPECT_EQ(again.append(records(3, 1), kAt), 4u);
  HistoryStore third(on_disk());
  EXPECT_EQ(third.size(), 4u) << "the new record went to a new segment, not after the torn line";
}

TEST_F(HistoryStoreTest, ADiskThatCannotBeWrittenIsReportedAndMemoryGoesOn) {
  fs::create_directories(dir.parent_path());
  std::ofstream(dir) << "not a folder";
  HistoryStore store(on_disk());
  EXPECT_NE(store.disk_error(), "");
  EXPECT_EQ(store.append(records(0, 2), kAt), 2u);
  EXPECT_EQ(store.size(), 2u);
  fs::remove(dir);
}

TEST_F(HistoryStoreTest, WaitAfterWakesOnAppend) {
  HistoryStore store(HistoryOptions{});
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    store.append(records(0, 1), kAt);
  });
  EXPECT_TRUE(store.wait_after(0, std::chrono::seconds(10)));
  writer.join();
  EXPECT_FALSE(store.wait_after(1, std::chrono::milliseconds(1)));
}

TEST(HistoryLine, PutsIdAndArrivalFirstAndDropsTheirOwn) {
  const std::string line = history_line(7, 123, {{"id", 99}, {"at", 1}, {"k", "x"}});
  EXPECT_EQ(line.rfind(R"({"id":7,"at":123,)", 0), 0u) << line;
  EXPECT_EQ(parsed(line)["k"], "x");
  EXPECT_EQ(history_line(1, 2, json::object()), R"({"id":1,"at":2})");
}

}  // namespace
}  // namespace raft::monitor
