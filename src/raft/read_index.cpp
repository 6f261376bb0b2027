// Linearizable reads by ReadIndex (Raft thesis §6.4): remember the commit
// index, prove we are still the leader with a round of heartbeats acknowledged
// by a majority, then the read may be served once that index is applied.
#include <algorithm>

#include "raft/assert.hpp"
#include "raft/node.hpp"

namespace raft {

Result Node::read_index(std::uint64_t request_id) {
  if (role_ != Role::Leader) return not_leader();
  if (!committed_in_current_term()) {
    // Until our no-op commits we do not know the latest commit index (§8).
    reads_awaiting_commit_.push_back(request_id);
  } else {
    start_confirmed_read(request_id);
  }
  return {Status::Ok, {}, commit_, term_, leader_};
}

void Node::start_confirmed_read(std::uint64_t request_id) {
  RAFT_ASSERT(role_ == Role::Leader && committed_in_current_term(),
              "a read index is known only to a leader that committed in its term");
  if (quorum() == 1 && is_voter(config_.id)) {  // we are the only voter
    reads_out_.push_back({request_id, commit_, true});
    return;
  }
  // Every message sent from now on carries the new context; a majority
  // echoing it proves nobody had deposed us when the read arrived.
  ++read_ctx_;
  pending_reads_.push_back({request_id, commit_, read_ctx_});
  read_broadcast_due_ = true;
}

void Node::on_commit_in_current_term() {
  std::vector<std::uint64_t> waiting;
  waiting.swap(reads_awaiting_commit_);
  for (std::uint64_t id : waiting) start_confirmed_read(id);
}

void Node::confirm_reads() {
  std::size_t confirmed = 0;
  for (const PendingRead& read : pending_reads_) {
    // Voters only: a learner's echo proves nothing about leadership.
    std::size_t acks = is_voter(config_.id) ? 1 : 0;
    for (const auto& [peer, p] : progress_) {
      if (p.acked_read_ctx >= read.ctx && is_voter(peer)) ++acks;
    }
    // Contexts grow along the queue: if this one is not confirmed, no later one is.
    if (acks < quorum()) break;
    reads_out_.push_back({read.request_id, read.index, true});
    ++confirmed;
  }
  pending_reads_.erase(pending_reads_.begin(),
                       pending_reads_.begin() + static_cast<std::ptrdiff_t>(confirmed));
}

void Node::fail_pending_reads() {
  for (const PendingRead& read : pending_reads_) reads_out_.push_back({read.request_id, 0, false});
  for (std::uint64_t id : reads_awaiting_commit_) reads_out_.push_back({id, 0, false});
  pending_reads_.clear();
  reads_awaiting_commit_.clear();
}

}  // namespace raft
