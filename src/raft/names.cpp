// Human- and JSON-facing names of the core's enums.
#include "raft/message.hpp"
#include "raft/progress.hpp"
#include "raft/types.hpp"

namespace raft {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::Initial: return "INITIAL";
    case Role::Follower: return "FOLLOWER";
    case Role::Candidate: return "CANDIDATE";
    case Role::Leader: return "LEADER";
    case Role::Standby: return "STANDBY";
  }
  return "UNKNOWN";
}

std::string_view entry_type_name(EntryType type) {
  switch (type) {
    case EntryType::Noop: return "noop";
    case EntryType::Command: return "command";
    case EntryType::Config: return "config";
  }
  return "unknown";
}

std::string_view message_type_name(MessageType type) {
  switch (type) {
    case MessageType::VoteRequest: return "vote_request";
    case MessageType::VoteResponse: return "vote_response";
    case MessageType::AppendEntries: return "append_entries";
    case MessageType::AppendResponse: return "append_response";
    case MessageType::PreVoteRequest: return "pre_vote_request";
    case MessageType::PreVoteResponse: return "pre_vote_response";
    case MessageType::InstallSnapshot: return "install_snapshot";
    case MessageType::InstallSnapshotResponse: return "install_snapshot_response";
    case MessageType::TimeoutNow: return "timeout_now";
    case MessageType::RemovedNotice: return "removed_notice";
  }
  return "unknown";
}

std::string_view progress_state_name(Progress::State state) {
  switch (state) {
    case Progress::State::Probe: return "probe";
    case Progress::State::Replicate: return "replicate";
    case Progress::State::Snapshot: return "snapshot";
  }
  return "unknown";
}

}  // namespace raft
