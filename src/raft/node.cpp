// raft::Node: construction, the input/output plumbing (tick, step dispatch,
// ready) and the operator commands. The protocol itself lives in
// election.cpp, replication.cpp, snapshot.cpp and read_index.cpp.
#include "raft/node.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "raft/assert.hpp"

namespace raft {

Node::Node(Config config, TimeMs now_ms) : Node(std::move(config), RecoveredState{}, now_ms) {}

Node::Node(Config config, const RecoveredState& recovered, TimeMs now_ms)
    : config_(std::move(config)),
      rng_(config_.seed ^ (0x5EEDULL * (config_.id + 1))),
      now_ms_(now_ms) {
  RAFT_ASSERT(config_.validate().empty(), "the owner validates the Config first");
  std::sort(config_.voters.begin(), config_.voters.end());
  SnapshotMeta snap_meta;
  if (recovered.snapshot) {
    snap_meta = recovered.snapshot->meta;
    snapshot_data_ = recovered.snapshot->data;
  }
  log_ = RaftLog(snap_meta, recovered.entries);
  recover_conf(recovered);
  term_ = recovered.hard_state.term;
  voted_for_ = recovered.hard_state.voted_for;
  // A persisted commit may lag but is never wrong; it cannot point past the log.
  commit_ = std::clamp(recovered.hard_state.commit, snap_meta.last_index, log_.last_index());
  // The state machine is rebuilt from the snapshot; entries after it are
  // re-applied as they are (re)learned to be committed.
  applied_ = snap_meta.last_index;
  unstable_from_ = log_.last_index() + 1;
  persisted_index_ = log_.last_index();
  // The committed configuration rides on the next hard state written; a
  // node's first Ready is not spent on it alone.
  last_hard_state_ = HardState{term_, voted_for_, commit_, committed_conf_state()};
  reported_conf_index_ = committed_conf_state().index;
  commit_seen_ = commit_;

  if (follower_role() == Role::Standby) {
    role_ = Role::Standby;
  } else {
    role_ = config_.initial_delay_ms > 0 ? Role::Initial : Role::Follower;
  }
  initial_deadline_ms_ = now_ms_ + config_.initial_delay_ms;
  reset_election_timer();
  check_invariants();
}

void Node::persisted(Index index) {
  persisted_index_ = index;
  maybe_commit();
  after_input();
}

void Node::tick(TimeMs now_ms) {
  if (now_ms < now_ms_) return;  // time never goes back
  now_ms_ = now_ms;

  switch (role_) {
    case Role::Standby: break;  // not a member: no timer to fire
    case Role::Initial:
      if (now_ms_ >= initial_deadline_ms_) {
        set_role(Role::Follower, "initial delay elapsed");
        reset_election_timer();
      }
      break;
    case Role::Follower:
    case Role::Candidate:
      if (now_ms_ >= election_timer_start_ms_ + election_timeout_ms_) on_election_timeout();
      break;
    case Role::Leader:
      if (transfer_target_ != kNoNode && now_ms_ >= transfer_deadline_ms_) {
        transfer_target_ = kNoNode;  // the target did not take over in time
      }
      if (now_ms_ >= check_quorum_due_ms_) {
        check_quorum();
        if (role_ != Role::Leader) break;
        send_removed_notices();
      }
      if (now_ms_ >= heartbeat_due_ms_) {
        heartbeat_due_ms_ = now_ms_ + config_.heartbeat_interval_ms;
        broadcast_heartbeat();
      }
      break;
  }
  after_input();
}

TimeMs Node::next_deadline_ms() const {
  switch (role_) {
    // Nothing to do until a message comes; an occasional wake is harmless
    // and keeps a loop's sleep bounded.
    case Role::Standby: return now_ms_ + config_.election_timeout_max_ms;
    case Role::Initial: return initial_deadline_ms_;
    case Role::Follower:
    case Role::Candidate: return election_timer_start_ms_ + election_timeout_ms_;
    case Role::Leader: {
      TimeMs due_ms = std::min(check_quorum_due_ms_, heartbeat_due_ms_);
      if (transfer_target_ != kNoNode) due_ms = std::min(due_ms, transfer_deadline_ms_);
      return due_ms;
    }
  }
  return now_ms_;
}

void Node::step(Message m) {
  if (m.to != config_.id || m.from == config_.id || m.from < 0) return;
  if (m.type < MessageType::VoteRequest || m.type > MessageType::RemovedNotice) return;
  if (m.type == MessageType::RemovedNotice) {
    // A committed configuration is a fact whatever the sender's term: the
    // notice is taken at any term and never changes ours.
    handle_removed_notice(m);
    after_input();
    return;
  }
  // Before anything may ignore it: a removed node that missed its removal
  // hears of it whatever becomes of its message (reconfig.cpp).
  maybe_send_removed_notice(m);

  const bool is_vote_request =
      m.type == MessageType::VoteRequest || m.type == MessageType::PreVoteRequest;
  // A candidate that is not a voter of our committed configuration, and
  // whose log is not ahead of ours, is a removed node that missed its
  // removal: it could not have our vote anyway, so it is ignored rather than
  // allowed to raise our term and depose the leader (dissertation §4.2.3).
  // Otherwise it is answered as usual: while our newest configuration is
  // uncommitted it may roll back (and ignoring a rival's terms would leave
  // us a term behind it for good), and a log ahead of ours may hold
  // configurations we have not seen (we may be the lagging voter it needs).
  if (is_vote_request && !is_voter(m.from) && conf_.index <= commit_ &&
      !log_.candidate_is_up_to_date(m.last_log_index, m.last_log_term)) {
    return;
  }

  if (m.term > term_) {
    if (is_vote_request && !m.force && in_leader_lease()) {
      // We still hear from a leader: a disruptive candidate (typically one
      // that was cut off) must not depose it. Answer without adopting its term.
      send(reply_to(m, m.type == MessageType::VoteRequest ? MessageType::VoteResponse
                                                          : MessageType::PreVoteResponse));
      return;
    }
    if (m.type == MessageType::PreVoteRequest) {
      // A PreVote never changes our term: handled below at its own term.
    } else if (m.type == MessageType::PreVoteResponse && m.granted) {
      // A granted PreVote response carries the term we would stand in.
    } else {
      const bool from_leader = m.type == MessageType::AppendEntries ||
                               m.type == MessageType::InstallSnapshot ||
                               m.type == MessageType::TimeoutNow;
      step_down(m.term, from_leader ? m.from : kNoNode, "saw a higher term");
    }
  } else if (m.term < term_) {
    if (m.type == MessageType::AppendEntries || m.type == MessageType::InstallSnapshot) {
      // A stale leader (e.g. one that was partitioned): tell it our term so it
      // steps down; without this, CheckQuorum + PreVote could leave it stuck.
      send(reply_to(m, MessageType::AppendResponse));
    } else if (m.type == MessageType::PreVoteRequest) {
      send(reply_to(m, MessageType::PreVoteResponse));
    }
    return;
  }

  switch (m.type) {
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest: handle_vote_request(m); break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse: handle_vote_response(m); break;
    case MessageType::AppendEntries: handle_append_entries(m); break;
    case MessageType::AppendResponse: handle_append_response(m); break;
    case MessageType::InstallSnapshot: handle_install_snapshot(m); break;
    case MessageType::InstallSnapshotResponse: handle_install_snapshot_response(m); break;
    case MessageType::TimeoutNow:
      if (m.term == term_ && (role_ == Role::Follower || role_ == Role::Candidate) &&
          can_campaign()) {
        campaign(/*force=*/true, "leadership transferred to us");
      }
      break;
    case MessageType::RemovedNotice: break;  // handled above, at any term
  }
  after_input();
}

Result Node::propose(EntryType type, std::string data) {
  if (role_ != Role::Leader) return not_leader();
  if (type == EntryType::Config) {
    return {Status::InvalidArgument, "configuration entries go through change_membership", 0, term_,
            leader_};
  }
  if (transfer_target_ != kNoNode) {
    return {Status::Refused, "a leadership transfer is in progress", 0, term_, leader_};
  }
  const Index index = log_.last_index() + 1;
  append_local(type, std::move(data));
  maybe_commit();
  broadcast_append();
  return {Status::Ok, {}, index, term_, leader_};
}

Result Node::propose_batch(std::vector<std::string> commands) {
  if (role_ != Role::Leader) return not_leader();
  if (transfer_target_ != kNoNode) {
    return {Status::Refused, "a leadership transfer is in progress", 0, term_, leader_};
  }
  if (commands.empty()) return {Status::InvalidArgument, "the batch is empty", 0, term_, leader_};
  const Index first = log_.last_index() + 1;
  for (std::string& c : commands) append_local(EntryType::Command, std::move(c));
  maybe_commit();
  broadcast_append();
  return {Status::Ok, {}, first, term_, leader_};
}

Result Node::trigger_election() {
  if (role_ == Role::Initial) return refused("the node is INITIAL; use become_follower first");
  if (role_ == Role::Standby) return refused("the node is STANDBY: not a member, it cannot lead");
  if (!can_campaign()) return refused("the node is a learner: learners never campaign");
  campaign(/*force=*/true, "trigger_election");
  return {Status::Ok, {}, 0, term_, leader_};
}

Result Node::force_timeout() {
  if (role_ == Role::Initial) {
    return refused("the node is INITIAL and does not stand for election");
  }
  if (role_ == Role::Standby) return refused("the node is STANDBY: it has no election timer");
  if (role_ == Role::Leader) return refused("the leader has no election timer");
  if (!can_campaign()) return refused("the node is a learner: learners never campaign");
  on_election_timeout();
  return {Status::Ok, {}, 0, term_, leader_};
}

Result Node::become_follower() {
  switch (role_) {
    case Role::Standby:
      return refused("the node is STANDBY: it becomes a follower when it is added");
    case Role::Initial:
      set_role(Role::Follower, "become_follower");
      reset_election_timer();
      break;
    case Role::Follower:
      return {Status::Refused, "the node is already a FOLLOWER", 0, term_, leader_};
    case Role::Candidate:
    case Role::Leader: step_down(term_, kNoNode, "become_follower"); break;
  }
  return {Status::Ok, {}, 0, term_, leader_};
}

Result Node::transfer_leadership(NodeId target) {
  if (role_ != Role::Leader) return not_leader();
  if (!is_voter(target)) {
    return {Status::InvalidArgument, "node " + std::to_string(target) + " is not a voter", 0, term_,
            leader_};
  }
  if (target == config_.id) {
    return {Status::Refused, "this node is already the leader", 0, term_, leader_};
  }
  transfer_target_ = target;
  transfer_deadline_ms_ = now_ms_ + config_.election_timeout_max_ms;
  const Progress& p = progress_.at(target);
  if (p.match == log_.last_index()) {
    maybe_send_timeout_now(target);
  } else {
    send_append(target, /*allow_empty=*/false);
  }
  return {Status::Ok, {}, 0, term_, leader_};
}

Result Node::compact(Index index, SharedBytes data, Snapshot* out_snapshot) {
  if (!data) return {Status::InvalidArgument, "snapshot data is missing", 0, term_, leader_};
  if (index <= log_.snapshot().last_index) {
    return {Status::Refused, "nothing new to compact", 0, term_, leader_};
  }
  if (index > applied_) {
    return {Status::InvalidArgument, "cannot compact past the applied index", 0, term_, leader_};
  }
  const SnapshotMeta meta{index, *log_.term_at(index), conf_at(index)};
  log_.compact_to(meta);
  forget_conf_entries_through(index);
  snapshot_data_ = std::move(data);
  if (out_snapshot) *out_snapshot = Snapshot{meta, snapshot_data_};
  return {Status::Ok, {}, index, meta.last_term, leader_};
}

bool Node::has_ready() const {
  return !messages_.empty() || read_broadcast_due_ || snapshot_to_persist_ ||
         unstable_from_ <= log_.last_index() || applied_ < commit_ || !reads_out_.empty() ||
         !events_.empty() || hard_state_changed();
}

bool Node::hard_state_changed() const {
  // A configuration at one index never changes, so its index identifies it.
  return term_ != last_hard_state_.term || voted_for_ != last_hard_state_.voted_for ||
         commit_ != last_hard_state_.commit ||
         committed_conf_state().index != last_hard_state_.conf.index;
}

Ready Node::ready() {
  check_invariants();
  if (read_broadcast_due_) {
    read_broadcast_due_ = false;
    if (role_ == Role::Leader) broadcast_heartbeat();
  }
  Ready rd;
  const bool term_or_vote_changed =
      term_ != last_hard_state_.term || voted_for_ != last_hard_state_.voted_for;
  if (hard_state_changed()) {
    HardState hs{term_, voted_for_, commit_, committed_conf_state()};
    RAFT_ASSERT(hs.term >= last_hard_state_.term, "the term never goes back");
    RAFT_ASSERT(hs.commit >= last_hard_state_.commit, "the commit index never goes back");
    last_hard_state_ = hs;
    rd.hard_state = std::move(hs);
  }
  if (snapshot_to_persist_) {
    rd.snapshot = std::move(snapshot_to_persist_);
    snapshot_to_persist_.reset();
  }
  if (unstable_from_ <= log_.last_index()) {
    rd.entries = log_.slice(unstable_from_, SIZE_MAX, SIZE_MAX);
    unstable_from_ = log_.last_index() + 1;
  }
  rd.messages = std::move(messages_);
  messages_.clear();
  rd.send_before_sync = role_ == Role::Leader && !term_or_vote_changed && !rd.snapshot;
  if (applied_ < commit_) {
    const Index from = std::max(applied_ + 1, log_.first_index());
    const std::size_t count = static_cast<std::size_t>(
        std::min<Index>(commit_ - from + 1, config_.committed_per_ready_max));
    rd.committed = log_.slice(from, count, SIZE_MAX);
    if (!rd.committed.empty()) applied_ = rd.committed.back().index;
    RAFT_ASSERT(applied_ <= commit_, "only committed entries are handed out to apply");
  }
  rd.reads = std::move(reads_out_);
  reads_out_.clear();
  rd.events = std::move(events_);
  events_.clear();
  return rd;
}

void Node::check_invariants() const {
  RAFT_ASSERT(commit_ <= log_.last_index(), "commit never passes the log");
  RAFT_ASSERT(applied_ <= commit_, "only committed entries are applied");
  RAFT_ASSERT(log_.snapshot().last_index <= commit_, "a snapshot holds only committed entries");
  RAFT_ASSERT(unstable_from_ <= log_.last_index() + 1, "unpersisted entries lie in the log");
  RAFT_ASSERT(role_ == Role::Leader || progress_.empty(), "only a leader tracks followers");
  RAFT_ASSERT(role_ != Role::Leader || leader_ == config_.id, "a leader knows it leads");
  RAFT_ASSERT(
      role_ == Role::Leader || (role_ == Role::Standby) == (follower_role() == Role::Standby),
      "STANDBY exactly when neither a member nor one whose removal may roll back");
  RAFT_ASSERT(role_ != Role::Candidate || can_campaign(), "only voters campaign");
  RAFT_ASSERT(!conf_has_member(notice_conf_, config_.id) && notice_conf_.index <= notice_commit_,
              "a removal notice is kept only if it leaves us out");
  RAFT_ASSERT(conf_entries_.empty() || (conf_entries_.begin()->first > log_.snapshot().last_index &&
                                        conf_entries_.rbegin()->first <= log_.last_index()),
              "configurations are tracked for entries of the log");
  for (const auto& [peer, p] : progress_) {
    RAFT_DEBUG_ASSERT(p.match < p.next && p.match <= log_.last_index(), "progress within the log");
  }
}

Message Node::reply_to(const Message& m, MessageType type) const {
  Message reply;
  reply.type = type;
  reply.to = m.from;
  reply.term = term_;
  return reply;
}

void Node::send(Message m) {
  m.from = config_.id;
  messages_.push_back(std::move(m));
}

void Node::emit(Event e) { events_.push_back(std::move(e)); }

bool Node::committed_in_current_term() const {
  const std::optional<Term> t = log_.term_at(commit_);
  return t && *t == term_;
}

Result Node::not_leader() const {
  return {Status::NotLeader, "this node is not the leader", 0, term_, leader_};
}

Result Node::refused(std::string why) const {
  return {Status::Refused, std::move(why), 0, term_, leader_};
}

}  // namespace raft
