// A 3-rank raft_node job on this machine, measured from outside like a user
// would: idle CPU of all ranks together, and KV write throughput and p50/p99
// latency through HTTP at several concurrencies. Writes JSON with --json.
// Usage: raft_cluster_bench [--nodes 3] [--seconds 5] [--fsync always|never] [--json out.json]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <httplib.h>

#include "cluster_fixture.hpp"

using namespace raft::cluster_test;

namespace {

/// user+system CPU ticks of every process whose parent is `parent`.
long child_cpu_ticks(pid_t parent, std::vector<pid_t>* pids = nullptr) {
  long total = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent) continue;
    std::string skip;
    for (int i = 0; i < 9; ++i) rest >> skip;  // fields 6..14
    long utime = 0, stime = 0;
    rest >> utime >> stime;
    total += utime + stime;
    if (pids) pids->push_back(static_cast<pid_t>(std::stol(name)));
  }
  return total;
}

struct LoadResult {
  int concurrency = 0;
  std::size_t ops = 0;
  std::size_t errors = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0;
};

LoadResult kv_load(int port, int concurrency, double seconds) {
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(concurrency));
  std::atomic<std::size_t> errors{0};
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_read_timeout(10, 0);
      const std::string value(100, 'v');
      for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = c.Put("/kv/bench-" + std::to_string(t) + "-" + std::to_string(i % 64), value,
                       "text/plain");
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        if (r && r->status == 200) {
          latencies[static_cast<std::size_t>(t)].push_back(ms);
        } else {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  LoadResult r;
  r.concurrency = concurrency;
  r.ops = all.size();
  r.errors = errors;
  r.seconds = seconds;
  if (!all.empty()) {
    r.p50_ms = all[all.size() / 2];
    r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = 3;
  double seconds = 5;
  std::string fsync = "always";
  std::string json_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--nodes")
      nodes = std::atoi(argv[i + 1]);
    else if (flag == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (flag == "--fsync")
      fsync = argv[i + 1];
    else if (flag == "--json")
      json_path = argv[i + 1];
  }
  Cluster::Options o;
  o.nodes = nodes;
  // Defaults of the product for timeouts: what users run.
  o.min_election_timeout = 2000;
  o.max_election_timeout = 4000;
  o.heartbeat_interval = 750;
  o.initial_delay_ms = 200;
  Cluster c(o, fsync);
  const int leader = c.wait_leader();
  if (leader < 0) {
    std::cerr << "no leader\n";
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let start-up work settle

  // Idle CPU: all ranks (children of mpirun), over 10 s of wall time.
  const long hz = sysconf(_SC_CLK_TCK);
  std::vector<pid_t> ranks;
  const long before = child_cpu_ticks(c.mpirun().pid(), &ranks);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(10));
  const long after = child_cpu_ticks(c.mpirun().pid());
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double idle_cpu_pct =
      100.0 * static_cast<double>(after - before) / static_cast<double>(hz) / wall;
  std::printf("idle CPU of %zu ranks together: %.2f %% of one core (over %.1f s)\n", ranks.size(),
              idle_cpu_pct, wall);

  nlohmann::json out = {{"nodes", nodes},
                        {"fsync", fsync},
                        {"cores", std::thread::hardware_concurrency()},
                        {"idle_cpu_percent_of_one_core", idle_cpu_pct},
                        {"kv_put", nlohmann::json::array()}};
  std::printf("%-12s %10s %10s %10s %8s\n", "concurrency", "writes/s", "p50 ms", "p99 ms",
              "errors");
  for (int concurrency : {1, 8, 64}) {
    LoadResult r = kv_load(c.port(leader), concurrency, seconds);
    const double rate = static_cast<double>(r.ops) / r.seconds;
    std::printf("%-12d %10.0f %10.2f %10.2f %8zu\n", concurrency, rate, r.p50_ms, r.p99_ms,
                r.errors);
    out["kv_put"].push_back({{"concurrency", concurrency},
                             {"writes_per_s", rate},
                             {"p50_ms", r.p50_ms},
                             {"p99_ms", r.p99_ms},
                             {"errors", r.errors}});
  }
  if (!json_path.empty()) std::ofstream(json_path) << out.dump(2) << "\n";
  return 0;
}
