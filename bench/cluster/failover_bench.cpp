// Failover on a real raft_node job: pause the leader (the `pause` command: it
// drops every message and its timers stand still, as if the process froze)
// and measure, from the moment the pause is sent, how long until another
// node is leader (polling the live nodes' /status, which their HTTP threads
// answer without waking the node's loop) and until a write commits.
//
// Two modes (--traffic):
//  - none (the default): no client traffic during the failover, as users
//    run the cluster most of the time: every node's loop is idle. One write
//    is sent to the new leader once it is known, and measured both from the
//    pause and on its own ("first write after the leader was known").
//  - writes: the older mode: writes are sent to the live nodes from the
//    pause on (following redirects unless they point at the paused node)
//    until one commits. The traffic keeps the live nodes busy, which hides
//    how an idle node notices its timeout.
// Repeated for --trials; the old leader is resumed and the cluster waits for
// stability between trials. Reports median, p90, p99 and max beside the
// theory for the configured timeout range, split votes and the terms each
// failover used.
// Usage: raft_failover_bench [--nodes 3] [--trials 50] [--traffic none|writes]
//          [--min_election_timeout 150] [--max_election_timeout 300]
//          [--heartbeat_interval 50] [--fsync always|never]
//          [--json out.json] [--svg out.svg] [--replot saved.json (with --svg)]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include <httplib.h>

#include "bench_cluster.hpp"
#include "bench_flags.hpp"
#include "machine_info.hpp"
#include "prometheus_text.hpp"
#include "stats.hpp"
#include "stop_on_signal.hpp"
#include "svg_chart.hpp"

using namespace raft::bench;
using raft::launcher::Cluster;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  int trials = 50;
  std::string traffic = "none";  ///< "none" or "writes" (see the top of the file)
  raft::launcher::LocalClusterSpec cluster = {.nodes = 3,
                                              .min_election_timeout_ms = 150,
                                              .max_election_timeout_ms = 300,
                                              .heartbeat_interval_ms = 50,
                                              .initial_delay_ms = 200,
                                              .fsync = "always"};
};

struct Trial {
  int old_leader = -1, new_leader = -1;
  long old_term = 0, new_term = 0;
  double pause_rtt_ms = 0;  ///< how long the pause command itself took to answer
  double leader_ms = -1;    ///< pause sent -> a follower reports LEADER in a later term
  double write_ms = -1;     ///< pause sent -> the first write (see the mode) is acknowledged
  /// Without traffic: that write's own latency, sent once the leader was known.
  double write_after_leader_ms = -1;
  double elections = 0;  ///< real elections started by the live nodes (candidacies)
  double pre_votes = 0;  ///< PreVote rounds started by the live nodes
};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// Sum of a counter over every node but `skip`.
double counter_sum(const Cluster& c, const char* name, int skip) {
  double total = 0;
  for (int i = 0; i < c.size(); ++i) {
    if (i != skip) total += metric_sum(c.get(i, "/metrics").raw, name);
  }
  return total;
}

