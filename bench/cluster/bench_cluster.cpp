#include "bench_cluster.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace raft::bench {

std::unique_ptr<launcher::Cluster> start_cluster(const launcher::LocalClusterSpec& spec) {
  return start_cluster(spec, [](launcher::ClusterOptions&) {});
}

std::unique_ptr<launcher::Cluster> start_cluster(
    const launcher::LocalClusterSpec& spec,
    const std::function<void(launcher::ClusterOptions&)>& adjust) {
  // RAFT_BENCH_BIN_DIR runs the same benchmark against another build's
  // raft_node, discovery_server and web_monitor: before and after a change,
  // side by side.
  const char* other = std::getenv("RAFT_BENCH_BIN_DIR");
  const std::string bin_dir = other != nullptr && *other != '\0' ? other : RAFT_BIN_DIR;
  launcher::ClusterOptions c = launcher::local_cluster_options(spec, bin_dir, MPIEXEC_PATH);
  adjust(c);
  auto cluster = std::make_unique<launcher::Cluster>(std::move(c));
  std::string error;
  if (!cluster->start(&error)) throw std::runtime_error("the cluster did not start: " + error);
  return cluster;
}

int wait_leader(const launcher::Cluster& cluster, std::chrono::milliseconds limit_ms) {
  const auto leader = cluster.wait_leader(limit_ms);
  return leader ? leader->rank : -1;
}

bool stable(const launcher::Cluster& c, int* leader, long* term) {
  std::vector<Json> s;
  for (int i = 0; i < c.size(); ++i) {
    auto st = c.status(i);
    if (!st || (*st)["paused"].get<bool>() || !(*st)["leader_id"].is_string()) return false;
    s.push_back(*st);
  }
  const int l = std::stoi(s[0]["leader_id"].get<std::string>());
  if (l < 0 || l >= c.size() || s[static_cast<std::size_t>(l)]["state"] != "LEADER") return false;
  for (const Json& st : s) {
    if (std::stoi(st["leader_id"].get<std::string>()) != l || st["term"] != s[0]["term"] ||
        st["commit_index"] != s[static_cast<std::size_t>(l)]["commit_index"]) {
      return false;
    }
  }
  *leader = l;
  *term = s[0]["term"].get<long>();
  return true;
}

void wait_stable(const launcher::Cluster& c, int* leader, long* term, const std::string& when,
                 std::chrono::milliseconds limit_ms) {
  if (!poll_until([&] { return stable(c, leader, term); }, limit_ms)) {
    throw std::runtime_error("the cluster did not become stable " + when);
  }
}

}  // namespace raft::bench
