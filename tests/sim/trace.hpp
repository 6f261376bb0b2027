#pragma once
/// Trace: the last things that happened in one simulation, kept in a ring so
/// that a failing seed can show how it got there. Messages are stored as a few
/// numbers and formatted only when printed: formatting every delivery of
/// thousands of schedules would cost more than simulating them.
/// Not thread-safe; one per simulated cluster.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "raft/message.hpp"
#include "raft/types.hpp"

namespace raft::sim {

/// The fields of a Message worth a trace line (no payloads).
struct MessageSummary {
  MessageType type = MessageType::AppendEntries;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  Index index_a = 0;  ///< last_log_index | prev_log_index | match/reject | snapshot index
  Term term_a = 0;    ///< last_log_term | prev_log_term | conflict_term | snapshot term
  Index index_b = 0;  ///< first entry | hint_index | offset
  Index index_c = 0;  ///< last entry | chunk length
  Index commit = 0;
  std::uint64_t read_ctx = 0;
  bool flag = false;  ///< granted | success | done | force
};

MessageSummary summarize(const Message& message);
std::string describe(const MessageSummary& summary);

class Trace {
 public:
  explicit Trace(std::size_t capacity);

  /// A free-form line (faults, client operations, role changes).
  void note(TimeMs at_ms, std::string text);
  /// `what` must be a string literal ("deliver", "drop", ...).
  void message(TimeMs at_ms, const char* what, const Message& message);

  /// Print every line as it is recorded (for replaying one seed).
  void set_echo(bool echo) { echo_ = echo; }

  /// The recorded lines, oldest first (at most `capacity`).
  std::vector<std::string> lines() const;

 private:
  struct Record {
    TimeMs at_ms = 0;
    const char* what = nullptr;  ///< non-null for message records
    MessageSummary summary;
    std::string text;
  };

  Record& next_slot();
  static std::string format(const Record& record);

  std::vector<Record> ring_;
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  bool echo_ = false;
};

}  // namespace raft::sim
