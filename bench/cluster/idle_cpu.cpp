#include "idle_cpu.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>

#include "launcher/process_tree.hpp"
#include "proc_cpu.hpp"

namespace raft::bench {

namespace {

/// OMPI_COMM_WORLD_RANK from /proc/<pid>/environ; -1 if absent.
int mpi_rank_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ");
  const std::string env((std::istreambuf_iterator<char>(in)), {});
  const std::string key = "OMPI_COMM_WORLD_RANK=";
  for (std::size_t at = 0; at < env.size();) {
    const std::size_t end = std::min(env.find('\0', at), env.size());
    if (env.compare(at, key.size(), key) == 0) {
      try {
        return std::stoi(env.substr(at + key.size(), end - at - key.size()));
      } catch (const std::exception&) {
        return -1;
      }
    }
    at = end + 1;
  }
  return -1;
}

/// The job's ranks in rank order (PID order for those without a rank).
std::vector<pid_t> ranks_in_order(pid_t job) {
  std::vector<std::pair<int, pid_t>> ranked;
  for (pid_t p : launcher::children_of(job)) {
    const int rank = mpi_rank_of(p);
    ranked.emplace_back(rank < 0 ? 1 << 20 : rank, p);
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<pid_t> out;
  for (const auto& [rank, pid] : ranked) out.push_back(pid);
  return out;
}

}  // namespace

nlohmann::json IdleCpu::to_json() const {
  return {{"window_s", window_s},
          {"per_rank_percent_of_one_core", per_rank_percent},
          {"total_percent_of_one_core", total_percent},
          {"mpirun_percent_of_one_core", mpirun_percent}};
}

IdleCpu measure_idle_cpu(pid_t job, double seconds) {
  const std::vector<pid_t> ranks = ranks_in_order(job);
  std::vector<double> cpu0;
  for (pid_t p : ranks) cpu0.push_back(cpu_seconds(p));
  const double mpirun0 = cpu_seconds(job);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));  // the window itself
  IdleCpu r;
  r.window_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    const double pct = 100.0 * (cpu_seconds(ranks[i]) - cpu0[i]) / r.window_s;
    r.per_rank_percent.push_back(pct);
    r.total_percent += pct;
  }
  r.mpirun_percent = 100.0 * (cpu_seconds(job) - mpirun0) / r.window_s;
  return r;
}

}  // namespace raft::bench
