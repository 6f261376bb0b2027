#include "bench_cluster.hpp"

#include <stdexcept>

namespace raft::bench {

std::unique_ptr<launcher::Cluster> start_cluster(const ClusterSpec& spec) {
  launcher::ClusterOptions c =
      launcher::local_cluster_options(spec.nodes, RAFT_BIN_DIR, MPIEXEC_PATH);
  c.node.min_election_timeout_ms = spec.min_election_timeout_ms;
  c.node.max_election_timeout_ms = spec.max_election_timeout_ms;
  c.node.heartbeat_interval_ms = spec.heartbeat_interval_ms;
  c.node.initial_delay_ms = spec.initial_delay_ms;
  c.node.fsync = spec.fsync;
  auto cluster = std::make_unique<launcher::Cluster>(std::move(c));
  std::string error;
  if (!cluster->start(&error)) throw std::runtime_error("the cluster did not start: " + error);
  return cluster;
}

int wait_leader(const launcher::Cluster& cluster, std::chrono::milliseconds limit_ms) {
  const auto leader = cluster.wait_leader(limit_ms);
  return leader ? leader->rank : -1;
}

}  // namespace raft::bench
