#pragma once
/// HistoryStore: the monitor's history of the cluster, kept beyond any
/// browser tab: the Raft events the nodes recorded and the monitor's own
/// status frames (event_collector.hpp), as JSON records numbered 1, 2, ...
/// in the order they arrived. Pages read it as a range (GET /api/history)
/// and follow it live (/api/events); a reloaded page replays it.
///
/// Bounded: at most `max_bytes` of records are kept; the oldest go first. On
/// disk (when `dir` is set) the records are JSON lines in segment files
/// `history-<first id>.jsonl` of about `segment_bytes`, written as they
/// arrive and read back at start, so a restarted monitor keeps its history;
/// the oldest segment is deleted when the total passes `max_bytes`. A torn
/// last line (the monitor was killed mid-write) is skipped on load. A disk
/// that fails is reported once (disk_error()) and the store goes on in
/// memory.
///
/// Each stored line is `{"id":N,"at":MS,...the record's fields...}`: `at` is
/// the monitor's wall clock (ms) when the record arrived; records also carry
/// their own time `t` (µs), which may be a poll interval earlier.
///
/// Thread-safety: every member may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace raft::monitor {

struct HistoryOptions {
  /// Where the segment files live; empty: memory only.
  std::filesystem::path dir;
  std::size_t max_bytes = std::size_t{32} << 20;
  std::size_t segment_bytes = std::size_t{2} << 20;
};

class HistoryStore {
 public:
  /// Creates `dir` if needed and loads the segments found there. Never
  /// throws on bad files: a problem goes to disk_error() and the store
  /// starts empty or in memory.
  explicit HistoryStore(HistoryOptions options);
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  /// Appends `records` (JSON objects) in order, numbering them; `at_ms` is
  /// the wall clock now. Returns the last id (the previous one if empty).
  std::uint64_t append(const std::vector<nlohmann::json>& records, std::uint64_t at_ms);

  struct Range {
    std::vector<std::string> lines;  ///< the stored lines, oldest first
    std::uint64_t first_id = 0;      ///< the oldest record kept (0: empty)
    std::uint64_t last_id = 0;       ///< the newest record
    std::uint64_t oldest_at_ms = 0;
    std::uint64_t newest_at_ms = 0;
    /// The id to ask `after` next; more records follow when `more`.
    std::uint64_t next_after = 0;
    bool more = false;
  };
  /// Records with id > `after`, at most `limit`.
  Range after(std::uint64_t after, std::size_t limit) const;
  /// Records that arrived at or after `from_ms` (and, with `to_ms`, at or
  /// before it), at most `limit`.
  Range since(std::uint64_t from_ms, std::optional<std::uint64_t> to_ms, std::size_t limit) const;

  /// The newest `n` lines, oldest first.
  std::vector<std::string> tail(std::size_t n) const;

  std::uint64_t last_id() const;
  std::size_t size() const;
  std::size_t bytes() const;

  /// Waits until a record with id > `after` exists, `timeout` passes,
  /// interrupt() is called or `*cancel` is true. Returns whether there is one.
  bool wait_after(std::uint64_t after, std::chrono::milliseconds timeout,
                  const std::atomic<bool>* cancel = nullptr);
  /// Wakes every wait_after() (set the cancel flags first).
  void interrupt();

  /// The first disk problem, "" while there was none.
  std::string disk_error() const;
  /// Lines skipped when loading (torn or not ours).
  std::size_t skipped_on_load() const;

 private:
  struct Record {
    std::uint64_t id = 0;
    std::uint64_t at_ms = 0;
    std::string line;
  };
  struct Segment {
    std::uint64_t first_id = 0;
    std::filesystem::path path;
    std::size_t bytes = 0;
  };

  void load();
  void load_segment(const std::filesystem::path& path);
  void write_line(const Record& record);
  void trim();
  void fail_disk(const std::string& what);
  Range collect(std::size_t from_index, std::size_t limit,
                std::optional<std::uint64_t> to_ms) const;

  const HistoryOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable appended_;
  std::deque<Record> records_;
  std::deque<Segment> segments_;  ///< on disk, oldest first
  std::ofstream out_;             ///< the newest segment, open for appending
  std::size_t bytes_ = 0;
  std::uint64_t next_id_ = 1;
  std::string disk_error_;
  std::size_t skipped_ = 0;
  std::uint64_t interrupts_ = 0;
};

/// The stored line of a record: {"id":N,"at":MS, then the record's fields}.
std::string history_line(std::uint64_t id, std::uint64_t at_ms, const nlohmann::json& record);

}  // namespace raft::monitor
