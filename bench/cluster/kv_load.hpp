#pragma once
/// Closed-loop KV write load through HTTP, as users would send it: each of
/// `concurrency` clients keeps one keep-alive connection to the leader and
/// sends 100-byte writes back to back for `seconds`, spelled for the store
/// under test (kv_requests.hpp), so our cluster and etcd see the same load.
/// Failed requests are kept by kind (HTTP status and the server's error text,
/// or the client's error) with when they first happened, so errors can
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

/// How each client talks HTTP.
enum class LoadClient {
  /// HttpConnection: each request in one write (as wrk and curl send them).
  OneWrite,
  /// cpp-httplib's client: the head and the body in two writes (the
  /// generator of the runs before December 2026, kept to compare).
  Httplib,
};

struct LoadOptions {
  LoadClient client = LoadClient::OneWrite;
  /// A request without an answer this long counts as an error ("no answer").
  int read_timeout_s = 30;
};

/// Runs the load against 127.0.0.1:`port`.
LoadResult kv_write_load(int port, int concurrency, double seconds,
                         const WriteSpeller& spell = raft_kv_put, const LoadOptions& options = {});

}  // namespace raft::bench
