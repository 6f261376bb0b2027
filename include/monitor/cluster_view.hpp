#pragma once
/// The pure part of the monitor: what discovery says, which nodes to ask, and
/// how their answers become the /api/cluster JSON (SPEC.md "Monitor API").
///
/// No sockets and no clocks here, so every rule (the union of discovery and
/// configured ranks, offline entries, the choice of leader) is unit-tested on
/// its own. All functions are pure, thread-safe and never throw on any input:
/// discovery and the nodes are other processes, and what they send is data,
/// not trusted structure.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "raft/types.hpp"

namespace raft::monitor {

/// At most this many nodes are shown and polled: a registry gone wild must
/// not make the monitor open thousands of connections every 250 ms.
inline constexpr std::size_t kMaxNodes = 256;

/// A node's state when its /status cannot be read (SPEC: "offline").
inline constexpr std::string_view kOfflineState = "offline";

/// One member as discovery reports it.
struct DiscoveryMember {
  std::string address;                            ///< "host:port", as the node registered it
  std::optional<bool> alive;                      ///< absent when discovery does not say
  std::optional<std::uint64_t> last_seen_ms_ago;  ///< absent when never seen
};

/// What discovery's GET /state said, or why it could not be read.
struct DiscoveryState {
  bool ok = false;
  std::string error;  ///< one sentence when !ok
  std::map<NodeId, DiscoveryMember> members;
  NodeId leader = kNoNode;
  std::optional<Term> leader_term;
  /// Entries left out because their id or address was malformed.
  std::size_t skipped = 0;
};

/// Parses the body of discovery's GET /state: "nodes" {id: address} and
/// "members" {id: {address, alive, last_seen_ms_ago}} (either may be absent;
/// members win where both name a node), "leader" and "leader_term". Ids must
/// be canonical decimal ranks and addresses valid host:port, else the entry
/// is skipped. Only a body that is not a JSON object fails (ok == false).
DiscoveryState parse_discovery_state(std::string_view body);

/// A discovery state that could not be fetched at all.
DiscoveryState discovery_failure(std::string error);

/// A node the monitor polls.
struct NodeTarget {
  NodeId id = kNoNode;
  std::string address;        ///< "host:port" (IPv6 hosts in brackets)
  std::string api_url;        ///< "http://" + address
  std::optional<bool> alive;  ///< discovery's opinion, when it has one
  bool registered = false;    ///< the address came from discovery
};

/// The host to reach configured ranks on when discovery does not know them:
/// the monitor's own bind address, except that a wildcard (0.0.0.0, ::, empty)
/// becomes 127.0.0.1, and an IPv6 address gets brackets.
std::string fallback_host(std::string_view bind);

/// The host for configured ranks discovery does not know (the monitor's
/// --node_host): fallback_host(bind_host) when `flag` is empty, "" for
/// "none" (nodes are on other machines: never guess), else fallback_host of
/// `flag`. nullopt with one sentence in *error when `flag` is no valid host.
std::optional<std::string> node_host_for(std::string_view bind_host, const std::string& flag,
                                         std::string* error);

/// The nodes to poll, ordered by id: every member discovery knows, at the
/// address it registered (never port arithmetic when discovery knows better),
/// plus the ranks 0..nodes-1 it does not know at host:base_port+rank. Ports
/// that would leave 1..65535 are not invented. An empty `host` (nodes on
/// other machines) lists those ranks with an empty address instead of a
/// guess: they are shown offline until they register. At most kMaxNodes.
std::vector<NodeTarget> merge_targets(const DiscoveryState& discovery, std::string_view host,
                                      int base_port, int nodes);

/// The result of asking one node for its /status.
struct NodeProbe {
  bool reachable = false;
  nlohmann::json status;  ///< the node's /status object when reachable
  std::string error;      ///< one sentence when not reachable
};

/// Turns a /status answer into a probe: a 200 with a JSON object that has a
/// string "state" is reachable; anything else is offline with a reason.
NodeProbe probe_from_answer(int http_status, std::string_view body);

/// Where the leader shown on the page comes from.
struct LeaderChoice {
  NodeId leader = kNoNode;
  std::optional<Term> term;
  std::string source;     ///< "nodes", "discovery" or "" (no leader)
  bool conflict = false;  ///< two reachable nodes claim leadership in the same top term
};

/// The leader the nodes themselves agree on: the reachable node in state
/// LEADER (neither paused nor crashed, since those take no part) with the
/// highest term; on a tie the lowest id, flagged as a conflict. With no such
/// node, discovery's leader, unless that node answered (and so is known not
/// to lead). `probes[i]` belongs to `targets[i]`.
LeaderChoice choose_leader(const std::vector<NodeTarget>& targets,
                           const std::vector<NodeProbe>& probes, const DiscoveryState& discovery);

/// The cluster's membership as the page draws it: the view of `leader` when it
/// is reachable and reports one (it alone appends changes), else the view
/// with the highest config_index among reachable nodes (lowest id on a tie).
/// {"voters":["0",...],"learners":[...],"config_index":N,"committed":bool,
///  "from":"id"}; "committed" is config_index <= that node's commit_index.
/// Ids that are not canonical ranks are left out. null when no reachable
/// node reports "voters" (nodes without membership: all ranks vote).
/// `probes[i]` belongs to `targets[i]`.
nlohmann::json config_json(const std::vector<NodeTarget>& targets,
                           const std::vector<NodeProbe>& probes, NodeId leader);

/// One entry of "nodes": the node's /status fields (as the node sent them),
/// then "api_url", "address", "registered", "reachable" and, when discovery
/// has an opinion, "alive". An unreachable node gets node_id, rank,
/// state "offline" and "error".
nlohmann::json node_json(const NodeTarget& target, const NodeProbe& probe);

/// The whole /api/cluster body:
/// {"nodes":[...],"leader","leader_term","leader_source","leader_conflict",
///  "config" (config_json with the chosen leader), "discovery_leader","discovery_leader_term",
///  "discovery":{"ok","error","url","skipped"}}. `probes[i]` belongs to
/// `targets[i]`; missing probes count as unreachable.
nlohmann::json cluster_json(const std::vector<NodeTarget>& targets,
                            const std::vector<NodeProbe>& probes, const DiscoveryState& discovery,
                            std::string_view discovery_url);

}  // namespace raft::monitor
