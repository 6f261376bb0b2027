#pragma once
/// Helpers shared by the named scenario tests: a small reliable cluster, a
/// failure report with the trace, and group-level views of leadership and
/// progress (a partitioned cluster has no single "stable leader").

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim_cluster.hpp"

namespace raft::sim {

/// `node_count` nodes, election 150-300 ms, heartbeat 50 ms, PreVote and
/// CheckQuorum on, a reliable network with 1-5 ms delays, no snapshots.
ClusterOptions scenario_options(std::size_t node_count, std::uint64_t seed = 1);

/// The first violation, the nodes and the trace tail: for assertion messages.
std::string failure_report(const SimCluster& cluster);

/// A member of `group` that leads every running member of `group` in its
/// term, or kNoNode.
NodeId group_leader(const SimCluster& cluster, const std::vector<NodeId>& group);
/// Every member of `group` has applied at least `index`.
bool group_applied(const SimCluster& cluster, const std::vector<NodeId>& group, Index index);
/// Every node of the cluster, in order.
std::vector<NodeId> all_nodes(const SimCluster& cluster);
/// All nodes but `excluded`.
std::vector<NodeId> all_but(const SimCluster& cluster, const std::vector<NodeId>& excluded);

/// Proposes "key=value" on `leader` and runs until every node of `group` has
/// applied it; the index, or 0 if it was refused or did not get there in `limit_ms`.
Index write_and_wait(SimCluster& cluster, NodeId leader, const std::string& key,
                     const std::string& value, const std::vector<NodeId>& group,
                     TimeMs limit_ms = 2000);

}  // namespace raft::sim
