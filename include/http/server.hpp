#pragma once
/// http::Server: the one HTTP skeleton of the project's three servers (the
/// node API, the web monitor, the discovery server). Each declares its routes
/// here; the skeleton does the rest the same way for all three:
///
/// - routing from one route table (method, path, handler, whether it
///   mutates), which also computes 405 and its `Allow` header (and the 204
///   answer to OPTIONS) for a known path with another method: never a hand
///   list of methods;
/// - the one error envelope, {"ok":false,"error":"one sentence"}, for every
///   error the skeleton answers (400, 401, 403, 404, 405, 408, 413, 414,
///   415, 417, 421, 431, 500, 501, 503, 505) and the helpers the servers use
///   for theirs (send_json, send_error);
/// - the auth guard: a mutating route answers 401 (with WWW-Authenticate)
///   unless the request carries `Authorization: Bearer <auth_token>`
///   (auth/http_auth.hpp); reads stay open;
/// - every handler guarded: an exception becomes a 500 with one line;
/// - the elastic worker pool (elastic_thread_pool.hpp), the body limit,
///   X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer on
///   every answer;
/// - the ConnectionGate (connection_gate.hpp) in front of cpp-httplib: it
///   owns the socket (server_socket.hpp) and reads every request whole and
///   bounded before a worker sees it (head limits and deadline, no
///   compressed bodies, chunked bodies decoded within the limit, caps per
///   peer and in all, idle connections holding no thread);
/// - before any body is read, the checks a browser's requests need (see
///   served_hosts.hpp): a Host this server does not serve is 421 (DNS
///   rebinding); a POST, PUT, PATCH or DELETE with an Origin that is not a
///   page of this server (or "null"), or marked Sec-Fetch-Site: cross-site,
///   is 403 (cross-site forms); and for a request with a body, the route
///   table's 404, 405 and 401, so that an unknown path or a missing token
///   costs no body;
/// - bodies are the request's bytes whatever their Content-Type: httplib
///   never parses a form or multipart body into parameters or files;
/// - routes that answer later without holding a thread (Route::
///   async_handler, reply.hpp), with a deadline answer;
/// - start() listens on a thread of its own; stop() joins it.
///
/// Thread-safety: declare routes and hooks, then start(), then stop(), all
/// from one owning thread. Handlers run on the pool, several at once; async
/// handlers on the gate's thread, their answers on any thread.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "http/connection_gate.hpp"
#include "http/reply.hpp"

