// KV writes on a real raft_node job, measured from outside like a user would,
// at the product's default timeouts (election 2000-4000 ms, heartbeat 750 ms):
// idle CPU of each rank and of all together, then write throughput and
// p50/p99 latency through HTTP at several concurrencies, for each --fsync
// mode on a fresh cluster. With fsync always, and when `etcd` is on $PATH, a
// 3-member (--nodes-member) etcd cluster on loopback gets the same load
// generator and levels in the same run, level by level after ours
// (alternating, so a change in the machine's load hits both), and the
// ratios are reported. Writes JSON and two SVG charts.
// Usage: raft_cluster_bench [--nodes 3] [--seconds 5] [--fsync always,never]
//          [--concurrency 1,8,64,256] [--idle_seconds 10] [--etcd auto|off]
//          [--client one_write|httplib]
//          [--json out.json] [--svg_prefix bench/results/kv]
//          [--replot saved.json (with --svg_prefix)]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "bench_cluster.hpp"
#include "bench_flags.hpp"
#include "etcd_cluster.hpp"
#include "idle_cpu.hpp"
#include "kv_load.hpp"
#include "machine_info.hpp"
#include "prometheus_text.hpp"
#include "stop_on_signal.hpp"
#include "svg_chart.hpp"

using namespace raft::bench;

