#include "monitor/monitor_server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "discovery/address.hpp"
#include "http/json_views.hpp"
#include "http/request_parsing.hpp"
#include "http/server.hpp"
#include "monitor/cluster_poller.hpp"
#include "monitor/history_store.hpp"
#include "monitor/monitor_assets.hpp"
#include "monitor/routing.hpp"

namespace raft::monitor {

namespace {

using nlohmann::json;

/// Exactly this string: httplib would gzip a chunked answer of any other
/// text/ type (and a browser would then see events only when zlib flushes).
constexpr const char* kEventStreamType = "text/event-stream";

/// A key-value request tries the leader and then at most this many nodes in
/// all (only while connections are refused, so nothing is sent twice).
constexpr std::size_t kKvAttemptsMax = 3;

using http::send_error;
using http::send_json;

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

std::string known_ids(const ClusterSnapshot* snapshot) {
  if (snapshot == nullptr || snapshot->targets.empty()) return "none";
  std::string out;
  for (const NodeTarget& target : snapshot->targets) {
    if (!out.empty()) out += ", ";
    out += std::to_string(target.id);
  }
  return out;
}

}  // namespace

struct MonitorServer::Impl {
  using Method = void (Impl::*)(const httplib::Request&, httplib::Response&);

  Impl(MonitorOptions o, ClusterPoller& p, HistoryStore* h)
      : options(std::move(o)), poller(p), history(h), server(server_options(options)) {
    install_routes();
  }

  MonitorOptions options;
  ClusterPoller& poller;
  HistoryStore* history;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> sse_clients{0};
  http::Server server;  ///< last: its handlers use everything above

  /// Each event stream holds a worker while open, hence api_threads more.
  static http::ServerOptions server_options(const MonitorOptions& o) {
    http::ServerOptions s;
    s.bind = o.bind;
    s.port = o.port;
    s.auth_token = o.auth_token;
    s.served_hosts = o.served_hosts;
    s.body_bytes_max = o.kv_body_max;
    s.threads_max = std::max<std::size_t>(1, o.api_threads) + o.max_sse_clients;
    return s;
  }

