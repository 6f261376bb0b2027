// RaftEventRecorder: sampling and coalescing of the node's events (see
// raft_event_recorder.hpp).
#include "runtime/raft_event_recorder.hpp"

#include <algorithm>
#include <utility>

#include "raft/assert.hpp"

namespace raft::runtime {

namespace {

constexpr int kSlotSent = 0;
constexpr int kSlotDroppedIn = 1;
constexpr int kSlotDroppedOut = 2;

RaftEvent event(RaftEventKind kind, std::uint64_t now_us) {
  RaftEvent e;
  e.kind = kind;
  e.t_us = now_us;
  return e;
}

bool is_answer_type(MessageType type) { return type == MessageType::AppendResponse; }

}  // namespace

RaftEventRecorder::RaftEventRecorder(std::shared_ptr<RaftEventLog> log, RecorderOptions options)
    : log_(std::move(log)), options_(options) {
  RAFT_ASSERT(log_ != nullptr, "the recorder needs a ring to record into");
  options_.burst = std::max(options_.burst, options_.events_per_second);
  tokens_ = options_.burst;
}

void RaftEventRecorder::received(const Message& m) {
  if (!enabled()) return;
  if (m.type == MessageType::AppendEntries) last_append_empty_[m.from] = m.entries.empty();
}

bool RaftEventRecorder::is_heartbeat(const Message& m, bool inbound) const {
  if (m.type == MessageType::AppendEntries) return m.entries.empty();
  if (!is_answer_type(m.type)) return false;
  // An answer leaving us answers `to`'s last append; one arriving answers
  // ours, which only the leader's own sends tell: an accepted answer is as
  // dull as a heartbeat's, a rejection never is.
  if (inbound) return m.success;
  auto it = last_append_empty_.find(m.to);
  return m.success && it != last_append_empty_.end() && it->second;
}

RaftEvent RaftEventRecorder::message_event(RaftEventKind kind, const Message& m,
                                           std::uint64_t now_us) const {
  RaftEvent e = event(kind, now_us);
  e.type = m.type;
  e.term = m.term;
  switch (m.type) {
    case MessageType::AppendEntries:
      e.index = m.prev_log_index;
      e.commit = m.commit;
      e.count = static_cast<std::uint32_t>(std::min<std::size_t>(m.entries.size(), UINT32_MAX));
      break;
    case MessageType::AppendResponse:
      e.ok = m.success;
      e.index = m.success ? m.match_index : m.reject_index;
      break;
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest: e.index = m.last_log_index; break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse: e.ok = m.granted; break;
    case MessageType::InstallSnapshot: e.index = m.snapshot.last_index; break;
    case MessageType::InstallSnapshotResponse:
      e.ok = m.success;
      e.index = m.snapshot.last_index;
      break;
    case MessageType::TimeoutNow: break;
    case MessageType::RemovedNotice:
      e.index = m.conf.index;
      e.commit = m.commit;
      break;
  }
  return e;
}

bool RaftEventRecorder::take_token(std::uint64_t now_us) {
  if (tokens_at_us_ != 0 && now_us > tokens_at_us_) {
    const double refill = static_cast<double>(now_us - tokens_at_us_) / 1e6 *
                          static_cast<double>(options_.events_per_second);
    tokens_ = std::min<double>(options_.burst, tokens_ + refill);
  }
  tokens_at_us_ = now_us;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

void RaftEventRecorder::leave_out(const Message& m, bool heartbeat) {
  const auto type = static_cast<std::size_t>(m.type);
  std::uint32_t& counter = heartbeat ? left_out_[0] : left_out_[type < left_out_.size() ? type : 0];
  if (counter < UINT32_MAX) ++counter;
  ++left_out_total_;
}

bool RaftEventRecorder::admit(const Message& m, bool heartbeat, bool slow_link, int slot,
                              std::uint64_t now_us) {
  // The summary window opens with the first message seen.
  if (summary_since_us_ == 0) summary_since_us_ = now_us;
  if (heartbeat && !slow_link) {
    const NodeId peer = slot == kSlotDroppedIn ? m.from : m.to;
    LinkSample& sample = heartbeat_samples_[static_cast<std::int64_t>(peer) * 4 + slot];
    const std::uint64_t every_us = std::uint64_t{options_.heartbeat_sample_ms} * 1000;
    if (sample.recorded_once && now_us < sample.last_recorded_us + every_us) {
      leave_out(m, true);
      return false;
    }
    sample.recorded_once = true;
    sample.last_recorded_us = now_us;
    return true;
  }
  if (!take_token(now_us)) {
    leave_out(m, heartbeat);
    return false;
  }
  return true;
}

void RaftEventRecorder::sent(const Message& m, std::uint32_t hold_ms, std::uint64_t now_us) {
  if (!enabled()) return;
  const bool heartbeat = is_heartbeat(m, false);
  if (!admit(m, heartbeat, hold_ms > 0, kSlotSent, now_us)) return;
  RaftEvent e = message_event(RaftEventKind::Send, m, now_us);
  e.peer = m.to;
  e.heartbeat = heartbeat;
  e.hold_ms = hold_ms;
  log_->append(std::move(e));
}

void RaftEventRecorder::dropped(const Message& m, bool inbound, DropReason why,
                                std::uint64_t now_us) {
  if (!enabled()) return;
  const bool heartbeat = is_heartbeat(m, inbound);
  if (!admit(m, heartbeat, false, inbound ? kSlotDroppedIn : kSlotDroppedOut, now_us)) return;
  RaftEvent e = message_event(RaftEventKind::Drop, m, now_us);
  e.peer = inbound ? m.from : m.to;
  e.inbound = inbound;
  e.reason = why;
  e.heartbeat = heartbeat;
  log_->append(std::move(e));
}

void RaftEventRecorder::observe(const ObservedState& observed, std::uint64_t now_us) {
  if (!enabled()) return;
  // A crashed node has no Raft state: it is shown as what it was.
  ObservedState s = observed;
  if (!s.has_node && observed_once_) {
    s = last_;
    s.has_node = false;
    s.paused = observed.paused;
    s.crashed = observed.crashed;
    s.pre_vote = false;
    s.commit = 0;
  }
  const bool changed = !observed_once_ || s.has_node != last_.has_node || s.role != last_.role ||
                       s.term != last_.term || s.leader != last_.leader || s.vote != last_.vote ||
                       s.paused != last_.paused || s.crashed != last_.crashed ||
                       s.pre_vote != last_.pre_vote;
  if (changed) {
    RaftEvent e = event(RaftEventKind::State, now_us);
    e.role = s.role;
    e.term = s.term;
    e.leader = s.leader;
    e.vote = s.vote;
    e.paused = s.paused;
    e.crashed = s.crashed;
    e.pre_vote = s.pre_vote;
    e.timeout_ms = s.timeout_ms;
    e.elapsed_ms = s.elapsed_ms;
    log_->append(std::move(e));
  }
  // A restarted node re-learns its commit index from zero: that is no news.
  if (s.has_node && s.commit > commit_recorded_) record_commit(s.commit, s.term, now_us);
  if (!s.has_node) commit_recorded_ = 0;
  observed_once_ = true;
  last_ = s;
  flush(now_us);
}

void RaftEventRecorder::record_commit(Index commit, Term term, std::uint64_t now_us) {
  const std::uint64_t every_us = std::uint64_t{options_.commit_every_ms} * 1000;
  if (commit_recorded_at_us_ != 0 && now_us < commit_recorded_at_us_ + every_us) {
    commit_pending_ = true;
    commit_pending_index_ = commit;
    commit_pending_term_ = term;
    return;
  }
  RaftEvent e = event(RaftEventKind::Commit, now_us);
  e.index = commit;
  e.term = term;
  log_->append(std::move(e));
  commit_recorded_ = commit;
  commit_recorded_at_us_ = now_us;
  commit_pending_ = false;
}

void RaftEventRecorder::snapshot(Index index, bool installed, std::uint64_t now_us) {
  if (!enabled()) return;
  RaftEvent e = event(RaftEventKind::Snapshot, now_us);
  e.index = index;
  e.ok = installed;
  log_->append(std::move(e));
}

void RaftEventRecorder::command(std::string text, bool ok, std::uint64_t now_us) {
  if (!enabled()) return;
  RaftEvent e = event(RaftEventKind::Command, now_us);
  e.text = std::move(text);
  e.ok = ok;
  log_->append(std::move(e));
}

void RaftEventRecorder::flush(std::uint64_t now_us) {
  if (!enabled()) return;
  if (commit_pending_ && commit_pending_index_ > commit_recorded_) {
    record_commit(commit_pending_index_, commit_pending_term_, now_us);
  }
  if (summary_since_us_ == 0) summary_since_us_ = now_us;
  const std::uint64_t every_us = std::uint64_t{options_.summary_every_ms} * 1000;
  if (now_us < summary_since_us_ + every_us) return;
  bool any = false;
  for (std::uint32_t n : left_out_) any |= n > 0;
  if (any) {
    RaftEvent e = event(RaftEventKind::Sampled, now_us);
    e.left_out = left_out_;
    e.window_ms = static_cast<std::uint32_t>(
        std::min<std::uint64_t>((now_us - summary_since_us_) / 1000, UINT32_MAX));
    log_->append(std::move(e));
    left_out_.fill(0);
  }
  summary_since_us_ = now_us;
}

}  // namespace raft::runtime
