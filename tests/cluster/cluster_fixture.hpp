#pragma once
// The cluster tests' view of launcher::Cluster: a real cluster with the
// tests' short timeouts, started in the constructor (throwing if it cannot
// start), and small HTTP helpers. Every wait is for a condition with a
// generous deadline.

#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "launcher/child_process.hpp"
#include "launcher/cluster.hpp"
#include "launcher/http_call.hpp"
#include "launcher/poll.hpp"

namespace raft::cluster_test {

using Json = nlohmann::json;
namespace fs = std::filesystem;
using launcher::free_port_range;
using launcher::HttpReply;

inline constexpr auto kDeadline = std::chrono::seconds(30);

/// Polls `condition` every 20 ms until it holds or `limit` passes.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = kDeadline) {
  return launcher::poll_until(condition, limit);
}

/// The folder holding the built binaries (set by CMake).
inline fs::path bin_dir() { return fs::path(RAFT_BIN_DIR); }

inline HttpReply http(int port, const std::string& method, const std::string& path,
                      const std::string& body = {}, const std::string& type = "application/json",
                      const std::string& token = {}) {
  launcher::HttpRequest request;
  request.method = method;
  request.path = path;
  request.body = body;
  request.content_type = type;
  request.bearer_token = token;
  return launcher::http_call("127.0.0.1", port, request);
}

/// discovery_server and the MPI job as launch_cluster starts them (same
/// mpirun settings), with the tests' timeouts; leaders as ranks, -1 for none.
class Cluster : public launcher::Cluster {
 public:
  using Options = launcher::LocalClusterSpec;

  explicit Cluster(const Options& o)
      : launcher::Cluster(launcher::local_cluster_options(o, bin_dir(), MPIEXEC_PATH)) {
    std::string error;
    if (!start(&error)) throw std::runtime_error("the cluster did not start: " + error);
  }

  /// Starts discovery again on its port; throws if it does not come up.
  void start_discovery() {
    std::string error;
    if (!launcher::Cluster::start_discovery(&error)) throw std::runtime_error(error);
  }
  launcher::ChildProcess& mpirun() { return job(); }
  int agreed_leader() const {
    const auto leader = launcher::Cluster::agreed_leader();
    return leader ? leader->rank : -1;
  }
  int wait_leader() const {
    const auto leader = launcher::Cluster::wait_leader(kDeadline);
    return leader ? leader->rank : -1;
  }
};

}  // namespace raft::cluster_test
