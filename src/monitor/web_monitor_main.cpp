// web_monitor: the web page and JSON API for the whole cluster (SPEC.md
// "Monitor API"). main() parses the flags, starts the poller and the HTTP
// server, serves until SIGINT/SIGTERM, and exits 0.
//
// Exit codes: 0 stopped by a signal; 1 the port cannot be bound or the
// server stopped by itself; 2 invalid flags.

#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "auth/auth_token.hpp"
#include "discovery/address.hpp"
#include "discovery/advertise.hpp"
#include "monitor/cluster_poller.hpp"
#include "monitor/cluster_view.hpp"
#include "monitor/monitor_server.hpp"

namespace {

constexpr const char* kProgram = "web_monitor";

struct Flags {
  int port = 8080;
  std::string bind = "127.0.0.1";
  std::string discovery_url = "http://127.0.0.1:5000";
  int base_port = 7000;
  int nodes = 0;
  int poll_interval_ms = 250;
  int max_sse_clients = 32;
  std::string log_level = "info";
  std::string node_host;   // default: the --bind address
  std::string auth_token;  // default: $RAFT_AUTH_TOKEN
};

int fail(int code, const std::string& line) {
  std::fprintf(stderr, "%s: %s\n", kProgram, line.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (const char* env = std::getenv("SERVICE_DISCOVERY_URL"); env != nullptr && *env != '\0') {
    flags.discovery_url = env;
  }
  CLI::App app{"web_monitor: web page and JSON API for the whole Raft cluster"};
  app.add_option("--port", flags.port, "TCP port to listen on (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--bind", flags.bind, "address to listen on (loopback by default)")
      ->capture_default_str();
  app.add_option("--discovery_url", flags.discovery_url,
                 "discovery server, http://host:port (default: $SERVICE_DISCOVERY_URL, else "
                 "http://127.0.0.1:5000; empty: none)")
      ->capture_default_str();
  app.add_option("--base_port", flags.base_port,
                 "node r listens on base_port + r when discovery does not know it")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--nodes", flags.nodes,
                 "ranks 0..N-1 to show even before they register (0: only what discovery knows)")
      ->capture_default_str()
      ->check(CLI::Range(0, static_cast<int>(raft::monitor::kMaxNodes)));
  app.add_option("--node_host", flags.node_host,
                 "host of the --nodes ranks discovery does not know yet (default: the --bind "
                 "address; 'none': nodes are on other machines, never guess)");
  app.add_option("--auth_token", flags.auth_token,
                 "token commands and writes require; passed on to the nodes (default: "
                 "$RAFT_AUTH_TOKEN; the variable keeps it out of `ps`)");
  app.add_option("--poll_interval_ms", flags.poll_interval_ms,
                 "how often the cluster is polled while someone watches")
      ->capture_default_str()
      ->check(CLI::Range(50, 10000));
  app.add_option("--max_sse_clients", flags.max_sse_clients,
                 "event streams (open pages) served at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--log_level", flags.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    return fail(2, std::string(e.what()) + " (see --help)");
  }
  std::string host_problem;
  const auto host = raft::discovery::parse_bind_host(flags.bind, &host_problem);
  if (!host) return fail(2, "--bind '" + flags.bind + "': " + host_problem);
  std::string node_host = raft::monitor::fallback_host(*host);
  if (flags.node_host == "none") {
    node_host.clear();
  } else if (!flags.node_host.empty()) {
    const auto given = raft::discovery::parse_bind_host(flags.node_host, &host_problem);
    if (!given) {
      return fail(2, "--node_host '" + flags.node_host + "': " + host_problem + " (or 'none')");
    }
    node_host = raft::monitor::fallback_host(*given);
  }
  std::string token_problem;
  const std::string auth_token = raft::auth::resolve_token(flags.auth_token, &token_problem);
  if (!token_problem.empty()) return fail(2, token_problem);
  if (flags.nodes > 0 && flags.base_port + flags.nodes - 1 > 65535) {
    return fail(2, "--base_port " + std::to_string(flags.base_port) + " with --nodes " +
                       std::to_string(flags.nodes) + " runs past port 65535");
  }
  if (!flags.discovery_url.empty()) {
    std::string why;
    if (!raft::discovery::parse_http_url(flags.discovery_url, &why)) {
      return fail(2, "--discovery_url: " + why);
    }
    while (!flags.discovery_url.empty() && flags.discovery_url.back() == '/') {
      flags.discovery_url.pop_back();
    }
  }

  // Signals are taken by sigtimedwait in one thread; block them before any
  // thread exists so that every thread inherits the mask. A browser that
  // closes a stream mid-write must not kill the server either.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto logger = spdlog::stdout_color_mt("monitor");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [monitor] %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(flags.log_level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);

  raft::monitor::PollerOptions poller_options;
  poller_options.discovery_url = flags.discovery_url;
  poller_options.fallback_host = node_host;
  poller_options.base_port = flags.base_port;
  poller_options.nodes = flags.nodes;
  poller_options.poll_interval_ms = flags.poll_interval_ms;
  raft::monitor::ClusterPoller poller(poller_options);

  raft::monitor::MonitorOptions server_options;
  server_options.bind = *host;
  server_options.port = flags.port;
  server_options.max_sse_clients = static_cast<std::size_t>(flags.max_sse_clients);
  server_options.auth_token = auth_token;
  raft::monitor::MonitorServer server(server_options, poller);
  std::string error;
  if (!server.start(&error)) return fail(1, error);
  poller.start();
  if (!raft::discovery::is_loopback_host(*host) && auth_token.empty()) {
    logger->warn("listening on {}: anyone who can reach it can send commands to the nodes", *host);
  }
  const std::string shown_host = host->find(':') != std::string::npos ? "[" + *host + "]" : *host;
  logger->info("web monitor on http://{}:{} (discovery {}, {} configured node(s) from port {})",
               shown_host, server.port(),
               flags.discovery_url.empty() ? std::string("none") : flags.discovery_url, flags.nodes,
               flags.base_port);

  int received = 0;
  const timespec tick{0, 250 * 1000 * 1000};
  while (received <= 0) {
    received = sigtimedwait(&stop_signals, nullptr, &tick);
    if (received <= 0 && !server.running()) {
      poller.stop();
      return fail(1, "the HTTP server stopped unexpectedly");
    }
  }
  logger->info("{} received: stopping", received == SIGINT ? "SIGINT" : "SIGTERM");
  server.stop();
  poller.stop();
  logger->info("stopped");
  return 0;
}
