#include "monitor/monitor_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "auth/http_auth.hpp"
#include "discovery/address.hpp"
#include "http/json_views.hpp"
#include "http/request_parsing.hpp"
#include "http/server_socket.hpp"
#include "monitor/cluster_poller.hpp"
#include "monitor/monitor_assets.hpp"
#include "monitor/routing.hpp"
#include "runtime/kv_command.hpp"

namespace raft::monitor {

namespace {

using nlohmann::json;

/// No inline script or style and nothing from other origins: the page is
/// self-contained, and markup that slipped in could not run.
constexpr const char* kPageSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Exactly this string: httplib would gzip a chunked answer of any other
/// text/ type (and a browser would then see events only when zlib flushes).
constexpr const char* kEventStreamType = "text/event-stream";

/// A key-value request tries the leader and then at most this many nodes in
/// all (only while connections are refused, so nothing is sent twice).
constexpr std::size_t kKvAttemptsMax = 3;

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(http::dump_json(body), "application/json");
}

void send_error(httplib::Response& res, int status, std::string_view message) {
  send_json(res, status, http::error_json(message));
}

std::optional<std::string> param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

/// A node's answer, passed on with its status and body unchanged. Only the
/// content type is restricted: whatever a node sends must not become a page
/// in the monitor's origin.
void send_forwarded(httplib::Response& res, const FetchResult& answer, NodeId node) {
  res.status = answer.status;
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Raft-Node", std::to_string(node));
  const bool is_json = answer.content_type.rfind("application/json", 0) == 0;
  res.set_content(answer.body, is_json ? "application/json" : "text/plain; charset=utf-8");
}

/// Client text fit for a log line: control bytes become '?', so a request
/// cannot forge lines or colour codes in the monitor's output.
std::string printable(std::string_view text) {
  std::string out = http::quote_for_error(text, 48);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string one_line(std::string_view what) {
  return http::quote_for_error(what.substr(0, what.find_first_of("\r\n")), 200);
}

std::string known_ids(const ClusterSnapshot* snapshot) {
  if (snapshot == nullptr || snapshot->targets.empty()) return "none";
  std::string out;
  for (const NodeTarget& target : snapshot->targets) {
    if (!out.empty()) out += ", ";
    out += std::to_string(target.id);
  }
  return out;
}

/// The methods each fixed path accepts; empty = not a path of ours.
std::string allowed_methods(const std::string& path) {
  if (path == "/" || path == "/monitor.css" || path == "/monitor.js" || path == "/healthz" ||
      path == "/favicon.ico" || path == "/api/cluster" || path == "/api/events") {
    return "GET, HEAD";
  }
  if (path.rfind("/api/kv/", 0) == 0) return "GET, HEAD, PUT, DELETE";
  if (path.rfind("/api/nodes/", 0) == 0) {
    const NodeRoute route = parse_node_route(path);
    if (route.ok()) return std::string(node_route_methods(route.action));
  }
  return {};
}

}  // namespace

struct MonitorServer::Impl {
  using Method = void (Impl::*)(const httplib::Request&, httplib::Response&);

  Impl(MonitorOptions o, ClusterPoller& p) : options(std::move(o)), poller(p) {}

  MonitorOptions options;
  ClusterPoller& poller;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  bool started = false;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> sse_clients{0};

  httplib::Server::Handler guard(Method method) {
    return [this, method](const httplib::Request& req, httplib::Response& res) {
      try {
        (this->*method)(req, res);
      } catch (const std::exception& e) {
        send_error(res, 500, "internal error: " + one_line(e.what()));
      } catch (...) {
        send_error(res, 500, "internal error");
      }
    };
  }

  /// The latest snapshot. With `fresh`, one older than a few poll intervals
  /// (the poller was idle) is replaced by a new round first.
  std::shared_ptr<const ClusterSnapshot> snapshot(bool fresh) {
    poller.note_demand();
    std::shared_ptr<const ClusterSnapshot> snap = poller.latest();
    const std::uint64_t max_age_ms = std::max<std::uint64_t>(
        1000, 4u * static_cast<std::uint64_t>(std::max(1, poller.options().poll_interval_ms)));
    if (!snap || (fresh && steady_ms() - snap->taken_at_ms > max_age_ms)) {
      poller.request_round();
      snap = poller.wait_newer(snap ? snap->seq : 0, std::chrono::milliseconds(2000), &stopping);
    }
    return snap;
  }

