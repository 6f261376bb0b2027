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
  /// The initial voters: the configuration a node starts with when its
  /// storage holds none (membership.hpp). A node outside them starts STANDBY.
  std::vector<NodeId> voters;
  /// Every node id of the cluster lies in [0, node_count) (the ranks of the
  /// MPI job); a membership change naming another id is refused. 0: the
  /// voters are all there is (node_count = largest voter + 1).
  std::size_t node_count = 0;

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
  /// Catch-up before promotion: a learner becomes a voter (promote, or by
  /// itself after add_node) only once the leader has heard from it within
  /// the minimum election timeout and its log matches the leader's to within
  /// this many entries of the leader's last index.
  std::size_t promote_lag_entries_max = 64;

  /// Seeds the node's own random source (election timeouts).
  std::uint64_t seed = 1;

  /// Empty if the configuration is usable, else one sentence saying why not.
  std::string validate() const;
  /// node_count, or largest voter + 1 when it is 0.
  std::size_t node_count_or_voters() const;
};

}  // namespace raft
