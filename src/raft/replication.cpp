// Log replication (Raft §5.3): AppendEntries on both sides, flow control per
// follower (probe / pipelined replicate), fast back-off, and commitment by
// counting replicas of current-term entries (§5.4.2).
#include <algorithm>
#include <functional>

#include "raft/assert.hpp"
#include "raft/node.hpp"

namespace raft {

void Node::append_local(EntryType type, std::string data) {
  RAFT_ASSERT(role_ == Role::Leader, "only a leader appends entries of its own");
  Entry e;
  e.term = term_;
  e.index = log_.last_index() + 1;
  e.type = type;
  e.data = std::move(data);
  log_.append(std::move(e));
  if (type == EntryType::Config) note_conf_entry(log_.at(log_.last_index()));
}

namespace {

/// Entries must continue prev_log_index without gaps, carry no term above
/// the message's, and Config entries must parse; anything else is malformed
/// (messages are untrusted).
bool entries_follow_on(const Message& m) {
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    const Entry& e = m.entries[i];
    if (e.index != m.prev_log_index + 1 + i || e.term > m.term) return false;
    if (e.type == EntryType::Config && !decode_conf_entry(e.data, e.index)) return false;
  }
  return true;
}

}  // namespace

void Node::handle_append_entries(Message& m) {
  RAFT_ASSERT(m.term == term_, "step() hands on only messages of our term");
  if (!heard_from_leader(m.from)) return;
  Message reply = reply_to(m, MessageType::AppendResponse);
  reply.read_ctx = m.read_ctx;
  if (!entries_follow_on(m)) return;

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
    reject_append(reply, prev, m.prev_log_index);
    send(std::move(reply));
    return;
  }
  append_from_leader(m.entries, skip);
  const Index match = prev + (m.entries.size() - skip);
  commit_ = std::max(commit_, std::min(m.commit, match));
  RAFT_ASSERT(commit_ <= log_.last_index(), "commit never passes the log");

  reply.success = true;
  reply.match_index = match;
  send(std::move(reply));
}

void Node::reject_append(Message& reply, Index prev, Index rejected) const {
  reply.success = false;
  reply.reject_index = rejected;
  if (prev > log_.last_index()) {
    reply.conflict_term = 0;
    reply.hint_index = log_.last_index() + 1;
  } else {
    // Fast back-off: name the conflicting term and where it starts here, so
    // the leader can skip the whole run in one round trip.
    reply.conflict_term = *log_.term_at(prev);
    reply.hint_index = std::max(log_.first_index_of_term_at(prev), commit_ + 1);
  }
}

void Node::append_from_leader(std::vector<Entry>& entries, std::size_t skip) {
  bool conf_touched = false;
  NodeId changed_node = kNoNode;
  for (std::size_t i = skip; i < entries.size(); ++i) {
    Entry& e = entries[i];
    if (e.index <= log_.last_index()) {
      if (log_.matches(e.index, e.term)) continue;
      // A conflicting suffix from a deposed leader: it was never committed.
      RAFT_ASSERT(e.index > commit_, "a committed entry is never overwritten");
      log_.truncate_from(e.index);
      // A configuration in the cut suffix rolls back with it (dissertation §4.1).
      conf_touched = conf_touched || conf_entries_.lower_bound(e.index) != conf_entries_.end();
      forget_conf_entries_from(e.index);
      unstable_from_ = std::min(unstable_from_, e.index);
      persisted_index_ = std::min(persisted_index_, e.index - 1);
    }
    log_.append(std::move(e));
    const Entry& appended = log_.at(log_.last_index());
    if (appended.type == EntryType::Config) {
      note_conf_entry(appended);
      changed_node = decode_conf_entry(appended.data, appended.index)->change.node;
      conf_touched = true;
    }
  }
  // A configuration takes effect as soon as it is appended (§4.1). Compared
  // whole: a cut entry may be replaced by another at the same index.
  if (conf_touched) refresh_conf(changed_node);
}

Progress* Node::follower_heard(NodeId from) {
  if (role_ != Role::Leader) return nullptr;
  auto it = progress_.find(from);
  if (it == progress_.end()) return nullptr;
  it->second.recent_active = true;
  it->second.last_heard_ms = now_ms_;
  return &it->second;
}

