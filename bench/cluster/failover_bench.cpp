// Failover on a real raft_node job: pause the leader (the `pause` command: it
// drops every message and its timers stand still, as if the process froze)
// and measure, from the moment the pause is sent, how long until another
// node is leader and until the first write sent after the pause commits.
// Repeated for --trials; the old leader is resumed and the cluster waits for
// stability between trials. Reports median, p99 and max beside the theory
// for the configured timeout range, and counts split votes.
// Usage: raft_failover_bench [--nodes 3] [--trials 50] [--min_election_timeout 150]
//          [--max_election_timeout 300] [--heartbeat_interval 50] [--fsync always]
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
#include "svg_chart.hpp"

using namespace raft::bench;
using raft::launcher::Cluster;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  int trials = 50;
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
  double write_ms = -1;     ///< pause sent -> the first write sent after it is acknowledged
  double elections = 0;     ///< real elections started by the live nodes (candidacies)
  double pre_votes = 0;     ///< PreVote rounds started by the live nodes
};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// Quiet and agreed: every node answers, none paused, one leader every node
/// names, one term everywhere, and every commit index equal to the leader's
/// (so the last heartbeat has carried it). Returns the leader and its term.
bool stable(const Cluster& c, int* leader, long* term) {
  std::vector<Json> s;
  for (int i = 0; i < c.size(); ++i) {
    auto st = c.status(i);
    if (!st || (*st)["paused"].get<bool>() || !(*st)["leader_id"].is_string()) return false;
    s.push_back(*st);
  }
  const int l = std::stoi(s[0]["leader_id"].get<std::string>());
  if (s[static_cast<std::size_t>(l)]["state"] != "LEADER") return false;
  for (const Json& st : s) {
    if (std::stoi(st["leader_id"].get<std::string>()) != l || st["term"] != s[0]["term"] ||
        st["commit_index"] != s[static_cast<std::size_t>(l)]["commit_index"]) {
      return false;
    }
  }
  *leader = l;
  *term = s[0]["term"].get<long>();
  return true;
}

/// Sum of a counter over every node but `skip`.
double counter_sum(const Cluster& c, const char* name, int skip) {
  double total = 0;
  for (int i = 0; i < c.size(); ++i) {
    if (i != skip) total += metric_sum(c.get(i, "/metrics").raw, name);
  }
  return total;
}

