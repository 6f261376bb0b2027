// The event ring and the JSON of one event (see raft_events.hpp).
#include "runtime/raft_events.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "raft/assert.hpp"
#include "util/node_id_json.hpp"

namespace raft::runtime {

std::uint64_t wall_us() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string_view event_kind_name(RaftEventKind kind) {
  switch (kind) {
    case RaftEventKind::Send: return "send";
    case RaftEventKind::Drop: return "drop";
    case RaftEventKind::State: return "state";
    case RaftEventKind::Commit: return "commit";
    case RaftEventKind::Snapshot: return "snapshot";
    case RaftEventKind::Command: return "command";
    case RaftEventKind::Sampled: return "sampled";
  }
  return "unknown";
}

std::string_view drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::Paused: return "paused";
    case DropReason::Crashed: return "crashed";
    case DropReason::Storage: return "storage";
    case DropReason::Partition: return "partition";
    case DropReason::Cut: return "cut";
    case DropReason::QueueFull: return "queue_full";
  }
  return "unknown";
}

std::string_view event_message_name(MessageType type) {
  switch (type) {
    case MessageType::VoteRequest: return "vote";
    case MessageType::VoteResponse: return "vote_resp";
    case MessageType::AppendEntries: return "append";
    case MessageType::AppendResponse: return "append_resp";
    case MessageType::PreVoteRequest: return "prevote";
    case MessageType::PreVoteResponse: return "prevote_resp";
    case MessageType::InstallSnapshot: return "snap";
    case MessageType::InstallSnapshotResponse: return "snap_resp";
    case MessageType::TimeoutNow: return "timeout_now";
    case MessageType::RemovedNotice: return "removed";
  }
  return "unknown";
}

namespace {

/// The fields a message event carries, by type.
void message_fields(const RaftEvent& e, nlohmann::json& out) {
  out["type"] = std::string(event_message_name(e.type));
  out["peer"] = util::node_id_json(e.peer);
  out["term"] = e.term;
  switch (e.type) {
    case MessageType::AppendEntries:
      out["index"] = e.index;
      out["count"] = e.count;
      out["commit"] = e.commit;
      break;
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest:
    case MessageType::AppendResponse:
    case MessageType::InstallSnapshot:
    case MessageType::InstallSnapshotResponse: out["index"] = e.index; break;
    case MessageType::RemovedNotice:
      out["index"] = e.index;
      out["commit"] = e.commit;
      break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse:
    case MessageType::TimeoutNow: break;
  }
  const bool answer =
      e.type == MessageType::VoteResponse || e.type == MessageType::PreVoteResponse ||
      e.type == MessageType::AppendResponse || e.type == MessageType::InstallSnapshotResponse;
  if (answer) out["ok"] = e.ok;
  if (e.heartbeat) out["hb"] = true;
}

}  // namespace

nlohmann::json raft_event_json(const RaftEvent& e) {
  nlohmann::json out = nlohmann::json::object();
  out["seq"] = e.seq;
  out["t"] = e.t_us;
  out["k"] = std::string(event_kind_name(e.kind));
  switch (e.kind) {
    case RaftEventKind::Send:
      message_fields(e, out);
      if (e.hold_ms > 0) out["hold_ms"] = e.hold_ms;
      break;
    case RaftEventKind::Drop:
      message_fields(e, out);
      out["dir"] = e.inbound ? "in" : "out";
      out["why"] = std::string(drop_reason_name(e.reason));
      break;
    case RaftEventKind::State:
      out["state"] = std::string(role_name(e.role));
      out["term"] = e.term;
      out["leader"] = util::node_id_json(e.leader);
      out["vote"] = util::node_id_json(e.vote);
      out["paused"] = e.paused;
      out["crashed"] = e.crashed;
      out["pre_vote"] = e.pre_vote;
      out["timeout_ms"] = e.timeout_ms;
      out["elapsed_ms"] = e.elapsed_ms;
      break;
    case RaftEventKind::Commit:
      out["index"] = e.index;
      out["term"] = e.term;
      break;
    case RaftEventKind::Snapshot:
      out["index"] = e.index;
      out["how"] = e.ok ? "installed" : "taken";
      break;
    case RaftEventKind::Command:
      out["text"] = e.text;
      out["ok"] = e.ok;
      break;
    case RaftEventKind::Sampled: {
      nlohmann::json counts = nlohmann::json::object();
      if (e.left_out[0] > 0) counts["hb"] = e.left_out[0];
      for (std::size_t type = kMessageTypeMin; type <= kMessageTypeMax; ++type) {
        if (e.left_out[type] == 0) continue;
        counts[std::string(event_message_name(static_cast<MessageType>(type)))] = e.left_out[type];
      }
      out["left_out"] = std::move(counts);
      out["window_ms"] = e.window_ms;
      break;
    }
  }
  return out;
}

RaftEventLog::RaftEventLog(std::size_t capacity) : ring_(std::max<std::size_t>(1, capacity)) {}

std::uint64_t RaftEventLog::append(RaftEvent event) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_seq_++;
  event.seq = seq;
  if (seq > ring_.size()) ++overwritten_;
  ring_[(seq - 1) % ring_.size()] = std::move(event);
  return seq;
}

RaftEventLog::Page RaftEventLog::read(std::uint64_t after, std::size_t limit) const {
  Page page;
  std::lock_guard lock(mutex_);
  const std::uint64_t last = next_seq_ - 1;
  if (last == 0) return page;
  const std::uint64_t kept = std::min<std::uint64_t>(last, ring_.size());
  const std::uint64_t first = last - kept + 1;
  page.first_seq = first;
  page.last_seq = last;
  page.overwritten = overwritten_;
  // A reader that was at `after` missed everything in (after, first).
  if (after + 1 < first) page.lost = first - after - 1;
  const std::uint64_t from = std::max(after + 1, first);
  for (std::uint64_t seq = from; seq <= last && page.events.size() < limit; ++seq) {
    page.events.push_back(ring_[(seq - 1) % ring_.size()]);
  }
  RAFT_ASSERT(page.events.empty() || page.events.front().seq == from,
              "the ring holds each kept event in its slot");
  return page;
}

}  // namespace raft::runtime