void Node::handle_append_response(const Message& m) {
  Progress* follower = follower_heard(m.from);
  if (!follower) return;
  Progress& p = *follower;
  p.acked_read_ctx = std::max(p.acked_read_ctx, m.read_ctx);

  if (m.success) {
    if (m.match_index > log_.last_index()) return;  // cannot match more than we have
    const bool advanced = p.maybe_update(m.match_index);
    if (p.state == Progress::State::Snapshot && p.match >= p.snapshot_sending.last_index) {
      p.become_probe();  // it has what the snapshot covers
    }
    if (p.state == Progress::State::Probe) p.become_replicate();
    if (advanced) maybe_commit();
    if (role_ != Role::Leader) return;
    maybe_send_timeout_now(m.from);
    if (p.state == Progress::State::Replicate) broadcast_append_to(m.from);
  } else if ((m.reject_index != 0 || m.hint_index != 0) && !p.rejection_is_stale(m.reject_index)) {
    p.decrease_to(m.reject_index, back_off_hint(m));
    send_append(m.from, /*allow_empty=*/true);
  }
  confirm_reads();
}

Index Node::back_off_hint(const Message& m) const {
  Index next = m.hint_index;
  if (m.conflict_term != 0) {
    // Skip our whole run of the follower's conflicting term, if we have one.
    const Index last_of_term = log_.last_index_of_term(m.conflict_term);
    if (last_of_term != 0) next = last_of_term + 1;
  }
  return std::min(next, m.reject_index);
}

void Node::send_append(NodeId peer, bool allow_empty) {
  RAFT_ASSERT(role_ == Role::Leader, "only a leader sends appends");
  Progress& p = progress_.at(peer);
  if (p.state == Progress::State::Snapshot) {
    send_snapshot_chunk(peer);
    return;
  }
  if ((p.state == Progress::State::Probe && p.probe_sent) ||
      p.inflight_full(config_.inflight_appends_max)) {
    return;
  }
  // A rejection's hint comes from the follower: never aim past our log.
  p.next = std::min(p.next, log_.last_index() + 1);
  const Index prev = p.next - 1;
  const std::optional<Term> prev_term = log_.term_at(prev);
  if (!prev_term) {
    // The entries this follower needs were compacted away: send the snapshot.
    p.become_snapshot(log_.snapshot());
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
  p.sent_append(m.entries.empty() ? std::nullopt : std::optional(m.entries.back().index));
  send(std::move(m));
}

void Node::send_heartbeat(NodeId peer) {
  RAFT_ASSERT(role_ == Role::Leader, "only a leader sends heartbeats");
  Progress& p = progress_.at(peer);
  const std::optional<Term> match_term = log_.term_at(p.match);
  if (!match_term) {
    // What the follower is known to hold is compacted away: it needs the
    // snapshot. Probing from match sends it now, even with appends in flight
    // (a full window must never leave a follower without a heartbeat).
    p.become_probe();
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
    // No progress for a whole interval with appends outstanding: they were
    // probably lost. Probe again from what the follower is known to hold.
    if (p.stalled(last)) p.become_probe();
    p.match_at_last_heartbeat = p.match;
    switch (p.state) {
      case Progress::State::Probe:
        p.resume_probe();  // the previous probe may be lost: retry
        send_append(peer, /*allow_empty=*/true);
        break;
      case Progress::State::Snapshot:
        send_snapshot_chunk(peer);  // retransmit the current chunk
        break;
      case Progress::State::Replicate:
        if (p.next <= last && !p.inflight_full(config_.inflight_appends_max)) {
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
  // The leader has no Progress of its own: it matches what of its log is
  // durable (it may send entries before writing them, thesis §10.2.1), and
  // no follower can match beyond its log. Only the voters of the
  // configuration in effect count (learners never do; a leader being
  // removed does not count itself, §4.2.2).
  RAFT_ASSERT(!progress_.contains(config_.id), "a leader tracks only its followers");
  std::vector<Index> matches;
  matches.reserve(conf_.voters.size());
  for (NodeId voter : conf_.voters) {
    if (voter == config_.id) {
      matches.push_back(std::min(persisted_index_, log_.last_index()));
      continue;
    }
    const auto it = progress_.find(voter);
    RAFT_ASSERT(it != progress_.end(), "the leader tracks every voter");
    RAFT_ASSERT(it->second.match <= log_.last_index(), "no follower matches past the leader's log");
    matches.push_back(it->second.match);
  }
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