/// Keeps sending one PUT to the live nodes from `t0` until one is
/// acknowledged; follows a redirect unless it points at the paused node.
double first_write_ms(const Cluster& c, int paused, int trial, Clock::time_point t0, int poll_ms) {
  std::vector<int> live;
  for (int i = 0; i < c.size(); ++i) {
    if (i != paused) live.push_back(i);
  }
  std::size_t next = 0;
  int target = live[0];
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

Trial run_trial(const Cluster& c, const Config& cfg, int index, std::mt19937& rng) {
  Trial t;
  if (!poll_until([&] { return stable(c, &t.old_leader, &t.old_term); },
                  std::chrono::seconds(120))) {
    throw std::runtime_error("the cluster did not become stable before trial " +
                             std::to_string(index));
  }
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

  std::thread writer([&] { t.write_ms = first_write_ms(c, t.old_leader, index, t0, poll_ms); });
  // Watch the live nodes' /status (published at once on a role change).
  std::vector<std::unique_ptr<httplib::Client>> clients(static_cast<std::size_t>(c.size()));
  for (int i = 0; i < c.size(); ++i) {
    clients[static_cast<std::size_t>(i)] =
        std::make_unique<httplib::Client>("127.0.0.1", c.port(i));
    clients[static_cast<std::size_t>(i)]->set_keep_alive(true);
    clients[static_cast<std::size_t>(i)]->set_read_timeout(2, 0);
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
  writer.join();
  t.elections = counter_sum(c, "raft_elections_started_total", t.old_leader) - elections0;
  t.pre_votes = counter_sum(c, "raft_pre_votes_started_total", t.old_leader) - pre_votes0;
  const HttpReply resumed = c.command(t.old_leader, "resume");
  if (resumed.status != 200) throw std::runtime_error("resume failed: " + resumed.raw);
  return t;
}

Json summary(const std::vector<double>& v) {
  return {{"median_ms", median(v)},
          {"p99_ms", percentile(v, 99)},
          {"max_ms", maximum(v)},
          {"min_ms", v.empty() ? 0 : *std::min_element(v.begin(), v.end())}};
}

void write_chart(const Json& out, const std::string& path) {
  std::vector<double> leader, write;
  for (const Json& t : out["trials"]) {
    if (t["leader_ms"].get<double>() >= 0) leader.push_back(t["leader_ms"].get<double>());
    if (t["write_ms"].get<double>() >= 0) write.push_back(t["write_ms"].get<double>());
  }
  const auto ecdf = [](std::vector<double> v, const std::string& name) {
    std::sort(v.begin(), v.end());
    Series s{name, {}, true, false, {}};
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i == 0) s.points.emplace_back(v[0], 0.0);
      s.points.emplace_back(v[i], static_cast<double>(i + 1) / static_cast<double>(v.size()));
    }
    return s;
  };
  const Json& cfg = out["config"];
  const Json& th = out["theory"];
  ChartSpec spec;
  char title[160];
  std::snprintf(title, sizeof title,
                "Failover after pausing the leader: %d ranks, timeouts %d-%d ms",
                cfg["nodes"].get<int>(), cfg["min_election_timeout_ms"].get<int>(),
                cfg["max_election_timeout_ms"].get<int>());
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
                                              ecdf(write, "first write committed")}));
}

/// The flags of this bench (the output flags are parse_flags' own).
bool own_flag(Config& cfg, const std::string& flag, const std::string& value) {
  if (flag == "--nodes") {
    cfg.cluster.nodes = std::stoi(value);
  } else if (flag == "--trials") {
    cfg.trials = std::stoi(value);
  } else if (flag == "--min_election_timeout") {
    cfg.cluster.min_election_timeout_ms = std::stoi(value);
  } else if (flag == "--max_election_timeout") {
    cfg.cluster.max_election_timeout_ms = std::stoi(value);
  } else if (flag == "--heartbeat_interval") {
    cfg.cluster.heartbeat_interval_ms = std::stoi(value);
  } else if (flag == "--fsync") {
    cfg.cluster.fsync = value;
  } else {
    return false;
  }
  return true;
}

/// The result document before the trials: machine, configuration, theory.
Json start_json(const Config& cfg) {
  const raft::launcher::LocalClusterSpec& c = cfg.cluster;
  const int k = c.nodes - 1;  // followers left to time out
  const double e_min =
      c.min_election_timeout_ms +
      static_cast<double>(c.max_election_timeout_ms - c.min_election_timeout_ms) / (k + 1);
  return {{"bench", "raft_failover_bench"},
          {"machine", machine_json()},
          {"config",
           {{"nodes", c.nodes},
            {"trials", cfg.trials},
            {"min_election_timeout_ms", c.min_election_timeout_ms},
            {"max_election_timeout_ms", c.max_election_timeout_ms},
            {"heartbeat_interval_ms", c.heartbeat_interval_ms},
            {"fsync", c.fsync}}},
          {"theory",
           {{"followers", k},
            {"expected_min_timeout_ms", e_min},
            // The followers' timers were last reset by a heartbeat, on
            // average half an interval before the pause.
            {"expected_first_timeout_after_pause_ms", e_min - c.heartbeat_interval_ms / 2.0},
            {"earliest_ms", std::max(0, c.min_election_timeout_ms - c.heartbeat_interval_ms)},
            {"latest_single_round_ms", c.max_election_timeout_ms}}},
          {"trials", Json::array()}};
}

