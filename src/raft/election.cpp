// Elections: timers, PreVote, voting, becoming leader, stepping down and
// CheckQuorum (Raft §5.2, §9.6 of Ongaro's thesis).
#include "raft/assert.hpp"
#include "raft/node.hpp"

namespace raft {

void Node::reset_election_timer() {
  election_timer_start_ms_ = now_ms_;
  // Re-randomised at every reset, so split votes do not repeat.
  election_timeout_ms_ =
      rng_.uniform(config_.election_timeout_min_ms, config_.election_timeout_max_ms);
}

void Node::set_role(Role role, const char* why) {
  if (role == role_) return;
  role_ = role;
  emit({EventKind::RoleChanged, term_, role_, config_.id, false, why});
}

void Node::set_leader(NodeId leader) {
  if (leader == leader_) return;
  leader_ = leader;
  emit({EventKind::LeaderChanged, term_, role_, leader_, false, {}});
}

bool Node::heard_from_leader(NodeId leader) {
  // Two leaders in one term cannot happen in a correct cluster; ignore it.
  if (role_ == Role::Leader) return false;
  // A STANDBY node follows the leader that reaches it (that is how a node
  // being added hears of its addition) but keeps no election timer.
  if (role_ == Role::Candidate) {
    step_down(term_, leader, "heard from the leader of our term");
  } else {
    set_leader(leader);
    reset_election_timer();
  }
  pre_voting_ = false;
  leader_contact_ms_ = now_ms_;
  return true;
}

bool Node::in_leader_lease() const {
  // Only meaningful with CheckQuorum: then a leader steps down by itself
  // when cut off, so refusing votes while it is alive cannot block progress.
  if (!config_.check_quorum) return false;
  if (role_ == Role::Leader) return true;
  return leader_ != kNoNode && now_ms_ < leader_contact_ms_ + config_.election_timeout_min_ms;
}

void Node::on_election_timeout() {
  RAFT_ASSERT(role_ == Role::Follower || role_ == Role::Candidate,
              "only followers and candidates have an election timer");
  if (!can_campaign()) {
    reset_election_timer();  // a learner: it never campaigns
    return;
  }
  if (config_.pre_vote) {
    start_pre_vote();
  } else {
    campaign(/*force=*/false, "election timeout");
  }
}

void Node::start_pre_vote() {
  reset_election_timer();
  // A candidate whose election failed gives its real round up: otherwise late
  // real votes of that round would be counted with PreVote grants of the new
  // one, and two leaders could win one term (found by the simulator).
  if (role_ == Role::Candidate) set_role(Role::Follower, "election timed out; PreVote again");
  if (quorum() == 1 && is_voter(config_.id)) {  // we are the only voter
    campaign(false, "election timeout");
    return;
  }
  pre_voting_ = true;
  votes_.clear();
  if (is_voter(config_.id)) votes_[config_.id] = true;
  emit({EventKind::ElectionStarted, term_ + 1, role_, config_.id, true, "election timeout"});
  for (NodeId peer : conf_.voters) {
    if (peer == config_.id) continue;
    Message m;
    m.type = MessageType::PreVoteRequest;
    m.to = peer;
    m.term = term_ + 1;  // the term we would stand in; ours does not change
    m.last_log_index = log_.last_index();
    m.last_log_term = log_.last_term();
    send(std::move(m));
  }
}

void Node::campaign(bool force, const char* why) {
  RAFT_ASSERT(role_ != Role::Initial, "an INITIAL node does not stand for election");
  RAFT_ASSERT(can_campaign(), "only a voter (or one whose removal may yet roll back) campaigns");
  pre_voting_ = false;
  fail_pending_reads();
  transfer_target_ = kNoNode;
  progress_.clear();
  term_ += 1;
  voted_for_ = config_.id;
  set_role(Role::Candidate, why);
  set_leader(kNoNode);
  reset_election_timer();
  emit({EventKind::ElectionStarted, term_, role_, config_.id, false, why});
  votes_.clear();
  // A node whose removal is not yet committed campaigns without its own vote.
  if (is_voter(config_.id)) votes_[config_.id] = true;
  if (votes_.size() >= quorum()) {
    become_leader();
    return;
  }
  for (NodeId peer : conf_.voters) {
    if (peer == config_.id) continue;
    Message m;
    m.type = MessageType::VoteRequest;
    m.to = peer;
    m.term = term_;
    m.last_log_index = log_.last_index();
    m.last_log_term = log_.last_term();
    m.force = force;
    send(std::move(m));
  }
}

void Node::handle_vote_request(const Message& m) {
  const bool pre = m.type == MessageType::PreVoteRequest;
  // Here m.term >= term_ (lower terms were answered in step()). For a real
  // vote step() has already adopted m.term, so m.term == term_.
  RAFT_ASSERT(pre ? m.term >= term_ : m.term == term_, "step() answered older terms");
  bool grant =
      role_ != Role::Initial && log_.candidate_is_up_to_date(m.last_log_index, m.last_log_term);
  if (pre) {
    // Grant a PreVote only for a higher term, and only when we would not
    // refuse the real vote because of a live leader.
    grant = grant && m.term > term_ && (m.force || !in_leader_lease());
  } else {
#if RAFT_INJECT_BUG_DOUBLE_VOTE
    // Deliberate bug for the simulator's self-check: ignore an earlier vote.
    grant = grant && (voted_for_ == kNoNode || voted_for_ == m.from || true);
#else
    grant = grant && (voted_for_ == kNoNode || voted_for_ == m.from);
#endif
    grant = grant && role_ != Role::Leader;
  }

  Message reply = reply_to(m, pre ? MessageType::PreVoteResponse : MessageType::VoteResponse);
  reply.granted = grant;
  if (grant && pre) reply.term = m.term;  // the term the candidate would stand in
  if (grant && !pre) {
    voted_for_ = m.from;
    reset_election_timer();
    emit({EventKind::VoteGranted, term_, role_, m.from, false, {}});
  }
  send(std::move(reply));
}

void Node::handle_vote_response(const Message& m) {
  const bool pre = m.type == MessageType::PreVoteResponse;
  if (pre) {
    if (!pre_voting_ || (m.granted && m.term != term_ + 1)) return;
  } else {
    if (role_ != Role::Candidate || pre_voting_ || m.term != term_) return;
  }
  // Only the voters of our configuration count; a learner's or a removed
  // node's answer is no vote.
  if (!is_voter(m.from) || !can_campaign()) return;
  votes_[m.from] = m.granted;
  std::size_t granted = 0;
  std::size_t rejected = 0;
  for (const auto& [id, yes] : votes_) (yes ? granted : rejected)++;

  if (granted >= quorum()) {
    if (pre) {
      campaign(/*force=*/false, "won the PreVote");
    } else {
      become_leader();
    }
  } else if (rejected >= quorum()) {
    if (pre) {
      pre_voting_ = false;  // a leader is alive or our log is behind: wait
    } else {
      step_down(term_, kNoNode, "lost the election");
    }
  }
}

void Node::become_leader() {
  RAFT_ASSERT(role_ == Role::Candidate, "only a candidate wins an election");
  pre_voting_ = false;
  set_role(Role::Leader, "won the election");
  set_leader(config_.id);
  progress_.clear();
  sync_progress();
  check_quorum_due_ms_ = now_ms_ + config_.election_timeout_min_ms;
  heartbeat_due_ms_ = now_ms_ + config_.heartbeat_interval_ms;
  // A no-op in our term lets us commit (and serve reads for) everything
  // earlier leaders left uncommitted (§5.4.2, §8).
  append_local(EntryType::Noop, {});
  maybe_commit();
  broadcast_append();
}

void Node::step_down(Term term, NodeId leader, const char* why) {
  RAFT_ASSERT(term >= term_, "the term never goes back");
  const bool was_leader = role_ == Role::Leader;
  if (term > term_) {
    term_ = term;
    voted_for_ = kNoNode;
  }
  pre_voting_ = false;
  votes_.clear();
  if (was_leader) {
    fail_pending_reads();
    progress_.clear();
    transfer_target_ = kNoNode;
  }
  if (role_ != Role::Initial) set_role(follower_role(), why);
  if (leader != kNoNode) leader_contact_ms_ = now_ms_;
  if (leader_ != leader) {
    leader_ = leader;
    emit({EventKind::LeaderChanged, term_, role_, leader_, false, {}});
  }
  // Figure 2: the election timer restarts only on hearing from the current
  // leader, granting a vote or starting an election. Merely learning a higher
  // term from a candidate (whose vote we may deny) is none of these:
  // restarting here let candidates with stale logs, campaigning in turn, keep
  // the one node they would all elect from ever timing out. A deposed leader
  // had no timer running, so it starts one.
#if RAFT_INJECT_BUG_TIMER_ON_STEP_DOWN
  // Deliberate bug for the simulator's self-check: restart on any new term.
  reset_election_timer();
#else
  if (was_leader || leader != kNoNode) reset_election_timer();
#endif
}

void Node::check_quorum() {
  check_quorum_due_ms_ = now_ms_ + config_.election_timeout_min_ms;
  if (!config_.check_quorum) return;
  // Voters only: learners keep no leader in office. A leader being removed
  // does not count itself.
  std::size_t active = is_voter(config_.id) ? 1 : 0;
  for (auto& [peer, p] : progress_) {
    if (p.recent_active && is_voter(peer)) ++active;
    p.recent_active = false;
  }
  if (active < quorum()) step_down(term_, kNoNode, "lost contact with a majority (CheckQuorum)");
}

}  // namespace raft
