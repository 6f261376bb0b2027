#pragma once
/// RaftEventRecorder: turns what the node's loop sees into RaftEvents, at a
/// bounded cost (see raft_events.hpp for the events themselves).
///
/// The cost is bounded three ways:
///   - heartbeats (appends without entries) and their answers are recorded
///     at most once per `heartbeat_sample_ms` per peer and direction (so at
///     most a few per peer and second, outside the budget below), unless the
///     link is delayed (slow motion: then every one is shown, in the budget);
///   - other message events (sends and drops) take a token from a bucket of
///     `events_per_second` (burst `burst`); without a token the event is
///     left out;
///   - commits are coalesced to at most one event per `commit_every_ms`.
/// What is left out is counted by message type and reported as one Sampled
/// event per `summary_every_ms`. Changes of state, snapshots and commands are
/// always recorded: they are few.
///
/// Not thread-safe: the node's loop thread calls every method. Timestamps
/// are passed in (wall_us()), so tests drive time themselves.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "raft/message.hpp"
#include "runtime/raft_events.hpp"

namespace raft::runtime {

struct RecorderOptions {
  /// Message events per second beyond sampled heartbeats (0: record no
  /// events at all). An election of 15 nodes is 56 messages; a monitor page
  /// draws a few hundred messages a second at most.
  std::uint32_t events_per_second = 20;
  std::uint32_t burst = 60;
  std::uint32_t heartbeat_sample_ms = 1000;
  std::uint32_t commit_every_ms = 100;
  std::uint32_t summary_every_ms = 5000;
};

/// The node's state as the loop sees it after a pass.
struct ObservedState {
  bool has_node = false;  ///< false while crashed (no Raft state)
  Role role = Role::Initial;
  Term term = 0;
  NodeId leader = kNoNode;
  NodeId vote = kNoNode;
  bool paused = false;
  bool crashed = false;
  bool pre_vote = false;
  Index commit = 0;
  std::uint64_t timeout_ms = 0;
  std::uint64_t elapsed_ms = 0;
};

class RaftEventRecorder {
 public:
  RaftEventRecorder(std::shared_ptr<RaftEventLog> log, RecorderOptions options);

  bool enabled() const { return options_.events_per_second > 0; }

  /// A message arrived (before the loop steps or drops it): only remembered,
  /// to tell the answer to a heartbeat from other answers.
  void received(const Message& m);
  /// `m` was handed to the transport, held for `hold_ms` by a delay.
  void sent(const Message& m, std::uint32_t hold_ms, std::uint64_t now_us);
  /// `m` was dropped: arriving (`inbound`) or leaving.
  void dropped(const Message& m, bool inbound, DropReason why, std::uint64_t now_us);
  /// After a pass: records what changed since the last call.
  void observe(const ObservedState& s, std::uint64_t now_us);
  void snapshot(Index index, bool installed, std::uint64_t now_us);
  void command(std::string text, bool ok, std::uint64_t now_us);
  /// Emits a coalesced commit and the Sampled summary when they are due.
  void flush(std::uint64_t now_us);

  /// Message events left out since the start.
  std::uint64_t left_out_total() const { return left_out_total_; }

 private:
  /// Heartbeat sampling slot of a (peer, direction).
  struct LinkSample {
    std::uint64_t last_recorded_us = 0;
    bool recorded_once = false;
  };

  RaftEvent message_event(RaftEventKind kind, const Message& m, std::uint64_t now_us) const;
  bool is_heartbeat(const Message& m, bool inbound) const;
  /// Whether a message event may be recorded now; counts it as left out if not.
  bool admit(const Message& m, bool heartbeat, bool slow_link, int slot, std::uint64_t now_us);
  bool take_token(std::uint64_t now_us);
  void leave_out(const Message& m, bool heartbeat);
  void record_commit(Index commit, Term term, std::uint64_t now_us);

  std::shared_ptr<RaftEventLog> log_;
  RecorderOptions options_;

  double tokens_ = 0;
  std::uint64_t tokens_at_us_ = 0;
  /// key: peer * 4 + slot (0 sent, 1 dropped in, 2 dropped out)
  std::map<std::int64_t, LinkSample> heartbeat_samples_;
  /// Peers whose last append to us carried no entries: our next answer to
  /// them is a heartbeat's.
  std::map<NodeId, bool> last_append_empty_;

  std::array<std::uint32_t, kMessageTypeMax + 1> left_out_{};
  std::uint64_t left_out_total_ = 0;
  std::uint64_t summary_since_us_ = 0;

  bool observed_once_ = false;
  ObservedState last_;
  Index commit_recorded_ = 0;
  std::uint64_t commit_recorded_at_us_ = 0;
  bool commit_pending_ = false;
  Index commit_pending_index_ = 0;
  Term commit_pending_term_ = 0;
};

}  // namespace raft::runtime