  /// A mutating request without the configured token gets 401 here (false).
  bool authorized(const httplib::Request& req, httplib::Response& res) const {
    const std::optional<std::string> problem = auth::refusal(options.auth_token, req, res);
    if (problem) send_error(res, 401, *problem);
    return !problem;
  }

  /// The client's Authorization travels on to the node, which checks it too.
  static void forward_authorization(const httplib::Request& req, FetchRequest& request) {
    if (req.has_header("Authorization")) {
      request.headers.emplace_back("Authorization", req.get_header_value("Authorization"));
    }
  }

  // ---- page ------------------------------------------------------------------

  void page(const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", kPageSecurityPolicy);
    res.set_header("Cache-Control", "no-cache");
    res.set_content(assets::kIndexHtml.data(), assets::kIndexHtml.size(),
                    "text/html; charset=utf-8");
  }
  void css(const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(assets::kMonitorCss.data(), assets::kMonitorCss.size(),
                    "text/css; charset=utf-8");
  }
  void js(const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(assets::kMonitorJs.data(), assets::kMonitorJs.size(),
                    "text/javascript; charset=utf-8");
  }
  void favicon(const httplib::Request&, httplib::Response& res) { res.status = 204; }
  void healthz(const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content("ok", "text/plain");
  }

  // ---- cluster state -------------------------------------------------------------

  void cluster(const httplib::Request&, httplib::Response& res) {
    const std::shared_ptr<const ClusterSnapshot> snap = snapshot(true);
    if (!snap) {
      send_error(res, 503, "the monitor has not finished its first look at the cluster yet");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(snap->json_text, "application/json");
  }

  /// Server-Sent Events: every new snapshot as one `data:` line, a comment
  /// when nothing new came for sse_keepalive_ms. The stream holds one pool
  /// thread while open, waiting on the poller (no polling of its own).
  void events(const httplib::Request&, httplib::Response& res) {
    if (stopping.load()) {
      send_error(res, 503, "the monitor is shutting down");
      return;
    }
    if (sse_clients.fetch_add(1) >= options.max_sse_clients) {
      sse_clients.fetch_sub(1);
      send_error(res, 503,
                 "too many event streams are open (the limit is " +
                     std::to_string(options.max_sse_clients) + "); poll /api/cluster instead");
      return;
    }
    poller.note_demand();
    struct Stream {
      std::uint64_t last_seq = 0;
      bool started = false;
    };
    auto stream = std::make_shared<Stream>();
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        kEventStreamType,
        [this, stream](std::size_t, httplib::DataSink& sink) {
          if (!stream->started) {
            stream->started = true;
            // Reconnect quickly after a monitor restart.
            static constexpr std::string_view kHello = "retry: 1000\n\n";
            if (!sink.write(kHello.data(), kHello.size())) return false;
          }
          std::shared_ptr<const ClusterSnapshot> snap = poller.latest();
          if (!snap || snap->seq <= stream->last_seq) {
            snap = poller.wait_newer(
                stream->last_seq, std::chrono::milliseconds(options.sse_keepalive_ms), &stopping);
          }
          if (stopping.load() || poller.stopped()) {
            sink.done();
            return true;
          }
          poller.note_demand();  // an open stream keeps the fast cadence
          if (snap && snap->seq > stream->last_seq) {
            stream->last_seq = snap->seq;
            const std::string event =
                "id: " + std::to_string(snap->seq) + "\ndata: " + snap->json_text + "\n\n";
            return sink.write(event.data(), event.size());
          }
          static constexpr std::string_view kKeepAlive = ": keep-alive\n\n";
          return sink.write(kKeepAlive.data(), kKeepAlive.size());
        },
        // Runs when the response is destroyed, however the stream ended.
        [this](bool) { sse_clients.fetch_sub(1); });
  }

  // ---- one node ----------------------------------------------------------------