/// Sends one PUT at a time to the live nodes, starting with `first_target`,
/// until one is acknowledged; follows a redirect unless it points at the
/// paused node. Returns ms from `t0` to the acknowledgement, -1 after 60 s.
double first_write_ms(const Cluster& c, int paused, int first_target, int trial,
                      Clock::time_point t0, int poll_ms) {
  std::vector<int> live;
  for (int i = 0; i < c.size(); ++i) {
    if (i != paused) live.push_back(i);
  }
  std::size_t next = 0;
  int target = first_target;
  const auto deadline = t0 + std::chrono::seconds(60);
  for (int seq = 1; Clock::now() < deadline; ++seq) {
    httplib::Client client("127.0.0.1", c.port(target));
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(10, 0);
    // Same client id, growing sequence: a retry that did commit is harmless.
    httplib::Headers headers = {{"X-Client-Id", "failover-bench"},
                                {"X-Request-Seq", std::to_string(trial * 100000 + seq)}};
    auto r = client.Put("/kv/failover", headers, "trial " + std::to_string(trial), "text/plain");
    if (r && r->status == 200) return ms_since(t0);
    int redirect = -1;
    if (r && r->status == 307) {
      const std::string loc = r->get_header_value("Location");
      const auto colon = loc.rfind(':');
      if (colon != std::string::npos) redirect = std::atoi(loc.c_str() + colon + 1) - c.port(0);
    }
    if (redirect >= 0 && redirect < c.size() && redirect != paused) {
      target = redirect;  // the new leader: go there at once
      continue;
    }
    target = live[next++ % live.size()];
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return -1;
}

/// Polls the live nodes' /status every `poll_ms` (the resolution of
/// leader_ms) until one leads in a term above the old one; fills the new
/// leader's fields of `t`.
void watch_for_leader(const Cluster& c, Trial& t, Clock::time_point t0, int poll_ms) {
  std::vector<std::unique_ptr<httplib::Client>> clients(static_cast<std::size_t>(c.size()));
  for (int i = 0; i < c.size(); ++i) {
    auto& client = clients[static_cast<std::size_t>(i)];
    client = std::make_unique<httplib::Client>("127.0.0.1", c.port(i));
    client->set_keep_alive(true);
    client->set_read_timeout(2, 0);
  }
  const auto deadline = t0 + std::chrono::seconds(60);
  while (t.leader_ms < 0 && Clock::now() < deadline) {
    for (int i = 0; i < c.size() && t.leader_ms < 0; ++i) {
      if (i == t.old_leader) continue;
      auto r = clients[static_cast<std::size_t>(i)]->Get("/status");
      if (!r || r->status != 200) continue;
      const Json s = Json::parse(r->body, nullptr, false);
      if (s.is_object() && s["state"] == "LEADER" && s["term"].get<long>() > t.old_term) {
        t.leader_ms = ms_since(t0);
        t.new_leader = i;
        t.new_term = s["term"].get<long>();
      }
    }
    if (t.leader_ms < 0) std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
}

/// From the pause on: the leader watch, and the write(s) the mode sends.
void measure_failover(const Cluster& c, const Config& cfg, int index, Trial& t,
                      Clock::time_point t0, int poll_ms) {
  if (cfg.traffic == "writes") {
    const int first = t.old_leader == 0 ? 1 : 0;
    std::thread writer(
        [&] { t.write_ms = first_write_ms(c, t.old_leader, first, index, t0, poll_ms); });
    watch_for_leader(c, t, t0, poll_ms);
    writer.join();
    return;
  }
  watch_for_leader(c, t, t0, poll_ms);
  if (t.new_leader < 0) return;
  const auto sent = Clock::now();
  t.write_ms = first_write_ms(c, t.old_leader, t.new_leader, index, t0, poll_ms);
  if (t.write_ms >= 0) t.write_after_leader_ms = ms_since(sent);
}

Trial run_trial(const Cluster& c, const Config& cfg, int index, std::mt19937& rng) {
  Trial t;
  wait_stable(c, &t.old_leader, &t.old_term, "before trial " + std::to_string(index));
  // Heartbeats set followers' timers; stability is first seen right after one
  // arrived, so wait a random part of an interval: the pause then falls at a
  // uniformly random phase of the heartbeat, as an unplanned failure would.
  std::uniform_int_distribution<int> phase(0, cfg.cluster.heartbeat_interval_ms);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(cfg.cluster.heartbeat_interval_ms + phase(rng)));
  const double elections0 = counter_sum(c, "raft_elections_started_total", t.old_leader);
  const double pre_votes0 = counter_sum(c, "raft_pre_votes_started_total", t.old_leader);

  const int poll_ms = std::clamp(cfg.cluster.min_election_timeout_ms / 100, 1, 20);
  const auto t0 = Clock::now();
  const HttpReply paused = c.command(t.old_leader, "pause");
  t.pause_rtt_ms = ms_since(t0);
  if (paused.status != 200) throw std::runtime_error("pause failed: " + paused.raw);
  measure_failover(c, cfg, index, t, t0, poll_ms);
  t.elections = counter_sum(c, "raft_elections_started_total", t.old_leader) - elections0;
  t.pre_votes = counter_sum(c, "raft_pre_votes_started_total", t.old_leader) - pre_votes0;
  const HttpReply resumed = c.command(t.old_leader, "resume");
  if (resumed.status != 200) throw std::runtime_error("resume failed: " + resumed.raw);
  return t;
}

Json summary(const std::vector<double>& v) {
  return {{"median_ms", median(v)},
          {"p90_ms", percentile(v, 90)},
          {"p99_ms", percentile(v, 99)},
          {"max_ms", maximum(v)},
          {"min_ms", v.empty() ? 0 : *std::min_element(v.begin(), v.end())}};
}

/// Results saved before the modes existed had writes during the failover.
std::string traffic_of(const Json& out) { return out["config"].value("traffic", "writes"); }

std::string write_series_name(const std::string& traffic) {
  return traffic == "none" ? "first write committed (sent once the leader was known)"
                           : "first write committed (writes sent from the pause on)";
}

Series ecdf(std::vector<double> v, const std::string& name) {
  std::sort(v.begin(), v.end());
  Series s{name, {}, true, false, {}};
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i == 0) s.points.emplace_back(v[0], 0.0);
    s.points.emplace_back(v[i], static_cast<double>(i + 1) / static_cast<double>(v.size()));
  }
  return s;
}

