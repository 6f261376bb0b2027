// All checks of a run's history, timed, with the planted self-check.
#include "chaos/run_check.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "parallel.hpp"

namespace raft::chaos {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// One planted check: which kind, first key to try, and its own seed, drawn
/// up front so the outcome does not depend on which thread runs it.
struct Plan {
  PlantKind kind;
  std::size_t first_key;
  std::uint64_t seed;
};

/// Plants into a copy of a key's history (the next key if that one has no
/// place for it) and checks the copy; nullopt if no key has a place.
std::optional<PlantedCheck> planted_check(
    const std::vector<Operation>& history,
    const std::vector<std::pair<std::string, std::vector<std::size_t>>>& keys, const Plan& plan,
    const CheckOptions& options) {
  std::mt19937_64 rng(plan.seed);
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const auto& [key, indexes] = keys[(plan.first_key + k) % keys.size()];
    std::vector<Operation> ops;
    ops.reserve(indexes.size());
    for (std::size_t i : indexes) ops.push_back(history[i]);
    const std::optional<Planted> planted = plant_fault(ops, plan.kind, rng);
    if (!planted) continue;
    const KeyVerdict v = check_key(key, ops, options);
    return PlantedCheck{*planted,  key,       !v.linearizable && !v.gave_up,
                        v.gave_up, v.seconds, v.explanation};
  }
  return std::nullopt;
}

/// Plants every kind of fault kPlantsPerKind times, each into a copy of a
/// key drawn at random, and checks the copies, as many at once as there are
/// threads (one thread each: splitting a key is sequential work).
void self_check(const std::vector<Operation>& history, std::uint64_t seed,
                const CheckOptions& options, RunCheck& out) {
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < history.size(); ++i) by_key[history[i].key].push_back(i);
  if (by_key.empty()) return;
  const std::vector<std::pair<std::string, std::vector<std::size_t>>> keys(by_key.begin(),
                                                                           by_key.end());
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::vector<Plan> plans;
  for (PlantKind kind : kPlantKinds) {
    for (int n = 0; n < kPlantsPerKind; ++n) plans.push_back({kind, rng() % keys.size(), rng()});
  }
  CheckOptions one = options;
  one.threads = 1;
  std::vector<std::optional<PlantedCheck>> results(plans.size());
  detail::parallel_for(plans.size(), options.threads, [&](std::size_t i) {
    results[i] = planted_check(history, keys, plans[i], one);
  });
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (results[i]) {
      out.planted.push_back(std::move(*results[i]));
    } else if (out.not_planted.empty() || out.not_planted.back() != plant_name(plans[i].kind)) {
      out.not_planted.emplace_back(plant_name(plans[i].kind));
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