namespace raft::http {

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

/// One line of the route table.
struct Route {
  /// "GET" (which serves HEAD too), "POST", "PUT", "DELETE" or "PATCH".
  std::string method;
  /// An exact path ("/status"), or a prefix ending in '*' ("/kv/*": "/kv/"
  /// and every path below it). Also how the route is named in messages.
  std::string path;
  Handler handler;
  /// Changes state: needs the auth token when one is configured.
  bool mutates = false;
  /// When set, decides which paths the route serves instead of `path` (for
  /// paths with parts a pattern cannot check, such as a node id).
  std::function<bool(std::string_view path)> matches;
  /// When set, serves the route instead of `handler`, without a worker
  /// (reply.hpp): it runs on the gate's thread, must not block, and answers
  /// through its Reply from whichever thread finishes the work. Without an
  /// answer within `deadline`, `on_deadline` fills the answer.
  AsyncHandler async_handler{};
  std::chrono::milliseconds deadline{0};
  Handler on_deadline{};
};

/// How a server writes its JSON, the error envelope included.
enum class JsonStyle {
  /// dump_json(): keys in name order, no newline (the node, the monitor).
  Compact,
  /// Keys in the order written ({"ok":false,"error":...}) and a "\n" after:
  /// the discovery API, as its clients have always read it.
  Line,
};

struct ServerOptions {
  /// Address to listen on; only this one (never a wildcard unless asked).
  std::string bind = "127.0.0.1";
  /// 0 picks a free port (see Server::port()).
  int port = 0;
  /// When not empty, mutating routes need `Authorization: Bearer <token>`.
  std::string auth_token;
  /// Larger request bodies get 413 before they are read (chunked ones as
  /// soon as a chunk would pass it).
  std::size_t body_bytes_max = 64 * 1024;
  /// Names clients reach this server by, beside default_served_names(bind)
  /// (the bind address, localhost, 127.0.0.1, [::1], the machine's name,
  /// and every interface address for a wildcard bind): "name" (with the
  /// server's port) or "name:port". A server advertised under another name
  /// (--advertise_host, a DNS alias, a forwarded port) must list it, or
  /// requests naming it in Host get 421. "*" turns the Host check off.
  std::vector<std::string> served_hosts;
  /// Most worker threads: requests answered at once (an event stream holds
  /// one while open); whole requests beyond wait in order. Workers start
  /// on demand.
  std::size_t threads_max = 64;
  /// Workers kept while idle; the others end after `thread_idle_exit`.
  std::size_t threads_idle = 8;
  std::chrono::milliseconds thread_idle_exit{10'000};
  /// How long one piece of an answer may wait for a client that does not
  /// read.
  int io_timeout_s = 5;
  /// Head limits and deadlines, connection caps, the bytes buffered in all
  /// (see GateOptions). gate.limits.body_bytes_max is body_bytes_max.
  GateOptions gate;
  JsonStyle json_style = JsonStyle::Compact;
  /// Whether Allow names HEAD beside GET (HEAD is served wherever GET is,
  /// either way), and whether OPTIONS on a known path is answered with 204
  /// and Allow (else 405). The discovery API has always said neither.
  bool allow_names_head = true;
  bool options_answers_allow = true;
};

/// Security headers of a page: no inline script or style and nothing from
/// other origins, so markup that slipped in could not run.
inline constexpr const char* kPageSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `text` (JSON) with Cache-Control: no-store.
void send_json_text(httplib::Response& res, int status, std::string text);
/// `body` in JsonStyle::Compact; never throws on invalid UTF-8 (dump_json).
void send_json(httplib::Response& res, int status, const nlohmann::json& body);
/// The error envelope {"ok":false,"error":message} in JsonStyle::Compact.
void send_error(httplib::Response& res, int status, std::string_view message);
/// The value of query parameter `name` in the URL (never a field of a form
/// body); nullopt when it is absent.
std::optional<std::string> query_param(const httplib::Request& req, const char* name);
/// The first line of an exception's message, cut to 200 bytes (for a 500).
std::string one_line(std::string_view what);

class Server {
 public:
  explicit Server(ServerOptions options);
  /// Stops the server if it runs.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Adds a route; the first route that matches a request's method and path
  /// serves it. Before start() only.
  void route(Route route);
  void route(std::string method, std::string path, Handler handler, bool mutates = false);
  /// A route answered without a worker (Route::async_handler).
  void route_async(std::string method, std::string path, AsyncHandler handler, bool mutates,
                   std::chrono::milliseconds deadline, Handler on_deadline);
  /// A GET route answering fixed bytes with Cache-Control: no-cache; an HTML
  /// page also gets kPageSecurityPolicy. `bytes` must outlive the server
  /// (embedded assets do).
  void asset(std::string path, std::string_view bytes, std::string content_type);
  /// GET /healthz: "ok" as text/plain.
  void healthz();

  /// The message of a 404 for a path no route serves; an empty answer (or
  /// no hook) keeps the default "no such path: <path>".
  void on_not_found(std::function<std::string(const httplib::Request&)> message);
  /// Called after every answer (for metrics), on a worker or, for a request
  /// refused before its body, on the gate's thread.
  void on_answered(std::function<void(const httplib::Request&, const httplib::Response&)> hook);

  /// The methods the route table serves on `path`, as an Allow header
  /// ("GET, HEAD, PUT"); empty when no route serves it.
  std::string allowed_methods(std::string_view path) const;
  /// Every route as "METHOD path", comma-separated, in table order.
  std::string describe_routes() const;
  /// The error envelope in this server's JsonStyle.
  void send_error(httplib::Response& res, int status, std::string_view message) const;

  /// Binds bind:port and serves through the gate and the pool. Returns
  /// false with one line in *error naming the address if it cannot bind.
  /// Call once.
  bool start(std::string* error);
  /// Stops accepting, finishes the requests in progress, joins the threads.
  /// Idempotent.
  void stop();
  /// The bound port; 0 before start().
  int port() const;
  /// Whether the server accepts connections (false before start() and
  /// after stop()).
  bool running() const;
  /// Connections open now (the gate's count; for tests and metrics).
  std::size_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raft::http