void write_chart(const Json& out, const std::string& path) {
  std::vector<double> leader, write;
  for (const Json& t : out["trials"]) {
    if (t["leader_ms"].get<double>() >= 0) leader.push_back(t["leader_ms"].get<double>());
    if (t["write_ms"].get<double>() >= 0) write.push_back(t["write_ms"].get<double>());
  }
  const Json& cfg = out["config"];
  const Json& th = out["theory"];
  const std::string traffic = traffic_of(out);
  ChartSpec spec;
  char title[200];
  std::snprintf(title, sizeof title,
                "Failover after pausing the leader: %d ranks, timeouts %d-%d ms, %s",
                cfg["nodes"].get<int>(), cfg["min_election_timeout_ms"].get<int>(),
                cfg["max_election_timeout_ms"].get<int>(),
                traffic == "none" ? "no traffic" : "writes during the failover");
  spec.title = title;
  char note[200];
  std::snprintf(note, sizeof note, "%zu trials, heartbeat %d ms, %u cores shared, %s",
                leader.size(), cfg["heartbeat_interval_ms"].get<int>(),
                out["machine"]["nproc"].get<unsigned>(), load_note(out).c_str());
  spec.note = note;
  spec.x_label = "ms after the pause was sent";
  spec.y_label = "fraction of trials";
  spec.y_from_zero = true;
  spec.references = {{th["expected_first_timeout_after_pause_ms"].get<double>(), "E[min] - h/2"},
                     {th["expected_min_timeout_ms"].get<double>(), "E[min]"}};
  write_text_file(path, line_chart_svg(spec, {ecdf(leader, "new leader elected"),
                                              ecdf(write, write_series_name(traffic))}));
}

/// The flags of this bench (the output flags are parse_flags' own).
bool own_flag(Config& cfg, const std::string& flag, const std::string& value) {
  if (flag == "--nodes") {
    cfg.cluster.nodes = int_at_least(value, 2);
  } else if (flag == "--trials") {
    cfg.trials = int_at_least(value, 1);
  } else if (flag == "--traffic") {
    cfg.traffic = one_of(value, {"none", "writes"});
  } else if (flag == "--min_election_timeout") {
    cfg.cluster.min_election_timeout_ms = int_at_least(value, 1);
  } else if (flag == "--max_election_timeout") {
    cfg.cluster.max_election_timeout_ms = int_at_least(value, 1);
  } else if (flag == "--heartbeat_interval") {
    cfg.cluster.heartbeat_interval_ms = int_at_least(value, 1);
  } else if (flag == "--fsync") {
    cfg.cluster.fsync = one_of(value, {"always", "never"});
  } else {
    return false;
  }
  return true;
}

/// The expected time to the first election timeout, for the summary.
Json theory_json(const raft::launcher::LocalClusterSpec& c) {
  const int k = c.nodes - 1;  // followers left to time out
  // Each follower's timeout is drawn uniformly from [min, max] at its last
  // reset; the first of k to run out: E[min of k] = min + (max - min)/(k + 1).
  const double e_min =
      c.min_election_timeout_ms +
      static_cast<double>(c.max_election_timeout_ms - c.min_election_timeout_ms) / (k + 1);
  return {{"followers", k},
          {"expected_min_timeout_ms", e_min},
          // The followers' timers were last reset by a heartbeat, on average
          // half an interval before the pause (it falls at a random phase).
          {"expected_first_timeout_after_pause_ms", e_min - c.heartbeat_interval_ms / 2.0},
          {"earliest_ms", std::max(0, c.min_election_timeout_ms - c.heartbeat_interval_ms)},
          {"latest_single_round_ms", c.max_election_timeout_ms}};
}

/// The result document before the trials: machine, configuration, theory.
Json start_json(const Config& cfg) {
  const raft::launcher::LocalClusterSpec& c = cfg.cluster;
  return {{"bench", "raft_failover_bench"},
          {"machine", machine_json()},
          {"config",
           {{"nodes", c.nodes},
            {"trials", cfg.trials},
            {"traffic", cfg.traffic},
            {"min_election_timeout_ms", c.min_election_timeout_ms},
            {"max_election_timeout_ms", c.max_election_timeout_ms},
            {"heartbeat_interval_ms", c.heartbeat_interval_ms},
            {"fsync", c.fsync}}},
          {"theory", theory_json(c)},
          {"trials", Json::array()}};
}

/// What the trials measured, for the summary.
struct Results {
  std::vector<double> leader_ms, write_ms, write_after_leader_ms;
  std::map<long, int> trials_by_terms_used;  ///< new_term - old_term -> trials
  int more_terms = 0, more_candidates = 0;

  void add(const Trial& t) {
    if (t.leader_ms >= 0) leader_ms.push_back(t.leader_ms);
    if (t.write_ms >= 0) write_ms.push_back(t.write_ms);
    if (t.write_after_leader_ms >= 0) write_after_leader_ms.push_back(t.write_after_leader_ms);
    if (t.new_leader >= 0) ++trials_by_terms_used[t.new_term - t.old_term];
    if (t.new_term - t.old_term > 1) ++more_terms;
    if (t.elections > 1) ++more_candidates;
  }
};

