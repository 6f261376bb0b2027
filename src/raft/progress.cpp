// The state changes of a follower's Progress, each with the invariant it
// leaves behind (listed in progress.hpp).
#include "raft/progress.hpp"

#include <algorithm>

#include "raft/assert.hpp"

namespace raft {

void Progress::reset_state(State to) {
  state = to;
  inflight.clear();
  probe_sent = false;
}

void Progress::become_probe() {
  reset_state(State::Probe);
  next = match + 1;
  check();
}

void Progress::become_replicate() {
  reset_state(State::Replicate);
  next = match + 1;
  check();
}

void Progress::become_snapshot(SnapshotMeta snapshot) {
  RAFT_ASSERT(next <= snapshot.last_index, "a snapshot is sent only for entries it folded");
  reset_state(State::Snapshot);
  snapshot_sending = snapshot;
  snapshot_offset = 0;
  check();
}

bool Progress::maybe_update(Index index) {
  const bool advanced = index > match;
  if (advanced) match = index;
  next = std::max(next, match + 1);
  while (!inflight.empty() && inflight.front() <= match) inflight.pop_front();
  check();
  return advanced;
}

bool Progress::rejection_is_stale(Index rejected) const {
  switch (state) {
    case State::Replicate: return rejected <= match;
    case State::Probe: return rejected + 1 != next;
    case State::Snapshot: return true;
  }
  return true;
}

void Progress::decrease_to(Index rejected, Index next_hint) {
  RAFT_ASSERT(!rejection_is_stale(rejected), "only a genuine rejection moves next back");
  become_probe();
  next = std::max(next_hint, match + 1);
  check();
}

void Progress::sent_append(std::optional<Index> last_entry) {
  RAFT_ASSERT(state != State::Snapshot, "appends are not sent while a snapshot streams");
  if (state == State::Probe) {
    probe_sent = true;
  } else if (last_entry) {
    RAFT_ASSERT(*last_entry >= next, "a batch starts at next");
    next = *last_entry + 1;
    inflight.push_back(*last_entry);
  }
  check();
}

void Progress::resume_probe() {
  RAFT_ASSERT(state == State::Probe, "only a probing follower waits for a probe");
  probe_sent = false;
}

bool Progress::inflight_full(std::size_t inflight_appends_max) const {
  return state == State::Replicate && inflight.size() >= inflight_appends_max;
}

bool Progress::stalled(Index last_index) const {
  return state == State::Replicate && match < last_index && match == match_at_last_heartbeat &&
         next > match + 1;
}

void Progress::check() const {
  RAFT_ASSERT(match < next, "a follower is sent what comes after what it holds");
  RAFT_ASSERT(state == State::Replicate || inflight.empty(),
              "only Replicate has appends in flight");
  RAFT_ASSERT(state == State::Probe || !probe_sent, "only Probe waits for a probe");
  RAFT_ASSERT(inflight.empty() || (inflight.front() > match && inflight.back() < next),
              "in-flight appends lie between match and next");
}

}  // namespace raft
