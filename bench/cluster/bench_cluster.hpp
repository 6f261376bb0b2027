#pragma once
/// The benchmarks' cluster: launcher::Cluster on this machine (free loopback
/// ports, a temporary folder) with the timing and fsync mode a benchmark
/// measures (launcher::LocalClusterSpec). Owned by the benchmark's main
/// thread.

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

/// Starts discovery and the MPI job (without waiting for the nodes). Throws
/// std::runtime_error if it cannot start.
std::unique_ptr<launcher::Cluster> start_cluster(const launcher::LocalClusterSpec& spec);

/// The leader every node agrees on, waiting up to `limit_ms`; -1 if none.
int wait_leader(const launcher::Cluster& cluster,
                std::chrono::milliseconds limit_ms = std::chrono::seconds(30));

}  // namespace raft::bench
