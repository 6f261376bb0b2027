#include "scenario_support.hpp"

#include <algorithm>

namespace raft::sim {

ClusterOptions scenario_options(std::size_t node_count, std::uint64_t seed) {
  ClusterOptions o = ClusterOptions::fast(node_count, seed);
  o.network.delay_min_ms = 1;
  o.network.delay_max_ms = 5;
  return o;
}

std::string failure_report(const SimCluster& cluster) {
  std::string out;
  for (const Violation& v : cluster.checker().violations()) {
    out += "violation at t=" + std::to_string(v.at_ms) + "ms: " + v.invariant + ": " + v.details +
           "\n";
  }
  out += "nodes: " + cluster.describe_nodes() + "\ntrace:\n";
  for (const std::string& line : cluster.trace().lines()) {
    out += "  " + line + "\n";
  }
  return out;
}

NodeId group_leader(const SimCluster& cluster, const std::vector<NodeId>& group) {
  for (NodeId candidate : group) {
    if (!cluster.is_running(candidate) || cluster.node(candidate).role() != Role::Leader) continue;
    const Term term = cluster.node(candidate).term();
    const bool followed = std::all_of(group.begin(), group.end(), [&](NodeId id) {
      return !cluster.is_running(id) ||
             (cluster.node(id).term() == term && cluster.node(id).leader() == candidate);
    });
    if (followed) return candidate;
  }
  return kNoNode;
}

bool group_applied(const SimCluster& cluster, const std::vector<NodeId>& group, Index index) {
  return std::all_of(group.begin(), group.end(),
                     [&](NodeId id) { return cluster.kv(id).applied_index() >= index; });
}

std::vector<NodeId> all_nodes(const SimCluster& cluster) { return all_but(cluster, {}); }

std::vector<NodeId> all_but(const SimCluster& cluster, const std::vector<NodeId>& excluded) {
  std::vector<NodeId> out;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const NodeId id = static_cast<NodeId>(i);
    if (std::find(excluded.begin(), excluded.end(), id) == excluded.end()) out.push_back(id);
  }
  return out;
}

Index write_and_wait(SimCluster& cluster, NodeId leader, const std::string& key,
                     const std::string& value, const std::vector<NodeId>& group, TimeMs limit_ms) {
  const Result r = cluster.write(leader, key, value);
  if (!r.ok()) return 0;
  const bool done =
      cluster.run_until([&] { return group_applied(cluster, group, r.index); }, limit_ms);
  return done ? r.index : 0;
}

}  // namespace raft::sim
