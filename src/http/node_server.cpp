#include "http/node_server.hpp"

#include <chrono>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <utility>

#include <httplib.h>

#include "http/json_views.hpp"
#include "http/node_assets.hpp"
#include "http/request_parsing.hpp"
#include "http/server.hpp"
#include "http/utf8.hpp"
#include "runtime/kv_command.hpp"
#include "runtime/logging.hpp"
#include "runtime/metrics.hpp"
#include "runtime/node_driver.hpp"

namespace raft::http {

namespace {

using nlohmann::json;

constexpr std::string_view kShowKnownNodes = "show_known_nodes";
constexpr std::string_view kSyncKnownNodes = "sync_known_nodes";
constexpr std::size_t kHistoryLines = 100;

/// Method names become metric labels: anything unusual is folded so a client
/// cannot inject text into the Prometheus output.
std::string method_label(const std::string& method) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (method == known) return method;
  }
  return "OTHER";
}

void send_answer(httplib::Response& res, const JsonAnswer& answer) {
  send_json(res, answer.http_status, answer.body);
}

/// Header first, then query parameter.
std::optional<std::string> header_or_param(const httplib::Request& req, const char* header,
                                           const char* name) {
  if (req.has_header(header)) return req.get_header_value(header);
  return query_param(req, name);
}

std::string clock_prefix() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &local);
  return buf;
}

/// ?name=true|false, false when absent; nullopt when it is neither.
std::optional<bool> flag_in(const httplib::Request& req, const char* name) {
  const std::optional<std::string> text = query_param(req, name);
  return text ? parse_flag(*text) : false;
}

std::string flag_problem(const char* name) { return std::string(name) + " must be true or false"; }

/// flag_in(), after answering 400 when it is nullopt.
std::optional<bool> flag_param(const httplib::Request& req, httplib::Response& res,
                               const char* name) {
  const std::optional<bool> flag = flag_in(req, name);
  if (!flag) send_error(res, 400, flag_problem(name));
  return flag;
}

template <typename T>
std::optional<T> wait_for(std::future<T>& future, int timeout_ms) {
  if (future.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
    return std::nullopt;
  }
  return future.get();  // a broken promise (loop stopped) throws std::future_error
}

}  // namespace

struct NodeServer::Impl {
  using Method = void (Impl::*)(const httplib::Request&, httplib::Response&);
  using AsyncMethod = void (Impl::*)(const httplib::Request&, Reply);

  Impl(NodeServerOptions o, runtime::NodeDriver& d, KnownNodesSource* k,
       std::shared_ptr<runtime::Metrics> m, std::shared_ptr<runtime::LogRing> r)
      : options(std::move(o)),
        driver(d),
        known(k),
        metrics(std::move(m)),
        ring(std::move(r)),
        server(server_options(options)) {
    install_routes();
    loop_commands = runtime::driver_commands();
    // The original's order: the two discovery commands follow become_follower.
    for (const std::string& name : loop_commands) {
      valid_commands.push_back(name);
      if (name == "become_follower") {
        valid_commands.emplace_back(kShowKnownNodes);
        valid_commands.emplace_back(kSyncKnownNodes);
      }
    }
    if (valid_commands.size() == loop_commands.size()) {
      valid_commands.emplace_back(kShowKnownNodes);
      valid_commands.emplace_back(kSyncKnownNodes);
    }
  }

  NodeServerOptions options;
  runtime::NodeDriver& driver;
  KnownNodesSource* known;
  std::shared_ptr<runtime::Metrics> metrics;
  std::shared_ptr<runtime::LogRing> ring;
  std::vector<std::string> loop_commands;
  std::vector<std::string> valid_commands;

  std::mutex history_mutex;
  std::deque<std::string> local_history;  ///< discovery commands, oldest first

  Server server;  ///< last: its handlers use everything above

  // ---- helpers -------------------------------------------------------------

  static ServerOptions server_options(const NodeServerOptions& o) {
    ServerOptions s;
    s.bind = o.bind;
    s.port = o.port;
    s.auth_token = o.auth_token;
    s.body_bytes_max = o.max_body_bytes;
    s.served_hosts = o.served_hosts;
    s.threads_max = o.threads;  // 8 idle ones stay (ServerOptions::threads_idle)
    return s;
  }

