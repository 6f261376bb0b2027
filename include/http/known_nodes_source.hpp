#pragma once
/// KnownNodesSource: what the node's HTTP server needs from the discovery
/// client, as an interface so the HTTP layer does not depend on how discovery
/// is reached (raft_node adapts discovery::DiscoveryClient to it; tests use a
/// fake). Implementations must be thread-safe: HTTP threads call them
/// concurrently.

#include <map>
#include <optional>
#include <string>

#include "raft/types.hpp"

namespace raft::http {

class KnownNodesSource {
 public:
  virtual ~KnownNodesSource() = default;
  /// rank -> "host:port" of every node discovery told us about (kept across a
  /// discovery outage: the last good list).
  virtual std::map<NodeId, std::string> known_nodes() const = 0;
  /// Re-reads the node list from discovery now. Blocks for at most a few
  /// seconds. On failure returns false and sets *error to one sentence.
  virtual bool sync_now(std::string* error) = 0;
  /// Whether the last exchange with discovery succeeded.
  virtual bool connected() const = 0;
  /// The leader discovery last heard of; nullopt when none (or unknown).
  virtual std::optional<NodeId> leader() const { return std::nullopt; }
};

}  // namespace raft::http
