#pragma once
/// The benchmarks' cluster: launcher::Cluster on this machine (free loopback
/// ports, a temporary folder) with the timeouts and fsync mode a benchmark
/// measures. Owned by the benchmark's main thread.

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "launcher/cluster.hpp"
#include "launcher/poll.hpp"
#include "launcher/process_tree.hpp"

namespace raft::bench {

using Json = nlohmann::json;
using launcher::children_of;
using launcher::HttpReply;
using launcher::poll_until;

struct ClusterSpec {
  int nodes = 3;
  int min_election_timeout_ms = 2000;
  int max_election_timeout_ms = 4000;
  int heartbeat_interval_ms = 750;
  int initial_delay_ms = 200;
  std::string fsync = "always";
};

/// Starts discovery and the MPI job (without waiting for the nodes). Throws
/// std::runtime_error if it cannot start.
std::unique_ptr<launcher::Cluster> start_cluster(const ClusterSpec& spec);

/// The leader every node agrees on, waiting up to `limit_ms`; -1 if none.
int wait_leader(const launcher::Cluster& cluster,
                std::chrono::milliseconds limit_ms = std::chrono::seconds(30));

}  // namespace raft::bench
