// discovery_server: the HTTP registry of the cluster's nodes and its leader
// (SPEC.md "Discovery API"). main() parses the flags, loads the registry,
// serves until SIGINT/SIGTERM, and exits 0.
//
// Exit codes: 0 stopped by a signal; 1 the state file cannot be used or the
// port cannot be bound; 2 invalid flags.

#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "auth/auth_token.hpp"
#include "discovery/address.hpp"
#include "discovery/advertise.hpp"
#include "discovery/registry.hpp"
#include "discovery_http.hpp"
#include "http/server_socket.hpp"

namespace {

namespace fs = std::filesystem;
using raft::TimeMs;
using raft::discovery::Registry;
using raft::discovery::RegistryError;

constexpr const char* kProgram = "discovery_server";

struct Flags {
  int port = 5000;
  std::string bind = "127.0.0.1";
  std::string data_dir;
  std::string state_file;
  int alive_timeout_ms = 3000;
  bool reset = false;
  std::string log_level = "info";
  std::string auth_token;  // default: $RAFT_AUTH_TOKEN
};

TimeMs steady_now_ms() {
  return static_cast<TimeMs>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count());
}

int fail(int code, const std::string& line) {
  std::fprintf(stderr, "%s: %s\n", kProgram, line.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"discovery_server: HTTP registry of the Raft cluster's nodes and leader"};
  app.add_option("--port", flags.port, "TCP port to listen on")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--bind", flags.bind, "address to listen on (loopback by default)")
      ->capture_default_str();
  app.add_option("--data_dir", flags.data_dir,
                 "directory for the state file (default: the current directory)");
  app.add_option("--state_file", flags.state_file,
                 "state file path (default: <data_dir>/discovery_state.json)");
  app.add_option("--alive_timeout_ms", flags.alive_timeout_ms,
                 "a node not heard from for this long is shown alive:false")
      ->capture_default_str()
      ->check(CLI::Range(100, 3600 * 1000));
  app.add_flag("--reset", flags.reset, "start with an empty registry (discard the state file)");
  app.add_option("--log_level", flags.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--auth_token", flags.auth_token,
                 "token /register, /set_leader and /reset require (default: $RAFT_AUTH_TOKEN; "
                 "the variable keeps it out of `ps`)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    return fail(2, std::string(e.what()) + " (see --help)");
  }
  std::string token_problem;
  const std::string auth_token = raft::auth::resolve_token(flags.auth_token, &token_problem);
  if (!token_problem.empty()) return fail(2, token_problem);
  std::string bind_problem;
  const auto host = raft::discovery::parse_bind_host(flags.bind, &bind_problem);
  if (!host) return fail(2, "--bind '" + flags.bind + "': " + bind_problem);

  fs::path state_file = !flags.state_file.empty() ? fs::path(flags.state_file)
                        : !flags.data_dir.empty()
                            ? fs::path(flags.data_dir) / "discovery_state.json"
                            : fs::path("discovery_state.json");
  if (fs::is_directory(state_file)) {
    return fail(2, "--state_file: " + state_file.string() + " is a directory");
  }

  // Signals are taken by sigtimedwait in one thread; block them before any
  // thread exists so that every thread inherits the mask. A peer that hangs
  // up mid-answer must not kill the server either.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto logger = spdlog::stdout_color_mt("discovery");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [discovery] %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(flags.log_level));
  logger->flush_on(spdlog::level::info);

  std::error_code ec;
  if (state_file.has_parent_path()) {
    fs::create_directories(state_file.parent_path(), ec);
    if (ec) {
      return fail(1, "cannot create the directory " + state_file.parent_path().string() + ": " +
                         ec.message());
    }
  }

  Registry registry(
      Registry::Options{state_file, static_cast<TimeMs>(flags.alive_timeout_ms), logger});
  try {
    if (flags.reset) {
      logger->info("--reset: starting with an empty registry in {}", state_file.string());
      registry.reset();
    } else {
      registry.load();
    }
  } catch (const RegistryError& e) {
    return fail(1, e.what());
  }

  httplib::Server server;
  server.set_tcp_nodelay(true);  // answers are small: no Nagle + delayed-ACK stalls
  raft::discovery::install_routes(server, registry, steady_now_ms, auth_token);
  if (std::string why; raft::http::bind_server(server, *host, flags.port, &why) == 0) {
    return fail(1, why);
  }
  if (!raft::discovery::is_loopback_host(*host) && auth_token.empty()) {
    logger->warn("listening on {}: anyone who can reach it can change the registry", *host);
  }
  logger->info("discovery server on http://{}:{} (state file {}, alive timeout {} ms{})",
               flags.bind, flags.port, state_file.string(), flags.alive_timeout_ms,
               auth_token.empty() ? "" : ", writes need the auth token");

  // The helper thread waits for a signal, and meanwhile logs members that
  // fall silent (the registry computes liveness on read; this is only the log).
  std::atomic<bool> listen_returned{false};
  std::atomic<int> received_signal{0};
  std::thread helper([&] {
    const timespec tick{0, 250 * 1000 * 1000};
    while (!listen_returned.load()) {
      int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig > 0) {
        received_signal = sig;
        logger->info("{} received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        break;
      }
      registry.sweep(steady_now_ms());
    }
    // stop() only takes effect once the accept loop runs; a signal that came
    // between bind and listen waits for it.
    while (!listen_returned.load()) {
      if (server.is_running()) {
        server.stop();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  bool listened = server.listen_after_bind();
  listen_returned = true;
  helper.join();
  if (received_signal.load() == 0) {
    return fail(
        1, std::string("the server stopped unexpectedly") + (listened ? "" : " (accept failed)"));
  }
  logger->info("stopped");
  return 0;
}
