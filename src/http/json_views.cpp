#include "http/json_views.hpp"

#include <algorithm>
#include <chrono>

#include "http/utf8.hpp"
#include "runtime/kv_command.hpp"

namespace raft::http {

namespace {

using nlohmann::json;

/// Bytes as a JSON string that round-trips when it is valid UTF-8; otherwise
/// escaped, with the exact bytes in `<field>_base64`.
void put_bytes(json& out, const std::string& field, std::string_view bytes) {
  if (is_valid_utf8(bytes)) {
    out[field] = std::string(bytes);
  } else {
    out[field] = escape_invalid_utf8(bytes);
    out[field + "_base64"] = base64_encode(bytes);
  }
}

/// Whether `address` looks like host:port and is safe to put in a URL and a
/// Location header (it comes from discovery, i.e. from the network).
bool plausible_address(const std::string& address) {
  if (address.empty() || address.size() > 260) return false;
  return std::all_of(address.begin(), address.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == ':' || c == '-' || c == '_' || c == '[' || c == ']';
  });
}

std::uint64_t saturating_sub(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

}  // namespace

std::uint64_t steady_now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json error_json(std::string_view message) {
  return json{{"ok", false}, {"error", escape_invalid_utf8(message)}};
}

json status_json(const runtime::NodeStatus& s, std::uint64_t now_ms,
                 const std::optional<std::string>& leader_url) {
  json out = json::object();
  // The SPEC fields, in SPEC order.
  out["node_id"] = std::to_string(s.rank);
  out["rank"] = s.rank;
  // A node whose storage failed is down until 'restart': a state of its own.
  out["state"] = s.storage_error.empty() ? std::string(role_name(s.role)) : std::string("FAILED");
  out["term"] = s.term;
  out["leader_id"] = node_id_json(s.leader_id);
  out["log_length"] = s.log_length;
  out["commit_index"] = s.commit_index;
  out["last_applied"] = s.last_applied;
  out["voted_for"] = node_id_json(s.voted_for);
  out["paused"] = s.paused;
  out["crashed"] = s.crashed;

  // Extras.
  out["cluster_size"] = s.cluster_size;
  out["voters"] = id_list_json(s.voters);
  out["learners"] = id_list_json(s.learners);
  out["config_index"] = s.config_index;
  out["first_index"] = s.first_index;
  out["snapshot_index"] = s.snapshot_index;
  out["kv_keys"] = s.kv_keys;
  out["pre_voting"] = s.pre_voting;
  out["transfer_target"] = node_id_json(s.transfer_target);
  out["partitioned"] = s.partitioned;
  out["dropping_from"] = s.dropping_from;
  out["dropping_to"] = s.dropping_to;
  json delaying = json::object();
  for (const auto& [rank, ms] : s.delaying) delaying[std::to_string(rank)] = ms;
  out["delaying"] = std::move(delaying);
  json peers = json::array();
  for (const runtime::PeerStatus& p : s.peers) {
    peers.push_back({{"id", std::to_string(p.id)},
                     {"match_index", p.match_index},
                     {"next_index", p.next_index},
                     {"progress_state", p.progress_state},
                     {"partitioned", p.partitioned},
                     {"dropping_from", p.dropping_from},
                     {"dropping_to", p.dropping_to}});
  }
  out["peers"] = std::move(peers);
  out["storage_error"] =
      s.storage_error.empty() ? json(nullptr) : json(escape_invalid_utf8(s.storage_error));
  out["leader_url"] = leader_url ? json(*leader_url) : json(nullptr);

  // The node's Raft clock stands still while it is paused or crashed; otherwise
  // the timers advanced since the loop published this snapshot.
  const bool running = !s.paused && !s.crashed;
  const std::uint64_t age_ms = running ? saturating_sub(now_ms, s.published_at_ms) : 0;
  out["uptime_ms"] = s.uptime_ms + saturating_sub(now_ms, s.published_at_ms);
  json timers = json::object();
  timers["election_timeout_ms"] = s.election_timeout_ms;
  timers["election_elapsed_ms"] = s.election_elapsed_ms + age_ms;
  timers["heartbeat_interval_ms"] = s.heartbeat_interval_ms;
  timers["since_leader_contact_ms"] =
      s.heard_from_leader ? json(s.since_leader_contact_ms + age_ms) : json(nullptr);
  timers["election_timeout_min_ms"] = s.election_timeout_min_ms;
  timers["election_timeout_max_ms"] = s.election_timeout_max_ms;
  timers["initial_remaining_ms"] = saturating_sub(s.initial_remaining_ms, age_ms);
  timers["running"] = running;
  out["timers"] = std::move(timers);
  return out;
}

json entry_json(const runtime::EntryView& e, std::size_t max_data_bytes) {
  json out = json::object();
  out["index"] = e.index;
  out["term"] = e.term;
  out["type"] = std::string(entry_type_name(e.type));
  const std::string_view shown = truncate_utf8(e.data, max_data_bytes);
  put_bytes(out, "data", shown);
  out["data_bytes"] = e.data_bytes;
  if (shown.size() < e.data_bytes) out["truncated"] = true;
  if (e.type == EntryType::Command) {
    const std::optional<runtime::KvHeader> kv = runtime::decode_kv_header(e.data, e.data_bytes);
    if (kv && kv->header_bytes + kv->key_bytes <= e.data.size()) {
      json k = json::object();
      k["op"] = std::string(runtime::kv_op_name(kv->op));
      put_bytes(k, "key", std::string_view(e.data).substr(kv->header_bytes, kv->key_bytes));
      k["value_bytes"] = kv->value_bytes;
      if (kv->op == runtime::KvOp::Cas) k["expected_bytes"] = kv->expected_bytes;
      k["client_id"] = kv->client_id.empty() ? json(nullptr) : json(kv->client_id);
      k["seq"] = kv->seq;
      out["kv"] = std::move(k);
    }
  }
  return out;
}

JsonAnswer entries_answer(const runtime::EntriesReply& reply, std::size_t max_data_bytes) {
  if (reply.http_status != 200) {
    return {reply.http_status,
            error_json(reply.error.empty() ? "the entries cannot be read" : reply.error)};
  }
  json entries = json::array();
  for (const runtime::EntryView& e : reply.entries)
    entries.push_back(entry_json(e, max_data_bytes));
  json body = json::object();
  body["entries"] = std::move(entries);
  body["commit_index"] = reply.commit_index;
  body["first_index"] = reply.first_index;
  body["last_index"] = reply.last_index;
  return {200, std::move(body)};
}

JsonAnswer command_answer(const runtime::CommandReply& reply) {
  json body = json::object();
  body["ok"] = reply.ok;
  if (reply.ok) {
    body["result"] = escape_invalid_utf8(reply.result);
  } else {
    body["error"] =
        escape_invalid_utf8(reply.error.empty() ? std::string("the command failed") : reply.error);
  }
  if (reply.fields.is_object()) {
    for (auto it = reply.fields.begin(); it != reply.fields.end(); ++it) {
      // The driver's fields never override ok/result/error.
      if (!body.contains(it.key()) && it.key() != "ok") body[it.key()] = it.value();
    }
  }
  int status = reply.http_status;
  if (status < 200 || status > 599) status = reply.ok ? 200 : 500;
  return {status, std::move(body)};
}

std::string node_url(NodeId rank, const std::map<NodeId, std::string>& known,
                     const std::string& bind, int base_port) {
  const auto it = known.find(rank);
  if (it != known.end() && plausible_address(it->second)) return "http://" + it->second;
  std::string host = bind;
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") host = "127.0.0.1";
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(base_port + rank);
}

JsonAnswer kv_answer(const runtime::KvReply& reply, KvRequestKind kind, std::string_view key,
                     const std::string& leader_url) {
  json body = json::object();
  switch (reply.http_status) {
    case 200:
      body["ok"] = true;
      if (kind == KvRequestKind::Read) {
        put_bytes(body, "key", key);
        put_bytes(body, "value", reply.value.value_or(std::string()));
        // The log index the answer reflects: the node's applied index for a
        // stale read, the read index for a linearizable one.
        body["index"] = reply.index;
      } else {
        body["index"] = reply.index;
        body["term"] = reply.term;
        body["found"] = reply.found;
        body["duplicate"] = reply.duplicate;
      }
      return {200, std::move(body)};
    case 404:
      body = error_json(reply.error.empty() ? "key not found" : reply.error);
      put_bytes(body, "key", key);
      body["index"] = reply.index;
      return {404, std::move(body)};
    case 307:
      if (reply.leader_id != kNoNode && !leader_url.empty()) {
        body = error_json("not leader");
        body["leader_id"] = node_id_json(reply.leader_id);
        body["leader_url"] = leader_url;
        return {307, std::move(body)};
      }
      // "not leader" without a leader to send the client to.
      body = error_json("no leader known");
      body["leader_id"] = nullptr;
      body["leader_url"] = nullptr;
      return {503, std::move(body)};
    case 503:
      // "no leader known", or why this node cannot serve (paused, crashed,
      // storage failed, too many writes in flight).
      body = error_json(reply.error.empty() ? "no leader known" : reply.error);
      body["leader_id"] = node_id_json(reply.leader_id);
      body["leader_url"] =
          reply.leader_id == kNoNode || leader_url.empty() ? json(nullptr) : json(leader_url);
      return {503, std::move(body)};
    case 409:
      body = error_json(reply.error.empty() ? "the compare-and-set failed" : reply.error);
      body["index"] = reply.index;
      body["term"] = reply.term;
      body["found"] = reply.found;
      return {409, std::move(body)};
    default: {
      int status = reply.http_status;
      if (status < 400 || status > 599) status = 500;
      return {status, error_json(reply.error.empty() ? "the request failed" : reply.error)};
    }
  }
}

JsonAnswer timeout_answer(KvRequestKind kind) {
  return {504, error_json(kind == KvRequestKind::Write
                              ? "timed out waiting for the cluster; the write may still be applied"
                              : "timed out waiting for the cluster")};
}

std::vector<std::string> merge_command_history(const std::vector<std::string>& loop,
                                               const std::vector<std::string>& local,
                                               std::size_t max_lines) {
  // "HH:MM:SS" sorts by time of day; a line without it keeps its place.
  const auto time_of = [](const std::string& line) -> std::string_view {
    const std::string_view v(line);
    if (v.size() < 8 || v[2] != ':' || v[5] != ':') return {};
    return v.substr(0, 8);
  };
  std::vector<std::string> out;
  out.reserve(loop.size() + local.size());
  std::size_t i = 0, j = 0;
  while (i < loop.size() || j < local.size()) {
    if (j == local.size()) {
      out.push_back(loop[i++]);
    } else if (i == loop.size()) {
      out.push_back(local[j++]);
    } else {
      const std::string_view a = time_of(loop[i]);
      const std::string_view b = time_of(local[j]);
      if (a.empty() || b.empty() || a <= b) {
        out.push_back(loop[i++]);
      } else {
        out.push_back(local[j++]);
      }
    }
  }
  if (out.size() > max_lines)
    out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(max_lines));
  return out;
}

json known_nodes_json(const std::map<NodeId, std::string>& known) {
  json out = json::object();
  for (const auto& [rank, address] : known)
    out[std::to_string(rank)] = escape_invalid_utf8(address);
  return out;
}

}  // namespace raft::http