Json trial_json(const Trial& t) {
  return {{"old_leader", t.old_leader},
          {"new_leader", t.new_leader},
          {"old_term", t.old_term},
          {"new_term", t.new_term},
          {"terms_used", t.new_leader >= 0 ? t.new_term - t.old_term : 0},
          {"pause_rtt_ms", t.pause_rtt_ms},
          {"leader_ms", t.leader_ms},
          {"write_ms", t.write_ms},
          {"write_after_leader_ms", t.write_after_leader_ms},
          {"elections_started", t.elections},
          {"pre_votes_started", t.pre_votes}};
}

/// Runs the trials on one cluster, printing and recording each; an error
/// ends them early and is recorded, the trials done so far are kept.
Results run_trials(const Config& cfg, Json& out) {
  Results r;
  try {
    const auto cluster = start_cluster(cfg.cluster);
    const Cluster& c = *cluster;
    if (wait_leader(c) < 0) throw std::runtime_error("no first leader");
    std::mt19937 rng(12345);
    std::printf("%5s %4s %4s %6s %10s %10s %10s %6s %6s\n", "trial", "old", "new", "terms",
                "leader ms", "write ms", "write own", "elect", "pre");
    for (int i = 0; i < cfg.trials; ++i) {
      const Trial t = run_trial(c, cfg, i, rng);
      std::printf("%5d %4d %4d %6ld %10.1f %10.1f %10.1f %6.0f %6.0f\n", i, t.old_leader,
                  t.new_leader, t.new_term - t.old_term, t.leader_ms, t.write_ms,
                  t.write_after_leader_ms, t.elections, t.pre_votes);
      r.add(t);
      out["trials"].push_back(trial_json(t));
    }
  } catch (const std::exception& e) {
    std::cerr << "raft_failover_bench: " << e.what() << "\n";
    out["error"] = e.what();
  }
  return r;
}

void print_summary(const char* what, const std::vector<double>& v) {
  std::printf("%-34s median %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms (%zu trials)\n", what,
              median(v), percentile(v, 90), percentile(v, 99), maximum(v), v.size());
}

/// The summary, into the document and on stdout.
void summarize(const Results& r, Json& out) {
  const bool idle = traffic_of(out) == "none";
  out["new_leader"] = summary(r.leader_ms);
  out["first_write"] = summary(r.write_ms);
  if (idle) out["first_write_after_leader_known"] = summary(r.write_after_leader_ms);
  out["failed_trials"] =
      static_cast<int>(out["trials"].size()) - static_cast<int>(r.write_ms.size());
  Json terms = Json::object();
  double terms_total = 0;
  for (const auto& [used, n] : r.trials_by_terms_used) {
    terms[std::to_string(used)] = n;
    terms_total += static_cast<double>(used * n);
  }
  const double terms_mean = r.leader_ms.empty() ? 0 : terms_total / r.leader_ms.size();
  out["terms_used"] = {{"trials_by_terms_used", terms}, {"mean", terms_mean}};
  out["split_votes"] = {{"trials_needing_more_than_one_term", r.more_terms},
                        {"trials_with_more_than_one_candidate", r.more_candidates}};
  out["loadavg_at_end"] = {load_average().one, load_average().five, load_average().fifteen};
  std::printf("mode:  %s\n", idle ? "no client traffic during the failover"
                                  : "writes sent from the pause until one commits");
  print_summary("new leader (from the pause):", r.leader_ms);
  print_summary("first write (from the pause):", r.write_ms);
  if (idle) print_summary("first write (its own latency):", r.write_after_leader_ms);
  const Json& th = out["theory"];
  std::printf("theory: E[min of %d timeouts] = %.0f ms; minus half a heartbeat = %.0f ms\n",
              th["followers"].get<int>(), th["expected_min_timeout_ms"].get<double>(),
              th["expected_first_timeout_after_pause_ms"].get<double>());
  std::printf("terms per failover: mean %.2f; trials by terms used: %s (a clean failover uses 1)\n",
              terms_mean, terms.dump().c_str());
  std::printf("split votes: %d trials needed more than one term, %d had more than one candidate\n",
              r.more_terms, r.more_candidates);
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
  const auto& c = cfg.cluster;
  if (c.max_election_timeout_ms < c.min_election_timeout_ms) {
    std::cerr << "--max_election_timeout must be at least --min_election_timeout\n";
    return 2;
  }
  Json out = start_json(cfg);
  summarize(run_trials(cfg, out), out);
  write_outputs(output, out, write_chart);
  return out.contains("error") ? 1 : 0;
}