namespace {

struct Options {
  int nodes = 3;
  double seconds = 5;
  double idle_seconds = 10;
  std::vector<std::string> modes = {"always"};
  std::vector<int> levels = {1, 8, 64};
  std::string etcd = "auto";  ///< "auto": compare when etcd is installed; "off"
  /// The load generator's HTTP client (kv_load.hpp), the same for both stores.
  LoadOptions load;
};

bool own_flag(Options& o, const std::string& flag, const std::string& value) {
  if (flag == "--nodes") {
    o.nodes = int_at_least(value, 1);
  } else if (flag == "--seconds") {
    o.seconds = number_at_least(value, 0.1);
  } else if (flag == "--idle_seconds") {
    o.idle_seconds = number_at_least(value, 0.1);
  } else if (flag == "--fsync") {
    o.modes.clear();
    for (const std::string& m : split_list(value))
      o.modes.push_back(one_of(m, {"always", "never"}));
    if (o.modes.empty()) throw std::invalid_argument("expected always, never or both");
  } else if (flag == "--concurrency") {
    o.levels = int_list(value, 1);
  } else if (flag == "--etcd") {
    o.etcd = one_of(value, {"auto", "off"});
  } else if (flag == "--client") {
    o.load.client = one_of(value, {"one_write", "httplib"}) == "one_write" ? LoadClient::OneWrite
                                                                           : LoadClient::Httplib;
  } else {
    return false;
  }
  return true;
}

void print_row(const char* store, const LoadResult& r, const std::string& extra) {
  std::printf("%-8d %-5s %10.0f %10.2f %10.2f %10.1f %8zu %s\n", r.concurrency, store,
              r.writes_per_s, r.p50_ms, r.p99_ms, r.max_ms, r.errors, extra.c_str());
  for (const auto& [kind, e] : r.error_kinds) {
    std::printf("    %zu x %s (first after %.2f s)\n", e.count, kind.c_str(), e.first_at_s);
  }
}

/// One level on our cluster, with the leader's fsyncs over it.
Json measure_ours(const raft::launcher::Cluster& c, int leader, int concurrency, double seconds,
                  const LoadOptions& load) {
  const std::string m0 = c.get(leader, "/metrics").raw;
  const LoadResult r = kv_write_load(c.port(leader), concurrency, seconds, raft_kv_put, load);
  const std::string m1 = c.get(leader, "/metrics").raw;
  const double syncs =
      metric_sum(m1, "raft_fsync_seconds_count") - metric_sum(m0, "raft_fsync_seconds_count");
  const double sync_s =
      metric_sum(m1, "raft_fsync_seconds_sum") - metric_sum(m0, "raft_fsync_seconds_sum");
  const double avg_sync_ms = syncs > 0 ? 1000.0 * sync_s / syncs : 0;
  char extra[64];
  std::snprintf(extra, sizeof extra, "fsync avg %.3f ms", avg_sync_ms);
  print_row("raft", r, extra);
  Json level = r.to_json();
  level["leader_syncs"] = syncs;
  level["leader_fsync_avg_ms"] = avg_sync_ms;
  level["leader_term_changed_by"] = metric_sum(m1, "raft_term") - metric_sum(m0, "raft_term");
  level["loadavg_after"] = {load_average().one, load_average().five};
  return level;
}

/// One level on etcd (to its leader), with ours/etcd ratios against `ours`.
Json measure_etcd(const EtcdCluster& e, int concurrency, double seconds, const LoadOptions& load,
                  const Json& ours) {
  const int leader = e.leader();
  const int member = leader >= 0 ? leader : 0;  // any member forwards; the leader is fairer
  const LoadResult r =
      kv_write_load(e.client_port(member), concurrency, seconds, etcd_kv_put(e.api_prefix()), load);
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  const Json vs = {{"writes_per_s", ratio(ours["writes_per_s"].get<double>(), r.writes_per_s)},
                   {"p50", ratio(ours["p50_ms"].get<double>(), r.p50_ms)},
                   {"p99", ratio(ours["p99_ms"].get<double>(), r.p99_ms)}};
  char extra[120];
  std::snprintf(extra, sizeof extra, "raft/etcd: writes/s %.2fx, p50 %.2fx, p99 %.2fx%s",
                vs["writes_per_s"].get<double>(), vs["p50"].get<double>(), vs["p99"].get<double>(),
                leader >= 0 ? "" : " (no leader known: sent to member 0)");
  print_row("etcd", r, extra);
  Json level = r.to_json();
  level["member"] = member;
  level["member_was_leader"] = leader >= 0;
  level["raft_over_etcd"] = vs;
  level["loadavg_after"] = {load_average().one, load_average().five};
  return level;
}

/// etcd beside our fsync-always cluster, or nullptr (saying why once).
std::unique_ptr<EtcdCluster> start_etcd(const Options& o, Json& status) {
  if (o.etcd == "off") {
    status = "off (--etcd off)";
    return nullptr;
  }
  const auto path = find_on_path("etcd");
  if (!path) {
    status = "not installed";
    std::printf("etcd: not installed (no etcd on $PATH; Debian package etcd-server), ours alone\n");
    return nullptr;
  }
  try {
    auto etcd = std::make_unique<EtcdCluster>(*path, o.nodes);
    status = "compared";
    std::printf("etcd %s: %d members on loopback (client ports %d+), gateway %s, fsync on\n",
                etcd->version().c_str(), etcd->size(), etcd->client_port(0),
                etcd->api_prefix().c_str());
    return etcd;
  } catch (const std::exception& e) {
    status = std::string("failed to start: ") + e.what();
    std::printf("etcd: failed to start, ours alone: %s\n", e.what());
    return nullptr;
  }
}

/// One fresh cluster in one fsync mode: idle CPU, then the load levels, each
/// followed by the same level on etcd when it is compared.
Json run_mode(const Options& o, const std::string& fsync, Json& out) {
  // The product's default timeouts: what users run.
  const auto cluster = start_cluster({.nodes = o.nodes,
                                      .min_election_timeout_ms = 2000,
                                      .max_election_timeout_ms = 4000,
                                      .heartbeat_interval_ms = 750,
                                      .initial_delay_ms = 200,
                                      .fsync = fsync});
  const raft::launcher::Cluster& c = *cluster;
  int leader = -1;
  long term = 0;
  wait_stable(c, &leader, &term, "after the start");
  // Start-up work (discovery registration, the HTTP pool shrinking back to
  // its idle size) has no end to wait for; give it a moment before idling.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const IdleCpu idle = measure_idle_cpu(cluster->job().pid(), o.idle_seconds);
  std::printf("fsync %s: idle CPU over %.1f s, %% of one core: all %zu ranks %.2f %%; per rank",
              fsync.c_str(), idle.window_s, idle.per_rank_percent.size(), idle.total_percent);
  for (double p : idle.per_rank_percent) std::printf(" %.2f", p);
  std::printf("; mpirun %.2f\n", idle.mpirun_percent);

  Json mode = {{"fsync", fsync},
               {"idle_cpu", idle.to_json()},
               {"idle_cpu_percent_of_one_core", idle.total_percent},
               {"kv_put", Json::array()}};
  // etcd always fsyncs: it is compared with our fsync-always mode only, and
  // starts after our idle window so it does not load the machine during it.
  std::unique_ptr<EtcdCluster> etcd;
  if (fsync == "always") etcd = start_etcd(o, out["etcd"]);
  if (etcd)
    mode["etcd"] = {
        {"version", etcd->version()}, {"members", etcd->size()}, {"kv_put", Json::array()}};
  std::printf("%-8s %-5s %10s %10s %10s %10s %8s\n", "clients", "store", "writes/s", "p50 ms",
              "p99 ms", "max ms", "errors");
  for (int concurrency : o.levels) {
    const Json ours = measure_ours(c, leader, concurrency, o.seconds, o.load);
    mode["kv_put"].push_back(ours);
    if (etcd)
      mode["etcd"]["kv_put"].push_back(measure_etcd(*etcd, concurrency, o.seconds, o.load, ours));
  }
  return mode;
}

Series series_of(const std::string& name, const Json& levels, const char* key, bool dashed,
                 const std::string& color) {
  Series s{name, {}, false, dashed, color};
  for (const Json& level : levels) {
    s.points.emplace_back(level["concurrency"].get<double>(), level[key].get<double>());
  }
  return s;
}

void write_charts(const Json& out, const std::string& prefix) {
  char note[200];
  std::snprintf(note, sizeof note, "%d ranks, %s, %u cores shared, %s", out["nodes"].get<int>(),
                out["machine"]["cpu_model"].get<std::string>().c_str(),
                out["machine"]["nproc"].get<unsigned>(), load_note(out).c_str());
  std::vector<Series> rate, latency;
  const auto add = [&](const std::string& name, const Json& levels, const std::string& color) {
    rate.push_back(series_of(name, levels, "writes_per_s", false, color));
    latency.push_back(series_of(name + " p50", levels, "p50_ms", false, color));
    latency.push_back(series_of(name + " p99", levels, "p99_ms", true, color));
  };
  for (const Json& mode : out["modes"]) {
    const std::string f = "fsync " + mode["fsync"].get<std::string>();
    add(f, mode["kv_put"], rate.size() % 2 == 0 ? "#1f77b4" : "#d62728");
    if (mode.contains("etcd")) add("etcd, fsync on", mode["etcd"]["kv_put"], "#2ca02c");
  }
  ChartSpec spec;
  spec.title = "KV writes (over HTTP to the leader): throughput";
  spec.x_label = "concurrent clients";
  spec.y_label = "writes per second";
  spec.log_x = true;
  spec.x_ticks_at_data = true;
  spec.note = note;
  write_text_file(prefix + "_throughput.svg", line_chart_svg(spec, rate));
  spec.title = "KV writes (over HTTP to the leader): latency";
  spec.y_label = "latency, ms (log scale)";
  spec.log_y = true;
  write_text_file(prefix + "_latency.svg", line_chart_svg(spec, latency));
}

}  // namespace

