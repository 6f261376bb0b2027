// The first write after a quiet spell, on a real raft_node job at the
// product's defaults (election 2000-4000 ms, heartbeat 750 ms, fsync always),
// as a user meets it: the cluster has had no client traffic for N seconds
// (only the leader's heartbeats), then ONE write goes to the leader. Right
// after it a second write is sent: the warm anchor, the same write with the
// loop already awake. Every write opens a fresh connection (a client coming
// back after 30 s would), so the pair differs only in what the nodes were
// doing before. Each quiet spell is N s plus a random part of a heartbeat,
// so the write falls at a random phase of the heartbeat.
// Reports median, p90 and max per quiet period and for the warm writes.
// Usage: raft_quiet_write_bench [--nodes 3] [--quiet_seconds 5,30]
//          [--samples 20,5] [--fsync always|never] [--json out.json]
//          [--svg out.svg] [--replot saved.json (with --svg)]
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include <httplib.h>

#include "bench_cluster.hpp"
#include "bench_flags.hpp"
#include "kv_requests.hpp"
#include "machine_info.hpp"
#include "stats.hpp"
#include "stop_on_signal.hpp"
#include "svg_chart.hpp"

using namespace raft::bench;
using raft::launcher::Cluster;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kHeartbeatMs = 750;

struct Config {
  int nodes = 3;
  std::vector<int> quiet_seconds = {5, 30};
  std::vector<int> samples = {20, 5};  ///< one count per quiet period
  std::string fsync = "always";
};

bool own_flag(Config& cfg, const std::string& flag, const std::string& value) {
  if (flag == "--nodes") {
    cfg.nodes = int_at_least(value, 1);
  } else if (flag == "--quiet_seconds") {
    cfg.quiet_seconds = int_list(value, 1);
  } else if (flag == "--samples") {
    cfg.samples = int_list(value, 1);
  } else if (flag == "--fsync") {
    cfg.fsync = one_of(value, {"always", "never"});
  } else {
    return false;
  }
  return true;
}

/// One write on a fresh connection: its latency, or the reason it failed.
struct WriteOutcome {
  double latency_ms = -1;
  std::string error;
};

WriteOutcome timed_write(int port, int seq) {
  httplib::Client client("127.0.0.1", port);
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(10, 0);
  const WriteRequest w = raft_kv_put(0, seq);
  const auto t0 = Clock::now();
  const httplib::Result r = client.Put(w.path, w.headers, w.body, w.content_type);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (r && r->status == 200) return {ms, {}};
  return {-1, r ? "HTTP " + std::to_string(r->status) + " " + r->body
                : "no answer: " + httplib::to_string(r.error())};
}

Json summary(const std::vector<double>& v) {
  return {{"samples_ms", v},
          {"median_ms", median(v)},
          {"p90_ms", percentile(v, 90)},
          {"max_ms", maximum(v)}};
}

/// The quiet writes of one period and the warm write after each.
struct Period {
  std::vector<double> quiet_ms, warm_ms;
  std::vector<std::string> errors;
};

/// `count` samples of quiet `seconds`, one write, one warm write.
Period run_period(const Cluster& c, int seconds, int count, std::mt19937& rng, int* seq) {
  Period p;
  std::uniform_int_distribution<int> phase_ms(0, kHeartbeatMs);
  for (int i = 0; i < count; ++i) {
    int leader = -1;
    long term = 0;
    wait_stable(c, &leader, &term, "before a quiet spell");
    std::this_thread::sleep_for(std::chrono::seconds(seconds) +
                                std::chrono::milliseconds(phase_ms(rng)));  // the quiet spell
    const WriteOutcome quiet = timed_write(c.port(leader), ++*seq);
    const WriteOutcome warm = timed_write(c.port(leader), ++*seq);
    std::printf("%8d %6d %6d %12.2f %12.2f\n", seconds, i, leader, quiet.latency_ms,
                warm.latency_ms);
    for (const WriteOutcome* o : {&quiet, &warm}) {
      if (!o->error.empty()) p.errors.push_back(o->error);
    }
    if (quiet.latency_ms >= 0) p.quiet_ms.push_back(quiet.latency_ms);
    if (warm.latency_ms >= 0) p.warm_ms.push_back(warm.latency_ms);
  }
  return p;
}

void print_line(const std::string& what, const std::vector<double>& v) {
  std::printf("%-28s median %7.2f ms, p90 %7.2f ms, max %7.2f ms (%zu writes)\n", what.c_str(),
              median(v), percentile(v, 90), maximum(v), v.size());
}

