#pragma once
/// Static configuration of one Raft node. Units are last in every name.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "raft/types.hpp"

namespace raft {

struct Config {
  NodeId id = 0;
  /// Every voting member, this node included (the ranks of the MPI job).
  std::vector<NodeId> voters;

  /// Each election timer is drawn uniformly from [min, max] at every reset.
  TimeMs election_timeout_min_ms = 2000;
  TimeMs election_timeout_max_ms = 4000;
  TimeMs heartbeat_interval_ms = 750;
  /// How long a fresh node stays INITIAL before it becomes FOLLOWER by
  /// itself; 0 starts it as FOLLOWER.
  TimeMs initial_delay_ms = 0;

  /// A candidate first asks whether it could win without raising its term, so
  /// a node that was cut off cannot depose a healthy leader when it returns.
  bool pre_vote = true;
  /// A leader that has not heard from a majority for an election timeout
  /// steps down; voters that still hear from a leader refuse to vote.
  bool check_quorum = true;

  /// Flow control per follower: entries and bytes in one AppendEntries, and
  /// AppendEntries with entries that may be unacknowledged at once.
  std::size_t append_entries_max = 1024;
  std::size_t append_bytes_max = 1 << 20;
  std::size_t inflight_appends_max = 8;
  /// Size of one InstallSnapshot chunk.
  std::size_t snapshot_chunk_bytes = 64 * 1024;
  /// Upper bound on entries handed out in one Ready for applying.
  std::size_t committed_per_ready_max = 4096;

  /// Seeds the node's own random source (election timeouts).
  std::uint64_t seed = 1;

  /// Empty if the configuration is usable, else one sentence saying why not.
  std::string validate() const;
};

}  // namespace raft