  void node_request(const httplib::Request& req, httplib::Response& res) {
    const NodeRoute route = parse_node_route(req.path);
    if (!route.ok()) {
      send_error(res, 404, route.error);
      return;
    }
    const bool is_command = route.action == "command";
    const bool method_ok =
        is_command ? req.method == "POST" : (req.method == "GET" || req.method == "HEAD");
    if (!method_ok) {
      method_not_allowed(req, res, std::string(node_route_methods(route.action)));
      return;
    }
    if (is_command && !authorized(req, res)) return;
    if (is_command && req.body.size() > options.command_body_max) {
      send_error(res, 413,
                 "the command body is " + std::to_string(req.body.size()) +
                     " bytes; the limit is " + std::to_string(options.command_body_max));
      return;
    }

    FetchRequest request;
    request.path = node_path_for(route.action);
    FetchOptions fetch_options = options.read_fetch;
    if (is_command) {
      forward_authorization(req, request);
      request.method = "POST";
      request.body = req.body;
      request.content_type = "application/json";
      fetch_options = options.command_fetch;
    } else if (route.action == "log") {
      const std::optional<std::size_t> limit = http::parse_log_limit(param(req, "limit"));
      if (!limit) {
        send_error(res, 400, "limit must be a positive integer (at most 1000 lines are kept)");
        return;
      }
      request.path += "?limit=" + std::to_string(*limit);
    } else if (route.action == "entries") {
      const http::EntriesQuery query =
          http::parse_entries_query(param(req, "from"), param(req, "limit"));
      if (!query.ok()) {
        send_error(res, 400, query.error);
        return;
      }
      request.path += "?limit=" + std::to_string(query.limit);
      if (query.from) request.path += "&from=" + std::to_string(*query.from);
    }

    const std::shared_ptr<const ClusterSnapshot> snap = snapshot(false);
    const NodeTarget* target = snap ? snap->find(route.id) : nullptr;
    if (target == nullptr) {
      send_error(res, 404,
                 "no node with id " + std::to_string(route.id) +
                     " (known: " + known_ids(snap.get()) + ")");
      return;
    }
    const std::optional<Endpoint> endpoint = parse_address(target->address);
    if (!endpoint) {
      send_error(res, 502,
                 "node " + std::to_string(route.id) +
                     (target->address.empty() ? " has not registered with discovery yet"
                                              : " has no valid address"));
      return;
    }
    const FetchResult answer = fetch(*endpoint, request, fetch_options);
    if (is_command) {
      const http::ParsedCommand parsed = http::parse_command_body(req.body);
      spdlog::info("node {}: command {} -> {}", route.id,
                   parsed.ok() ? printable(parsed.name) : std::string("(malformed body)"),
                   answer.ok() ? "HTTP " + std::to_string(answer.status) : answer.error);
    }
    if (!answer.ok()) {
      send_unreachable(res, route.id, answer);
      return;
    }
    send_forwarded(res, answer, route.id);
  }

  static void send_unreachable(httplib::Response& res, NodeId id, const FetchResult& answer) {
    const std::string node = "node " + std::to_string(id);
    json body = http::error_json(answer.connect_failed ? node + " is unreachable"
                                                       : node + " did not answer: " + answer.error);
    body["detail"] = answer.error;
    send_json(res, 502, body);
  }

  // ---- key-value store -------------------------------------------------------------

  /// The node a 307 from `from` points at: its leader_id, else the node whose
  /// URL is the Location's origin. Only nodes the monitor knows are
  /// followed, so a redirect cannot send the monitor anywhere else.
  static const NodeTarget* redirect_target(const ClusterSnapshot& snap, const FetchResult& answer) {
    const json body = json::parse(answer.body, nullptr, false);
    if (body.is_object()) {
      if (auto id = body.find("leader_id"); id != body.end() && id->is_string()) {
        if (auto rank = discovery::parse_node_id(id->get_ref<const std::string&>())) {
          if (const NodeTarget* target = snap.find(*rank)) return target;
        }
      }
    }
    if (const std::optional<std::string> origin = http_origin(answer.location)) {
      for (const NodeTarget& target : snap.targets) {
        if (http_origin(target.api_url) == origin) return &target;
      }
    }
    return nullptr;
  }

