#include "bench_cluster.hpp"

#include <stdexcept>

namespace raft::bench {

std::unique_ptr<launcher::Cluster> start_cluster(const launcher::LocalClusterSpec& spec) {
  launcher::ClusterOptions c = launcher::local_cluster_options(spec, RAFT_BIN_DIR, MPIEXEC_PATH);
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