  /// A handler of this node; a loop that stopped while it waited is a 503.
  Handler handle(Method method) {
    return [this, method](const httplib::Request& req, httplib::Response& res) {
      try {
        (this->*method)(req, res);
      } catch (const std::future_error&) {
        send_error(res, 503, "the node is shutting down");
      }
    };
  }

  std::map<NodeId, std::string> known_nodes() const {
    if (known == nullptr) return {};
    try {
      return known->known_nodes();
    } catch (...) {
      return {};  // discovery trouble must not fail a status or a redirect
    }
  }

  std::string url_of(NodeId rank) const {
    if (rank == kNoNode) return {};
    return node_url(rank, known_nodes(), options.bind, options.base_port);
  }

  void record_local(std::string_view name) {
    std::lock_guard lock(history_mutex);
    local_history.push_back(clock_prefix() + " - " + std::string(name));
    while (local_history.size() > kHistoryLines) local_history.pop_front();
  }

  bool is_loop_command(const std::string& name) const {
    for (const std::string& c : loop_commands) {
      if (c == name) return true;
    }
    return false;
  }

  void prometheus(const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(metrics ? metrics->render_prometheus() : std::string(),
                    "text/plain; version=0.0.4; charset=utf-8");
  }

  // ---- node API -------------------------------------------------------------

  void status(const httplib::Request&, httplib::Response& res) {
    const std::shared_ptr<const runtime::NodeStatus> s = driver.status();
    if (!s) {
      send_error(res, 503, "the node is starting; try again shortly");
      return;
    }
    std::optional<std::string> leader_url;
    if (s->leader_id != kNoNode) leader_url = url_of(s->leader_id);
    send_json(res, 200, status_json(*s, steady_now_ms(), leader_url));
  }

  void log(const httplib::Request& req, httplib::Response& res) {
    const std::optional<std::size_t> limit = parse_log_limit(query_param(req, "limit"));
    if (!limit) {
      send_error(res, 400, "limit must be a positive integer (at most 1000 are kept)");
      return;
    }
    json lines = json::array();
    if (ring) {
      for (const std::string& line : ring->lines(*limit))
        lines.push_back(escape_invalid_utf8(line));
    }
    send_json(res, 200, json{{"log", std::move(lines)}});
  }

  /// GET /events?after=SEQ&limit=N: the Raft events this node recorded
  /// (runtime/raft_events.hpp), for the monitor's history.
  void events(const httplib::Request& req, httplib::Response& res) {
    constexpr std::size_t kEventsLimitMax = 4096;
    std::uint64_t after = 0;
    std::size_t limit = 1000;
    if (const std::optional<std::string> text = query_param(req, "after")) {
      const std::optional<std::uint64_t> value = parse_u64(*text);
      if (!value) {
        send_error(res, 400, "after must be a non-negative integer (a sequence number)");
        return;
      }
      after = *value;
    }
    if (const std::optional<std::string> text = query_param(req, "limit")) {
      const std::optional<std::uint64_t> value = parse_u64(*text);
      if (!value || *value == 0 || *value > kEventsLimitMax) {
        send_error(res, 400, "limit must be an integer in 1.." + std::to_string(kEventsLimitMax));
        return;
      }
      limit = static_cast<std::size_t>(*value);
    }
    const runtime::RaftEventLog::Page page = driver.events(after, limit);
    json list = json::array();
    for (const runtime::RaftEvent& e : page.events) list.push_back(runtime::raft_event_json(e));
    const std::shared_ptr<const runtime::NodeStatus> s = driver.status();
    json body = {{"node_id", s ? json(std::to_string(s->rank)) : json(nullptr)},
                 {"boot", driver.started_us()},
                 {"first_seq", page.first_seq},
                 {"last_seq", page.last_seq},
                 {"lost", page.lost},
                 {"overwritten", page.overwritten},
                 {"events", std::move(list)}};
    send_json(res, 200, body);
  }

