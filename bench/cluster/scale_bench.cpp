// Scale on one machine: raft_node jobs of 3 to 25 ranks (oversubscribed) at
// the product's default timeouts. For each size: time from launch to the
// first leader, then a steady-state window in which nothing is asked of the
// cluster: idle CPU of the whole job (every rank's /proc/<pid>/stat, and
// mpirun's apart), Raft messages per second (the nodes' /metrics counters),
// and whether any election happened (term, election and PreVote counters
// unchanged on every node).
// Usage: raft_scale_bench [--sizes 3,5,9,15,25] [--window 60] [--json out.json]
//          [--svg_prefix bench/results/scale] [--replot saved.json (with --svg_prefix)]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench_cluster.hpp"
#include "bench_flags.hpp"
#include "idle_cpu.hpp"
#include "machine_info.hpp"
#include "prometheus_text.hpp"
#include "stop_on_signal.hpp"
#include "svg_chart.hpp"

using namespace raft::bench;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMinTimeout = 2000, kMaxTimeout = 4000, kHeartbeat = 750, kInitialDelay = 3000;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// The counters summed over every node, and each node's term.
struct Snapshot {
  double sent = 0, elections = 0, pre_votes = 0, leader_changes = 0;
  std::vector<double> terms;
  bool complete = true;
};

Snapshot snapshot(const raft::launcher::Cluster& c) {
  Snapshot s;
  for (int i = 0; i < c.size(); ++i) {
    const HttpReply r = c.get(i, "/metrics");
    if (r.status != 200) s.complete = false;
    s.sent += metric_sum(r.raw, "raft_messages_sent_total");
    s.elections += metric_sum(r.raw, "raft_elections_started_total");
    s.pre_votes += metric_sum(r.raw, "raft_pre_votes_started_total");
    s.leader_changes += metric_sum(r.raw, "raft_leader_changes_total");
    s.terms.push_back(metric_sum(r.raw, "raft_term"));
  }
  return s;
}

/// Seconds from launch until every rank answers, some rank leads, and all
/// agree on it.
struct Startup {
  double all_up_s = -1, first_leader_s = -1, agreed_s = -1;
};

Startup time_startup(const raft::launcher::Cluster& c, Clock::time_point launched) {
  Startup up;
  const bool agreed = poll_until(
      [&] {
        int answering = 0;
        for (int i = 0; i < c.size(); ++i) {
          auto s = c.status(i);
          if (!s) continue;
          ++answering;
          if (up.first_leader_s < 0 && (*s)["state"] == "LEADER")
            up.first_leader_s = seconds_since(launched);
        }
        if (up.all_up_s < 0 && answering == c.size()) up.all_up_s = seconds_since(launched);
        return up.first_leader_s >= 0 && c.agreed_leader().has_value();
      },
      std::chrono::seconds(120));
  if (!agreed) throw std::runtime_error(std::to_string(c.size()) + " ranks: no agreed leader");
  up.agreed_s = seconds_since(launched);
  return up;
}

Json run_size(int nodes, double window_s) {
  const auto launched = Clock::now();
  const auto cluster = start_cluster({.nodes = nodes,
                                      .min_election_timeout_ms = kMinTimeout,
                                      .max_election_timeout_ms = kMaxTimeout,
                                      .heartbeat_interval_ms = kHeartbeat,
                                      .initial_delay_ms = kInitialDelay,
                                      .fsync = "always"});
  raft::launcher::Cluster& c = *cluster;

  const Startup up = time_startup(c, launched);
  const double all_up_s = up.all_up_s, first_leader_s = up.first_leader_s, agreed_s = up.agreed_s;

  // Registration with discovery and the followers' first catch-up happen in
  // the first seconds; the window starts after them.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const Snapshot before = snapshot(c);
  const IdleCpu idle = measure_idle_cpu(c.job().pid(), window_s);  // the measured window
  const double wall = idle.window_s;
  const Snapshot after = snapshot(c);

  const bool terms_unchanged = before.terms == after.terms;
  const bool no_election = terms_unchanged && before.elections == after.elections &&
                           before.pre_votes == after.pre_votes &&
                           before.leader_changes == after.leader_changes && before.complete &&
                           after.complete;
  const double msgs = (after.sent - before.sent) / wall;
  // A heartbeat to each follower and its answer, every interval.
  const double expected_msgs = 2.0 * (nodes - 1) * 1000.0 / kHeartbeat;
  Json r = {{"nodes", nodes},
            {"rank_pids", idle.per_rank_percent.size()},
            {"all_ranks_answer_s", all_up_s},
            {"first_leader_s", first_leader_s},
            {"agreed_leader_s", agreed_s},
            // INITIAL for initial_delay, then the first of n uniform timeouts.
            {"expected_first_leader_after_start_s",
             (kInitialDelay + kMinTimeout + (kMaxTimeout - kMinTimeout) / (nodes + 1.0)) / 1000.0},
            {"window_s", wall},
            {"idle_cpu_percent_of_one_core_ranks", idle.total_percent},
            {"idle_cpu_percent_of_one_core_mpirun", idle.mpirun_percent},
            {"messages_per_s", msgs},
            {"expected_heartbeat_messages_per_s", expected_msgs},
            {"terms_unchanged", terms_unchanged},
            {"no_election", no_election},
            {"elections_started_in_window", after.elections - before.elections},
            {"pre_votes_started_in_window", after.pre_votes - before.pre_votes},
            {"term", after.terms.empty() ? 0 : after.terms[0]},
            {"loadavg", {load_average().one, load_average().five}}};
  std::printf("%5d %9.2f %9.2f %9.2f %9.2f %9.2f %9.1f %9.1f %10s %6.2f\n", nodes, all_up_s,
              first_leader_s, agreed_s, idle.total_percent, idle.mpirun_percent, msgs,
              expected_msgs, no_election ? "none" : "ELECTION", load_average().one);
  return r;
}

