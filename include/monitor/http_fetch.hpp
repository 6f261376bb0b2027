#pragma once
/// One HTTP exchange with a node or discovery, with deadlines and a cap on
/// the answer's size: the monitor's only way out to the network.
///
/// Each call opens its own connection (no keep-alive), so no state is shared
/// between calls and any thread may call fetch() at any time. A node's HTTP
/// server has a handful of threads; a monitor holding a keep-alive connection
/// to each would take one of them for good.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "monitor/routing.hpp"

namespace raft::monitor {

struct FetchOptions {
  int connect_timeout_ms = 200;
  int read_timeout_ms = 500;
  int write_timeout_ms = 2000;
  /// A longer answer is cut off and the call fails (status -1): a node
  /// cannot make the monitor buffer without bound.
  std::size_t max_body_bytes = 1u << 20;
};

struct FetchRequest {
  std::string method = "GET";  ///< GET, POST, PUT or DELETE
  std::string path = "/";      ///< path and query, already encoded
  std::string body;
  std::string content_type;  ///< for a body; empty = none
  std::vector<std::pair<std::string, std::string>> headers;
};

struct FetchResult {
  int status = -1;  ///< HTTP status, -1 when no complete answer came back
  std::string body;
  std::string content_type;
  std::string location;  ///< the Location header, if any
  std::string error;     ///< one sentence when status == -1
  /// The connection was never established, so the request was not sent:
  /// safe to try elsewhere even for a write.
  bool connect_failed = false;
  bool ok() const { return status >= 0; }
};

/// Sends `request` to `endpoint` and waits for the answer within the
/// deadlines of `options`. Never throws; every failure is in the result.
FetchResult fetch(const Endpoint& endpoint, const FetchRequest& request,
                  const FetchOptions& options);

}  // namespace raft::monitor
