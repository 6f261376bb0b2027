#include "http/server_program.hpp"

#include <pthread.h>
#include <time.h>

#include <cstdio>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "auth/auth_token.hpp"
#include "discovery/address.hpp"
#include "discovery/advertise.hpp"
#include "util/safe_log.hpp"

namespace raft::http {

int fail(std::string_view program, int code, const std::string& line) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
               line.c_str());
  return code;
}

void add_server_flags(CLI::App& app, ServerFlags& flags, int port_min,
                      const std::string& token_use) {
  add_int_flag(app, "--port", flags.port,
               port_min == 0 ? "TCP port to listen on (0: any free port)" : "TCP port to listen on",
               port_min, 65535);
  app.add_option("--bind", flags.bind, "address to listen on (loopback by default)")
      ->capture_default_str();
  app.add_option(
      "--auth_token", flags.auth_token,
      "token " + token_use + " (default: $RAFT_AUTH_TOKEN; the variable keeps it out of `ps`)");
  app.add_option("--log_level", flags.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

void add_int_flag(CLI::App& app, const std::string& name, int& value, const std::string& help,
                  int min, int max) {
  app.add_option(name, value, help)->capture_default_str()->check(CLI::Range(min, max));
}

std::string check_server_flags(const ServerFlags& flags, Listen* listen) {
  std::string problem;
  const std::optional<std::string> host = discovery::parse_bind_host(flags.bind, &problem);
  if (!host) return "--bind '" + flags.bind + "': " + problem;
  listen->host = *host;
  listen->auth_token = auth::resolve_token(flags.auth_token, &problem);
  return problem;
}

void warn_if_open(spdlog::logger& logger, const Listen& listen, std::string_view what) {
  if (!listen.auth_token.empty()) return;
  // Loopback is no boundary either: any local user, and any web page a local
  // browser opens, can reach it.
  logger.warn("no auth token ({} or --auth_token): anyone who can reach {} can {}", auth::kTokenEnv,
              listen.host, what);
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const std::string& level) {
  auto logger = spdlog::stdout_color_mt(name);
  logger->set_formatter(util::safe_formatter("%Y-%m-%d %H:%M:%S.%e [" + name + "] %^%l%$ %q"));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  return logger;
}

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int StopSignals::wait(const std::function<bool()>& tick) const {
  const timespec interval{0, 250 * 1000 * 1000};
  while (true) {
    const int received = sigtimedwait(&signals_, nullptr, &interval);
    if (received > 0) return received;
    if (!tick()) return 0;
  }
}

const char* StopSignals::name(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

int serve_until_signal(const StopSignals& signals, spdlog::logger& logger, std::string_view program,
                       const std::function<bool()>& running, const std::function<void()>& stop) {
  const int received = signals.wait(running);
  if (received == 0) {
    stop();
    return fail(program, kExitCannotRun, "the HTTP server stopped unexpectedly");
  }
  logger.info("{} received: stopping", StopSignals::name(received));
  stop();
  logger.info("stopped");
  return 0;
}

int server_main(std::string_view program, const std::string& description, int argc, char** argv,
                const std::function<void(CLI::App&)>& add_flags,
                const std::function<std::string()>& validate,
                const std::function<int(const StopSignals&)>& run) {
  CLI::App app{description};
  add_flags(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));  // one line
    return fail(program, kExitBadFlags, what + " (see --help)");
  }
  if (const std::string problem = validate(); !problem.empty()) {
    return fail(program, kExitBadFlags, problem);
  }
  const StopSignals signals;
  return run(signals);
}

}  // namespace raft::http
