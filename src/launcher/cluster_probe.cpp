// What a Cluster asks its nodes and discovery over HTTP: status, commands,
// and who leads.
#include <cstdlib>
#include <map>
#include <thread>

#include "launcher/cluster.hpp"

namespace raft::launcher {

using Json = nlohmann::json;

HttpReply Cluster::get(int rank, const std::string& path,
                       std::chrono::milliseconds read_timeout_ms) const {
  HttpRequest request;
  request.path = path;
  request.read_timeout_ms = read_timeout_ms;
  return http_call("127.0.0.1", port(rank), request);
}

HttpReply Cluster::command(int rank, const std::string& cmd,
                           std::chrono::milliseconds read_timeout_ms) const {
  HttpRequest request;
  request.method = "POST";
  request.path = "/command";
  request.body = Json{{"cmd", cmd}}.dump();
  request.read_timeout_ms = read_timeout_ms;
  if (const char* token = std::getenv("RAFT_AUTH_TOKEN"); token && *token) {
    request.bearer_token = token;
  }
  return http_call("127.0.0.1", port(rank), request);
}

std::optional<Json> Cluster::status(int rank) const {
  HttpReply r = get(rank, "/status");
  if (r.status != 200 || !r.body.is_object()) return std::nullopt;
  return std::move(r.body);
}

std::optional<Leader> Cluster::agreed_leader() const {
  std::string named;
  for (int i = 0; i < size(); ++i) {
    const std::optional<Json> s = status(i);
    if (!s) return std::nullopt;
    if (s->value("paused", false) || s->value("crashed", false)) continue;
    // A standby rank is outside the cluster and hears from no leader.
    if (s->value("state", "") == "STANDBY") continue;
    if (!(*s)["leader_id"].is_string()) return std::nullopt;
    const std::string l = (*s)["leader_id"].get<std::string>();
    if (!named.empty() && l != named) return std::nullopt;
    named = l;
  }
  if (named.empty()) return std::nullopt;
  const int rank = std::atoi(named.c_str());
  const std::optional<Json> s = status(rank);
  if (!s || (*s)["state"] != "LEADER") return std::nullopt;
  return Leader{rank, s->value("term", 0LL)};
}

namespace {

/// Discovery's /state, if it answers with an object.
std::optional<Json> discovery_state(const std::string& host, int port) {
  HttpRequest request;
  request.path = "/state";
  request.connect_timeout_ms = std::chrono::milliseconds(300);
  request.read_timeout_ms = std::chrono::seconds(1);
  HttpReply r = http_call(host, port, request);
  if (r.status != 200 || !r.body.is_object()) return std::nullopt;
  return std::move(r.body);
}

}  // namespace

std::optional<Leader> Cluster::discovery_leader() const {
  const std::optional<Json> s = discovery_state(local_host_, discovery_port_);
  if (!s || !s->contains("leader") || !(*s)["leader"].is_string()) return std::nullopt;
  Leader leader{std::atoi((*s)["leader"].get<std::string>().c_str()), 0};
  if (s->contains("leader_term") && (*s)["leader_term"].is_number()) {
    leader.term = (*s)["leader_term"].get<long long>();
  }
  return leader;
}

std::vector<std::pair<std::string, std::string>> Cluster::discovery_nodes() const {
  std::vector<std::pair<std::string, std::string>> out;
  const std::optional<Json> s = discovery_state(local_host_, discovery_port_);
  if (!s || !s->contains("nodes") || !(*s)["nodes"].is_object()) return out;
  std::map<long long, std::pair<std::string, std::string>> by_rank;
  for (const auto& [id, address] : (*s)["nodes"].items()) {
    if (!address.is_string()) continue;
    by_rank[std::atoll(id.c_str())] = {id, address.get<std::string>()};
  }
  for (auto& [rank, entry] : by_rank) out.push_back(std::move(entry));
  return out;
}

std::optional<Leader> Cluster::wait_leader(std::chrono::milliseconds limit_ms,
                                           const std::function<bool()>& give_up) const {
  const auto deadline = std::chrono::steady_clock::now() + limit_ms;
  for (;;) {
    std::optional<Leader> leader =
        options_.leader_from_discovery ? discovery_leader() : agreed_leader();
    if (leader) return leader;
    if (give_up && give_up()) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace raft::launcher
