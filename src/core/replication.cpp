// Log replication (Raft §5.3): AppendEntries on both sides, flow control per
// follower (probe / pipelined replicate), fast back-off, and commitment by
// counting replicas of current-term entries (§5.4.2).
#include <algorithm>
#include <cassert>
#include <functional>

#include "raft/node.hpp"

namespace raft {

void Node::append_local(EntryType type, std::string data) {
  Entry e;
  e.term = term_;
  e.index = log_.last_index() + 1;
  e.type = type;
  e.data = std::move(data);
  log_.append(std::move(e));
}

void Node::handle_append_entries(Message& m) {
  // step() guarantees m.term == term_.
  if (role_ == Role::Leader) return;  // impossible in a correct cluster: one leader per term
  if (role_ == Role::Candidate) {
    step_down(term_, m.from, "heard from the leader of our term");
  } else {
    set_leader(m.from);
    reset_election_timer();
  }
  pre_voting_ = false;
  leader_contact_ms_ = now_ms_;

  Message reply;
  reply.type = MessageType::AppendResponse;
  reply.to = m.from;
  reply.term = term_;
  reply.read_ctx = m.read_ctx;

  // Entries must continue prev_log_index without gaps; anything else is a
  // malformed message and is dropped.
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    if (m.entries[i].index != m.prev_log_index + 1 + i || m.entries[i].term > m.term) return;
  }

  // Everything up to our commit index is already known to match the leader
  // (committed entries never change), so skip that part of the message.
  Index prev = m.prev_log_index;
  Term prev_term = m.prev_log_term;
  std::size_t skip = 0;
  if (prev < commit_) {
    const Index last_new = prev + m.entries.size();
    if (last_new <= commit_) {
      reply.success = true;
      reply.match_index = commit_;
      send(std::move(reply));
      return;
    }
    skip = static_cast<std::size_t>(commit_ - prev);
    prev = commit_;
    prev_term = m.entries[skip - 1].term;
  }

  if (!log_.matches(prev, prev_term)) {
    reply.success = false;
    reply.reject_index = m.prev_log_index;
    if (prev > log_.last_index()) {
      reply.conflict_term = 0;
      reply.hint_index = log_.last_index() + 1;
    } else {
      // Fast back-off: name the conflicting term and where it starts here, so
      // the leader can skip the whole run in one round trip.
      reply.conflict_term = *log_.term_at(prev);
      reply.hint_index = std::max(log_.first_index_of_term_at(prev), commit_ + 1);
    }
    send(std::move(reply));
    return;
  }

  for (std::size_t i = skip; i < m.entries.size(); ++i) {
    Entry& e = m.entries[i];
    if (e.index <= log_.last_index()) {
      if (log_.matches(e.index, e.term)) continue;
      // A conflicting suffix from a deposed leader: it was never committed.
      assert(e.index > commit_);
      log_.truncate_from(e.index);
      unstable_from_ = std::min(unstable_from_, e.index);
    }
    log_.append(std::move(e));
  }
  const Index match = prev + (m.entries.size() - skip);
  commit_ = std::max(commit_, std::min(m.commit, match));

  reply.success = true;
  reply.match_index = match;
  send(std::move(reply));
}

void Node::handle_append_response(const Message& m) {
  if (role_ != Role::Leader) return;
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& p = it->second;
  p.recent_active = true;
  p.acked_read_ctx = std::max(p.acked_read_ctx, m.read_ctx);

  if (m.success) {
    if (m.match_index > log_.last_index()) return;  // cannot match more than we have
    const bool advanced = m.match_index > p.match;
    if (advanced) p.match = m.match_index;
    p.next = std::max(p.next, p.match + 1);
    while (!p.inflight.empty() && p.inflight.front() <= p.match) p.inflight.pop_front();
    if (p.state == Progress::State::Snapshot && p.match >= p.snapshot_sending.last_index) {
      p.state = Progress::State::Probe;  // it has what the snapshot covers
    }
    if (p.state == Progress::State::Probe) {
      p.state = Progress::State::Replicate;
      p.inflight.clear();
      p.next = p.match + 1;
    }
    p.probe_sent = false;
    if (advanced) maybe_commit();
    if (role_ != Role::Leader) return;
    maybe_send_timeout_now(m.from);
    if (p.state == Progress::State::Replicate) broadcast_append_to(m.from);
  } else if (m.reject_index != 0 || m.hint_index != 0) {
    const bool stale = (p.state == Progress::State::Replicate && m.reject_index <= p.match) ||
                       (p.state == Progress::State::Probe && m.reject_index + 1 != p.next) ||
                       p.state == Progress::State::Snapshot;
    if (!stale) {
      Index next = m.hint_index;
      if (m.conflict_term != 0) {
        const Index last_of_term = log_.last_index_of_term(m.conflict_term);
        if (last_of_term != 0) next = last_of_term + 1;
      }
      next = std::min(next, m.reject_index);
      p.next = std::max(next, p.match + 1);
      p.state = Progress::State::Probe;
      p.inflight.clear();
      p.probe_sent = false;
      send_append(m.from, /*allow_empty=*/true);
    }
  }
  confirm_reads();
}

