// Membership changes (Raft dissertation chapter 4, single-server changes,
// with Ongaro's 2015 fix): the configuration history of the log, the rules a
// leader checks before a change, the roles that follow a configuration, and
// the leader's bookkeeping (who it replicates to, learners it promotes, its
// own removal).
#include <algorithm>
#include <string>
#include <vector>

#include "raft/assert.hpp"
#include "raft/node.hpp"

namespace raft {

// ---- the configuration history of the log --------------------------------------

void Node::recover_conf(const RecoveredState& recovered) {
  ConfState base;
  base.voters = config_.voters;  // sorted by the constructor
  // The hard state pins the initial voters (its configuration at index 0),
  // so a restart with other flags does not change who votes.
  const ConfState& stored = recovered.hard_state.conf;
  if (!stored.voters.empty() && stored.index == 0 && validate_conf_state(stored).empty()) {
    base = stored;
  }
  if (recovered.snapshot && !recovered.snapshot->meta.conf.voters.empty()) {
    base = recovered.snapshot->meta.conf;
  }
  RAFT_ASSERT(validate_conf_state(base).empty(), "the stored configuration is well-formed");
  log_.set_base_conf(base);
  for (const Entry& e : recovered.entries) {
    if (e.type == EntryType::Config) note_conf_entry(e);
  }
  conf_ = conf_at(log_.last_index());
}

const ConfState& Node::conf_at(Index index) const {
  const auto it = conf_entries_.upper_bound(index);
  return it == conf_entries_.begin() ? log_.snapshot().conf : std::prev(it)->second;
}

const ConfState& Node::committed_conf_state() const { return conf_at(commit_); }

void Node::note_conf_entry(const Entry& e) {
  std::optional<ConfEntry> decoded = decode_conf_entry(e.data, e.index);
  // Entries from the leader were checked on arrival, our own are encoded
  // here, and stored ones passed their checksums.
  RAFT_ASSERT(decoded.has_value(), "a Config entry in the log parses");
  conf_entries_[e.index] = std::move(decoded->conf);
}

void Node::forget_conf_entries_from(Index index) {
  conf_entries_.erase(conf_entries_.lower_bound(index), conf_entries_.end());
}

void Node::forget_conf_entries_through(Index index) {
  conf_entries_.erase(conf_entries_.begin(), conf_entries_.upper_bound(index));
}

bool Node::can_campaign() const {
  if (removed_by_notice()) return false;
  if (is_voter(config_.id)) return true;
  // Removed by an entry not yet committed: it may roll back, and our log may
  // be the one the others need (our removal among them), so we may still
  // stand, counting the votes of the configuration that removes us. Once the
  // removal commits we are out for good.
  return conf_.index > commit_ && conf_has_voter(conf_at(conf_.index - 1), config_.id);
}

Role Node::follower_role() const {
  if (removed_by_notice()) return Role::Standby;
  return is_member(config_.id) || can_campaign() ? Role::Follower : Role::Standby;
}

void Node::refresh_role() {
  if (role_ == Role::Leader) return;  // a leader steps down by its own rules
  if (!can_campaign()) {
    pre_voting_ = false;  // a learner or a removed node stands for nothing
    votes_.clear();
  }
  const Role want = follower_role();
  if (want == Role::Standby && role_ != Role::Standby) {
    set_role(Role::Standby, "removed from the configuration");
  } else if (want == Role::Follower && role_ == Role::Standby) {
    set_role(Role::Follower, "added to the configuration");
    reset_election_timer();
  }
}

void Node::refresh_conf(NodeId node) {
  const ConfState& newest =
      conf_entries_.empty() ? log_.snapshot().conf : conf_entries_.rbegin()->second;
  if (newest == conf_) {
    // The same configuration by another entry (of another term): a removal
    // notice may judge that one otherwise.
    refresh_role();
    return;
  }
  RAFT_ASSERT(role_ != Role::Leader, "a leader's configuration changes only by its own entries");
  conf_ = newest;
  emit({EventKind::ConfigChanged, term_, role_, node, false, describe_conf(conf_)});
  refresh_role();
}

// ---- a removed node that missed its removal -------------------------------------------

// A node removed while cut off (partitioned, paused), after which a further
// change committed, is in no configuration a leader replicates to: no
// append will ever tell it that its removal committed, and its log keeps
// the old configuration that makes it a member. Whoever it talks to and
// knows a committed configuration without it says so (RemovedNotice: its
// commit index C and the configuration committed at C, the newest at or
// below C); a leader also tells every such rank now and then, for the
// removed nodes that never send anything.
//
// The receiver goes STANDBY when the notice's configuration leaves it out
// and supersedes every configuration of its log, that is when its newest
// one (index i, term t) lies at or below C, or has a term below T, the
// term of the entry at C. Safe because the committed log up to C is
// permanent and its newest configuration is the notice's: a configuration
// of ours at or below C is that one, an older one, or one a leader will
// cut off; and terms never go down along a log, so beyond C the committed
// log holds no entry of a term below T (the configurations of a deposed
// leader's suffix, found by the simulator). Once our log is repaired we
// are no member as of C. Otherwise (i above C, t at least T) ours may have
// added us back: the notice is stale and ignored, as is one from a commit
// index below that of a notice already taken. STANDBY only stops the
// election timer (the node still votes and follows a leader that
// replicates to it), and a node added again leaves it as a spare does: the
// re-adding entry reaches its log above C, in a term of at least T. The
// notice never touches its receiver's term or vote.

bool Node::conf_superseded(Index commit, Term commit_term) const {
  if (conf_.index <= commit) return true;
  // Unknown only if compacted: then it is committed, never superseded.
  const std::optional<Term> term = log_.term_at(conf_.index);
  return term && *term < commit_term;
}

bool Node::removed_by_notice() const {
  return notice_commit_ != 0 && conf_superseded(notice_commit_, notice_commit_term_);
}

void Node::maybe_send_removed_notice(const Message& m) {
  // Never answered in turn, so two nodes cannot bounce notices. No other
  // rate limit is needed: we answer one notice per message of the sender,
  // and a removed node sends on its own only on its timers (a PreVote or
  // Vote round per election timeout; heartbeats while it wrongly leads,
  // which the notice ends); anything else it sends answers us. Once told,
  // it is STANDBY and sends nothing unasked.
  if (m.type == MessageType::RemovedNotice || replicated_to(m.from)) return;
  const ConfState& committed = committed_conf_state();
  RAFT_ASSERT(!conf_has_member(committed, m.from), "replicated_to() covers the committed conf");
  if (committed.index == 0) return;  // the initial configuration removed no one
  Message notice = reply_to(m, MessageType::RemovedNotice);
  notice.commit = commit_;
  notice.commit_term = log_.term_at(commit_).value_or(0);
  notice.conf = committed;
  send(std::move(notice));
}

void Node::send_removed_notices() {
  // Some removed nodes never send anything to be answered: a learner never
  // campaigns, and a voter's PreVotes go to the voters of its old
  // configuration, who may all have been removed before it (STANDBY, and
  // unaware of its removal). So the leader tells every rank it replicates
  // to in no configuration, once per CheckQuorum period (a minimum
  // election timeout): one small message per such rank, none while the
  // initial configuration is the committed one. Spares get it too and,
  // STANDBY already, stay so until a leader adds them.
  const ConfState& committed = committed_conf_state();
  if (committed.index == 0) return;
  const std::size_t ranks = config_.node_count_or_voters();
  for (std::size_t rank = 0; rank < ranks; ++rank) {
    const auto id = static_cast<NodeId>(rank);
    if (id == config_.id || replicated_to(id)) continue;
    Message notice;
    notice.type = MessageType::RemovedNotice;
    notice.to = id;
    notice.term = term_;
    notice.commit = commit_;
    notice.commit_term = log_.term_at(commit_).value_or(0);
    notice.conf = committed;
    send(std::move(notice));
  }
}

void Node::handle_removed_notice(const Message& m) {
  const ConfState& conf = m.conf;
  // Messages are untrusted: the configuration must be one committed at or
  // below the commit index it comes with.
  if (!validate_conf_state(conf).empty() || conf.index > m.commit || m.commit == 0) return;
  // Stale: our log may hold a configuration after it (which may have added
  // us back), or an earlier notice came from further on.
  if (!conf_superseded(m.commit, m.commit_term) || m.commit <= notice_commit_) return;
  // Not a removal: it re-added us, and its leader will replicate to us.
  if (conf_has_member(conf, config_.id)) return;
  notice_conf_ = conf;
  notice_commit_ = m.commit;
  notice_commit_term_ = m.commit_term;
  const char* why = "a committed configuration leaves this node out (RemovedNotice)";
  if (role_ == Role::Leader) {
    // A leader lacking a committed entry is a stale one (a later term
    // committed it): it steps down, to STANDBY now.
    step_down(term_, kNoNode, why);
  } else {
    pre_voting_ = false;
    votes_.clear();
    set_role(Role::Standby, why);
  }
  RAFT_ASSERT(role_ == Role::Standby && follower_role() == Role::Standby,
              "a removal notice makes its receiver STANDBY");
}

// ---- the leader's rules for a change --------------------------------------------

std::string Node::change_blocked() const {
  if (transfer_target_ != kNoNode) return "a leadership transfer is in progress";
#if !RAFT_INJECT_BUG_SKIP_NEW_TERM_ENTRY
  // Ongaro's 2015 fix: until the leader has committed an entry of its own
  // term, a configuration entry left by an earlier leader on other servers
  // may still win; changing on top of it could make two configurations
  // whose majorities do not overlap.
  if (!committed_in_current_term()) {
    return "this leader has not yet committed an entry of its term (its no-op): retry shortly";
  }
#endif
#if !RAFT_INJECT_BUG_TWO_CHANGES_AT_ONCE
  if (conf_.index > commit_) {
    return "the configuration change at index " + std::to_string(conf_.index) +
           " is not committed yet: one change at a time";
  }
#endif
  return {};
}

bool Node::heard_recently(NodeId peer) const {
  const auto it = progress_.find(peer);
  if (it == progress_.end() || !it->second.last_heard_ms) return false;
  return now_ms_ - *it->second.last_heard_ms <= config_.election_timeout_min_ms;
}

bool Node::reachable(NodeId peer) const {
  if (heard_recently(peer)) return true;
  // Not heard from yet, but only just tracked (a new leader's followers):
  // given one election timeout, as CheckQuorum gives them.
  const auto it = progress_.find(peer);
  return it != progress_.end() && !it->second.last_heard_ms &&
         now_ms_ - it->second.tracked_since_ms <= config_.election_timeout_min_ms;
}

std::string Node::check_catch_up(NodeId learner) const {
  const auto it = progress_.find(learner);
  const Index match = it == progress_.end() ? 0 : it->second.match;
  const Index last = log_.last_index();
  const std::string who = "learner " + std::to_string(learner) + " has not caught up: ";
  if (!heard_recently(learner)) return who + "not heard from within the election timeout";
  if (match + config_.promote_lag_entries_max >= last) return {};
  return who + "it holds the log up to index " + std::to_string(match) + " of " +
         std::to_string(last) + " (promotion needs it within " +
         std::to_string(config_.promote_lag_entries_max) + " entries)";
}

std::string Node::check_quorum_after(const ConfState& next, const ConfChange& change) const {
  if (next.voters.empty()) {
    return "removing node " + std::to_string(change.node) + " would leave no voter";
  }
  if (next.voters == conf_.voters) return {};
  std::size_t up = 0;
  for (NodeId v : next.voters) {
    if (v == config_.id || reachable(v)) ++up;
  }
  if (up >= conf_quorum(next)) return {};
  return "after " + std::string(conf_change_type_name(change.type)) + " " +
         std::to_string(change.node) + " only " + std::to_string(up) + " of the voters " + "{" +
         join_ids(next.voters) + "} would be reachable: no quorum";
}

Result Node::change_membership(ConfChange change) {
  if (role_ != Role::Leader) return not_leader();
  const std::size_t nodes = config_.node_count_or_voters();
  if (change.node < 0 || static_cast<std::size_t>(change.node) >= nodes) {
    return {Status::InvalidArgument,
            "node " + std::to_string(change.node) + " is not a rank of this cluster (0.." +
                std::to_string(nodes - 1) + ")",
            0, term_, leader_};
  }
  if (std::string why = change_blocked(); !why.empty()) return refused(std::move(why));
  ConfState next = conf_;
  if (std::string why = apply_conf_change(next, change); !why.empty()) {
    return refused(std::move(why));
  }
  if (change.type == ConfChangeType::Promote) {
    if (std::string why = check_catch_up(change.node); !why.empty()) return refused(std::move(why));
  }
  if (std::string why = check_quorum_after(next, change); !why.empty()) {
    return refused(std::move(why));
  }
  const Index index = log_.last_index() + 1;
  append_conf_change(change, next);
  after_input();
  return {Status::Ok, {}, index, term_, leader_};
}

void Node::append_conf_change(const ConfChange& change, const ConfState& next) {
  ConfState conf = next;
  conf.index = log_.last_index() + 1;
  append_local(EntryType::Config, encode_conf_entry(change, conf));
  // In effect from now on, committed or not (dissertation §4.1).
  conf_ = std::move(conf);
  emit({EventKind::ConfigChanged, term_, role_, change.node, false, describe_conf(conf_)});
  sync_progress();
  maybe_commit();
  broadcast_append();
}

// ---- the leader's bookkeeping ------------------------------------------------------

const ConfState& Node::replaced_conf_state() const {
  const ConfState& committed = committed_conf_state();
  return committed.index > 0 ? conf_at(committed.index - 1) : committed;
}

bool Node::replicated_to(NodeId id) const {
  // The configuration the committed one replaced counts too: a node it
  // removed learns that its removal committed only from an append sent
  // after the commit. Dropped at once, one whose answer came after the
  // others' never would (it stays a FOLLOWER outside the cluster); so it
  // keeps hearing from the leader until the next change commits.
  return conf_has_member(conf_, id) || conf_has_member(committed_conf_state(), id) ||
         conf_has_member(replaced_conf_state(), id);
}

void Node::sync_progress() {
  RAFT_ASSERT(role_ == Role::Leader, "only a leader tracks followers");
  const ConfState& committed = committed_conf_state();
  const ConfState& replaced = replaced_conf_state();
  const auto wanted = [&](NodeId id) { return id != config_.id && replicated_to(id); };
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = wanted(it->first) ? std::next(it) : progress_.erase(it);
  }
  for (const ConfState* c : {static_cast<const ConfState*>(&conf_), &committed, &replaced}) {
    for (const std::vector<NodeId>* ids : {&c->voters, &c->learners}) {
      for (NodeId id : *ids) {
        if (id == config_.id || progress_.contains(id)) continue;
        Progress p;
        p.next = log_.last_index() + 1;
        p.recent_active = true;  // one CheckQuorum period to answer
        p.tracked_since_ms = now_ms_;
        progress_.emplace(id, p);
      }
    }
  }
}