  void kv(const httplib::Request& req, httplib::Response& res) {
    const KvRoute route = parse_kv_route(req.target, param(req, "stale"));
    if (!route.ok()) {
      send_error(res, route.http_status, route.error);
      return;
    }
    const bool is_write = req.method != "GET" && req.method != "HEAD";
    if (is_write && !authorized(req, res)) return;
    if (req.method == "PUT" && req.body.size() > runtime::kMaxValueBytes) {
      send_error(res, 413,
                 "the value is " + std::to_string(req.body.size()) + " bytes; the limit is " +
                     std::to_string(runtime::kMaxValueBytes));
      return;
    }
    FetchRequest request;
    request.method = req.method == "HEAD" ? "GET" : req.method;
    request.path = route.node_path;
    if (req.method == "PUT") {
      request.body = req.body;
      // The value is bytes whatever the browser called it; a form type would
      // make the node's server parse (and cap) it as a form.
      request.content_type = "application/octet-stream";
    }
    forward_authorization(req, request);
    // Exactly-once writes: the client's id and sequence number travel along.
    for (const char* header : {"X-Client-Id", "X-Request-Seq"}) {
      if (req.has_header(header))
        request.headers.emplace_back(header, req.get_header_value(header));
    }

    const std::shared_ptr<const ClusterSnapshot> snap = snapshot(false);
    if (!snap) {
      send_error(res, 503, "no leader known: the monitor has not reached the cluster yet");
      return;
    }
    // The leader first; then nodes that answered lately, which redirect to
    // the leader they know (or say that they know none).
    std::vector<const NodeTarget*> candidates;
    const NodeTarget* leader =
        snap->leader.leader != kNoNode ? snap->find(snap->leader.leader) : nullptr;
    if (leader != nullptr) candidates.push_back(leader);
    for (std::size_t i = 0; i < snap->targets.size() && candidates.size() < kKvAttemptsMax; ++i) {
      if (&snap->targets[i] != leader && snap->reachable(i))
        candidates.push_back(&snap->targets[i]);
    }
    if (candidates.empty()) {
      send_error(res, 503, "no leader known, and no node is reachable");
      return;
    }

    std::string failures;
    for (const NodeTarget* target : candidates) {
      const std::optional<Endpoint> endpoint = parse_address(target->address);
      if (!endpoint) continue;
      const FetchResult answer = fetch(*endpoint, request, options.kv_fetch);
      if (!answer.ok()) {
        if (answer.connect_failed) {
          // Nothing was sent: trying another node cannot apply a write twice.
          failures += (failures.empty() ? "" : "; ") + std::string("node ") +
                      std::to_string(target->id) + ": " + answer.error;
          continue;
        }
        send_kv_failure(res, req, target->id, answer);
        return;
      }
      if (answer.status != 307) {
        send_forwarded(res, answer, target->id);
        return;
      }
      follow_redirect(req, res, *snap, *target, answer, request);
      return;
    }
    json body = http::error_json(leader != nullptr
                                     ? "leader " + std::to_string(leader->id) + " is unreachable"
                                     : std::string("no node could be reached"));
    body["detail"] = failures;
    send_json(res, 502, body);
  }

  /// One redirect is followed, to a node the monitor knows; a second one
  /// means leadership is moving right now.
  void follow_redirect(const httplib::Request& req, httplib::Response& res,
                       const ClusterSnapshot& snap, const NodeTarget& from,
                       const FetchResult& redirect, const FetchRequest& request) {
    const NodeTarget* leader = redirect_target(snap, redirect);
    if (leader == nullptr) {
      send_error(res, 503,
                 "node " + std::to_string(from.id) +
                     " points at a leader the monitor does not know yet; try again shortly");
      return;
    }
    const std::optional<Endpoint> endpoint = parse_address(leader->address);
    if (!endpoint) {
      send_error(res, 502, "node " + std::to_string(leader->id) + " has no valid address");
      return;
    }
    const FetchResult answer = fetch(*endpoint, request, options.kv_fetch);
    if (!answer.ok()) {
      if (answer.connect_failed) {
        send_unreachable(res, leader->id, answer);
      } else {
        send_kv_failure(res, req, leader->id, answer);
      }
      return;
    }
    if (answer.status == 307) {
      json body = http::error_json("leadership is changing (node " + std::to_string(leader->id) +
                                   " redirects again); try again shortly");
      send_json(res, 503, body);
      return;
    }
    send_forwarded(res, answer, leader->id);
  }

  static void send_kv_failure(httplib::Response& res, const httplib::Request& req, NodeId id,
                              const FetchResult& answer) {
    std::string message = "node " + std::to_string(id) + " did not answer: " + answer.error;
    if (req.method != "GET" && req.method != "HEAD") {
      message += " (the write may or may not have been applied)";
    }
    json body = http::error_json(message);
    body["detail"] = answer.error;
    send_json(res, 502, body);
  }

  // ---- errors --------------------------------------------------------------------

  void method_not_allowed(const httplib::Request& req, httplib::Response& res,
                          const std::string& allow) {
    res.set_header("Allow", allow);
    if (req.method == "OPTIONS") {
      res.status = 204;
      return;
    }
    send_error(res, 405,
               "method " + http::quote_for_error(req.method, 16) +
                   " is not allowed on this path; allowed: " + allow);
  }

