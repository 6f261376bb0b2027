#pragma once
/// NodeServer: the HTTP server of one raft_node (port base_port + rank): the
/// node API of SPEC.md ("Node HTTP API") and the node's web page.
///
/// It never touches raft::Node: reads come from the driver's last published
/// NodeStatus, everything else is queued to the driver's loop and awaited
/// with a deadline (request_timeout_ms; then 504). show_known_nodes and
/// sync_known_nodes are answered here, from the KnownNodesSource.
///
/// Routes (SPEC.md shapes; extras are additive):
///   GET  /, /node.css, /node.js   the page (embedded; CSP: nothing from elsewhere)
///   GET  /status                  status_json(): SPEC fields + extras (json_views.hpp)
///   GET  /log?limit=N             {"log":[...]} newest last; N default 200, at most 1000
///   GET  /cmd_history             {"history":[...]}: the loop's history merged with
///                                 show_known_nodes / sync_known_nodes run here
///   POST /command                 {"cmd":"NAME ARG ..."} (request_parsing.hpp)
///   GET  /entries?from&limit&full entries_answer(); data cut at 4 KiB unless full=true
///   PUT/DELETE/GET /kv/{key}      key = percent-decoded rest of the path ('/' allowed);
///                                 GET ?stale=true reads locally; writes take optional
///                                 X-Client-Id + X-Request-Seq (or ?client_id=&seq=)
///   POST /kv/{key}?cas=1          compare-and-set, body {"expected":"old","value":"new"}:
///                                 200 when swapped, 409 when the key is missing or differs
///   GET  /metrics, /healthz       Prometheus text; "ok"
///   OPTIONS on a known path       204 with Allow
///
/// Auth: with options.auth_token set, POST /command and PUT/DELETE/POST
/// /kv/{key} answer 401 {"ok":false,"error":...} (and WWW-Authenticate)
/// unless the request carries that token (auth/auth_token.hpp).
///
/// Routing, the error envelope, the auth guard, 404/405 (with Allow, computed
/// from the route table), limits and the worker pool are http::Server's
/// (http/server.hpp): every handler catches everything (500 with a one-line
/// JSON error, no stack traces; 503 when the node's loop stopped while a
/// request waited); bodies above max_body_bytes get 413 before being read.
/// Every response is counted in Metrics::count_http_request.
///
/// Thread-safety: start() and stop() from one owning thread; requests are
/// served by the server's elastic pool of at most `threads` threads.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "http/known_nodes_source.hpp"
#include "raft/types.hpp"

namespace raft::runtime {
class NodeDriver;
class LogRing;
struct Metrics;
}  // namespace raft::runtime

namespace raft::http {

struct NodeServerOptions {
  /// Address to listen on; only this one (never a wildcard unless asked).
  std::string bind = "127.0.0.1";
  /// 0 picks a free port (tests); see NodeServer::port().
  int port = 0;
  NodeId rank = 0;
  /// Other nodes listen on base_port + rank (used for leader URLs when
  /// discovery does not know the leader's address).
  int base_port = 7000;
  /// A 1 MiB value plus headroom for the request; larger bodies get 413.
  std::size_t max_body_bytes = (1u << 20) + 4096;
  /// How long a request waits for the node's loop (writes: until committed
  /// and applied) before answering 504.
  int request_timeout_ms = 5000;
  /// Most worker threads. Each keep-alive connection holds one while open,
  /// and a write holds one until it commits, so this bounds the clients
  /// served at once (the rest wait in order). Workers start on demand and
  /// idle ones end, so an idle node runs only a few.
  std::size_t threads = 256;
  /// When not empty, POST /command and every /kv write need
  /// `Authorization: Bearer <auth_token>` (else 401); reads stay open.
  std::string auth_token;
  /// Names beside default_served_names(bind) that Host may carry, such as
  /// the advertised address (ServerOptions::served_hosts).
  std::vector<std::string> served_hosts;
};

class NodeServer {
 public:
  /// `driver` must outlive the server. `known_nodes`, `metrics` and `log_ring`
  /// may be null (then discovery commands say so, nothing is counted, /log is
  /// empty).
  NodeServer(NodeServerOptions options, runtime::NodeDriver& driver, KnownNodesSource* known_nodes,
             std::shared_ptr<runtime::Metrics> metrics, std::shared_ptr<runtime::LogRing> log_ring);
  /// Stops the server if it is running.
  ~NodeServer();
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  /// Binds bind:port and serves on the server's own threads. Returns false
  /// (and sets *error to one line naming the address) if it cannot bind, e.g.
  /// the port is taken. Call once.
  bool start(std::string* error);
  /// Stops accepting, finishes requests in progress, joins the threads.
  /// Idempotent.
  void stop();
  /// The bound port (useful with options.port == 0); 0 before start().
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raft::http
