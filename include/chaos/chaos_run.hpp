#pragma once
// One chaos run from start to verdict: start the cluster, run the clients,
// the nemesis and the leader sampler for the given time, heal, read every key
// one last time, compare the nodes' logs, check the history, write the report.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace raft::chaos {

struct ChaosOptions {
  int nodes = 3;
  double seconds = 60;
  std::uint64_t seed = 1;
  int clients = 4;
  int keys = 3;
  std::filesystem::path out = "chaos-out";
  std::filesystem::path bin_dir;
  std::string mpirun = "mpirun";
  int min_election_timeout_ms = 150;
  int max_election_timeout_ms = 300;
  int heartbeat_interval_ms = 30;
  int snapshot_every = 200;
  std::string fsync = "always";
  std::vector<std::string> nemesis = {"pause", "crash",    "partition", "oneway",     "transfer",
                                      "elect", "snapshot", "kill9",     "membership", "delay"};
  /// Standby ranks beside the `nodes` voters, for the membership nemesis to
  /// add (-1: 2 when membership is among the faults, else 0).
  int spares = -1;
  /// `spares`, resolved.
  int spare_ranks() const;
};

/// Exit codes of raft_chaos.
inline constexpr int kExitPass = 0;
inline constexpr int kExitViolation = 1;
inline constexpr int kExitBadFlags = 2;
inline constexpr int kExitCannotRun = 3;

/// Runs the whole thing; prints progress and the verdict; returns the exit code.
int run_chaos(const ChaosOptions& options);

/// Checks the history and final values saved in a report.json again and
/// prints the verdict: 0 linearizable and nothing lost, 1 not, 3 unreadable.
int recheck_report(const std::filesystem::path& report_json);

}  // namespace raft::chaos
