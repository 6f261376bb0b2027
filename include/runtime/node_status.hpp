#pragma once
/// NodeStatus: an immutable picture of one node, published by the node's loop
/// after every pass that changed something (and at least every 100 ms), and
/// read by HTTP threads without touching raft::Node. Plain values only.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raft/types.hpp"

namespace raft::runtime {

struct PeerStatus {
  NodeId id = kNoNode;
  Index match_index = 0;
  Index next_index = 0;
  std::string progress_state;  ///< "probe", "replicate", "snapshot"
  bool partitioned = false;    ///< we drop traffic to and from it
  bool dropping_from = false;  ///< we drop what it sends us (drop_from)
  bool dropping_to = false;    ///< we drop what we send it (drop_to)
};

struct NodeStatus {
  NodeId rank = 0;
  int cluster_size = 0;
  Role role = Role::Initial;  ///< last role before a pause or crash
  Term term = 0;
  NodeId leader_id = kNoNode;
  NodeId voted_for = kNoNode;
  Index log_length = 0;  ///< last log index
  Index first_index = 1;
  Index snapshot_index = 0;
  Index commit_index = 0;
  Index last_applied = 0;
  bool paused = false;
  bool crashed = false;
  bool pre_voting = false;
  NodeId transfer_target = kNoNode;
  std::vector<NodeId> partitioned;    ///< ranks whose traffic we drop
  std::vector<NodeId> dropping_from;  ///< ranks whose messages to us we drop
  std::vector<NodeId> dropping_to;    ///< ranks our messages to which we drop
  std::vector<PeerStatus> peers;      ///< filled on the leader
  /// The configuration in effect (raft::Node::conf_state()): members that
  /// vote, members that only receive the log, and its log index.
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  Index config_index = 0;

  /// Rank -> ms each message to it is held (the `delay` fault).
  std::map<NodeId, std::uint32_t> delaying;

  // Timers, all in ms of the node's Raft clock (which stands still while paused).
  std::uint64_t election_timeout_ms = 0;      ///< current randomised timeout
  std::uint64_t election_elapsed_ms = 0;      ///< since the timer last reset
  std::uint64_t since_leader_contact_ms = 0;  ///< since we last heard from a leader
  bool heard_from_leader = false;
  std::uint64_t heartbeat_interval_ms = 0;
  std::uint64_t election_timeout_min_ms = 0;
  std::uint64_t election_timeout_max_ms = 0;
  std::uint64_t initial_remaining_ms = 0;  ///< in INITIAL: until it becomes FOLLOWER

  std::size_t kv_keys = 0;
  std::string storage_error;          ///< non-empty once storage failed: writes refused
  std::uint64_t published_at_ms = 0;  ///< steady clock, for ageing the timers
  std::uint64_t uptime_ms = 0;
};

}  // namespace raft::runtime