int main(int argc, char** argv) {
  stop_children_on_signal();
  Options o;
  OutputFlags output;
  const auto own = [&](const std::string& flag, const std::string& value) {
    return own_flag(o, flag, value);
  };
  if (!parse_flags(argc, argv, "--svg_prefix", output, own)) return 2;
  if (const auto code = replot(output, write_charts)) return *code;
  Json out = {{"bench", "raft_cluster_bench"},
              {"nodes", o.nodes},
              {"seconds_per_level", o.seconds},
              {"client", o.load.client == LoadClient::OneWrite ? "one_write" : "httplib"},
              {"timeouts",
               {{"min_election_timeout_ms", 2000},
                {"max_election_timeout_ms", 4000},
                {"heartbeat_interval_ms", 750}}},
              {"machine", machine_json()},
              {"etcd", "not run (no fsync always mode)"},
              {"modes", Json::array()}};
  try {
    for (const std::string& fsync : o.modes) out["modes"].push_back(run_mode(o, fsync, out));
  } catch (const std::exception& e) {
    std::cerr << "raft_cluster_bench: " << e.what() << "\n";
    return 1;
  }
  out["loadavg_at_end"] = {load_average().one, load_average().five, load_average().fifteen};
  write_outputs(output, out, write_charts);
  return 0;
}
