#pragma once
/// Raft events: what one node did, as the monitor draws it (SPEC.md
/// Additions, "Raft events"): messages sent (votes and PreVotes asked and
/// answered, appends and their answers with indexes, heartbeats), messages
/// dropped by a fault, changes of state, term, leader or vote, commits,
/// snapshots, operator commands, and summaries of what sampling left out.
///
/// RaftEventLog is the bounded ring they are kept in until a reader (the
/// node's GET /events, polled by the monitor) takes them: every event gets
/// the next sequence number (1, 2, ...) and a wall-clock timestamp; when the
/// ring is full the oldest event is overwritten and counted, and a reader
/// that asks for events after a sequence number it missed is told how many
/// it lost. Thread-safe: the loop appends, HTTP threads read, under one mutex
/// held for a copy only.
///
/// The events are derived from what the node's loop already sees (the
/// messages it hands to the transport, the ones it drops, the core's state
/// after each pass); the pure core knows nothing of them. What decides which
/// events are kept under load is RaftEventRecorder (raft_event_recorder.hpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "raft/message.hpp"
#include "raft/types.hpp"

namespace raft::runtime {

/// Microseconds since 1970 on the wall clock: events of different nodes are
/// merged by it (on one host exactly; across hosts as well as clocks agree).
std::uint64_t wall_us();

enum class RaftEventKind : std::uint8_t {
  Send,      ///< a message handed to the transport (after the link filter)
  Drop,      ///< a message dropped by a fault, on the way in or out
  State,     ///< role, term, leader, vote, pause or crash changed
  Commit,    ///< the commit index advanced (coalesced, see the recorder)
  Snapshot,  ///< a snapshot was taken here or installed from the leader
  Command,   ///< an operator command ran (pause, partition, delay, ...)
  Sampled,   ///< how many message events sampling left out lately
};

/// Why a message was dropped.
enum class DropReason : std::uint8_t {
  Paused,     ///< this node is paused
  Crashed,    ///< this node is crashed
  Storage,    ///< this node's storage failed
  Partition,  ///< `partition`
  Cut,        ///< `drop_from` (inbound) or `drop_to` (outbound)
  QueueFull,  ///< the transport's queue (or the delay's) to that rank is full
};

/// "send", "drop", "state", ... (the "k" of the JSON).
std::string_view event_kind_name(RaftEventKind kind);
/// "paused", "crashed", "storage", "partition", "cut", "queue_full".
std::string_view drop_reason_name(DropReason reason);
/// Short message names for pages: "vote", "vote_resp", "prevote",
/// "prevote_resp", "append", "append_resp", "snap", "snap_resp", "timeout_now",
/// "removed".
std::string_view event_message_name(MessageType type);

/// One event. A flat value: each kind uses the fields listed beside it.
struct RaftEvent {
  std::uint64_t seq = 0;   ///< set by RaftEventLog::append
  std::uint64_t t_us = 0;  ///< wall_us() when it happened
  RaftEventKind kind = RaftEventKind::Send;

  // Send, Drop
  MessageType type = MessageType::AppendEntries;
  NodeId peer = kNoNode;  ///< the other end
  bool inbound = false;   ///< Drop: a message from `peer` (else one to it)
  DropReason reason = DropReason::Paused;
  bool heartbeat = false;  ///< an append without entries, or the answer to one
  bool ok = false;         ///< vote granted, append accepted, snapshot chunk taken
  /// append: prev_log_index; append_resp: match index (ok) or the rejected
  /// index; vote requests: last_log_index; snap/snap_resp: snapshot index.
  Index index = 0;
  Index commit = 0;           ///< append: the leader's commit index; removed: the sender's
  std::uint32_t count = 0;    ///< append: entries carried
  std::uint32_t hold_ms = 0;  ///< Send: how long the `delay` holds it

  // Send, Drop, State, Commit: the term of the message or of the node.
  Term term = 0;

  // State
  Role role = Role::Initial;
  NodeId leader = kNoNode;
  NodeId vote = kNoNode;
  bool paused = false;
  bool crashed = false;
  bool pre_vote = false;         ///< a PreVote round is running
  std::uint64_t timeout_ms = 0;  ///< the election timeout drawn for this round
  std::uint64_t elapsed_ms = 0;  ///< of it, at t_us (0 for a leader)

  // Commit: `index`. Snapshot: `index`, `ok` = installed from the leader.
  // Command: `text`, `ok`.
  std::string text;
  /// Sampled: per message type (1..9) how many were left out; [0] counts
  /// heartbeats and their answers.
  std::array<std::uint32_t, kMessageTypeMax + 1> left_out{};
  std::uint32_t window_ms = 0;  ///< Sampled: over how long
};

/// The JSON of one event: {"seq","t","k", ...the fields of its kind...};
/// node ids as strings, `null` for none (see docs/API.md, GET /events).
nlohmann::json raft_event_json(const RaftEvent& event);

/// The bounded ring (see the file comment).
class RaftEventLog {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;

  /// `capacity` >= 1 events are kept.
  explicit RaftEventLog(std::size_t capacity = kDefaultCapacity);

  /// Stores `event` with the next sequence number (returned); overwrites the
  /// oldest event when full.
  std::uint64_t append(RaftEvent event);

  struct Page {
    std::vector<RaftEvent> events;  ///< seq > after, oldest first, at most `limit`
    std::uint64_t first_seq = 0;    ///< the oldest event still kept (0: none yet)
    std::uint64_t last_seq = 0;     ///< the newest event (0: none yet)
    /// Events after `after` that were overwritten before this read.
    std::uint64_t lost = 0;
    std::uint64_t overwritten = 0;  ///< ever, in total
  };
  /// The events with seq > `after`, oldest first, at most `limit`.
  Page read(std::uint64_t after, std::size_t limit) const;

  std::size_t capacity() const { return ring_.size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<RaftEvent> ring_;  ///< slot = (seq - 1) % capacity
  std::uint64_t next_seq_ = 1;
  std::uint64_t overwritten_ = 0;
};

}  // namespace raft::runtime