/// What the trials measured, for the summary.
struct Results {
  std::vector<double> leader_ms, write_ms;
  int more_terms = 0, more_candidates = 0;
};

/// Runs the trials on one cluster, printing and recording each; an error
/// ends them early and is recorded, the trials done so far are kept.
Results run_trials(const Config& cfg, Json& out) {
  Results r;
  try {
    const auto cluster = start_cluster(cfg.cluster);
    const Cluster& c = *cluster;
    if (wait_leader(c) < 0) throw std::runtime_error("no first leader");
    std::mt19937 rng(12345);
    std::printf("%5s %4s %4s %6s %10s %10s %6s %6s\n", "trial", "old", "new", "terms", "leader ms",
                "write ms", "elect", "pre");
    for (int i = 0; i < cfg.trials; ++i) {
      const Trial t = run_trial(c, cfg, i, rng);
      std::printf("%5d %4d %4d %6ld %10.1f %10.1f %6.0f %6.0f\n", i, t.old_leader, t.new_leader,
                  t.new_term - t.old_term, t.leader_ms, t.write_ms, t.elections, t.pre_votes);
      if (t.leader_ms >= 0) r.leader_ms.push_back(t.leader_ms);
      if (t.write_ms >= 0) r.write_ms.push_back(t.write_ms);
      if (t.new_term - t.old_term > 1) ++r.more_terms;
      if (t.elections > 1) ++r.more_candidates;
      out["trials"].push_back({{"old_leader", t.old_leader},
                               {"new_leader", t.new_leader},
                               {"old_term", t.old_term},
                               {"new_term", t.new_term},
                               {"pause_rtt_ms", t.pause_rtt_ms},
                               {"leader_ms", t.leader_ms},
                               {"write_ms", t.write_ms},
                               {"elections_started", t.elections},
                               {"pre_votes_started", t.pre_votes}});
    }
  } catch (const std::exception& e) {
    std::cerr << "raft_failover_bench: " << e.what() << "\n";
    out["error"] = e.what();
  }
  return r;
}

/// The summary, into the document and on stdout.
void summarize(const Results& r, Json& out) {
  out["new_leader"] = summary(r.leader_ms);
  out["first_write"] = summary(r.write_ms);
  out["failed_trials"] =
      static_cast<int>(out["trials"].size()) - static_cast<int>(r.write_ms.size());
  out["split_votes"] = {{"trials_needing_more_than_one_term", r.more_terms},
                        {"trials_with_more_than_one_candidate", r.more_candidates}};
  out["loadavg_at_end"] = {load_average().one, load_average().five, load_average().fifteen};
  std::printf("new leader:    median %.0f ms, p99 %.0f ms, max %.0f ms\n", median(r.leader_ms),
              percentile(r.leader_ms, 99), maximum(r.leader_ms));
  std::printf("first write:   median %.0f ms, p99 %.0f ms, max %.0f ms\n", median(r.write_ms),
              percentile(r.write_ms, 99), maximum(r.write_ms));
  const Json& th = out["theory"];
  std::printf("theory:        E[min of %d timeouts] = %.0f ms; minus half a heartbeat = %.0f ms\n",
              th["followers"].get<int>(), th["expected_min_timeout_ms"].get<double>(),
              th["expected_first_timeout_after_pause_ms"].get<double>());
  std::printf(
      "split votes:   %d trials needed more than one term, %d had more than one candidate\n",
      r.more_terms, r.more_candidates);
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  OutputFlags output;
  const auto own = [&](const std::string& flag, const std::string& value) {
    return own_flag(cfg, flag, value);
  };
  if (!parse_flags(argc, argv, "--svg", output, own)) return 2;
  if (const auto code = replot(output, write_chart)) return *code;
  Json out = start_json(cfg);
  summarize(run_trials(cfg, out), out);
  write_outputs(output, out, write_chart);
  return out.contains("error") ? 1 : 0;
}
