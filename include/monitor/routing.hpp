#pragma once
/// Parsing of the monitor's own request paths and of the URLs it forwards to:
/// /api/nodes/{id}/{action}, /api/kv/{key}, node addresses and redirect
/// targets. Pure functions that never throw on any input; thread-safe.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "raft/types.hpp"

namespace raft::monitor {

/// What the monitor forwards to one node: /api/nodes/{id}/{action}.
inline constexpr std::array<std::string_view, 5> kNodeActions = {"command", "status", "log",
                                                                 "entries", "cmd_history"};

/// A request under /api/nodes/: which node, and what of it.
struct NodeRoute {
  NodeId id = kNoNode;
  /// "command" (POST), or "status", "log", "entries", "cmd_history" (GET).
  std::string action;
  std::string error;  ///< empty when the path is well-formed
  bool ok() const { return error.empty(); }
};

/// Parses "/api/nodes/{id}/{action}" (already percent-decoded by the server).
/// The id must be a canonical decimal rank ("0", "12"); anything else, a
/// missing or unknown action, or extra segments is an error, which the
/// server answers with 404 (there is no such resource).
NodeRoute parse_node_route(std::string_view path);

/// The methods an action accepts, as an Allow header: "POST" for command,
/// else "GET, HEAD". The monitor's route table takes each action's method
/// from here.
std::string_view node_route_methods(std::string_view action);

/// The path on the node that an action reads or writes: "/command", "/log",
/// "/entries", ...
std::string node_path_for(std::string_view action);

/// Percent-encodes every byte except the unreserved ones (RFC 3986
/// A-Z a-z 0-9 - . _ ~), so any key survives the trip to the node intact.
std::string percent_encode(std::string_view bytes);

/// A request under /api/kv/, translated to the node's /kv/{key}.
struct KvRoute {
  std::string key;        ///< decoded
  std::string node_path;  ///< "/kv/" + percent_encode(key) [+ "?stale=true"]
  int http_status = 200;  ///< 400 malformed or empty key, 413 key above 1 KiB
  std::string error;
  bool ok() const { return http_status == 200; }
};

/// Parses the raw request target "/api/kv/{key}[?query]" (still
/// percent-encoded, so that a key may hold "/", "?" or any byte). `stale` is
/// the raw value of the ?stale= parameter when present; it must be a flag
/// (see http::parse_flag) and is passed on only when true.
KvRoute parse_kv_route(std::string_view target, const std::optional<std::string>& stale);

/// Where to send HTTP requests: a host (IPv6 without brackets, as
/// httplib::Client wants it) and a port.
struct Endpoint {
  std::string host;
  int port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// Parses "host:port" as discovery stores it ("[::1]:7000" for IPv6).
/// nullopt when it is not a valid address (discovery::address_error).
std::optional<Endpoint> parse_address(std::string_view address);

/// Which node addresses the monitor dials: the one rule for every request it
/// sends to a node (polls, commands, reads, key-value requests, redirects).
/// Discovery's registry is data from the network: without a token anyone
/// may write it, so an address is trusted only as far as this rule says.
struct NodeAddressRule {
  /// The job's ranks are 0..ranks-1; 0: any id (a bare monitor, no --nodes).
  int ranks = 0;
  /// When set, rank r must listen on *base_port + r, as raft_node and
  /// launch_cluster assign the ports.
  std::optional<int> base_port;
};

/// Where node `id` may be reached at `address` ("host:port" as registered):
/// an Endpoint when `id` is a rank of the job, the host is an IP literal
/// (IPv4 dotted quad or bracketed IPv6; a name could be made to resolve
/// anywhere after this check) that is neither unspecified, multicast nor
/// broadcast, and the port is 1..65535 (and base_port + id when pinned).
/// Otherwise nullopt with one sentence in *why (if not null).
std::optional<Endpoint> vet_node_address(NodeId id, std::string_view address,
                                         const NodeAddressRule& rule, std::string* why);

/// The "http://host:port" origin of an absolute http URL such as a
/// redirect's Location ("http://127.0.0.1:7001/kv/x" -> "http://127.0.0.1:7001").
/// nullopt for other schemes, user info, a missing or invalid port.
std::optional<std::string> http_origin(std::string_view url);

}  // namespace raft::monitor
