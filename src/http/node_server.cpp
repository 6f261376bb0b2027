#include "http/node_server.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include <httplib.h>

#include "auth/http_auth.hpp"
#include "http/elastic_thread_pool.hpp"
#include "http/json_views.hpp"
#include "http/node_assets.hpp"
#include "http/request_parsing.hpp"
#include "http/server_socket.hpp"
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
/// HTTP workers an idle node keeps; more start on demand up to
/// NodeServerOptions::threads and end after this long without work.
constexpr std::size_t kIdleHttpThreads = 8;
constexpr std::chrono::milliseconds kHttpThreadIdleExit{10'000};

/// No inline script or style, nothing from other origins: the page is
/// self-contained, and injected markup could not run even if it got in.
constexpr const char* kPageSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The methods each known path accepts (for 405 and Allow); empty = unknown.
std::string allowed_methods(const std::string& path) {
  if (path == "/" || path == "/node.css" || path == "/node.js" || path == "/status" ||
      path == "/log" || path == "/cmd_history" || path == "/entries" || path == "/metrics" ||
      path == "/healthz") {
    return "GET, HEAD";
  }
  if (path == "/command") return "POST";
  if (path.rfind("/kv/", 0) == 0) return "GET, HEAD, PUT, DELETE, POST";
  return {};
}

/// Method names become metric labels: anything unusual is folded so a client
/// cannot inject text into the Prometheus output.
std::string method_label(const std::string& method) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (method == known) return method;
  }
  return "OTHER";
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(dump_json(body), "application/json");
}

void send_answer(httplib::Response& res, const JsonAnswer& answer) {
  send_json(res, answer.http_status, answer.body);
}

std::optional<std::string> param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

/// Header first, then query parameter.
std::optional<std::string> header_or_param(const httplib::Request& req, const char* header,
                                           const char* name) {
  if (req.has_header(header)) return req.get_header_value(header);
  return param(req, name);
}

std::string clock_prefix() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &local);
  return buf;
}

