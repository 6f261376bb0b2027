// web_monitor: the web page and JSON API for the whole cluster (SPEC.md
// "Monitor API"). main() parses the flags, validates them, starts the poller
// and the MonitorServer (monitor/monitor_server.hpp), serves until SIGINT or
// SIGTERM, and exits 0.
//
// Exit codes: 0 stopped by a signal; 1 the port cannot be bound or the
// server stopped by itself; 2 invalid flags.

#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "discovery/address.hpp"
#include "discovery/advertise.hpp"
#include "http/server_program.hpp"
#include "monitor/cluster_poller.hpp"
#include "monitor/cluster_view.hpp"
#include "monitor/event_collector.hpp"
#include "monitor/history_store.hpp"
#include "monitor/monitor_server.hpp"

namespace {

using raft::http::StopSignals;

constexpr const char* kProgram = "web_monitor";

struct Flags {
  raft::http::ServerFlags server{8080};
  std::string discovery_url = "http://127.0.0.1:5000";
  int base_port = 7000;
  int nodes = 0;
  int poll_interval_ms = 250;
  int max_sse_clients = 32;
  std::string node_host;  // default: the --bind address
  std::string data_dir;   // empty: the history lives in memory only
  int history_mb = 32;
  std::string node_ports;  // base | any; default: base with --nodes, else any
  std::vector<std::string> served_hosts;
};

/// The flags once checked.
struct Config {
  Flags flags;
  raft::http::Listen listen;
  std::string node_host;  ///< empty: never guess where a node is
  bool pin_node_ports = false;
  std::vector<std::string> served_hosts;  ///< --served_host and $RAFT_SERVED_HOSTS
};

void add_flags(CLI::App& app, Flags& flags) {
  if (const char* env = std::getenv("SERVICE_DISCOVERY_URL"); env != nullptr && *env != '\0') {
    flags.discovery_url = env;
  }
  raft::http::add_server_flags(app, flags.server, 0,
                               "commands and writes require; passed on to the nodes");
  app.add_option("--discovery_url", flags.discovery_url,
                 "discovery server, http://host:port (default: $SERVICE_DISCOVERY_URL, else "
                 "http://127.0.0.1:5000; empty: none)")
      ->capture_default_str();
  raft::http::add_int_flag(app, "--base_port", flags.base_port,
                           "node r listens on base_port + r when discovery does not know it", 1,
                           65535);
  raft::http::add_int_flag(
      app, "--nodes", flags.nodes,
      "ranks 0..N-1 to show even before they register (0: only what discovery knows)", 0,
      static_cast<int>(raft::monitor::kMaxNodes));
  app.add_option("--node_host", flags.node_host,
                 "host of the --nodes ranks discovery does not know yet (default: the --bind "
                 "address; 'none': nodes are on other machines, never guess)");
  app.add_option("--node_ports", flags.node_ports,
                 "base: talk to rank r only on port base_port + r, as raft_node and "
                 "launch_cluster assign them; any: on whatever port it registered (default: base "
                 "with --nodes, else any)")
      ->check(CLI::IsMember({"base", "any"}));
  app.add_option("--served_host", flags.served_hosts, raft::discovery::kServedHostHelp);
  raft::http::add_int_flag(app, "--poll_interval_ms", flags.poll_interval_ms,
                           "how often the cluster is polled while someone watches", 50, 10000);
  raft::http::add_int_flag(app, "--max_sse_clients", flags.max_sse_clients,
                           "event streams (open pages) served at once", 1, 1024);
  app.add_option("--data_dir", flags.data_dir,
                 "folder for the cluster's event history, kept across restarts (default: none, "
                 "the history lives in memory)");
  raft::http::add_int_flag(app, "--history_mb", flags.history_mb,
                           "MiB of event history kept (oldest first out)", 1, 4096);
}

std::string validate(const Flags& flags, Config* config) {
  config->flags = flags;
  if (std::string problem = raft::http::check_server_flags(flags.server, &config->listen);
      !problem.empty()) {
    return problem;
  }
  std::string problem;
  const std::optional<std::string> node_host =
      raft::monitor::node_host_for(config->listen.host, flags.node_host, &problem);
  if (!node_host) return "--node_host '" + flags.node_host + "': " + problem + " (or 'none')";
  config->node_host = *node_host;
  config->pin_node_ports = flags.node_ports.empty() ? flags.nodes > 0 : flags.node_ports == "base";
  const char* env = std::getenv(raft::discovery::kServedHostsEnv);
  auto served = raft::discovery::served_names("", flags.served_hosts, env ? env : "", &problem);
  if (!served) return problem;
  config->served_hosts = std::move(*served);
  if (flags.nodes > 0 && flags.base_port + flags.nodes - 1 > 65535) {
    return "--base_port " + std::to_string(flags.base_port) + " with --nodes " +
           std::to_string(flags.nodes) + " runs past port 65535";
  }
  std::string& url = config->flags.discovery_url;
  if (!url.empty()) {
    if (!raft::discovery::parse_http_url(url, &problem)) return "--discovery_url: " + problem;
    while (!url.empty() && url.back() == '/') url.pop_back();
  }
  return {};
}

int run(const Config& config, const StopSignals& signals) {
  const Flags& flags = config.flags;
  auto logger = raft::http::make_logger("monitor", flags.server.log_level);
  spdlog::set_default_logger(logger);

  raft::monitor::PollerOptions poller_options;
  poller_options.discovery_url = flags.discovery_url;
  poller_options.fallback_host = config.node_host;
  poller_options.base_port = flags.base_port;
  poller_options.nodes = flags.nodes;
  poller_options.pin_ports = config.pin_node_ports;
  poller_options.poll_interval_ms = flags.poll_interval_ms;
  raft::monitor::HistoryOptions history_options;
  if (!flags.data_dir.empty()) history_options.dir = flags.data_dir;
  history_options.max_bytes = static_cast<std::size_t>(flags.history_mb) << 20;
  raft::monitor::HistoryStore history(history_options);
  if (const std::string problem = history.disk_error(); !problem.empty()) {
    logger->warn("event history kept in memory only: {}", problem);
  }
  raft::monitor::EventCollector collector(history);
  raft::monitor::ClusterPoller poller(poller_options, {}, &collector);

  raft::monitor::MonitorOptions server_options;
  server_options.bind = config.listen.host;
  server_options.port = flags.server.port;
  server_options.max_sse_clients = static_cast<std::size_t>(flags.max_sse_clients);
  server_options.auth_token = config.listen.auth_token;
  server_options.served_hosts = config.served_hosts;
  raft::monitor::MonitorServer server(server_options, poller, &history);
  if (std::string error; !server.start(&error)) {
    return raft::http::fail(kProgram, raft::http::kExitCannotRun, error);
  }
  poller.start();
  raft::http::warn_if_open(*logger, config.listen, "send commands to the nodes");
  const std::string& host = config.listen.host;
  logger->info("web monitor on http://{}:{} (discovery {}, {} configured node(s) from port {})",
               host.find(':') != std::string::npos ? "[" + host + "]" : host, server.port(),
               flags.discovery_url.empty() ? std::string("none") : flags.discovery_url, flags.nodes,
               flags.base_port);
  logger->info("event history: {} ({} records, up to {} MiB)",
               flags.data_dir.empty() ? std::string("in memory") : flags.data_dir, history.size(),
               flags.history_mb);

  return raft::http::serve_until_signal(
      signals, *logger, kProgram, [&] { return server.running(); },
      [&] {
        server.stop();
        poller.stop();
      });
}

}  // namespace

int main(int argc, char** argv) {
  return raft::http::server_main(kProgram,
                                 "web_monitor: web page and JSON API for the whole Raft cluster",
                                 argc, argv, add_flags, validate, run);
}
