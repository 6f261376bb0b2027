#pragma once
/// The benchmarks' cluster: launcher::Cluster on this machine (free loopback
/// ports, a temporary folder) with the timing and fsync mode a benchmark
/// measures (launcher::LocalClusterSpec). Owned by the benchmark's main
/// thread.

#include <chrono>
#include <functional>
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
/// The same, with `adjust` changing the options first (a monitor, the
/// nodes' environment).
std::unique_ptr<launcher::Cluster> start_cluster(
    const launcher::LocalClusterSpec& spec,
    const std::function<void(launcher::ClusterOptions&)>& adjust);

/// The leader every node agrees on, waiting up to `limit_ms`; -1 if none.
int wait_leader(const launcher::Cluster& cluster,
                std::chrono::milliseconds limit_ms = std::chrono::seconds(30));

/// Quiet and agreed: every node answers, none paused, one leader every node
/// names, one term everywhere, and every commit index equal to the leader's
/// (so the last heartbeat has carried it). Sets the leader and its term.
/// Reads /status only, which the nodes' HTTP threads answer from the last
/// published status: asking does not wake a node's loop.
bool stable(const launcher::Cluster& cluster, int* leader, long* term);

/// Waits up to `limit_ms` for stable(); throws std::runtime_error naming
/// `when` if the cluster does not get there.
void wait_stable(const launcher::Cluster& cluster, int* leader, long* term, const std::string& when,
                 std::chrono::milliseconds limit_ms = std::chrono::seconds(120));

}  // namespace raft::bench