/// One line of an exception's message, for a 500 answer.
std::string one_line(std::string_view what) {
  std::string_view first = what.substr(0, what.find_first_of("\r\n"));
  return quote_for_error(first, 200);
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

  Impl(NodeServerOptions o, runtime::NodeDriver& d, KnownNodesSource* k,
       std::shared_ptr<runtime::Metrics> m, std::shared_ptr<runtime::LogRing> r)
      : options(std::move(o)), driver(d), known(k), metrics(std::move(m)), ring(std::move(r)) {
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

  httplib::Server server;
  std::thread thread;
  int port = 0;
  bool started = false;

  std::mutex history_mutex;
  std::deque<std::string> local_history;  ///< discovery commands, oldest first

  // ---- helpers -------------------------------------------------------------

  /// A mutating request without the configured token gets 401 here (false).
  bool authorized(const httplib::Request& req, httplib::Response& res) const {
    const std::optional<std::string> problem = auth::refusal(options.auth_token, req, res);
    if (problem) send_json(res, 401, error_json(*problem));
    return !problem;
  }

  httplib::Server::Handler guard(Method method) {
    return [this, method](const httplib::Request& req, httplib::Response& res) {
      try {
        (this->*method)(req, res);
      } catch (const std::future_error&) {
        send_json(res, 503, error_json("the node is shutting down"));
      } catch (const std::exception& e) {
        send_json(res, 500, error_json("internal error: " + one_line(e.what())));
      } catch (...) {
        send_json(res, 500, error_json("internal error"));
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

  // ---- static content -------------------------------------------------------

  void page(const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", kPageSecurityPolicy);
    res.set_header("Cache-Control", "no-cache");
    res.set_content(assets::kNodeHtml.data(), assets::kNodeHtml.size(), "text/html; charset=utf-8");
  }
  void css(const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(assets::kNodeCss.data(), assets::kNodeCss.size(), "text/css; charset=utf-8");
  }
  void js(const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(assets::kNodeJs.data(), assets::kNodeJs.size(),
                    "text/javascript; charset=utf-8");
  }
  void healthz(const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
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
      send_json(res, 503, error_json("the node is starting; try again shortly"));
      return;
    }
    std::optional<std::string> leader_url;
    if (s->leader_id != kNoNode) leader_url = url_of(s->leader_id);
    send_json(res, 200, status_json(*s, steady_now_ms(), leader_url));
  }

  void log(const httplib::Request& req, httplib::Response& res) {
    const std::optional<std::size_t> limit = parse_log_limit(param(req, "limit"));
    if (!limit) {
      send_json(res, 400, error_json("limit must be a positive integer (at most 1000 are kept)"));
      return;
    }
    json lines = json::array();
    if (ring) {
      for (const std::string& line : ring->lines(*limit))
        lines.push_back(escape_invalid_utf8(line));
    }
    send_json(res, 200, json{{"log", std::move(lines)}});
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
    if (!authorized(req, res)) return;
    const ParsedCommand parsed = parse_command_body(req.body);
    if (!parsed.ok()) {
      send_json(res, 400, error_json(parsed.error));
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
      send_json(res, 504, error_json("timed out waiting for the node's loop to run the command"));
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
      send_json(res, 400, error_json("discovery is not configured on this node"));
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
    const EntriesQuery query = parse_entries_query(param(req, "from"), param(req, "limit"));
    if (!query.ok()) {
      send_json(res, 400, error_json(query.error));
      return;
    }
    bool full = false;
    if (const std::optional<std::string> f = param(req, "full")) {
      const std::optional<bool> flag = parse_flag(*f);
      if (!flag) {
        send_json(res, 400, error_json("full must be true or false"));
        return;
      }
      full = *flag;
    }
    Index from = 1;
    if (query.from) {
      from = std::max<Index>(1, *query.from);
    } else if (const std::shared_ptr<const runtime::NodeStatus> s = driver.status()) {
      from = std::max<Index>(1, s->first_index);
    }
    std::future<runtime::EntriesReply> future = driver.entries(from, query.limit);
    const std::optional<runtime::EntriesReply> reply = wait_for(future, options.request_timeout_ms);
    if (!reply) {
      send_json(res, 504, error_json("timed out waiting for the node's loop"));
      return;
    }
    send_answer(res, entries_answer(*reply, full ? std::string::npos : kDefaultEntryDataBytes));
  }

  // ---- key-value store -------------------------------------------------------

  void kv_get(const httplib::Request& req, httplib::Response& res) {
    const KvKey key = parse_kv_key(req.target);
    if (!key.ok()) {
      send_json(res, key.http_status, error_json(key.error));
      return;
    }
    bool stale = false;
    if (const std::optional<std::string> s = param(req, "stale")) {
      const std::optional<bool> flag = parse_flag(*s);
      if (!flag) {
        send_json(res, 400, error_json("stale must be true or false"));
        return;
      }
      stale = *flag;
    }
    std::future<runtime::KvReply> future = driver.kv_read(key.key, stale);
    finish_kv(req, res, future, KvRequestKind::Read, key.key);
  }

  void kv_put(const httplib::Request& req, httplib::Response& res) {
    kv_write(req, res, runtime::KvOp::Put);
  }
  void kv_delete(const httplib::Request& req, httplib::Response& res) {
    kv_write(req, res, runtime::KvOp::Delete);
  }
  void kv_post(const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    const std::optional<std::string> cas = param(req, "cas");
    const std::optional<bool> flag = cas ? parse_flag(*cas) : std::nullopt;
    if (!flag || !*flag) {
      json body = error_json(
          "POST /kv/{key} is compare-and-set: add ?cas=1 and send "
          "{\"expected\":\"old\",\"value\":\"new\"}; use PUT to write a value");
      send_json(res, 400, body);
      return;
    }
    kv_write(req, res, runtime::KvOp::Cas);
  }

  void kv_write(const httplib::Request& req, httplib::Response& res, runtime::KvOp op) {
    if (!authorized(req, res)) return;
    const KvKey key = parse_kv_key(req.target);
    if (!key.ok()) {
      send_json(res, key.http_status, error_json(key.error));
      return;
    }
    runtime::KvCommand command;
    command.op = op;
    command.key = key.key;
    if (op == runtime::KvOp::Put) {
      if (req.body.size() > runtime::kMaxValueBytes) {
        send_json(res, 413,
                  error_json("the value is " + std::to_string(req.body.size()) +
                             " bytes; the limit is " + std::to_string(runtime::kMaxValueBytes)));
        return;
      }
      command.value = req.body;
    } else if (op == runtime::KvOp::Cas) {
      CasBody cas = parse_cas_body(req.body);
      if (!cas.ok()) {
        send_json(res, cas.http_status, error_json(cas.error));
        return;
      }
      command.expected = std::move(cas.expected);
      command.value = std::move(cas.value);
    }
    if (std::optional<std::string> client = header_or_param(req, "X-Client-Id", "client_id")) {
      const std::optional<std::string> seq_text = header_or_param(req, "X-Request-Seq", "seq");
      if (!seq_text) {
        send_json(res, 400,
                  error_json("X-Client-Id needs X-Request-Seq (a number that grows with "
                             "each new request of that client)"));
        return;
      }
      const std::optional<std::uint64_t> seq = parse_u64(*seq_text);
      if (!seq) {
        send_json(res, 400, error_json("X-Request-Seq must be a non-negative integer"));
        return;
      }
      command.client_id = std::move(*client);
      command.seq = *seq;
    }
    if (const std::string problem = runtime::validate_kv_command(command); !problem.empty()) {
      send_json(res, 400, error_json(problem));
      return;
    }
    std::future<runtime::KvReply> future = driver.kv_write(std::move(command));
    finish_kv(req, res, future, KvRequestKind::Write, key.key);
  }

  void finish_kv(const httplib::Request& req, httplib::Response& res,
                 std::future<runtime::KvReply>& future, KvRequestKind kind,
                 const std::string& key) {
    const std::optional<runtime::KvReply> reply = wait_for(future, options.request_timeout_ms);
    if (!reply) {
      send_answer(res, timeout_answer(kind));
      return;
    }
    const std::string leader_url = url_of(reply->leader_id);
    const JsonAnswer answer = kv_answer(*reply, kind, key, leader_url);
    if (answer.http_status == 307) res.set_header("Location", leader_url + req.target);
    send_answer(res, answer);
  }

  // ---- errors ----------------------------------------------------------------

  /// Any path with any method not routed above: 405 on a known path, else 404.
  void fallback(const httplib::Request& req, httplib::Response& res) {
    const std::string allow = allowed_methods(req.path);
    if (allow.empty()) {
      send_json(res, 404, error_json("no such path: " + quote_for_error(req.path)));
      return;
    }
    res.set_header("Allow", allow);
    if (req.method == "OPTIONS") {
      res.status = 204;
      return;
    }
    send_json(res, 405,
              error_json("method " + quote_for_error(req.method, 16) +
                         " is not allowed on this path; allowed: " + allow));
  }

  void install_routes() {
    server.Get("/", guard(&Impl::page));
    server.Get("/node.css", guard(&Impl::css));
    server.Get("/node.js", guard(&Impl::js));
    server.Get("/healthz", guard(&Impl::healthz));
    server.Get("/metrics", guard(&Impl::prometheus));
    server.Get("/status", guard(&Impl::status));
    server.Get("/log", guard(&Impl::log));
    server.Get("/cmd_history", guard(&Impl::cmd_history));
    server.Get("/entries", guard(&Impl::entries));
    server.Post("/command", guard(&Impl::command));
    // [\s\S] rather than '.': decoded keys may contain line breaks.
    const std::string kv = R"(/kv/[\s\S]*)";
    server.Get(kv, guard(&Impl::kv_get));
    server.Put(kv, guard(&Impl::kv_put));
    server.Delete(kv, guard(&Impl::kv_delete));
    server.Post(kv, guard(&Impl::kv_post));
    const std::string any = R"([\s\S]*)";
    server.Get(any, guard(&Impl::fallback));
    server.Post(any, guard(&Impl::fallback));
    server.Put(any, guard(&Impl::fallback));
    server.Delete(any, guard(&Impl::fallback));
    server.Patch(any, guard(&Impl::fallback));
    server.Options(any, guard(&Impl::fallback));

    // httplib calls this for every answer >= 400, ours included: only fill in
    // a body where httplib itself answered (bad request line, 413, ...).
    server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string message;
      switch (res.status) {
        case 400: message = "malformed HTTP request"; break;
        case 404: message = "no such path: " + quote_for_error(req.path); break;
        case 413:
          message = "the request body is too large (the limit is " +
                    std::to_string(options.max_body_bytes) + " bytes)";
          break;
        case 414: message = "the request URI is too long"; break;
        default: message = "HTTP error " + std::to_string(res.status); break;
      }
      send_json(res, res.status, error_json(message));
    });
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          send_json(res, 500, error_json("internal error"));
        });
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
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

bool NodeServer::start(std::string* error) {
  Impl& s = *impl_;
  const auto fail = [&](const std::string& message) {
    if (error) *error = message;
    return false;
  };
  if (s.started) return fail("the HTTP server was already started");

  const std::size_t threads = std::max<std::size_t>(1, s.options.threads);
  const std::size_t min_threads = std::min<std::size_t>(threads, kIdleHttpThreads);
  s.server.new_task_queue = [threads, min_threads] {
    return new ElasticThreadPool(min_threads, threads, kHttpThreadIdleExit);
  };
  s.server.set_payload_max_length(s.options.max_body_bytes);
  // Headers and body go out as separate writes: without TCP_NODELAY, Nagle
  // plus the client's delayed ACK adds ~40 ms to every answer.
  s.server.set_tcp_nodelay(true);
  // Few threads: an idle keep-alive connection should not hold one for long.
  s.server.set_keep_alive_timeout(2);
  s.server.set_keep_alive_max_count(100);
  s.server.set_default_headers({{"X-Content-Type-Options", "nosniff"}});
  s.install_routes();

  std::string why;
  s.port = bind_server(s.server, s.options.bind, s.options.port, &why);
  if (s.port == 0) return fail(why);
  s.started = true;
  s.thread = std::thread([&s] { s.server.listen_after_bind(); });
  // stop() only takes effect once the server runs: wait for it (briefly).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!s.server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void NodeServer::stop() {
  Impl& s = *impl_;
  if (!s.thread.joinable()) return;
  // start() waited until the server runs, so this stop() takes effect.
  s.server.stop();
  s.thread.join();
}

int NodeServer::port() const { return impl_->port; }

}  // namespace raft::http