/// Runs every period on one cluster; an error ends the run, keeping what was
/// measured.
void run(const Config& cfg, Json& out) {
  const auto cluster = start_cluster({.nodes = cfg.nodes,
                                      .min_election_timeout_ms = 2000,
                                      .max_election_timeout_ms = 4000,
                                      .heartbeat_interval_ms = kHeartbeatMs,
                                      .initial_delay_ms = 200,
                                      .fsync = cfg.fsync});
  std::mt19937 rng(12345);
  int seq = 0;
  std::vector<double> warm_all;
  std::printf("%8s %6s %6s %12s %12s\n", "quiet s", "sample", "leader", "quiet ms", "warm ms");
  for (std::size_t k = 0; k < cfg.quiet_seconds.size(); ++k) {
    const Period p = run_period(*cluster, cfg.quiet_seconds[k], cfg.samples[k], rng, &seq);
    Json period = summary(p.quiet_ms);
    period["quiet_seconds"] = cfg.quiet_seconds[k];
    period["warm"] = summary(p.warm_ms);
    period["errors"] = p.errors;
    out["periods"].push_back(period);
    warm_all.insert(warm_all.end(), p.warm_ms.begin(), p.warm_ms.end());
  }
  out["warm"] = summary(warm_all);
  for (const Json& period : out["periods"]) {
    print_line("after " + std::to_string(period["quiet_seconds"].get<int>()) + " s quiet:",
               period["samples_ms"].get<std::vector<double>>());
  }
  print_line("warm (right after another):", warm_all);
}

void write_chart(const Json& out, const std::string& path) {
  std::vector<Series> series;
  const auto ecdf = [](std::vector<double> v, const std::string& name) {
    std::sort(v.begin(), v.end());
    Series s{name, {}, true, false, {}};
    for (std::size_t i = 0; i < v.size(); ++i) {
      s.points.emplace_back(v[i], static_cast<double>(i + 1) / static_cast<double>(v.size()));
    }
    return s;
  };
  for (const Json& period : out["periods"]) {
    series.push_back(
        ecdf(period["samples_ms"].get<std::vector<double>>(),
             "after " + std::to_string(period["quiet_seconds"].get<int>()) + " s quiet"));
  }
  series.push_back(ecdf(out["warm"]["samples_ms"].get<std::vector<double>>(), "warm"));
  ChartSpec spec;
  spec.title = "One write to the leader after a quiet spell: latency";
  char note[200];
  std::snprintf(note, sizeof note,
                "%d ranks, timeouts 2000-4000 ms, heartbeat 750 ms, fsync %s, %u cores shared, %s",
                out["config"]["nodes"].get<int>(),
                out["config"]["fsync"].get<std::string>().c_str(),
                out["machine"]["nproc"].get<unsigned>(), load_note(out).c_str());
  spec.note = note;
  spec.x_label = "latency, ms (log scale)";
  spec.y_label = "fraction of writes";
  spec.log_x = true;
  write_text_file(path, line_chart_svg(spec, series));
}

}  // namespace

int main(int argc, char** argv) {
  stop_children_on_signal();
  Config cfg;
  OutputFlags output;
  const auto own = [&](const std::string& flag, const std::string& value) {
    return own_flag(cfg, flag, value);
  };
  if (!parse_flags(argc, argv, "--svg", output, own)) return 2;
  if (const auto code = replot(output, write_chart)) return *code;
  if (cfg.samples.size() != cfg.quiet_seconds.size()) {
    std::cerr << "--samples needs one count per --quiet_seconds period ("
              << cfg.quiet_seconds.size() << ")\n";
    return 2;
  }
  Json out = {{"bench", "raft_quiet_write_bench"},
              {"machine", machine_json()},
              {"config",
               {{"nodes", cfg.nodes},
                {"min_election_timeout_ms", 2000},
                {"max_election_timeout_ms", 4000},
                {"heartbeat_interval_ms", kHeartbeatMs},
                {"fsync", cfg.fsync},
                {"quiet_seconds", cfg.quiet_seconds},
                {"samples", cfg.samples},
                {"connection", "a fresh connection per write"}}},
              {"periods", Json::array()},
              {"warm", summary({})}};
  int code = 0;
  try {
    run(cfg, out);
  } catch (const std::exception& e) {
    std::cerr << "raft_quiet_write_bench: " << e.what() << "\n";
    out["error"] = e.what();
    code = 1;
  }
  out["loadavg_at_end"] = {load_average().one, load_average().five, load_average().fifteen};
  write_outputs(output, out, write_chart);
  return code;
}
