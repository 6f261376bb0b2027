#pragma once
/// Everything a chaos run's history is checked for, in one place, so a run
/// and a later `raft_chaos --check` of its report.json judge alike:
/// linearizability per key, lost writes against the final reads, the
/// stale-read promise, and the checker's self-check (faults planted in the
/// middle of this very history must each come out as a violation).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chaos/checker.hpp"
#include "chaos/fault_plant.hpp"
#include "chaos/history.hpp"
#include "chaos/stale_reads.hpp"

namespace raft::chaos {

/// Each kind of fault is planted this many times per run, each time into a
/// fresh copy of one key's history.
inline constexpr int kPlantsPerKind = 3;

struct PlantedCheck {
  Planted fault;
  std::string key;
  bool caught = false;     ///< the checker proved the planted history not linearizable
  bool undecided = false;  ///< it ran out of budget (a failed self-check too)
  double seconds = 0;
  std::string verdict;  ///< the checker's explanation
};

struct RunCheck {
  std::vector<KeyVerdict> verdicts;
  std::vector<LostWrite> lost_writes;
  std::size_t stale_reads = 0;  ///< ok stale reads checked
  std::vector<StaleReadProblem> stale_problems;
  std::vector<PlantedCheck> planted;
  std::vector<std::string> not_planted;  ///< kinds the history had no place for
  double history_seconds = 0;            ///< wall time of the checks of the real history
  double self_check_seconds = 0;         ///< wall time of the planted checks
};

/// Runs every check. `seed` draws where faults are planted.
RunCheck check_run(const std::vector<Operation>& history,
                   const std::map<std::string, FinalRead>& final_reads,
                   const std::vector<RestartWindow>& restarts, std::uint64_t seed,
                   const CheckOptions& options = {});

/// Planted faults that did not come out as a violation.
std::size_t missed_plants(const RunCheck& check);

}  // namespace raft::chaos