void Node::after_input() {
  // Only a commit can make a configuration committed: a removal final (the
  // node STANDBY, a removed leader gone), a removed member forgotten.
  if (commit_ != commit_seen_) {
    commit_seen_ = commit_;
    report_committed_conf();
    if (role_ != Role::Leader) {
      refresh_role();
    } else if (!is_member(config_.id) && conf_.index <= commit_) {
      step_down_removed_leader();
      return;
    } else {
      sync_progress();
    }
  }
  if (role_ == Role::Leader && !conf_.promoting.empty()) maybe_promote_learners();
}

void Node::report_committed_conf() {
  const ConfState& committed = committed_conf_state();
  if (committed.index <= reported_conf_index_) return;
  reported_conf_index_ = committed.index;
  NodeId node = kNoNode;
  if (committed.index >= log_.first_index() && committed.index <= log_.last_index()) {
    const Entry& e = log_.at(committed.index);
    if (auto decoded = decode_conf_entry(e.data, e.index)) node = decoded->change.node;
  }
  emit({EventKind::ConfigCommitted, term_, role_, node, false, describe_conf(committed)});
}

void Node::step_down_removed_leader() {
  // Hand over to the most up-to-date voter, so the cluster does not wait an
  // election timeout for its next leader (as a leadership transfer does).
  NodeId best = kNoNode;
  Index best_match = 0;
  for (NodeId v : conf_.voters) {
    const auto it = progress_.find(v);
    if (it != progress_.end() && (best == kNoNode || it->second.match > best_match)) {
      best = v;
      best_match = it->second.match;
    }
  }
  if (best != kNoNode) {
    Message m;
    m.type = MessageType::TimeoutNow;
    m.to = best;
    m.term = term_;
    send(std::move(m));
  }
  step_down(term_, kNoNode, "removed from the configuration, and the removal committed");
}

void Node::maybe_promote_learners() {
  if (!change_blocked().empty()) return;
  const std::vector<NodeId> promoting = conf_.promoting;
  for (NodeId id : promoting) {
    const ConfChange change{ConfChangeType::Promote, id};
    ConfState next = conf_;
    if (!check_catch_up(id).empty() || !apply_conf_change(next, change).empty() ||
        !check_quorum_after(next, change).empty()) {
      continue;
    }
    append_conf_change(change, next);
    return;  // one change at a time
  }
}

}  // namespace raft
