// raft_chaos: a real cluster under a random nemesis, its history checked for
// linearizability. Exit 0 pass, 1 violation (history and report kept),
// 2 bad flags, 3 the run could not be carried out.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "chaos/chaos_run.hpp"
#include "parse_flags.hpp"

namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad_flag(const std::string& message) {
  std::fprintf(stderr, "raft_chaos: error: %s\n", message.c_str());
  std::exit(raft::chaos::kExitBadFlags);
}

fs::path own_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

constexpr const char* kKnownFaults =
    "pause,crash,partition,oneway,transfer,elect,snapshot,kill9,membership,delay";

/// The flags as given, before they become ChaosOptions.
struct Flags {
  raft::chaos::ChaosOptions options;
  std::string nemesis =
      "pause,crash,partition,oneway,transfer,elect,snapshot,kill9,membership,delay";
  std::string check_file;
};

void add_flags(CLI::App& app, Flags& f) {
  raft::chaos::ChaosOptions& o = f.options;
  app.add_option("--nodes", o.nodes, "voters at the start (3-9)")->capture_default_str();
  app.add_option("--spares", o.spares,
                 "standby ranks beside them, for the membership nemesis to add (0-4; default: 2 "
                 "with membership among the faults, else 0)");
  raft::apps::add_timing_flags(app, o.min_election_timeout_ms, o.max_election_timeout_ms,
                               o.heartbeat_interval_ms);
  app.add_option("--seconds", o.seconds, "how long clients and nemesis run")->capture_default_str();
  app.add_option("--seed", o.seed, "picks the workload and the nemesis schedule (default: clock)");
  app.add_option("--clients", o.clients, "concurrent clients (1-64)")->capture_default_str();
  app.add_option("--keys", o.keys, "keys the clients share (1-1000)")->capture_default_str();
  app.add_option("--out", o.out, "report and cluster data go here")->capture_default_str();
  app.add_option("--bin-dir", o.bin_dir, "folder with raft_node and discovery_server")
      ->capture_default_str();
  app.add_option("--mpirun", o.mpirun, "mpirun to start the job with")->capture_default_str();
  app.add_option("--nemesis", f.nemesis,
                 "comma-separated faults: " + std::string(kKnownFaults) + " (or none)")
      ->capture_default_str();
  app.add_option("--snapshot_every", o.snapshot_every, "nodes compact every N entries")
      ->capture_default_str();
  app.add_option("--fsync", o.fsync, "always|never (never may lose writes on kill -9)")
      ->capture_default_str();
  app.add_option("--check", f.check_file,
                 "check the history of a saved report.json again (no cluster is started)");
}

/// The fault kinds of a --nemesis list; exits on an unknown one.
std::vector<std::string> nemesis_kinds(const std::string& list) {
  static const std::set<std::string> kinds = {"pause",      "crash", "partition", "oneway",
                                              "transfer",   "elect", "snapshot",  "kill9",
                                              "membership", "delay"};
  std::vector<std::string> out;
  if (list == "none") return out;
  std::stringstream in(list);
  for (std::string kind; std::getline(in, kind, ',');) {
    if (!kinds.count(kind)) {
      bad_flag("--nemesis: unknown fault '" + kind + "' (known: " + kKnownFaults + ", or none)");
    }
    out.push_back(kind);
  }
  return out;
}

/// Exits with one line on the first bad flag, before anything starts.
void validate(const raft::chaos::ChaosOptions& o) {
  if (o.nodes < 3 || o.nodes > 9) bad_flag("--nodes must be between 3 and 9");
  if (o.spares < -1 || o.spares > 4) bad_flag("--spares must be between 0 and 4");
  if (!(o.seconds >= 1)) bad_flag("--seconds must be at least 1");
  if (o.clients < 1 || o.clients > 64) bad_flag("--clients must be between 1 and 64");
  if (o.keys < 1 || o.keys > 1000) bad_flag("--keys must be between 1 and 1000");
  if (o.min_election_timeout_ms < 10 || o.min_election_timeout_ms > o.max_election_timeout_ms)
    bad_flag("--min_election_timeout must be at least 10 and at most --max_election_timeout");
  if (o.heartbeat_interval_ms < 1 || o.heartbeat_interval_ms >= o.min_election_timeout_ms)
    bad_flag("--heartbeat_interval must be at least 1 and below --min_election_timeout");
  if (o.snapshot_every < 0) bad_flag("--snapshot_every must not be negative");
  if (o.fsync != "always" && o.fsync != "never") bad_flag("--fsync must be always or never");
}

/// The programs the run starts must be there.
void check_programs(const raft::chaos::ChaosOptions& o) {
  for (const char* program : {"raft_node", "discovery_server"}) {
    if (::access((o.bin_dir / program).c_str(), X_OK) != 0) {
      bad_flag("--bin-dir: no executable " + (o.bin_dir / program).string() +
               " (build raft_node and discovery_server first)");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  f.options.seed = static_cast<std::uint64_t>(
      std::chrono::system_clock::now().time_since_epoch().count() % 1'000'000'007);
  f.options.bin_dir = own_dir();
#ifdef RAFT_MPIEXEC
  f.options.mpirun = RAFT_MPIEXEC;
#endif
  CLI::App app{
      "raft_chaos: runs a real raft_node cluster under a random nemesis with concurrent "
      "KV clients, then checks the history for linearizability, lost writes and log "
      "agreement, and writes report.json and timeline.html"};
  add_flags(app, f);
  if (const auto code = raft::apps::parse_flags(app, argc, argv, bad_flag)) return *code;
  if (!f.check_file.empty()) return raft::chaos::recheck_report(f.check_file);
  validate(f.options);
  f.options.nemesis = nemesis_kinds(f.nemesis);
  check_programs(f.options);
  if (f.options.out.empty()) bad_flag("--out must not be empty");
  return raft::chaos::run_chaos(f.options);
}
