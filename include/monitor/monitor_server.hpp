#pragma once
/// MonitorServer: the web_monitor's HTTP server (SPEC.md "Monitor API"): the
/// cluster page and its assets, /api/cluster, the /api/events stream, and
/// forwarding of commands, log reads and key-value requests to the nodes, so
/// the browser talks only to the monitor.
///
/// Reads come from the ClusterPoller's latest snapshot; forwarding opens one
/// short-lived connection per request (see http_fetch.hpp) with deadlines.
/// Routing, the auth guard, the error envelope {"ok":false,"error":...},
/// 404 and 405 (with Allow, from the route table) and the worker pool are
/// http::Server's (http/server.hpp). Bodies above kv_body_max get 413 from
/// the server before a handler runs, command bodies above command_body_max
/// get 413 from the handler.
///
/// Thread-safety: start() and stop() from the owning thread; requests are
/// served by the server's elastic pool. Each event stream holds one worker
/// while open, hence the pool grows to max_sse_clients + api_threads and
/// further streams are refused with 503.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "monitor/http_fetch.hpp"

namespace raft::monitor {

class ClusterPoller;
class HistoryStore;

struct MonitorOptions {
  /// Address to listen on; only this one.
  std::string bind = "127.0.0.1";
  /// 0 picks a free port (see port()).
  int port = 8080;

  std::size_t max_sse_clients = 32;
  /// Threads for everything but event streams.
  std::size_t api_threads = 16;
  /// A comment line on an idle stream this often, so proxies and browsers
  /// keep it open and a vanished client is noticed.
  int sse_keepalive_ms = 10000;
  /// An event stream sends a snapshot whose content_key did not change
  /// (only timers moved) at most this often; a change goes out at once.
  int sse_quiet_snapshot_ms = 2000;

  std::size_t command_body_max = 64 * 1024;
  /// A 1 MiB value plus headroom; also the server's payload limit.
  std::size_t kv_body_max = (1u << 20) + 4096;

  /// A command waits for the node's loop (its own deadline is 5 s).
  FetchOptions command_fetch{500, 8000, 5000, 4u << 20};
  /// A write waits until committed and applied (the node's deadline is 5 s).
  FetchOptions kv_fetch{500, 8000, 5000, 4u << 20};
  /// /log, /entries, /status, /cmd_history of one node.
  FetchOptions read_fetch{500, 3000, 2000, 16u << 20};

  /// When not empty, POST /api/nodes/{id}/command and PUT/DELETE /api/kv/...
  /// answer 401 unless the request carries `Authorization: Bearer <token>`.
  /// The client's Authorization (checked here first) is passed on to the
  /// node, which checks it again; without a token here it is passed on to
  /// nobody. Every request goes only to the endpoint the poller vetted for
  /// that node (ClusterSnapshot::access, routing.hpp NodeAddressRule).
  std::string auth_token;
  /// Names beside the bind address and loopback that Host may carry
  /// (http::ServerOptions::served_hosts).
  std::vector<std::string> served_hosts;
};

class MonitorServer {
 public:
  /// `poller` and `history` (the event history; GET /api/history and the
  /// history on /api/events answer 503 without one) must outlive the server.
  MonitorServer(MonitorOptions options, ClusterPoller& poller, HistoryStore* history = nullptr);
  /// Stops the server if it runs.
  ~MonitorServer();
  MonitorServer(const MonitorServer&) = delete;
  MonitorServer& operator=(const MonitorServer&) = delete;

  /// Binds bind:port and serves on the server's own threads. Returns false
  /// with one line in *error if it cannot bind. Call once.
  bool start(std::string* error);
  /// Ends every event stream, stops accepting, finishes requests in
  /// progress and joins the threads. Idempotent.
  void stop();
  /// The bound port; 0 before start().
  int port() const;
  /// Whether the server accepts connections (false before start(), after
  /// stop(), or if its accept loop ended by itself).
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raft::monitor
