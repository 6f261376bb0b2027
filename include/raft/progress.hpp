#pragma once
/// What a leader knows about one follower's log, and the flow control that
/// decides what it sends next (after etcd's Progress).

#include <cstdint>
#include <deque>
#include <string_view>

#include "raft/types.hpp"

namespace raft {

struct Progress {
  enum class State : std::uint8_t {
    /// We do not know where the follower's log matches ours: one
    /// AppendEntries at a time, retried every heartbeat.
    Probe,
    /// The follower is in step: stream AppendEntries, up to the in-flight limit.
    Replicate,
    /// The entries it needs are compacted: stream it the snapshot, one chunk
    /// at a time.
    Snapshot,
  };

  Index match = 0;  ///< highest index known to match the leader's log
  Index next = 1;   ///< next index to send
  State state = State::Probe;
  bool probe_sent = false;
  /// Last index of each unacknowledged AppendEntries (Replicate state).
  std::deque<Index> inflight;
  /// Heard from since the last CheckQuorum round.
  bool recent_active = false;
  /// Highest ReadIndex context this follower has echoed in this term.
  std::uint64_t acked_read_ctx = 0;
  /// `match` at the previous heartbeat: a Replicate follower that made no
  /// progress for a whole interval is probed again (lost messages).
  Index match_at_last_heartbeat = 0;
  /// The snapshot being streamed and the next byte to send.
  SnapshotMeta snapshot_sending;
  std::uint64_t snapshot_offset = 0;
};

std::string_view progress_state_name(Progress::State state);

}  // namespace raft
