// InstallSnapshot (Raft §7): a follower whose next entry was compacted away
// receives the leader's snapshot in bounded chunks, one in flight at a time,
// resuming from the offset it reports.
#include <algorithm>
#include <memory>

#include "raft/assert.hpp"
#include "raft/node.hpp"

namespace raft {

void Node::send_snapshot_chunk(NodeId peer) {
  Progress& p = progress_.at(peer);
  RAFT_ASSERT(p.state == Progress::State::Snapshot, "chunks go only to a follower in Snapshot");
  if (!p.snapshot_sending.same_point(log_.snapshot())) {
    // We compacted again meanwhile: stream the newer snapshot from the start.
    p.become_snapshot(log_.snapshot());
  }
  const std::string empty;
  const std::string& data = snapshot_data_ ? *snapshot_data_ : empty;
  const std::size_t offset = std::min<std::size_t>(p.snapshot_offset, data.size());
  const std::size_t length = std::min(config_.snapshot_chunk_bytes, data.size() - offset);
  Message m;
  m.type = MessageType::InstallSnapshot;
  m.to = peer;
  m.term = term_;
  m.snapshot = p.snapshot_sending;
  m.offset = offset;
  m.chunk = data.substr(offset, length);
  m.done = offset + length == data.size();
  send(std::move(m));
}

void Node::handle_install_snapshot(const Message& m) {
  RAFT_ASSERT(m.term == term_, "step() hands on only messages of our term");
  // Messages are untrusted: a snapshot must say which configuration it holds.
  if (!validate_conf_state(m.snapshot.conf).empty() ||
      m.snapshot.conf.index > m.snapshot.last_index) {
    return;
  }
  if (!heard_from_leader(m.from)) return;
  Message reply = reply_to(m, MessageType::InstallSnapshotResponse);
  // The position only: the configuration stays out of answers (codec.hpp).
  reply.snapshot = SnapshotMeta{m.snapshot.last_index, m.snapshot.last_term};

  if (m.snapshot.last_index <= commit_) {
    // We already hold everything it covers.
    incoming_snapshot_ = {};
    incoming_snapshot_bytes_.clear();
    reply.success = true;
    reply.done = true;
    reply.match_index = commit_;
    send(std::move(reply));
    return;
  }
  if (!(incoming_snapshot_ == m.snapshot)) {
    incoming_snapshot_ = m.snapshot;
    incoming_snapshot_bytes_.clear();
  }
  if (m.offset != incoming_snapshot_bytes_.size()) {
    reply.offset = incoming_snapshot_bytes_.size();  // resend from here
    send(std::move(reply));
    return;
  }
  incoming_snapshot_bytes_ += m.chunk;
  reply.offset = incoming_snapshot_bytes_.size();
  if (!m.done) {
    reply.success = true;
    send(std::move(reply));
    return;
  }

  const SnapshotMeta meta = m.snapshot;
  const bool log_kept = log_.matches(meta.last_index, meta.last_term);
  log_.compact_to(meta);  // keeps later entries only if they continue the snapshot
  forget_conf_entries_through(meta.last_index);
  if (!log_kept) forget_conf_entries_from(meta.last_index + 1);
  snapshot_data_ = std::make_shared<const std::string>(std::move(incoming_snapshot_bytes_));
  incoming_snapshot_ = {};
  incoming_snapshot_bytes_.clear();
  commit_ = std::max(commit_, meta.last_index);
  applied_ = meta.last_index;
  unstable_from_ = std::max(unstable_from_, meta.last_index + 1);
  unstable_from_ = std::min(unstable_from_, log_.last_index() + 1);
  snapshot_to_persist_ = Snapshot{meta, snapshot_data_};
  RAFT_ASSERT(applied_ <= commit_, "a snapshot holds only committed entries");
  refresh_conf(kNoNode);
  emit({EventKind::SnapshotInstalled, term_, role_, m.from, false,
        "installed a snapshot up to index " + std::to_string(meta.last_index)});

  reply.success = true;
  reply.done = true;
  reply.match_index = meta.last_index;
  send(std::move(reply));
}

void Node::handle_install_snapshot_response(const Message& m) {
  Progress* follower = follower_heard(m.from);
  if (!follower) return;
  Progress& p = *follower;
  if (m.done && m.success) {
    if (m.match_index <= log_.last_index()) p.maybe_update(m.match_index);
    if (p.state == Progress::State::Snapshot) {
      p.become_probe();
      maybe_commit();
      if (role_ == Role::Leader) send_append(m.from, /*allow_empty=*/true);
    }
    return;
  }
  if (p.state != Progress::State::Snapshot || !m.snapshot.same_point(p.snapshot_sending)) return;
  p.snapshot_offset = m.offset;
  send_snapshot_chunk(m.from);
}

}  // namespace raft
