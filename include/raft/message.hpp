#pragma once
/// The messages Raft nodes exchange. One flat struct keeps the core, the codec
/// and the simulator simple; each type uses the fields listed beside it and
/// leaves the rest at their defaults (the codec encodes only those fields).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "raft/types.hpp"

namespace raft {

/// Numbered as the MPI tags of SPEC.md: 1-4 are the original's, the rest are
/// further tags.
enum class MessageType : std::uint8_t {
  VoteRequest = 1,      ///< term, last_log_index, last_log_term, force
  VoteResponse = 2,     ///< term, granted
  AppendEntries = 3,    ///< term, prev_log_*, entries, commit, read_ctx
  AppendResponse = 4,   ///< term, success, match_index | reject_*, read_ctx
  PreVoteRequest = 5,   ///< term (the one it would stand in), last_log_*
  PreVoteResponse = 6,  ///< term, granted
  InstallSnapshot = 7,  ///< term, snapshot, offset, chunk, done
  InstallSnapshotResponse =
      8,           ///< term, snapshot, offset (next wanted), success, done, match_index
  TimeoutNow = 9,  ///< term: leadership transfer, start a forced election now
  /// commit, commit_term, conf (term: the sender's, informative only): the
  /// sender's commit index, the term of its entry there and the
  /// configuration committed there, which leaves the receiver out; sent to
  /// a node in none of the configurations the sender replicates to
  /// (reconfig.cpp).
  RemovedNotice = 10,
};

inline constexpr std::uint8_t kMessageTypeMin = 1;
inline constexpr std::uint8_t kMessageTypeMax = 10;

/// "vote_request", "append_entries", ... (for logs and metrics labels).
std::string_view message_type_name(MessageType type);

struct Message {
  MessageType type = MessageType::AppendEntries;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;

  // VoteRequest / PreVoteRequest
  Index last_log_index = 0;
  Term last_log_term = 0;
  /// Set for elections an operator or a leadership transfer asked for: voters
  /// grant even while they still hear from a leader (no lease check).
  bool force = false;

  // VoteResponse / PreVoteResponse / InstallSnapshotResponse
  bool granted = false;

  // AppendEntries
  Index prev_log_index = 0;
  Term prev_log_term = 0;
  std::vector<Entry> entries;
  Index commit = 0;  ///< also RemovedNotice's
  /// ReadIndex context: the highest read sequence the leader wants confirmed;
  /// echoed in the AppendResponse.
  std::uint64_t read_ctx = 0;

  // AppendResponse
  bool success = false;
  /// On success: the highest index known to match the leader's log.
  Index match_index = 0;
  /// On rejection: the prev_log_index that was rejected, the term of the
  /// follower's entry there (0 if its log is shorter) and the first index the
  /// leader should try next (fast back-off).
  Index reject_index = 0;
  Term conflict_term = 0;
  Index hint_index = 0;

  // InstallSnapshot / InstallSnapshotResponse
  SnapshotMeta snapshot;
  std::uint64_t offset = 0;  ///< byte offset of `chunk`; in the response, next offset wanted
  std::string chunk;
  bool done = false;

  // RemovedNotice (and `commit`)
  Term commit_term = 0;
  ConfState conf;

  friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace raft
