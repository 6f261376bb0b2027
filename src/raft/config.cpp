#include "raft/config.hpp"

#include <algorithm>
#include <string>

#include "raft/membership.hpp"

namespace raft {

std::size_t Config::node_count_or_voters() const {
  if (node_count != 0) return node_count;
  NodeId largest = -1;
  for (NodeId v : voters) largest = std::max(largest, v);
  return static_cast<std::size_t>(largest + 1);
}

std::string Config::validate() const {
  if (voters.empty()) return "the cluster needs at least one voter";
  const std::size_t nodes = node_count_or_voters();
  if (node_count == 0 && std::find(voters.begin(), voters.end(), id) == voters.end()) {
    return "node " + std::to_string(id) + " is not among the voters";
  }
  if (id < 0 || static_cast<std::size_t>(id) >= nodes) {
    return "node " + std::to_string(id) + " is not a rank of the " + std::to_string(nodes) +
           "-node cluster";
  }
  if (nodes > kConfNodesMax) {
    return "the cluster has at most " + std::to_string(kConfNodesMax) + " nodes";
  }
  for (std::size_t i = 0; i < voters.size(); ++i) {
    if (voters[i] < 0) return "voter ids must be ranks (>= 0)";
    if (static_cast<std::size_t>(voters[i]) >= nodes) {
      return "voter " + std::to_string(voters[i]) + " is not a rank of the " +
             std::to_string(nodes) + "-node cluster";
    }
    for (std::size_t j = i + 1; j < voters.size(); ++j) {
      if (voters[i] == voters[j]) return "voter " + std::to_string(voters[i]) + " is listed twice";
    }
  }
  if (election_timeout_min_ms == 0) return "min election timeout must be positive";
  if (election_timeout_min_ms > election_timeout_max_ms) {
    return "min election timeout must not exceed max election timeout";
  }
  if (heartbeat_interval_ms == 0) return "heartbeat interval must be positive";
  if (heartbeat_interval_ms >= election_timeout_min_ms) {
    return "heartbeat interval must be below the min election timeout";
  }
  if (append_entries_max == 0 || append_bytes_max == 0 || inflight_appends_max == 0 ||
      snapshot_chunk_bytes == 0 || committed_per_ready_max == 0) {
    return "flow-control limits must be positive";
  }
  if (append_entries_max > 65'536) {
    return "max entries per append must be at most 65536 (the wire format's cap)";
  }
  return {};
}

}  // namespace raft
