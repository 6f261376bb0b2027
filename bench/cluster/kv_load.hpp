#pragma once
/// Closed-loop KV write load through HTTP, as users would send it: each of
/// `concurrency` clients keeps one keep-alive connection to the leader and
/// sends 100-byte writes back to back for `seconds`, spelled for the store
/// under test (kv_requests.hpp), so our cluster and etcd see the same load.
/// Failed requests are kept by kind (HTTP status and the server's error text,
/// or httplib's client error) with when they first happened, so errors can
/// be explained, not just counted.

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "kv_requests.hpp"

namespace raft::bench {

struct ErrorKind {
  std::size_t count = 0;
  double first_at_s = 0;  ///< seconds after the load started
};

struct LoadResult {
  int concurrency = 0;
  std::size_t ops = 0;
  std::size_t errors = 0;
  double seconds = 0;
  double writes_per_s = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::map<std::string, ErrorKind> error_kinds;

  nlohmann::json to_json() const;
};

/// Runs the load against 127.0.0.1:`port`. A request that gets no answer
/// within `read_timeout_s` counts as an error of kind "no answer: Read".
LoadResult kv_write_load(int port, int concurrency, double seconds,
                         const WriteSpeller& spell = raft_kv_put, int read_timeout_s = 30);

}  // namespace raft::bench
