#pragma once
/// A throwaway etcd cluster on loopback, to measure beside ours with the same
/// load: `members` etcd processes with distinct client and peer ports from
/// launcher::free_port_range, data in a fresh temporary folder (the same
/// file system as our nodes' data), fsync on (etcd's default; there is no
/// flag here to turn it off), etcd's own default timing (heartbeat 100 ms,
/// election 1000 ms). Owned by the benchmark's main thread; the destructor
/// stops every member by PID (SIGTERM, SIGKILL after 5 s) and removes the
/// folder, also when start-up fails half way.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "launcher/child_process.hpp"

namespace raft::bench {

/// The full path of `program` found on $PATH, if any.
std::optional<std::string> find_on_path(const std::string& program);

class EtcdCluster {
 public:
  /// Starts the members and waits until each answers /health and one leads.
  /// Throws std::runtime_error (one sentence, with the end of a failing
  /// member's log) if that does not happen within 60 s.
  EtcdCluster(const std::string& etcd_path, int members);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  int client_port(int member) const { return client_base_port_ + member; }
  /// The server's version, e.g. "3.4.23" (from GET /version).
  const std::string& version() const { return version_; }
  /// The JSON gateway's prefix: "/v3" from etcd 3.4 on, "/v3beta" before.
  const std::string& api_prefix() const { return api_prefix_; }
  /// The member every member's /maintenance/status names as leader; -1 if
  /// they do not agree or one does not answer.
  int leader() const;

 private:
  /// Removes the folder last, after the members (declared first: destroyed last).
  struct TempDir {
    std::filesystem::path path;
    ~TempDir();
  };

  void start_member(const std::string& etcd_path, int member, const std::string& initial_cluster);
  void wait_ready();
  bool read_version();
  std::string log_tail(int member) const;

  TempDir dir_;
  int client_base_port_ = 0, peer_base_port_ = 0;
  std::string version_;
  std::string api_prefix_ = "/v3";
  std::vector<std::unique_ptr<launcher::ChildProcess>> members_;
};

}  // namespace raft::bench
