#include "monitor/cluster_view.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "discovery/address.hpp"
#include "http/request_parsing.hpp"
#include "http/utf8.hpp"
#include "util/node_id_json.hpp"

namespace raft::monitor {

namespace {

using nlohmann::json;

/// A rank from a JSON value: canonical decimal text ("3") or a non-negative
/// integer; anything else nullopt.
std::optional<NodeId> id_from_json(const json& value) {
  if (value.is_string()) return discovery::parse_node_id(value.get_ref<const std::string&>());
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    if (n <= static_cast<std::uint64_t>(std::numeric_limits<NodeId>::max())) {
      return static_cast<NodeId>(n);
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> u64_from_json(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  return std::nullopt;
}

bool valid_address(const json& value) {
  return value.is_string() && !discovery::address_error(value.get_ref<const std::string&>());
}

bool flag_set(const json& status, const char* field) {
  auto it = status.find(field);
  return it != status.end() && it->is_boolean() && it->get<bool>();
}

/// The ids of a /status list ("voters", "learners") that are canonical ranks.
json rank_ids(const json& status, const char* name) {
  json out = json::array();
  const auto list = status.find(name);
  if (list == status.end() || !list->is_array()) return out;
  for (const json& v : *list) {
    if (out.size() < kMaxNodes && v.is_string() &&
        discovery::parse_node_id(v.get_ref<const std::string&>())) {
      out.push_back(v);
    }
  }
  return out;
}

/// A non-negative integer field, however the JSON library stored it; else 0.
std::uint64_t count_field(const json& status, const char* name) {
  const auto it = status.find(name);
  if (it == status.end()) return 0;
  if (it->is_number_integer() && !it->is_number_unsigned() && it->get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(it->get<std::int64_t>());
  }
  return u64_from_json(*it).value_or(0);
}

}  // namespace

DiscoveryState discovery_failure(std::string error) {
  DiscoveryState state;
  state.ok = false;
  state.error = std::move(error);
  return state;
}

DiscoveryState parse_discovery_state(std::string_view body) {
  const json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return discovery_failure("discovery's /state is not a JSON object");
  }
  DiscoveryState out;
  out.ok = true;
  // Room for one more member: a registry gone wild cannot grow the monitor.
  const auto has_room = [&](NodeId id) {
    return out.members.count(id) != 0 || out.members.size() < kMaxNodes;
  };

  if (auto nodes = doc.find("nodes"); nodes != doc.end() && nodes->is_object()) {
    for (const auto& [key, address] : nodes->items()) {
      const std::optional<NodeId> id = discovery::parse_node_id(key);
      if (!id || !valid_address(address) || !has_room(*id)) {
        ++out.skipped;
        continue;
      }
      out.members[*id].address = address.get<std::string>();
    }
  }
  if (auto members = doc.find("members"); members != doc.end() && members->is_object()) {
    for (const auto& [key, view] : members->items()) {
      const std::optional<NodeId> id = discovery::parse_node_id(key);
      if (!id || !view.is_object() || !has_room(*id)) {
        ++out.skipped;
        continue;
      }
      const auto address = view.find("address");
      const bool has_address = address != view.end() && valid_address(*address);
      if (!has_address && out.members.count(*id) == 0) {
        ++out.skipped;  // a member we could not reach anyway
        continue;
      }
      DiscoveryMember& member = out.members[*id];
      if (has_address) member.address = address->get<std::string>();
      if (auto alive = view.find("alive"); alive != view.end() && alive->is_boolean()) {
        member.alive = alive->get<bool>();
      }
      if (auto seen = view.find("last_seen_ms_ago"); seen != view.end()) {
        member.last_seen_ms_ago = u64_from_json(*seen);
      }
    }
  }
  if (auto leader = doc.find("leader"); leader != doc.end()) {
    out.leader = id_from_json(*leader).value_or(kNoNode);
  }
  if (auto term = doc.find("leader_term"); term != doc.end()) {
    out.leader_term = u64_from_json(*term);
  }
  return out;
}

std::string fallback_host(std::string_view bind) {
  if (bind.empty() || bind == "0.0.0.0" || bind == "::" || bind == "[::]") return "127.0.0.1";
  if (bind.front() != '[' && bind.find(':') != std::string_view::npos) {
    return "[" + std::string(bind) + "]";
  }
  return std::string(bind);
}

std::optional<std::string> node_host_for(std::string_view bind_host, const std::string& flag,
                                         std::string* error) {
  if (flag.empty()) return fallback_host(bind_host);
  if (flag == "none") return std::string();
  const std::optional<std::string> given = discovery::parse_bind_host(flag, error);
  if (!given) return std::nullopt;
  return fallback_host(*given);
}

std::vector<NodeTarget> merge_targets(const DiscoveryState& discovery, std::string_view host,
                                      int base_port, int nodes) {
  std::map<NodeId, NodeTarget> by_id;
  for (const auto& [id, member] : discovery.members) {
    if (by_id.size() >= kMaxNodes) break;
    if (member.address.empty()) continue;
    NodeTarget& target = by_id[id];
    target.id = id;
    target.address = member.address;
    target.api_url = "http://" + member.address;
    target.alive = member.alive;
    target.registered = true;
  }
  for (int rank = 0; rank < nodes && by_id.size() < kMaxNodes; ++rank) {
    if (by_id.count(rank) != 0) continue;
    const long port = static_cast<long>(base_port) + rank;
    if (port < 1 || port > 65535) break;  // ports only grow from here
    NodeTarget& target = by_id[rank];
    target.id = rank;
    // No host: the nodes live on other machines, and only discovery knows
    // where; the rank is listed without an address until it registers.
    if (host.empty()) continue;
    target.address = std::string(host) + ":" + std::to_string(port);
    target.api_url = "http://" + target.address;
  }
  std::vector<NodeTarget> out;
  out.reserve(by_id.size());
  for (auto& [id, target] : by_id) out.push_back(std::move(target));
  return out;
}

NodeProbe probe_from_answer(int http_status, std::string_view body) {
  NodeProbe probe;
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (http_status != 200) {
    probe.error = "HTTP " + std::to_string(http_status);
    if (doc.is_object()) {
      if (auto error = doc.find("error"); error != doc.end() && error->is_string()) {
        probe.error += ": " + http::quote_for_error(error->get_ref<const std::string&>(), 200);
      }
    }
    return probe;
  }
  if (doc.is_discarded() || !doc.is_object()) {
    probe.error = "the node's /status is not a JSON object";
    return probe;
  }
  const auto state = doc.find("state");
  if (state == doc.end() || !state->is_string()) {
    probe.error = "the node's /status has no \"state\"";
    return probe;
  }
  probe.reachable = true;
  probe.status = std::move(doc);
  return probe;
}

LeaderChoice choose_leader(const std::vector<NodeTarget>& targets,
                           const std::vector<NodeProbe>& probes, const DiscoveryState& discovery) {
  LeaderChoice best;
  for (std::size_t i = 0; i < targets.size() && i < probes.size(); ++i) {
    const NodeProbe& probe = probes[i];
    if (!probe.reachable) continue;
    const json& s = probe.status;
    const auto state = s.find("state");
    if (state == s.end() || !state->is_string() || *state != "LEADER") continue;
    // A paused or crashed node still reports its last role, but it leads nobody.
    if (flag_set(s, "paused") || flag_set(s, "crashed")) continue;
    const auto term_it = s.find("term");
    const Term term = term_it != s.end() ? u64_from_json(*term_it).value_or(0) : 0;
    if (best.leader == kNoNode || term > *best.term) {
      best.leader = targets[i].id;
      best.term = term;
      best.source = "nodes";
      best.conflict = false;
    } else if (term == *best.term) {
      best.conflict = true;  // targets are in id order: the lower id stays
    }
  }
  if (best.leader != kNoNode) return best;
  // Discovery's word stands only where the nodes cannot contradict it: a
  // leader that answers and says it is not leading (or is paused or
  // crashed) was reported before it lost its place.
  for (std::size_t i = 0; i < targets.size() && i < probes.size(); ++i) {
    if (targets[i].id == discovery.leader && probes[i].reachable) return best;
  }
  if (discovery.leader != kNoNode) {
    best.leader = discovery.leader;
    best.term = discovery.leader_term;
    best.source = "discovery";
  }
  return best;
}

json config_json(const std::vector<NodeTarget>& targets, const std::vector<NodeProbe>& probes,
                 NodeId leader) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < targets.size() && i < probes.size(); ++i) {
    const NodeProbe& probe = probes[i];
    if (!probe.reachable || !probe.status.is_object() || !probe.status.contains("voters")) continue;
    if (targets[i].id == leader) {
      best = i;  // the leader's view decides: it appends every change
      break;
    }
    if (!best || count_field(probe.status, "config_index") >
                     count_field(probes[*best].status, "config_index")) {
      best = i;
    }
  }
  if (!best) return nullptr;
  const json& s = probes[*best].status;
  const std::uint64_t index = count_field(s, "config_index");
  json out = json::object();
  out["voters"] = rank_ids(s, "voters");
  out["learners"] = rank_ids(s, "learners");
  out["config_index"] = index;
  out["committed"] = index <= count_field(s, "commit_index");
  out["from"] = std::to_string(targets[*best].id);
  return out;
}

