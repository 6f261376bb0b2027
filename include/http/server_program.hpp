#pragma once
/// What the server programs (discovery_server, web_monitor) share around
/// their http::Server: the exit-code convention, flag parsing, the logger,
/// and the wait for SIGINT/SIGTERM. Their mains (src/apps/) only parse,
/// validate and run.
///
/// Exit codes: 0 stopped by a signal (or --help); 1 cannot run (a port in
/// use, an unusable state file, the server stopped by itself); 2 bad flags.

#include <signal.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class App;
}
namespace spdlog {
class logger;
}

namespace raft::http {

inline constexpr int kExitCannotRun = 1;
inline constexpr int kExitBadFlags = 2;

/// Prints "program: line" on stderr; returns `code` (for main to return).
int fail(std::string_view program, int code, const std::string& line);

/// The flags every server program takes.
struct ServerFlags {
  explicit ServerFlags(int default_port) : port(default_port) {}
  int port;
  std::string bind = "127.0.0.1";
  std::string log_level = "info";
  std::string auth_token;  ///< default: $RAFT_AUTH_TOKEN
};

/// Adds --port (port_min..65535; 0 means any free port), --bind,
/// --auth_token ("token <token_use> (default: $RAFT_AUTH_TOKEN; ...)") and
/// --log_level (trace, debug, info, warn, error or off).
void add_server_flags(CLI::App& app, ServerFlags& flags, int port_min,
                      const std::string& token_use);

/// What checked ServerFlags come to: the host to listen on (--bind checked
/// by discovery::parse_bind_host) and the token (--auth_token, else
/// $RAFT_AUTH_TOKEN, checked by auth::token_error).
struct Listen {
  std::string host;
  std::string auth_token;
};
/// Checks `flags` into *listen; returns the problem in one line, or "".
std::string check_server_flags(const ServerFlags& flags, Listen* listen);

/// Adds an integer flag that must lie in min..max (its default is shown).
void add_int_flag(CLI::App& app, const std::string& name, int& value, const std::string& help,
                  int min, int max);

/// A logger on stdout whose lines read "<date> <time> [name] level text",
/// flushed at info and above.
std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const std::string& level);

/// Warns that anyone who can reach `listen` can <what> when it has no
/// token (on loopback too: local users and local browsers reach it).
void warn_if_open(spdlog::logger& logger, const Listen& listen, std::string_view what);

/// SIGINT and SIGTERM, taken in the thread that calls wait(). Construct it
/// first in main, before any thread exists: it blocks both signals for this
/// thread and so for every thread started later. It also ignores SIGPIPE,
/// so a peer that hangs up mid-answer cannot kill the server.
class StopSignals {
 public:
  StopSignals();
  /// Waits for SIGINT or SIGTERM and returns it, calling `tick` about every
  /// 250 ms meanwhile; returns 0 as soon as `tick` returns false.
  int wait(const std::function<bool()>& tick) const;
  /// "SIGINT" or "SIGTERM".
  static const char* name(int signal);

 private:
  sigset_t signals_{};
};

/// Serves until SIGINT or SIGTERM; `running` is asked about every 250 ms
/// whether the server still runs. On a signal: logs "<signal> received:
/// stopping", calls `stop`, logs "stopped" and returns 0. When the server
/// stopped by itself: calls `stop`, prints "program: the HTTP server stopped
/// unexpectedly" and returns kExitCannotRun.
int serve_until_signal(const StopSignals& signals, spdlog::logger& logger, std::string_view program,
                       const std::function<bool()>& running, const std::function<void()>& stop);

/// The whole of a server program's main: `add_flags` declares the flags,
/// argv is parsed (exit 0 after --help, kExitBadFlags with one line on an
/// error), `validate` checks them (a non-empty problem: kExitBadFlags with
/// that line), the stop signals are taken (before any thread exists) and
/// `run`'s exit code is returned.
int server_main(std::string_view program, const std::string& description, int argc, char** argv,
                const std::function<void(CLI::App&)>& add_flags,
                const std::function<std::string()>& validate,
                const std::function<int(const StopSignals&)>& run);

/// The same with the program's own Flags (declared by add_flags, checked by
/// validate into a Config) and its run(Config).
template <typename Flags, typename Config>
int server_main(std::string_view program, const std::string& description, int argc, char** argv,
                void (*add_flags)(CLI::App&, Flags&),
                std::string (*validate)(const Flags&, Config*),
                int (*run)(const Config&, const StopSignals&)) {
  Flags flags;
  Config config;
  return server_main(
      program, description, argc, argv, [&](CLI::App& app) { add_flags(app, flags); },
      [&] { return validate(flags, &config); },
      [&](const StopSignals& signals) { return run(config, signals); });
}

}  // namespace raft::http
