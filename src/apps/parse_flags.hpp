#pragma once
/// The command-line step the programs share (CLI11): --help prints and ends
/// the program, and a bad flag is reported in one line. Header-only; for
/// main's thread.

#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace raft::apps {

/// Parses argv into `app`. Returns an exit code when the program should end
/// at once (--help); on a bad flag calls `bad_flag` with the first line of
/// CLI11's message, and `bad_flag` is expected to exit.
inline std::optional<int> parse_flags(CLI::App& app, int argc, char** argv,
                                      const std::function<void(const std::string&)>& bad_flag) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (const auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    bad_flag(what);
  }
  return std::nullopt;
}

/// Raft's timing flags, in ms, named as raft_node takes them.
inline void add_timing_flags(CLI::App& app, int& min_election_timeout_ms,
                             int& max_election_timeout_ms, int& heartbeat_interval_ms) {
  app.add_option("--min_election_timeout", min_election_timeout_ms, "ms")->capture_default_str();
  app.add_option("--max_election_timeout", max_election_timeout_ms, "ms")->capture_default_str();
  app.add_option("--heartbeat_interval", heartbeat_interval_ms, "ms")->capture_default_str();
}

}  // namespace raft::apps
