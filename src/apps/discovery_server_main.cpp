// discovery_server: the HTTP registry of the cluster's nodes and its leader
// (SPEC.md "Discovery API"). main() parses the flags, validates them, and
// runs a DiscoveryServer (discovery/discovery_server.hpp) until SIGINT or
// SIGTERM, then exits 0.
//
// Exit codes: 0 stopped by a signal; 1 the state file cannot be used or the
// port cannot be bound; 2 invalid flags.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "discovery/advertise.hpp"
#include "discovery/discovery_server.hpp"
#include "discovery/registry.hpp"
#include "http/server_program.hpp"

namespace {

namespace fs = std::filesystem;
using raft::TimeMs;
using raft::http::StopSignals;

constexpr const char* kProgram = "discovery_server";

struct Flags {
  raft::http::ServerFlags server{5000};
  std::string data_dir;
  std::string state_file;
  int alive_timeout_ms = 3000;
  int ranks = 0;
  bool reset = false;
  std::vector<std::string> served_hosts;
};

/// The flags once checked.
struct Config {
  Flags flags;
  raft::http::Listen listen;
  fs::path state_file;
  std::vector<std::string> served_hosts;  ///< --served_host and $RAFT_SERVED_HOSTS
};

TimeMs steady_now_ms() {
  return static_cast<TimeMs>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count());
}

/// --served_host and $RAFT_SERVED_HOSTS into `out`; the problem, or "".
std::string check_served_hosts(const std::vector<std::string>& flag_names,
                               std::vector<std::string>& out) {
  const char* env = std::getenv(raft::discovery::kServedHostsEnv);
  std::string problem;
  auto names = raft::discovery::served_names("", flag_names, env ? env : "", &problem);
  if (!names) return problem;
  out = std::move(*names);
  return {};
}

void add_flags(CLI::App& app, Flags& flags) {
  raft::http::add_server_flags(app, flags.server, 1, "/register, /set_leader and /reset require");
  app.add_option("--data_dir", flags.data_dir,
                 "directory for the state file (default: the current directory)");
  app.add_option("--state_file", flags.state_file,
                 "state file path (default: <data_dir>/discovery_state.json)");
  raft::http::add_int_flag(app, "--alive_timeout_ms", flags.alive_timeout_ms,
                           "a node not heard from for this long is shown alive:false", 100,
                           3600 * 1000);
  raft::http::add_int_flag(app, "--ranks", flags.ranks,
                           "ranks of the job: registrations and leader claims for other node ids "
                           "are refused (0: any)",
                           0, 1 << 20);
  app.add_option("--served_host", flags.served_hosts, raft::discovery::kServedHostHelp);
  app.add_flag("--reset", flags.reset, "start with an empty registry (discard the state file)");
}

std::string validate(const Flags& flags, Config* config) {
  config->flags = flags;
  if (std::string problem = raft::http::check_server_flags(flags.server, &config->listen);
      !problem.empty()) {
    return problem;
  }
  if (std::string problem = check_served_hosts(flags.served_hosts, config->served_hosts);
      !problem.empty()) {
    return problem;
  }
  config->state_file = raft::discovery::state_file_path(flags.state_file, flags.data_dir);
  if (fs::is_directory(config->state_file)) {
    return "--state_file: " + config->state_file.string() + " is a directory";
  }
  return {};
}

int run(const Config& config, const StopSignals& signals) {
  const Flags& flags = config.flags;
  auto logger = raft::http::make_logger("discovery", flags.server.log_level);
  raft::discovery::Registry registry(raft::discovery::Registry::Options{
      config.state_file, static_cast<TimeMs>(flags.alive_timeout_ms), logger,
      static_cast<raft::NodeId>(flags.ranks)});
  try {
    if (flags.reset) {
      logger->info("--reset: starting with an empty registry in {}", config.state_file.string());
    }
    raft::discovery::open_registry(registry, config.state_file, flags.reset);
  } catch (const raft::discovery::RegistryError& e) {
    return raft::http::fail(kProgram, raft::http::kExitCannotRun, e.what());
  }

  raft::discovery::DiscoveryServer server(
      {config.listen.host, flags.server.port, config.listen.auth_token, config.served_hosts},
      registry, steady_now_ms);
  if (std::string why; !server.start(&why)) {
    return raft::http::fail(kProgram, raft::http::kExitCannotRun, why);
  }
  raft::http::warn_if_open(*logger, config.listen, "change the registry");
  logger->info("discovery server on http://{}:{} (state file {}, alive timeout {} ms{})",
               flags.server.bind, flags.server.port, config.state_file.string(),
               flags.alive_timeout_ms,
               config.listen.auth_token.empty() ? "" : ", writes need the auth token");

  // Meanwhile members that fall silent are logged (the registry computes
  // liveness on read; this is only the log).
  return raft::http::serve_until_signal(
      signals, *logger, kProgram,
      [&] {
        registry.sweep(steady_now_ms());
        return server.running();
      },
      [&] { server.stop(); });
}

}  // namespace

int main(int argc, char** argv) {
  return raft::http::server_main(
      kProgram, "discovery_server: HTTP registry of the Raft cluster's nodes and leader", argc,
      argv, add_flags, validate, run);
}
