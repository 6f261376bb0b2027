// All checks of a run's history, timed, with the planted self-check.
#include "chaos/run_check.hpp"

#include <algorithm>
#include <chrono>

namespace raft::chaos {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// Plants every kind of fault kPlantsPerKind times, each into a copy of a
/// key drawn at random (the next key if that one has no place for it), and
/// checks the planted copy.
void self_check(const std::vector<Operation>& history, std::uint64_t seed,
                const CheckOptions& options, RunCheck& out) {
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < history.size(); ++i) by_key[history[i].key].push_back(i);
  std::vector<const std::pair<const std::string, std::vector<std::size_t>>*> keys;
  for (const auto& entry : by_key) keys.push_back(&entry);
  if (keys.empty()) return;
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  for (PlantKind kind : kPlantKinds) {
    for (int n = 0; n < kPlantsPerKind; ++n) {
      const std::size_t first = rng() % keys.size();
      std::optional<Planted> planted;
      std::vector<Operation> ops;
      const std::string* key = nullptr;
      for (std::size_t k = 0; k < keys.size() && !planted; ++k) {
        key = &keys[(first + k) % keys.size()]->first;
        ops.clear();
        for (std::size_t i : keys[(first + k) % keys.size()]->second) ops.push_back(history[i]);
        planted = plant_fault(ops, kind, rng);
      }
      if (!planted) {
        out.not_planted.emplace_back(plant_name(kind));
        break;
      }
      const KeyVerdict v = check_key(*key, ops, options);
      out.planted.push_back(
          {*planted, *key, !v.linearizable && !v.gave_up, v.gave_up, v.seconds, v.explanation});
    }
  }
}

}  // namespace

RunCheck check_run(const std::vector<Operation>& history,
                   const std::map<std::string, FinalRead>& final_reads,
                   const std::vector<RestartWindow>& restarts, std::uint64_t seed,
                   const CheckOptions& options) {
  RunCheck out;
  const auto started = Clock::now();
  out.verdicts = check_history(history, options);
  out.lost_writes = find_lost_writes(history, final_reads);
  out.stale_reads = static_cast<std::size_t>(
      std::count_if(history.begin(), history.end(),
                    [](const Operation& op) { return op.stale && op.outcome == Outcome::Ok; }));
  out.stale_problems = check_stale_reads(history, restarts);
  out.history_seconds = since(started);
  const auto planting = Clock::now();
  self_check(history, seed, options, out);
  out.self_check_seconds = since(planting);
  return out;
}

std::size_t missed_plants(const RunCheck& check) {
  return static_cast<std::size_t>(std::count_if(check.planted.begin(), check.planted.end(),
                                                [](const PlantedCheck& p) { return !p.caught; }));
}

}  // namespace raft::chaos