  void cmd_history(const httplib::Request&, httplib::Response& res) {
    std::vector<std::string> local;
    {
      std::lock_guard lock(history_mutex);
      local.assign(local_history.begin(), local_history.end());
    }
    json history = json::array();
    for (const std::string& line :
         merge_command_history(driver.command_history(), local, kHistoryLines)) {
      history.push_back(escape_invalid_utf8(line));
    }
    send_json(res, 200, json{{"history", std::move(history)}});
  }

  void command(const httplib::Request& req, httplib::Response& res) {
    const ParsedCommand parsed = parse_command_body(req.body);
    if (!parsed.ok()) {
      send_error(res, 400, parsed.error);
      return;
    }
    if (parsed.name == kShowKnownNodes) {
      show_known_nodes(res);
      return;
    }
    if (parsed.name == kSyncKnownNodes) {
      sync_known_nodes(res);
      return;
    }
    if (!is_loop_command(parsed.name)) {
      json body = error_json("unknown command '" + quote_for_error(parsed.name) + "'");
      body["valid_commands"] = valid_commands;
      send_json(res, 400, body);
      return;
    }
    std::future<runtime::CommandReply> future = driver.command(parsed.name, parsed.args);
    const std::optional<runtime::CommandReply> reply = wait_for(future, options.request_timeout_ms);
    if (!reply) {
      send_error(res, 504, "timed out waiting for the node's loop to run the command");
      return;
    }
    send_answer(res, command_answer(*reply));
  }

  void show_known_nodes(httplib::Response& res) {
    record_local(kShowKnownNodes);
    json body = json::object();
    body["ok"] = true;
    if (known == nullptr) {
      body["result"] = "discovery is not configured on this node";
      body["known_nodes"] = json::object();
      body["discovery_connected"] = false;
      send_json(res, 200, body);
      return;
    }
    const std::map<NodeId, std::string> nodes = known_nodes();
    std::string result = std::to_string(nodes.size()) + " known node" +
                         (nodes.size() == 1 ? "" : "s") + (nodes.empty() ? "" : ":");
    for (const auto& [rank, address] : nodes) {
      result += " " + std::to_string(rank) + "=" + address;
    }
    body["result"] = escape_invalid_utf8(result);
    body["known_nodes"] = known_nodes_json(nodes);
    body["discovery_connected"] = known->connected();
    send_json(res, 200, body);
  }

  void sync_known_nodes(httplib::Response& res) {
    record_local(kSyncKnownNodes);
    if (known == nullptr) {
      send_error(res, 400, "discovery is not configured on this node");
      return;
    }
    std::string error;
    const bool synced = known->sync_now(&error);
    const std::map<NodeId, std::string> nodes = known_nodes();
    json body = synced ? json{{"ok", true},
                              {"result", "synced with discovery: " + std::to_string(nodes.size()) +
                                             " known node" + (nodes.size() == 1 ? "" : "s")}}
                       : error_json("cannot sync with discovery: " +
                                    (error.empty() ? std::string("unknown error") : error));
    body["known_nodes"] = known_nodes_json(nodes);
    body["discovery_connected"] = known->connected();
    // A discovery outage is not the client's fault: 503, like a proxy would.
    send_json(res, synced ? 200 : 503, body);
  }

  void entries(const httplib::Request& req, httplib::Response& res) {
    const EntriesQuery query =
        parse_entries_query(query_param(req, "from"), query_param(req, "limit"));
    if (!query.ok()) {
      send_error(res, 400, query.error);
      return;
    }
    const std::optional<bool> full = flag_param(req, res, "full");
    if (!full) return;
    Index from = 1;
    if (query.from) {
      from = std::max<Index>(1, *query.from);
    } else if (const std::shared_ptr<const runtime::NodeStatus> s = driver.status()) {
      from = std::max<Index>(1, s->first_index);
    }
    const std::size_t data_bytes_max = *full ? std::string::npos : kDefaultEntryDataBytes;
    std::future<runtime::EntriesReply> future = driver.entries(from, query.limit, data_bytes_max);
    std::optional<runtime::EntriesReply> reply = wait_for(future, options.request_timeout_ms);
    if (!reply) {
      send_error(res, 504, "timed out waiting for the node's loop");
      return;
    }
    // Up to 4 MiB of entry bytes: each form (copies, JSON, text) is freed
    // as soon as the next is built, so the peak holds two of them, not four.
    std::string text;
    int status = 0;
    {
      JsonAnswer answer = entries_answer(*reply, data_bytes_max);
      reply.reset();
      status = answer.http_status;
      text = dump_json(answer.body);
    }
    send_json_text(res, status, std::move(text));
  }