  http::Handler handle(Method method) {
    return [this, method](const httplib::Request& req, httplib::Response& res) {
      (this->*method)(req, res);
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

  /// The client's Authorization travels on to the node, which checks it
  /// too; only from a monitor that checked it first (it has a token), so a
  /// monitor without one never carries anybody's secret anywhere.
  void forward_authorization(const httplib::Request& req, FetchRequest& request) const {
    if (!options.auth_token.empty() && req.has_header("Authorization")) {
      request.headers.emplace_back("Authorization", req.get_header_value("Authorization"));
    }
  }

  void favicon(const httplib::Request&, httplib::Response& res) { res.status = 204; }

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

  /// One open event stream: what it has sent so far.
  struct Stream {
    bool started = false;
    std::uint64_t last_seq = 0;       ///< the last snapshot seen
    std::size_t sent_key = 0;         ///< content_key of the last snapshot sent
    std::uint64_t sent_at_ms = 0;     ///< when a snapshot was last sent
    std::uint64_t written_at_ms = 0;  ///< when anything was last written
    bool history = false;             ///< the page asked for history records
    std::uint64_t history_after = 0;  ///< the last history record sent
  };

  /// Server-Sent Events: every snapshot that changed (and, when only timers
  /// moved, one every sse_quiet_snapshot_ms) as one `data:` line with
  /// `id: <seq>`; with ?history=1 (or ?after=ID) also the new history
  /// records as `event: history` messages, each a JSON array; a comment
  /// when nothing was written for sse_keepalive_ms. The stream holds one
  /// pool thread while open, waiting on the poller (no polling of its own).
  void events(const httplib::Request& req, httplib::Response& res) {
    if (stopping.load()) {
      send_error(res, 503, "the monitor is shutting down");
      return;
    }
    auto stream = std::make_shared<Stream>();
    if (!stream_history_params(req, res, *stream)) return;
    if (sse_clients.fetch_add(1) >= options.max_sse_clients) {
      sse_clients.fetch_sub(1);
      send_error(res, 503,
                 "too many event streams are open (the limit is " +
                     std::to_string(options.max_sse_clients) + "); poll /api/cluster instead");
      return;
    }
    poller.note_demand();
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        kEventStreamType,
        [this, stream](std::size_t, httplib::DataSink& sink) { return stream_step(*stream, sink); },
        // Runs when the response is destroyed, however the stream ended.
        [this](bool) { sse_clients.fetch_sub(1); });
  }

  /// ?history=1 and ?after=ID; false after answering 400 or 503.
  bool stream_history_params(const httplib::Request& req, httplib::Response& res, Stream& stream) {
    const std::optional<std::string> flag = http::query_param(req, "history");
    const std::optional<std::string> after = http::query_param(req, "after");
    if (!flag && !after) return true;
    if (flag && !http::parse_flag(*flag)) {
      send_error(res, 400, "history must be true or false");
      return false;
    }
    stream.history = !flag || *http::parse_flag(*flag);
    if (!stream.history) return true;
    if (history == nullptr) {
      send_error(res, 503, "this monitor keeps no history");
      return false;
    }
    stream.history_after = history->last_id();
    if (after) {
      const std::optional<std::uint64_t> id = http::parse_u64(*after);
      if (!id) {
        send_error(res, 400, "after must be a history record id (a non-negative integer)");
        return false;
      }
      stream.history_after = *id;
    }
    return true;
  }

  /// One turn of an event stream: waits for news, writes it. False ends it.
  bool stream_step(Stream& stream, httplib::DataSink& sink) {
    std::string out;
    if (!stream.started) {
      stream.started = true;
      out = "retry: 1000\n\n";  // reconnect quickly after a monitor restart
    } else {
      std::shared_ptr<const ClusterSnapshot> snap = poller.latest();
      if (!snap || snap->seq <= stream.last_seq) {
        snap = poller.wait_newer(stream.last_seq,
                                 std::chrono::milliseconds(options.sse_keepalive_ms), &stopping);
      }
      if (stopping.load() || poller.stopped()) {
        sink.done();
        return true;
      }
      poller.note_demand();  // an open stream keeps the fast cadence
      if (snap && snap->seq > stream.last_seq) {
        stream.last_seq = snap->seq;
        append_snapshot(stream, *snap, out);
      }
    }
    append_history(stream, out);
    const std::uint64_t now = steady_ms();
    if (out.empty() &&
        now >= stream.written_at_ms + static_cast<std::uint64_t>(options.sse_keepalive_ms)) {
      out = ": keep-alive\n\n";
    }
    if (out.empty()) return true;
    stream.written_at_ms = now;
    return sink.write(out.data(), out.size());
  }

  void append_snapshot(Stream& stream, const ClusterSnapshot& snap, std::string& out) const {
    const std::uint64_t now = steady_ms();
    const bool quiet_due =
        now >= stream.sent_at_ms + static_cast<std::uint64_t>(options.sse_quiet_snapshot_ms);
    if (stream.sent_at_ms != 0 && snap.content_key == stream.sent_key && !quiet_due) return;
    stream.sent_key = snap.content_key;
    stream.sent_at_ms = now;
    out += "id: " + std::to_string(snap.seq) + "\ndata: " + snap.json_text + "\n\n";
  }

  /// The history records the stream has not sent, as `event: history`.
  void append_history(Stream& stream, std::string& out) const {
    constexpr std::size_t kRecordsPerMessage = 2000;
    if (!stream.history || history == nullptr) return;
    for (int messages = 0; messages < 8; ++messages) {
      const HistoryStore::Range range = history->after(stream.history_after, kRecordsPerMessage);
      if (range.lines.empty()) return;
      out += "event: history\ndata: [";
      for (std::size_t i = 0; i < range.lines.size(); ++i) {
        if (i > 0) out += ',';
        out += range.lines[i];
      }
      out += "]\n\n";
      stream.history_after = range.next_after;
      if (!range.more) return;
    }
  }

  // ---- history -------------------------------------------------------------------

  /// GET /api/history?after=ID | ?from_ms=MS[&to_ms=MS], &limit=N: stored
  /// records, oldest first, and where the history starts and ends.
  void history_range(const httplib::Request& req, httplib::Response& res) {
    constexpr std::uint64_t kLimitMax = 20000;
    if (history == nullptr) {
      send_error(res, 503, "this monitor keeps no history");
      return;
    }
    std::optional<std::uint64_t> numbers[4];
    const char* names[4] = {"after", "from_ms", "to_ms", "limit"};
    for (int i = 0; i < 4; ++i) {
      const std::optional<std::string> text = http::query_param(req, names[i]);
      if (!text) continue;
      numbers[i] = http::parse_u64(*text);
      if (!numbers[i]) {
        send_error(res, 400, std::string(names[i]) + " must be a non-negative integer");
        return;
      }
    }
    const auto& [after, from_ms, to_ms, limit] = numbers;
    if (limit && (*limit == 0 || *limit > kLimitMax)) {
      send_error(res, 400, "limit must be in 1.." + std::to_string(kLimitMax));
      return;
    }
    if (after && from_ms) {
      send_error(res, 400, "give either after or from_ms, not both");
      return;
    }
    const std::size_t n = static_cast<std::size_t>(limit.value_or(5000));
    const HistoryStore::Range range =
        from_ms ? history->since(*from_ms, to_ms, n) : history->after(after.value_or(0), n);
    std::string body = "{\"records\":[";
    for (std::size_t i = 0; i < range.lines.size(); ++i) {
      if (i > 0) body += ',';
      body += range.lines[i];
    }
    json tail = {{"first_id", range.first_id},
                 {"last_id", range.last_id},
                 {"oldest_ms", range.oldest_at_ms},
                 {"newest_ms", range.newest_at_ms},
                 {"next_after", range.next_after},
                 {"more", range.more},
                 {"disk_error",
                  history->disk_error().empty() ? json(nullptr) : json(history->disk_error())}};
    body += "]," + http::dump_json(tail).substr(1);
    http::send_json_text(res, 200, std::move(body));
  }

  // ---- one node ----------------------------------------------------------------

  /// The table matched the path, so parse_node_route(req.path) is ok.
  void node_request(const httplib::Request& req, httplib::Response& res) {
    const NodeRoute route = parse_node_route(req.path);
    const bool is_command = route.action == "command";
    if (is_command && req.body.size() > options.command_body_max) {
      send_error(res, 413,
                 "the command body is " + std::to_string(req.body.size()) +
                     " bytes; the limit is " + std::to_string(options.command_body_max));
      return;
    }
    FetchRequest request;
    const FetchOptions fetch_options = is_command ? options.command_fetch : options.read_fetch;
    if (!node_fetch_request(req, res, route.action, request)) return;
    const std::optional<Endpoint> endpoint = node_endpoint(res, route.id);
    if (!endpoint) return;
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

  /// What to ask the node for `action`; false after answering a bad query.
  bool node_fetch_request(const httplib::Request& req, httplib::Response& res,
                          const std::string& action, FetchRequest& request) const {
    request.path = node_path_for(action);
    if (action == "command") {
      forward_authorization(req, request);
      request.method = "POST";
      request.body = req.body;
      request.content_type = "application/json";
    } else if (action == "log") {
      const std::optional<std::size_t> limit =
          http::parse_log_limit(http::query_param(req, "limit"));
      if (!limit) {
        send_error(res, 400, "limit must be a positive integer (at most 1000 lines are kept)");
        return false;
      }
      request.path += "?limit=" + std::to_string(*limit);
    } else if (action == "entries") {
      const http::EntriesQuery query = http::parse_entries_query(http::query_param(req, "from"),
                                                                 http::query_param(req, "limit"));
      if (!query.ok()) {
        send_error(res, 400, query.error);
        return false;
      }
      request.path += "?limit=" + std::to_string(query.limit);
      if (query.from) request.path += "&from=" + std::to_string(*query.from);
    }
    return true;
  }

  /// Where node `id` listens, as the snapshot vetted it; nullopt after
  /// answering 404 or 502.
  std::optional<Endpoint> node_endpoint(httplib::Response& res, NodeId id) {
    const std::shared_ptr<const ClusterSnapshot> snap = snapshot(false);
    const TargetAccess* access = snap ? snap->access_of(id) : nullptr;
    if (access == nullptr) {
      send_error(
          res, 404,
          "no node with id " + std::to_string(id) + " (known: " + known_ids(snap.get()) + ")");
      return std::nullopt;
    }
    if (!access->endpoint) {
      send_error(res, 502,
                 access->refused.empty()
                     ? "node " + std::to_string(id) + " has not registered with discovery yet"
                     : access->refused);
    }
    return access->endpoint;
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
    const KvRoute route = parse_kv_route(req.target, http::query_param(req, "stale"));
    if (!route.ok()) {
      send_error(res, route.http_status, route.error);
      return;
    }
    if (req.method == "PUT") {
      if (const std::optional<std::string> problem = http::value_too_large(req.body.size())) {
        send_error(res, 413, *problem);
        return;
      }
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
    kv_to_candidates(req, res, *snap, candidates, leader, kv_fetch_request(req, route));
  }

  FetchRequest kv_fetch_request(const httplib::Request& req, const KvRoute& route) const {
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
    return request;
  }

  /// Tries the candidates in order while connections are refused (nothing
  /// was sent, so a write cannot be applied twice), then answers.
  void kv_to_candidates(const httplib::Request& req, httplib::Response& res,
                        const ClusterSnapshot& snap,
                        const std::vector<const NodeTarget*>& candidates, const NodeTarget* leader,
                        const FetchRequest& request) {
    std::string failures;
    for (const NodeTarget* target : candidates) {
      const std::optional<Endpoint> endpoint = snap.endpoint(target->id);
      if (!endpoint) continue;
      const FetchResult answer = fetch(*endpoint, request, options.kv_fetch);
      if (!answer.ok()) {
        if (answer.connect_failed) {
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
      follow_redirect(req, res, snap, *target, answer, request);
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
    const std::optional<Endpoint> endpoint = snap.endpoint(leader->id);
    if (!endpoint) {
      const TargetAccess* access = snap.access_of(leader->id);
      send_error(res, 502,
                 access != nullptr && !access->refused.empty()
                     ? access->refused
                     : "node " + std::to_string(leader->id) + " has no address yet");
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

  void install_routes() {
    server.asset("/", assets::kIndexHtml, "text/html; charset=utf-8");
    server.asset("/monitor.css", assets::kMonitorCss, "text/css; charset=utf-8");
    server.asset("/monitor.js", assets::kMonitorJs, "text/javascript; charset=utf-8");
    server.asset("/theme.css", assets::kThemeCss, "text/css; charset=utf-8");
    server.asset("/theme.js", assets::kThemeJs, "text/javascript; charset=utf-8");
    server.route("GET", "/favicon.ico", handle(&Impl::favicon));
    server.healthz();
    server.route("GET", "/api/cluster", handle(&Impl::cluster));
    server.route("GET", "/api/events", handle(&Impl::events));
    server.route("GET", "/api/history", handle(&Impl::history_range));
    for (const std::string_view action : kNodeActions) {
      const std::string_view methods = node_route_methods(action);  // "POST" or "GET, HEAD"
      const std::string method(methods.substr(0, methods.find(',')));
      server.route(http::Route{method, "/api/nodes/{id}/" + std::string(action),
                               handle(&Impl::node_request), method != "GET",
                               [action](std::string_view path) {
                                 const NodeRoute route = parse_node_route(path);
                                 return route.ok() && route.action == action;
                               }});
    }
    server.route("GET", "/api/kv/*", handle(&Impl::kv));
    server.route("PUT", "/api/kv/*", handle(&Impl::kv), true);
    server.route("DELETE", "/api/kv/*", handle(&Impl::kv), true);
    // A malformed node path says what is wrong with it.
    server.on_not_found([](const httplib::Request& req) {
      return req.path.rfind("/api/nodes/", 0) == 0 ? parse_node_route(req.path).error
                                                   : std::string();
    });
  }
};

MonitorServer::MonitorServer(MonitorOptions options, ClusterPoller& poller, HistoryStore* history)
    : impl_(std::make_unique<Impl>(std::move(options), poller, history)) {}

MonitorServer::~MonitorServer() { stop(); }

bool MonitorServer::start(std::string* error) { return impl_->server.start(error); }

void MonitorServer::stop() {
  Impl& s = *impl_;
  if (s.server.port() == 0) return;  // never started
  // End the event streams first: each holds a worker that stop() joins.
  s.stopping = true;
  s.poller.interrupt_waiters();
  if (s.history != nullptr) s.history->interrupt();
  s.server.stop();
}

int MonitorServer::port() const { return impl_->server.port(); }

bool MonitorServer::running() const { return impl_->server.running(); }

}  // namespace raft::monitor
