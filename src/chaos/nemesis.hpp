#pragma once
// Nemesis: injects one fault at a time at random (seeded) moments and undoes
// it after a random hold: pause/resume, crash/restart, partitions (one node
// isolated, the leader isolated, a majority split, or a "bridge" where only
// two nodes lose each other), one-way partitions (a link that carries traffic
// in one direction only: a pair, or a node that cannot be heard or cannot
// hear), leadership transfer, forced elections, snapshots, slow links
// (`delay`), membership changes (remove a voter, often the leader, or add a
// standby rank back as a voter, waiting for the change to commit), and
// kill -9 of the whole MPI job followed by a relaunch on the same data.
// Every action is recorded with its time and the nodes' answers. Runs on its
// own thread.

#include <atomic>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "chaos/report.hpp"
#include "kv_client.hpp"
#include "launcher/cluster.hpp"

namespace raft::chaos {

struct NemesisOptions {
  std::uint64_t seed = 1;
  Clock::time_point epoch;
  std::chrono::milliseconds min_gap{500}, max_gap{2500};    ///< quiet time between faults
  std::chrono::milliseconds min_hold{300}, max_hold{3000};  ///< how long a fault lasts
  /// pause crash partition oneway transfer elect snapshot kill9 delay membership
  std::vector<std::string> kinds;
  /// Ranks 0..voters-1 started as voters, the rest standby (0: every rank).
  int voters = 0;
};

/// What the membership nemesis asked for and how each change ended.
struct MembershipTally {
  int asked = 0;     ///< changes sent to a leader
  int done = 0;      ///< committed, and a removed node STANDBY (or a new leader)
  int refused = 0;   ///< the leader said no (the reason is in the event)
  int not_done = 0;  ///< accepted but not seen done within the wait
  int adds = 0, removes = 0, leader_removes = 0;  ///< accepted changes by kind
  int with_paused = 0;                            ///< changes asked while another voter was paused
};

class Nemesis {
 public:
  Nemesis(NemesisOptions options, launcher::Cluster& cluster);
  /// Runs until `stop` is set, then undoes the current fault and returns.
  void run(const std::atomic<bool>& stop);
  /// Resumes, restarts and heals every node (best effort, answers recorded).
  void heal_all();

  std::vector<NemesisEvent> events() const;
  /// Problems that are not faults we injected: the MPI job died by itself,
  /// a relaunch failed.
  std::vector<std::string> errors() const;
  MembershipTally membership_tally() const;

 private:
  std::int64_t now_us() const;
  int random_rank();
  int current_leader() const;
  /// Sleeps up to `d`, waking early when `stop` is set. False if stopped.
  bool sleep_for(std::chrono::milliseconds d, const std::atomic<bool>& stop);
  std::string command(int rank, const std::string& cmd, bool* ok = nullptr);
  void record(std::int64_t start, std::string kind, std::string detail,
              std::vector<int> restarted = {});
  /// Every rank: a relaunch restarts them all.
  std::vector<int> all_ranks() const;
  void one_fault(const std::atomic<bool>& stop);
  /// Cuts traffic in one direction with drop_to / drop_from, holds, heals.
  void oneway_fault(std::int64_t start, std::chrono::milliseconds hold,
                    const std::atomic<bool>& stop);
  /// Pauses or crashes one node (half the time the leader), holds, undoes.
  void node_fault(const std::string& kind, std::int64_t start, std::chrono::milliseconds hold,
                  const std::atomic<bool>& stop);
  /// Cuts the cluster in two sides (or a bridge), holds, heals.
  void partition_fault(std::int64_t start, std::chrono::milliseconds hold,
                       const std::atomic<bool>& stop);
  /// Partitions `ranks` (shuffled) by `shape`: 0 one node alone (the leader
  /// if known), 1 a minority, 2 a bridge. Returns what was done.
  std::string split_sides(std::vector<int> ranks, int shape);
  /// SIGKILL to the whole job, then a relaunch on the same data.
  void kill9_fault(std::int64_t start, std::chrono::milliseconds hold,
                   const std::atomic<bool>& stop);
  /// Starts the job again and waits until every node answers.
  bool relaunch(std::string* error);
  /// One rank (often the leader) holds its messages to some or all others
  /// for 20-300 ms; held, then healed.
  void delay_fault(std::int64_t start, std::chrono::milliseconds hold,
                   const std::atomic<bool>& stop);
  /// One membership change through the leader, never below the smaller of
  /// 3 and the initial voters, then a wait until it is done.
  void membership_fault(std::int64_t start, const std::atomic<bool>& stop);
  /// Waits up to 15 s for `rank` to be a voter (`add`) or out of the
  /// committed configuration and STANDBY; says how it ended.
  std::string await_change(int rank, bool add, const std::atomic<bool>& stop, bool* done);
  std::optional<std::pair<int, bool>> choose_change(const std::vector<int>& voters,
                                                    const std::vector<int>& learners, int leader);
  /// Ranks neither STANDBY nor in the leader's configuration (removed while
  /// unreachable, they never heard): added back so the cluster agrees again.
  void readmit_strays(std::string& detail);

  NemesisOptions options_;
  launcher::Cluster& cluster_;
  std::mt19937_64 rng_;
  mutable std::mutex mutex_;
  std::vector<NemesisEvent> events_;
  std::vector<std::string> errors_;
  MembershipTally membership_;
};

}  // namespace raft::chaos