json node_json(const NodeTarget& target, const NodeProbe& probe) {
  json out = json::object();
  const std::string id = std::to_string(target.id);
  if (probe.reachable && probe.status.is_object()) {
    out = probe.status;
    // The page keys nodes by id: the id we polled is the truth, and a node
    // that answers with another id (a stale address now used by someone
    // else) is flagged rather than shown twice.
    auto reported = out.find("node_id");
    if (reported == out.end() || !reported->is_string() || *reported != id) {
      out["reported_node_id"] = reported == out.end() ? json(nullptr) : *reported;
      out["id_mismatch"] = true;
      out["node_id"] = id;
    }
    if (!out.contains("rank")) out["rank"] = target.id;
    out["reachable"] = true;
  } else {
    out["node_id"] = id;
    out["rank"] = target.id;
    out["state"] = std::string(kOfflineState);
    out["reachable"] = false;
    out["error"] = http::escape_invalid_utf8(probe.error.empty() ? "not polled yet" : probe.error);
  }
  out["api_url"] = target.api_url;
  out["address"] = target.address;
  out["registered"] = target.registered;
  if (target.alive) {
    out["alive"] = *target.alive;
  } else {
    out.erase("alive");
  }
  return out;
}

json cluster_json(const std::vector<NodeTarget>& targets, const std::vector<NodeProbe>& probes,
                  const DiscoveryState& discovery, std::string_view discovery_url) {
  json nodes = json::array();
  const NodeProbe missing;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    nodes.push_back(node_json(targets[i], i < probes.size() ? probes[i] : missing));
  }
  const LeaderChoice leader = choose_leader(targets, probes, discovery);
  json out = json::object();
  out["nodes"] = std::move(nodes);
  out["leader"] = util::node_id_json(leader.leader);
  out["leader_term"] = leader.term ? json(*leader.term) : json(nullptr);
  out["leader_source"] = leader.source.empty() ? json(nullptr) : json(leader.source);
  out["leader_conflict"] = leader.conflict;
  out["config"] = config_json(targets, probes, leader.leader);
  out["discovery_leader"] = util::node_id_json(discovery.leader);
  out["discovery_leader_term"] =
      discovery.leader_term ? json(*discovery.leader_term) : json(nullptr);
  json d = json::object();
  d["ok"] = discovery.ok;
  d["error"] = discovery.ok ? json(nullptr) : json(http::escape_invalid_utf8(discovery.error));
  d["url"] = discovery_url.empty() ? json(nullptr) : json(std::string(discovery_url));
  d["skipped"] = discovery.skipped;
  out["discovery"] = std::move(d);
  return out;
}

}  // namespace raft::monitor