void write_charts(const Json& out, const std::string& prefix) {
  char note[200];
  std::snprintf(note, sizeof note,
                "default timeouts %d-%d ms, heartbeat %d ms; %u cores shared, %s", kMinTimeout,
                kMaxTimeout, kHeartbeat, out["machine"]["nproc"].get<unsigned>(),
                load_note(out).c_str());
  Series cpu{"all ranks", {}, false, false, {}}, mpirun{"mpirun", {}, false, false, {}};
  Series msgs{"measured", {}, false, false, {}},
      expected{"2(N-1) per heartbeat", {}, false, false, {}};
  Series leader{"first leader", {}, false, false, {}}, up{"all ranks answer", {}, false, false, {}},
      theory{"up + 3 s + E[min]", {}, false, false, {}};
  for (const Json& r : out["sizes"]) {
    const double n = r["nodes"].get<double>();
    cpu.points.emplace_back(n, r["idle_cpu_percent_of_one_core_ranks"].get<double>());
    mpirun.points.emplace_back(n, r["idle_cpu_percent_of_one_core_mpirun"].get<double>());
    msgs.points.emplace_back(n, r["messages_per_s"].get<double>());
    expected.points.emplace_back(n, r["expected_heartbeat_messages_per_s"].get<double>());
    leader.points.emplace_back(n, r["first_leader_s"].get<double>());
    up.points.emplace_back(n, r["all_ranks_answer_s"].get<double>());
    theory.points.emplace_back(n, r["all_ranks_answer_s"].get<double>() +
                                      r["expected_first_leader_after_start_s"].get<double>());
  }
  ChartSpec spec;
  spec.x_label = "MPI ranks (oversubscribed)";
  spec.x_ticks_at_data = true;
  spec.note = note;
  spec.title = "Idle CPU of the whole job";
  spec.y_label = "% of one core";
  write_text_file(prefix + "_cpu.svg", line_chart_svg(spec, {cpu, mpirun}));
  spec.title = "Raft messages per second in steady state";
  spec.y_label = "messages sent per second (all nodes)";
  write_text_file(prefix + "_messages.svg", line_chart_svg(spec, {msgs, expected}));
  spec.title = "Time from launch to the first leader";
  spec.y_label = "seconds after launch";
  write_text_file(prefix + "_leader.svg", line_chart_svg(spec, {leader, up, theory}));
}

}  // namespace

int main(int argc, char** argv) {
  stop_children_on_signal();
  std::vector<int> sizes = {3, 5, 9, 15, 25};
  double window_s = 60;
  OutputFlags output;
  const bool flags_ok = parse_flags(argc, argv, "--svg_prefix", output,
                                    [&](const std::string& flag, const std::string& value) {
                                      if (flag == "--sizes") {
                                        sizes.clear();
                                        std::istringstream in(value);
                                        for (std::string s; std::getline(in, s, ',');)
                                          sizes.push_back(std::stoi(s));
                                      } else if (flag == "--window") {
                                        window_s = std::stod(value);
                                      } else {
                                        return false;
                                      }
                                      return true;
                                    });
  if (!flags_ok) return 2;
  if (const auto code = replot(output, write_charts)) return *code;
  Json out = {{"bench", "raft_scale_bench"},
              {"machine", machine_json()},
              {"config",
               {{"min_election_timeout_ms", kMinTimeout},
                {"max_election_timeout_ms", kMaxTimeout},
                {"heartbeat_interval_ms", kHeartbeat},
                {"initial_delay_ms", kInitialDelay},
                {"fsync", "always"}}},
              {"sizes", Json::array()}};
  std::printf("%5s %9s %9s %9s %9s %9s %9s %9s %10s %6s\n", "ranks", "up s", "leader s", "agreed s",
              "cpu %", "mpirun %", "msgs/s", "expected", "elections", "load");
  // A size that fails is recorded and the others still run: one bad launch
  // should not throw away an hour of measurements.
  int failures = 0;
  for (int n : sizes) {
    try {
      out["sizes"].push_back(run_size(n, window_s));
    } catch (const std::exception& e) {
      std::cerr << "raft_scale_bench: " << e.what() << "\n";
      out["failed_sizes"].push_back({{"nodes", n}, {"error", e.what()}});
      ++failures;
    }
  }
  out["loadavg_at_end"] = {load_average().one, load_average().five, load_average().fifteen};
  write_outputs(output, out, write_charts);
  return failures == 0 ? 0 : 1;
}
