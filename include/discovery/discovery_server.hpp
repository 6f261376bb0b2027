#pragma once
/// DiscoveryServer: the discovery API (SPEC.md "Discovery API") over HTTP
/// around a Registry: GET /state, GET /healthz, POST /register,
/// POST /set_leader, POST /reset. Thin on purpose: all logic lives in the
/// Registry; routing, 404 and 405 (with Allow, from the route table), 413
/// for an oversized body, the error envelope {"ok":false,"error":"..."}, the
/// auth guard and the worker pool are http::Server's (http/server.hpp).
///
/// With options.auth_token set, the mutating routes (/register, /set_leader,
/// /reset) answer 401 unless the request carries
/// `Authorization: Bearer <auth_token>`; reads stay open.
///
/// Thread-safety: start() and stop() from one owning thread; requests are
/// served on the server's pool and call the (thread-safe) Registry.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "discovery/registry.hpp"

namespace raft::discovery {

/// Request bodies above this size are refused with 413 before they are read
/// into memory (a registration is well under 200 bytes).
inline constexpr std::size_t kBodyBytesMax = 64 * 1024;

struct DiscoveryServerOptions {
  /// Address to listen on; only this one.
  std::string bind = "127.0.0.1";
  /// 0 picks a free port (see DiscoveryServer::port()).
  int port = 0;
  std::string auth_token;
  /// Names beside the bind address and loopback that Host may carry
  /// (http::ServerOptions::served_hosts).
  std::vector<std::string> served_hosts;
};

class DiscoveryServer {
 public:
  /// `registry` must outlive the server; `now_ms` reads a monotonic
  /// millisecond clock and must be thread-safe.
  DiscoveryServer(DiscoveryServerOptions options, Registry& registry,
                  std::function<TimeMs()> now_ms);
  /// Stops the server if it runs.
  ~DiscoveryServer();
  DiscoveryServer(const DiscoveryServer&) = delete;
  DiscoveryServer& operator=(const DiscoveryServer&) = delete;

  /// Binds bind:port and serves on the server's own threads. Returns false
  /// with one line in *error ("cannot listen on ...") if it cannot bind.
  bool start(std::string* error);
  /// Stops accepting, finishes requests in progress, joins the threads.
  /// Idempotent.
  void stop();
  /// The bound port; 0 before start().
  int port() const;
  /// Whether the server accepts connections.
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The state file to use: `state_file` when given, else
/// <data_dir>/discovery_state.json, else discovery_state.json here.
std::filesystem::path state_file_path(const std::string& state_file, const std::string& data_dir);

/// Creates the state file's directory and loads the registry from it (or,
/// with `reset`, starts it empty). Throws RegistryError with one line.
void open_registry(Registry& registry, const std::filesystem::path& state_file, bool reset);

}  // namespace raft::discovery