  // ---- key-value store -------------------------------------------------------

  // Answered without a worker (Server::route_async): validated on the gate's
  // thread, answered from the loop's when the write commits or the read is
  // confirmed, or by the route's deadline (timeout_answer).

  /// The loop's answer becomes the HTTP answer, on the loop's thread.
  runtime::NodeDriver::KvDone answer_kv(Reply reply, const httplib::Request& req,
                                        KvRequestKind kind, std::string key) {
    return [this, reply, kind, key = std::move(key), target = req.target](runtime::KvReply r) {
      reply.answer([&](httplib::Response& res) {
        point_to_discoverys_leader(r);
        const std::string leader_url = url_of(r.leader_id);
        const JsonAnswer answer = kv_answer(r, kind, key, leader_url);
        if (answer.http_status == 307) res.set_header("Location", leader_url + target);
        send_answer(res, answer);
      });
    };
  }

  static void refuse(const Reply& reply, int status, const std::string& message) {
    reply.answer([&](httplib::Response& res) { send_error(res, status, message); });
  }

  void kv_get(const httplib::Request& req, Reply reply) {
    const KvKey key = parse_kv_key(req.target);
    if (!key.ok()) return refuse(reply, key.http_status, key.error);
    const std::optional<bool> stale = flag_in(req, "stale");
    if (!stale) return refuse(reply, 400, flag_problem("stale"));
    driver.kv_read(key.key, *stale, answer_kv(reply, req, KvRequestKind::Read, key.key));
  }

  void kv_put(const httplib::Request& req, Reply reply) {
    kv_write(req, std::move(reply), runtime::KvOp::Put);
  }
  void kv_delete(const httplib::Request& req, Reply reply) {
    kv_write(req, std::move(reply), runtime::KvOp::Delete);
  }
  void kv_post(const httplib::Request& req, Reply reply) {
    const std::optional<std::string> cas = query_param(req, "cas");
    const std::optional<bool> flag = cas ? parse_flag(*cas) : std::nullopt;
    if (!flag || !*flag) {
      return refuse(reply, 400,
                    "POST /kv/{key} is compare-and-set: add ?cas=1 and send "
                    "{\"expected\":\"old\",\"value\":\"new\"}; use PUT to write a value");
    }
    kv_write(req, std::move(reply), runtime::KvOp::Cas);
  }

  void kv_write(const httplib::Request& req, Reply reply, runtime::KvOp op) {
    const KvKey key = parse_kv_key(req.target);
    if (!key.ok()) return refuse(reply, key.http_status, key.error);
    runtime::KvCommand command;
    command.op = op;
    command.key = key.key;
    if (op == runtime::KvOp::Put) {
      if (const std::optional<std::string> problem = value_too_large(req.body.size())) {
        return refuse(reply, 413, *problem);
      }
      command.value = req.body;
    } else if (op == runtime::KvOp::Cas) {
      CasBody cas = parse_cas_body(req.body);
      if (!cas.ok()) return refuse(reply, cas.http_status, cas.error);
      command.expected = std::move(cas.expected);
      command.value = std::move(cas.value);
    }
    std::string problem = read_request_id(req, command);
    if (problem.empty()) problem = runtime::validate_kv_command(command);
    if (!problem.empty()) return refuse(reply, 400, problem);
    driver.kv_write(std::move(command), answer_kv(reply, req, KvRequestKind::Write, key.key));
  }

  /// The route's deadline answer.
  Handler timed_out(KvRequestKind kind) const {
    return [kind](const httplib::Request&, httplib::Response& res) {
      send_answer(res, timeout_answer(kind));
    };
  }