  /// Any path and method not routed above: 405 on a known path, else 404.
  void fallback(const httplib::Request& req, httplib::Response& res) {
    const std::string allow = allowed_methods(req.path);
    if (allow.empty()) {
      send_error(res, 404, "no such path: " + http::quote_for_error(req.path));
      return;
    }
    method_not_allowed(req, res, allow);
  }

  void install_routes() {
    server.Get("/", guard(&Impl::page));
    server.Get("/monitor.css", guard(&Impl::css));
    server.Get("/monitor.js", guard(&Impl::js));
    server.Get("/favicon.ico", guard(&Impl::favicon));
    server.Get("/healthz", guard(&Impl::healthz));
    server.Get("/api/cluster", guard(&Impl::cluster));
    server.Get("/api/events", guard(&Impl::events));
    // [\s\S] rather than '.': decoded paths may contain line breaks.
    const std::string nodes = R"(/api/nodes/[\s\S]*)";
    server.Get(nodes, guard(&Impl::node_request));
    server.Post(nodes, guard(&Impl::node_request));
    const std::string kv = R"(/api/kv/[\s\S]*)";
    server.Get(kv, guard(&Impl::kv));
    server.Put(kv, guard(&Impl::kv));
    server.Delete(kv, guard(&Impl::kv));
    const std::string any = R"([\s\S]*)";
    server.Get(any, guard(&Impl::fallback));
    server.Post(any, guard(&Impl::fallback));
    server.Put(any, guard(&Impl::fallback));
    server.Delete(any, guard(&Impl::fallback));
    server.Patch(any, guard(&Impl::fallback));
    server.Options(any, guard(&Impl::fallback));

    // httplib calls this for every answer >= 400, ours included: only fill
    // in a body where httplib itself answered (bad request line, 413, ...).
    server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty() || res.is_chunked_content_provider_) return;
      std::string message;
      switch (res.status) {
        case 400: message = "malformed HTTP request"; break;
        case 404: message = "no such path: " + http::quote_for_error(req.path); break;
        case 405: message = "method not allowed"; break;
        case 413:
          // httplib caps form-encoded bodies far below our own limit.
          if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) ==
              0) {
            message =
                "form-encoded bodies are limited to 8192 bytes; send application/json or "
                "application/octet-stream";
          } else {
            message = "the request body is too large (the limit is " +
                      std::to_string(options.kv_body_max) + " bytes)";
          }
          break;
        case 414: message = "the request URI is too long"; break;
        default: message = "HTTP error " + std::to_string(res.status); break;
      }
      send_error(res, res.status, message);
    });
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          send_error(res, 500, "internal error");
        });
  }
};

MonitorServer::MonitorServer(MonitorOptions options, ClusterPoller& poller)
    : impl_(std::make_unique<Impl>(std::move(options), poller)) {}

MonitorServer::~MonitorServer() { stop(); }

bool MonitorServer::start(std::string* error) {
  Impl& s = *impl_;
  const auto fail = [&](const std::string& message) {
    if (error != nullptr) *error = message;
    return false;
  };
  if (s.started) return fail("the monitor's HTTP server was already started");

  const std::size_t threads =
      std::max<std::size_t>(1, s.options.api_threads) + s.options.max_sse_clients;
  s.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.server.set_payload_max_length(s.options.kv_body_max);
  s.server.set_tcp_nodelay(true);  // no Nagle + delayed-ACK stalls (see node_server.cpp)
  // An idle keep-alive connection holds a pool thread: let it go soon.
  s.server.set_keep_alive_timeout(2);
  s.server.set_keep_alive_max_count(100);
  s.server.set_default_headers(
      {{"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "no-referrer"}});
  s.install_routes();

  std::string why;
  s.port = http::bind_server(s.server, s.options.bind, s.options.port, &why);
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

void MonitorServer::stop() {
  Impl& s = *impl_;
  if (!s.thread.joinable()) return;
  // End the event streams first: each holds a pool thread that stop() joins.
  s.stopping = true;
  s.poller.interrupt_waiters();
  s.server.stop();
  s.thread.join();
}

int MonitorServer::port() const { return impl_->port; }

bool MonitorServer::running() const { return impl_->server.is_running(); }

}  // namespace raft::monitor
