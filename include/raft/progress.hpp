#pragma once
/// What a leader knows about one follower's log, and the flow control that
/// decides what it sends next (after etcd's tracker.Progress).
///
/// The leader changes a Progress only through the methods below; each states
/// the invariant it leaves behind and asserts it (RAFT_ASSERT, on in every
/// build). The invariants every method keeps:
///   - match < next: what the follower holds comes before what we send it;
///   - `inflight` is empty outside Replicate, and in Replicate holds
///     ascending indexes in (match, next);
///   - `probe_sent` is set only in Probe.
/// Fields stay public for the read-only views (status pages, simulator).
///
/// Thread-safety: none; owned by its leader's raft::Node.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
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
  /// When the leader last heard from this follower (any answer), and when it
  /// began to track it: the membership rules ask whether a node is
  /// reachable now (a follower not yet heard from gets one election timeout).
  std::optional<TimeMs> last_heard_ms;
  TimeMs tracked_since_ms = 0;
  /// Highest ReadIndex context this follower has echoed in this term.
  std::uint64_t acked_read_ctx = 0;
  /// `match` at the previous heartbeat: a Replicate follower that made no
  /// progress for a whole interval is probed again (lost messages).
  Index match_at_last_heartbeat = 0;
  /// The snapshot being streamed and the next byte to send (Snapshot state).
  SnapshotMeta snapshot_sending;
  std::uint64_t snapshot_offset = 0;

  /// Probe from what the follower is known to hold.
  /// Leaves: state Probe, next == match + 1, nothing in flight, no probe sent.
  void become_probe();
  /// Stream entries optimistically from what the follower is known to hold.
  /// Leaves: state Replicate, next == match + 1, nothing in flight.
  void become_replicate();
  /// Stream `snapshot` from its first byte. Precondition: next <=
  /// snapshot.last_index (the follower needs an entry the snapshot folded).
  /// Leaves: state Snapshot, snapshot_sending == snapshot, offset 0, nothing
  /// in flight; `next` unchanged (still inside the snapshot).
  void become_snapshot(SnapshotMeta snapshot);

  /// The follower's log matches ours up to `index`. Precondition: `index` is
  /// at most the leader's last index (the caller checks what a peer claims).
  /// Returns whether `match` advanced. Leaves: match >= index, next > match,
  /// and only indexes above match in flight. The state is not changed.
  bool maybe_update(Index index);
  /// Whether a rejection of the AppendEntries whose prev_log_index was
  /// `rejected` is stale (duplicated or reordered): in Replicate one at or
  /// below match (already acknowledged), in Probe one not of the last probe
  /// (rejected + 1 != next), in Snapshot any (the snapshot stream decides).
  bool rejection_is_stale(Index rejected) const;
  /// A genuine rejection (precondition: !rejection_is_stale(rejected)):
  /// become_probe() from max(next_hint, match + 1), where `next_hint` is
  /// where the fast back-off says to try next.
  void decrease_to(Index rejected, Index next_hint);

  /// An AppendEntries left for this follower; `last_entry` is the index of its
  /// last entry (nullopt if it carried none). Precondition: not Snapshot.
  /// Probe: no further append until an answer or resume_probe(). Replicate
  /// with entries: they are in flight and the next batch follows them
  /// (next == *last_entry + 1).
  void sent_append(std::optional<Index> last_entry);
  /// The last probe may be lost: allow one more (each heartbeat, in Probe).
  void resume_probe();

  /// Whether the in-flight window is full (Replicate only).
  bool inflight_full(std::size_t inflight_appends_max) const;
  /// Replicate, appends outstanding and no progress since the last heartbeat:
  /// they were probably lost, and the follower should be probed again.
  bool stalled(Index last_index) const;

 private:
  /// Enters `to` with nothing in flight and no probe outstanding.
  void reset_state(State to);
  /// Asserts the invariants listed at the top of this file.
  void check() const;
};

std::string_view progress_state_name(Progress::State state);

}  // namespace raft