void Node::send_append(NodeId peer, bool allow_empty) {
  Progress& p = progress_.at(peer);
  if (p.state == Progress::State::Snapshot) {
    send_snapshot_chunk(peer);
    return;
  }
  if (p.state == Progress::State::Probe && p.probe_sent) return;
  if (p.state == Progress::State::Replicate && p.inflight.size() >= config_.inflight_appends_max) {
    return;
  }
  p.next = std::min(p.next, log_.last_index() + 1);
  const Index prev = p.next - 1;
  const std::optional<Term> prev_term = log_.term_at(prev);
  if (!prev_term) {
    // The entries this follower needs were compacted away: send the snapshot.
    p.state = Progress::State::Snapshot;
    p.inflight.clear();
    p.snapshot_sending = log_.snapshot();
    p.snapshot_offset = 0;
    send_snapshot_chunk(peer);
    return;
  }
  Message m;
  m.type = MessageType::AppendEntries;
  m.to = peer;
  m.term = term_;
  m.prev_log_index = prev;
  m.prev_log_term = *prev_term;
  if (p.next <= log_.last_index()) {
    m.entries = log_.slice(p.next, config_.append_entries_max, config_.append_bytes_max);
  }
  if (m.entries.empty() && !allow_empty) return;
  m.commit = commit_;
  m.read_ctx = read_ctx_;
  if (p.state == Progress::State::Replicate && !m.entries.empty()) {
    p.next = m.entries.back().index + 1;  // optimistic: pipeline the next batch
    p.inflight.push_back(m.entries.back().index);
  }
  if (p.state == Progress::State::Probe) p.probe_sent = true;
  send(std::move(m));
}

void Node::send_heartbeat(NodeId peer) {
  const Progress& p = progress_.at(peer);
  const std::optional<Term> match_term = log_.term_at(p.match);
  if (!match_term) {
    send_append(peer, /*allow_empty=*/true);
    return;
  }
  // Anchored at `match`, which the follower is known to hold, so a heartbeat
  // overtaking in-flight appends is never rejected.
  Message m;
  m.type = MessageType::AppendEntries;
  m.to = peer;
  m.term = term_;
  m.prev_log_index = p.match;
  m.prev_log_term = *match_term;
  m.commit = commit_;
  m.read_ctx = read_ctx_;
  send(std::move(m));
}

void Node::broadcast_append() {
  for (auto& [peer, p] : progress_) broadcast_append_to(peer);
}

void Node::broadcast_append_to(NodeId peer) {
  Progress& p = progress_.at(peer);
  // Fill the pipeline: in Replicate state keep sending batches until the
  // in-flight limit or the end of the log; in Probe state at most one goes.
  for (;;) {
    const Index before = p.next;
    send_append(peer, /*allow_empty=*/false);
    if (p.state != Progress::State::Replicate || p.next == before) break;
  }
}

void Node::broadcast_heartbeat() {
  const Index last = log_.last_index();
  for (auto& [peer, p] : progress_) {
    if (p.state == Progress::State::Replicate && p.match < last &&
        p.match == p.match_at_last_heartbeat && p.next > p.match + 1) {
      // No progress for a whole interval with appends outstanding: they were
      // probably lost. Probe again from what the follower is known to hold.
      p.state = Progress::State::Probe;
      p.next = p.match + 1;
      p.inflight.clear();
      p.probe_sent = false;
    }
    p.match_at_last_heartbeat = p.match;
    switch (p.state) {
      case Progress::State::Probe:
        p.probe_sent = false;  // the previous probe may be lost: retry
        send_append(peer, /*allow_empty=*/true);
        break;
      case Progress::State::Snapshot:
        send_snapshot_chunk(peer);  // retransmit the current chunk
        break;
      case Progress::State::Replicate:
        if (p.next <= last && p.inflight.size() < config_.inflight_appends_max) {
          send_append(peer, /*allow_empty=*/false);
        } else {
          send_heartbeat(peer);
        }
        break;
    }
  }
}

void Node::maybe_commit() {
  if (role_ != Role::Leader) return;
  std::vector<Index> matches;
  matches.reserve(config_.voters.size());
  matches.push_back(log_.last_index());
  for (const auto& [peer, p] : progress_) matches.push_back(p.match);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const Index quorum_index = matches[quorum() - 1];
  if (quorum_index <= commit_) return;
#if RAFT_INJECT_BUG_COMMIT_OLD_TERM
  // Deliberate bug for the simulator's self-check: commit entries of earlier
  // terms by counting replicas (the paper's Figure 8 shows why this is wrong).
  const bool may_commit = true;
#else
  // Only entries of the current term are committed by counting (§5.4.2);
  // earlier ones are committed indirectly, by the Log Matching property.
  const bool may_commit = log_.term_at(quorum_index) == term_;
#endif
  if (!may_commit) return;
  const bool first_commit_in_term = !committed_in_current_term();
  commit_ = quorum_index;
  if (first_commit_in_term && committed_in_current_term()) on_commit_in_current_term();
  // Followers that are fully caught up learn the new commit index now rather
  // than at the next heartbeat, so their state machines follow closely.
  const Index last = log_.last_index();
  for (const auto& [peer, p] : progress_) {
    if (p.state == Progress::State::Replicate && p.match == last) send_heartbeat(peer);
  }
}

void Node::maybe_send_timeout_now(NodeId peer) {
  if (transfer_target_ != peer || progress_.at(peer).match != log_.last_index()) return;
  Message m;
  m.type = MessageType::TimeoutNow;
  m.to = peer;
  m.term = term_;
  send(std::move(m));
}

}  // namespace raft