  /// X-Client-Id and X-Request-Seq (or ?client_id=&seq= in the URL, never
  /// from a form body, which is the value), for exactly-once
  /// writes. Returns the problem, or "" when they are absent or valid.
  static std::string read_request_id(const httplib::Request& req, runtime::KvCommand& command) {
    std::optional<std::string> client = header_or_param(req, "X-Client-Id", "client_id");
    if (!client) return {};
    const std::optional<std::string> seq_text = header_or_param(req, "X-Request-Seq", "seq");
    if (!seq_text) {
      return "X-Client-Id needs X-Request-Seq (a number that grows with each new request of "
             "that client)";
    }
    const std::optional<std::uint64_t> seq = parse_u64(*seq_text);
    if (!seq) return "X-Request-Seq must be a non-negative integer";
    command.client_id = std::move(*client);
    command.seq = *seq;
    return {};
  }

  /// A node whose storage failed knows no leader (its core is down), and a
  /// STANDBY node's hint is the leader that last reached it, which may have
  /// lost the lead since (nobody replicates to a node outside the
  /// configuration): both point clients at the one discovery knows.
  void point_to_discoverys_leader(runtime::KvReply& reply) const {
    // Most answers are successes, answered on the loop's thread: they need
    // neither the status lock nor discovery's.
    if (known == nullptr || reply.ok) return;
    const auto status = driver.status();
    if (!status) return;
    const bool standby = status->role == Role::Standby && !reply.ok &&
                         (reply.http_status == 307 || reply.http_status == 503);
    const bool failed =
        reply.http_status == 503 && reply.leader_id == kNoNode && !status->storage_error.empty();
    if (!standby && !failed) return;
    const std::optional<NodeId> leader = known->leader();
    if (!leader || *leader == options.rank || url_of(*leader).empty()) return;
    reply.leader_id = *leader;
    reply.http_status = 307;
  }

  void install_routes() {
    server.asset("/", assets::kNodeHtml, "text/html; charset=utf-8");
    server.asset("/node.css", assets::kNodeCss, "text/css; charset=utf-8");
    server.asset("/node.js", assets::kNodeJs, "text/javascript; charset=utf-8");
    server.asset("/theme.css", assets::kThemeCss, "text/css; charset=utf-8");
    server.asset("/theme.js", assets::kThemeJs, "text/javascript; charset=utf-8");
    server.healthz();
    server.route("GET", "/metrics", handle(&Impl::prometheus));
    server.route("GET", "/status", handle(&Impl::status));
    server.route("GET", "/log", handle(&Impl::log));
    server.route("GET", "/cmd_history", handle(&Impl::cmd_history));
    server.route("GET", "/events", handle(&Impl::events));
    server.route("GET", "/entries", handle(&Impl::entries));
    server.route("POST", "/command", handle(&Impl::command), true);
    const std::chrono::milliseconds deadline(options.request_timeout_ms);
    const auto kv = [this, deadline](const char* method, AsyncMethod serve, bool mutates) {
      server.route_async(
          method, "/kv/*",
          [this, serve](const httplib::Request& req, Reply reply) {
            (this->*serve)(req, std::move(reply));
          },
          mutates, deadline, timed_out(mutates ? KvRequestKind::Write : KvRequestKind::Read));
    };
    kv("GET", &Impl::kv_get, false);
    kv("PUT", &Impl::kv_put, true);
    kv("DELETE", &Impl::kv_delete, true);
    kv("POST", &Impl::kv_post, true);
    server.on_answered([this](const httplib::Request& req, const httplib::Response& res) {
      if (metrics) metrics->count_http_request(method_label(req.method), res.status);
    });
  }
};

NodeServer::NodeServer(NodeServerOptions options, runtime::NodeDriver& driver,
                       KnownNodesSource* known_nodes, std::shared_ptr<runtime::Metrics> metrics,
                       std::shared_ptr<runtime::LogRing> log_ring)
    : impl_(std::make_unique<Impl>(std::move(options), driver, known_nodes, std::move(metrics),
                                   std::move(log_ring))) {}

NodeServer::~NodeServer() { stop(); }

bool NodeServer::start(std::string* error) { return impl_->server.start(error); }

void NodeServer::stop() { impl_->server.stop(); }

int NodeServer::port() const { return impl_->server.port(); }

}  // namespace raft::http
