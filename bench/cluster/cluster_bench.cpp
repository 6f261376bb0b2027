// KV writes on a real raft_node job, measured from outside like a user would:
// idle CPU of all ranks together, then write throughput and p50/p99 latency
// through HTTP at several concurrencies, for each --fsync mode on a fresh
// cluster, side by side in one run. Writes JSON and two SVG charts.
// Usage: raft_cluster_bench [--nodes 3] [--seconds 5] [--fsync always,never]
//          [--concurrency 1,8,64,256] [--idle_seconds 10] [--json out.json]
//          [--svg_prefix bench/results/kv] [--replot saved.json (with --svg_prefix)]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench_cluster.hpp"
#include "bench_flags.hpp"
#include "kv_load.hpp"
#include "machine_info.hpp"
#include "proc_cpu.hpp"
#include "prometheus_text.hpp"
#include "svg_chart.hpp"

using namespace raft::bench;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string metrics_of(const raft::launcher::Cluster& c, int rank) {
  return c.get(rank, "/metrics").raw;
}

/// One fresh cluster in one fsync mode: idle CPU, then the load levels.
Json run_mode(int nodes, const std::string& fsync, const std::vector<int>& levels, double seconds,
              double idle_seconds) {
  // The product's default timeouts: what users run.
  const auto cluster = start_cluster({.nodes = nodes,
                                      .min_election_timeout_ms = 2000,
                                      .max_election_timeout_ms = 4000,
                                      .heartbeat_interval_ms = 750,
                                      .initial_delay_ms = 200,
                                      .fsync = fsync});
  const raft::launcher::Cluster& c = *cluster;
  const int leader = wait_leader(c);
  if (leader < 0) throw std::runtime_error("no leader within the deadline");
  // Let start-up work (registration, first heartbeats) settle before measuring idle.
  std::this_thread::sleep_for(std::chrono::seconds(2));

  const std::vector<pid_t> ranks = children_of(cluster->job().pid());
  const double cpu0 = cpu_seconds(ranks);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));  // the window
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double idle_pct = 100.0 * (cpu_seconds(ranks) - cpu0) / wall;
  std::printf("fsync %s: idle CPU of %zu ranks together: %.2f %% of one core (over %.1f s)\n",
              fsync.c_str(), ranks.size(), idle_pct, wall);

  Json mode = {
      {"fsync", fsync}, {"idle_cpu_percent_of_one_core", idle_pct}, {"kv_put", Json::array()}};
  std::printf("%-12s %10s %10s %10s %10s %8s %12s\n", "concurrency", "writes/s", "p50 ms", "p99 ms",
              "max ms", "errors", "fsync avg ms");
  for (int concurrency : levels) {
    const std::string m0 = metrics_of(c, leader);
    const LoadResult r = kv_write_load(c.port(leader), concurrency, seconds);
    const std::string m1 = metrics_of(c, leader);
    const double syncs =
        metric_sum(m1, "raft_fsync_seconds_count") - metric_sum(m0, "raft_fsync_seconds_count");
    const double sync_s =
        metric_sum(m1, "raft_fsync_seconds_sum") - metric_sum(m0, "raft_fsync_seconds_sum");
    const double term_change = metric_sum(m1, "raft_term") - metric_sum(m0, "raft_term");
    const double avg_sync_ms = syncs > 0 ? 1000.0 * sync_s / syncs : 0;
    std::printf("%-12d %10.0f %10.2f %10.2f %10.1f %8zu %12.3f\n", concurrency, r.writes_per_s,
                r.p50_ms, r.p99_ms, r.max_ms, r.errors, avg_sync_ms);
    for (const auto& [kind, e] : r.error_kinds) {
      std::printf("    %zu x %s (first after %.2f s)\n", e.count, kind.c_str(), e.first_at_s);
    }
    Json level = r.to_json();
    level["leader_syncs"] = syncs;
    level["leader_fsync_avg_ms"] = avg_sync_ms;
    level["leader_term_changed_by"] = term_change;
    level["loadavg_after"] = {load_average().one, load_average().five};
    mode["kv_put"].push_back(level);
  }
  return mode;
}

void write_charts(const Json& out, const std::string& prefix) {
  char note[200];
  std::snprintf(note, sizeof note, "%d ranks, %s, %u cores shared, %s", out["nodes"].get<int>(),
                out["machine"]["cpu_model"].get<std::string>().c_str(),
                out["machine"]["nproc"].get<unsigned>(), load_note(out).c_str());
  std::vector<Series> rate, latency;
  for (const Json& mode : out["modes"]) {
    const std::string f = "fsync " + mode["fsync"].get<std::string>();
    const std::string color = rate.size() % 2 == 0 ? "#1f77b4" : "#d62728";
    Series r{f, {}, false, false, color};
    Series p50{f + " p50", {}, false, false, color}, p99{f + " p99", {}, false, true, color};
    for (const Json& level : mode["kv_put"]) {
      const double x = level["concurrency"].get<double>();
      r.points.emplace_back(x, level["writes_per_s"].get<double>());
      p50.points.emplace_back(x, level["p50_ms"].get<double>());
      p99.points.emplace_back(x, level["p99_ms"].get<double>());
    }
    rate.push_back(r);
    latency.push_back(p50);
    latency.push_back(p99);
  }
  ChartSpec spec;
  spec.title = "KV writes (PUT over HTTP to the leader): throughput";
  spec.x_label = "concurrent clients";
  spec.y_label = "writes per second";
  spec.log_x = true;
  spec.x_ticks_at_data = true;
  spec.note = note;
  write_text_file(prefix + "_throughput.svg", line_chart_svg(spec, rate));
  spec.title = "KV writes (PUT over HTTP to the leader): latency";
  spec.y_label = "latency, ms (log scale)";
  spec.log_y = true;
  write_text_file(prefix + "_latency.svg", line_chart_svg(spec, latency));
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = 3;
  double seconds = 5;
  double idle_seconds = 10;
  std::vector<std::string> modes = {"always"};
  std::vector<int> levels = {1, 8, 64};
  OutputFlags output;
  const bool flags_ok = parse_flags(argc, argv, "--svg_prefix", output,
                                    [&](const std::string& flag, const std::string& value) {
                                      if (flag == "--nodes") {
                                        nodes = std::stoi(value);
                                      } else if (flag == "--seconds") {
                                        seconds = std::stod(value);
                                      } else if (flag == "--idle_seconds") {
                                        idle_seconds = std::stod(value);
                                      } else if (flag == "--fsync") {
                                        modes = split(value);
                                      } else if (flag == "--concurrency") {
                                        levels.clear();
                                        for (const std::string& s : split(value))
                                          levels.push_back(std::stoi(s));
                                      } else {
                                        return false;
                                      }
                                      return true;
                                    });
  if (!flags_ok) return 2;
  if (const auto code = replot(output, write_charts)) return *code;
  Json out = {{"bench", "raft_cluster_bench"},
              {"nodes", nodes},
              {"seconds_per_level", seconds},
              {"machine", machine_json()},
              {"modes", Json::array()}};
  try {
    for (const std::string& fsync : modes) {
      out["modes"].push_back(run_mode(nodes, fsync, levels, seconds, idle_seconds));
    }
  } catch (const std::exception& e) {
    std::cerr << "raft_cluster_bench: " << e.what() << "\n";
    return 1;
  }
  out["loadavg_at_end"] = {load_average().one, load_average().five, load_average().fifteen};
  write_outputs(output, out, write_charts);
  return 0;
}
