#include "chaos/chaos_run.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "chaos/checker.hpp"
#include "chaos/report.hpp"
#include "kv_client.hpp"
#include "launcher/cluster.hpp"
#include "nemesis.hpp"
#include "node_observer.hpp"

namespace raft::chaos {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted.store(true); }

std::int64_t since(Clock::time_point epoch) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch).count();
}

std::string key_name(int i) { return "k" + std::to_string(i); }

/// One client's workload on random keys: reads (40 %), writes with values
/// unique in the run (25 %), deletes (10 %: keys come and go, so reads of
/// absent keys and resurrected values are checked too), and compare-and-set
/// from the last value it saw (25 %; a read when it saw none).
void client_loop(KvClient& client, int index, const ChaosOptions& o,
                 const std::atomic<bool>& stop) {
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<std::uint64_t>(index));
  std::map<std::string, std::optional<std::string>> seen;  // last value seen per key
  std::uint64_t counter = 0;
  while (!stop.load() && !g_interrupted.load()) {
    const std::string key = key_name(static_cast<int>(rng() % o.keys));
    const int dice = static_cast<int>(rng() % 20);
    const std::string fresh = "c" + std::to_string(index) + "-" + std::to_string(++counter);
    Operation op;
    auto known = seen.find(key);
    if (dice < 8 || (dice >= 15 && (known == seen.end() || !known->second))) {
      op = client.read(key);
      if (op.outcome == Outcome::Ok) seen[key] = op.read_value;
    } else if (dice < 13) {
      op = client.write(key, fresh);
      if (op.outcome == Outcome::Ok) seen[key] = fresh;
    } else if (dice < 15) {
      op = client.remove(key);
      if (op.outcome == Outcome::Ok) seen[key] = std::nullopt;
    } else {
      op = client.cas(key, *known->second, fresh);
      if (op.outcome == Outcome::Ok) {
        if (op.cas_swapped) {
          seen[key] = fresh;
        } else {
          seen.erase(key);
        }
      }
    }
    if (op.outcome == Outcome::Unknown) seen.erase(key);
  }
}

std::string nemesis_flag(const std::vector<std::string>& kinds) {
  std::string list;
  for (const std::string& k : kinds) list += (list.empty() ? "" : ",") + k;
  return " --nemesis " + (list.empty() ? std::string("none") : list);
}

json config_json(const ChaosOptions& o, const launcher::Cluster& cluster) {
  return {{"nodes", o.nodes},
          {"seconds", o.seconds},
          {"seed", o.seed},
          {"clients", o.clients},
          {"keys", o.keys},
          {"election_timeout_ms", {o.min_election_timeout_ms, o.max_election_timeout_ms}},
          {"heartbeat_interval_ms", o.heartbeat_interval_ms},
          {"snapshot_every", o.snapshot_every},
          {"fsync", o.fsync},
          {"nemesis", o.nemesis},
          {"base_port", cluster.base_port()},
          {"replay", "raft_chaos --seconds " + std::to_string(static_cast<long long>(o.seconds)) +
                         " --seed " + std::to_string(o.seed) + " --clients " +
                         std::to_string(o.clients) + " --keys " + std::to_string(o.keys) +
                         " --nodes " + std::to_string(o.nodes) + nemesis_flag(o.nemesis)}};
}

/// The cluster a run attacks: free loopback ports, short timeouts, small
/// snapshots (so compaction and snapshot installs happen), and the children's
/// output in nodes.log.
launcher::ClusterOptions cluster_options(const ChaosOptions& o) {
  const launcher::LocalClusterSpec spec = {.nodes = o.nodes,
                                           .min_election_timeout_ms = o.min_election_timeout_ms,
                                           .max_election_timeout_ms = o.max_election_timeout_ms,
                                           .heartbeat_interval_ms = o.heartbeat_interval_ms,
                                           .initial_delay_ms = 100,
                                           .fsync = o.fsync};
  launcher::ClusterOptions c = launcher::local_cluster_options(spec, o.bin_dir, o.mpirun);
  c.node_data_dir = o.out / "data";
  c.discovery_state_file = o.out / "discovery.json";
  c.log_file = o.out / "nodes.log";
  c.node.snapshot_every = o.snapshot_every;
  return c;
}

/// One client of the run: half of them are impatient and give up after
/// 1.5 s, so faults leave writes of unknown outcome that the checker must
/// place (or not).
ClientOptions client_options(const ChaosOptions& o, const launcher::Cluster& cluster,
                             Clock::time_point epoch, const std::string& id, int index) {
  ClientOptions c;
  c.index = index;
  c.client_id = id;
  c.base_port = cluster.base_port();
  c.nodes = o.nodes;
  c.epoch = epoch;
  if (index % 2 == 1 && index < o.clients) {
    c.write_deadline = std::chrono::milliseconds(1500);
    c.read_deadline = std::chrono::milliseconds(1000);
  }
  return c;
}

/// Prints progress every 10 s until the run's time is up or it is interrupted.
void wait_run_end(const ChaosOptions& o, Clock::time_point epoch, const HistoryRecorder& history,
                  const Nemesis& nemesis) {
  const auto end =
      epoch + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  int last_report = 0;
  while (Clock::now() < end && !g_interrupted.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int elapsed = static_cast<int>(since(epoch) / 1'000'000);
    if (elapsed >= last_report + 10) {
      last_report = elapsed;
      std::printf("  %d s: %zu ops, %zu faults\n", elapsed, history.size(),
                  nemesis.events().size());
      std::fflush(stdout);
    }
  }
}

/// What the nemesis did and what went wrong for it, for the report.
struct FaultLog {
  std::vector<NemesisEvent> events;
  std::vector<std::string> errors;
};

/// Clients and the nemesis against the cluster until the time is up; then
/// the nemesis undoes its fault, clients finish the op in hand, everything is
/// healed and a leader must come back.
FaultLog run_workload(const ChaosOptions& o, launcher::Cluster& cluster, Clock::time_point epoch,
                      const std::string& run_id, HistoryRecorder& history, RunReport& report) {
  std::atomic<bool> stop_clients{false}, stop_nemesis{false};
  NemesisOptions no;
  no.seed = o.seed;
  no.epoch = epoch;
  no.kinds = o.nemesis;
  Nemesis nemesis(no, cluster);
  std::thread nemesis_thread([&] { nemesis.run(stop_nemesis); });

  std::vector<std::unique_ptr<KvClient>> clients;
  std::vector<std::thread> client_threads;
  for (int i = 0; i < o.clients; ++i) {
    const std::string id = "chaos-" + run_id + "-" + std::to_string(i);
    clients.push_back(
        std::make_unique<KvClient>(client_options(o, cluster, epoch, id, i), history));
    client_threads.emplace_back(
        [&, i] { client_loop(*clients[static_cast<std::size_t>(i)], i, o, stop_clients); });
  }
  wait_run_end(o, epoch, history, nemesis);
  if (g_interrupted.load()) report.errors.push_back("interrupted: the run was cut short");

  stop_nemesis.store(true);
  stop_clients.store(true);
  nemesis_thread.join();
  for (std::thread& t : client_threads) t.join();
  nemesis.heal_all();
  if (!cluster.wait_leader(std::chrono::seconds(60))) {
    report.errors.push_back("no leader within 60 s of the final heal");
  }
  return {nemesis.events(), nemesis.errors()};
}

/// The final read of every key, through the same client machinery.
void read_final_values(const ChaosOptions& o, const launcher::Cluster& cluster,
                       Clock::time_point epoch, const std::string& run_id, HistoryRecorder& history,
                       RunReport& report) {
  ClientOptions fc = client_options(o, cluster, epoch, "chaos-" + run_id + "-final", o.clients);
  fc.read_deadline = std::chrono::seconds(30);
  KvClient final_client(fc, history);
  for (int k = 0; k < o.keys; ++k) {
    const Operation op = final_client.read(key_name(k));
    if (op.outcome == Outcome::Ok) {
      report.final_reads[op.key] = FinalRead{op.read_value, op.invoke_us};
    } else {
      report.errors.push_back("the final read of " + op.key + " failed: " + op.note);
    }
  }
}

/// Self-check on this very history: a planted stale read must be rejected,
/// or the checker proves nothing. (A short budget: refuting or giving up
/// both count as "not accepted".)
void self_check(const ChaosOptions& o, RunReport& report) {
  CheckOptions quick;
  quick.max_seconds = 5;
  for (int k = 0; k < o.keys; ++k) {
    std::vector<Operation> planted;
    for (const Operation& op : report.history) {
      if (op.key == key_name(k)) planted.push_back(op);
    }
    const int read = plant_stale_read(planted, key_name(k));
    if (read < 0) continue;
    if (!check_key(key_name(k), planted, quick).linearizable) {
      ++report.self_checks;
    } else {
      report.errors.push_back("checker self-check: a stale read planted in op #" +
                              std::to_string(read) + " of " + key_name(k) + " was accepted");
    }
  }
}

/// The verdict's counts, for the summary line.
struct Tally {
  std::size_t ok = 0, unknown = 0, failed = 0, bad_keys = 0, undecided = 0, leader_changes = 0;
};

Tally tally(const RunReport& report) {
  Tally t;
  for (const Operation& op : report.history) {
    (op.outcome == Outcome::Ok ? t.ok : op.outcome == Outcome::Unknown ? t.unknown : t.failed)++;
  }
  for (const KeyVerdict& v : report.verdicts) {
    if (v.gave_up) {
      ++t.undecided;
    } else if (!v.linearizable) {
      ++t.bad_keys;
    }
  }
  for (std::size_t i = 1; i < report.leaders.size(); ++i) {
    if (report.leaders[i].rank >= 0 && report.leaders[i].rank != report.leaders[i - 1].rank)
      ++t.leader_changes;
  }
  return t;
}

std::string summary_line(const RunReport& report, const Tally& t, bool violation) {
  return std::string(report.passed ? "PASS"
                     : violation   ? "VIOLATION"
                                   : "ERROR") +
         ": " + std::to_string(report.history.size()) + " ops (" + std::to_string(t.ok) + " ok, " +
         std::to_string(t.unknown) + " unknown, " + std::to_string(t.failed) + " failed), " +
         std::to_string(report.nemesis.size()) + " nemesis actions, " +
         std::to_string(t.leader_changes) + " leader changes; " +
         std::to_string(report.verdicts.size() - t.bad_keys - t.undecided) + "/" +
         std::to_string(report.verdicts.size()) + " keys linearizable" +
         (t.undecided ? ", " + std::to_string(t.undecided) + " undecided" : "") + ", " +
         std::to_string(report.lost_writes.size()) + " lost writes, " +
         std::to_string(report.log_problems.size()) + " log problems (" +
         std::to_string(report.log_indexes_compared) + " index pairs compared), " +
         std::to_string(report.errors.size()) + " run errors; " +
         std::to_string(report.self_checks) + " planted stale reads caught";
}

/// Checks the history, decides, prints the problems; returns the exit code.
int judge(const ChaosOptions& o, RunReport& report) {
  report.verdicts = check_history(report.history);
  report.lost_writes = find_lost_writes(report.history, report.final_reads);
  self_check(o, report);
  const Tally t = tally(report);
  const bool violation = t.bad_keys > 0 || !report.lost_writes.empty() ||
                         !report.log_problems.empty() || t.undecided > 0;
  report.passed = !violation && report.errors.empty();
  report.summary = summary_line(report, t, violation);
  for (const KeyVerdict& v : report.verdicts) {
    if (!v.linearizable) std::printf("  key %s: %s\n", v.key.c_str(), v.explanation.c_str());
  }
  for (const LostWrite& l : report.lost_writes) std::printf("  %s\n", l.explanation.c_str());
  for (const std::string& p : report.log_problems) std::printf("  %s\n", p.c_str());
  for (const std::string& e : report.errors) std::printf("  error: %s\n", e.c_str());
  return report.passed ? kExitPass : violation ? kExitViolation : kExitCannotRun;
}

/// Starts the cluster and waits for its first leader; false with the reason
/// in the report.
bool start_cluster(const ChaosOptions& o, launcher::Cluster& cluster, RunReport& report) {
  std::string error;
  const bool started =
      cluster.start(&error) && cluster.wait_nodes_healthy(std::chrono::seconds(60), &error);
  report.config = config_json(o, cluster);
  if (!started) {
    report.errors.push_back("the cluster did not start: " + error);
  } else if (!cluster.wait_leader(std::chrono::seconds(60))) {
    report.errors.push_back("no leader within 60 s of start");
  } else {
    return true;
  }
  report.summary = "CANNOT RUN: " + report.errors.back();
  return false;
}

}  // namespace

int run_chaos(const ChaosOptions& o) {
  ::signal(SIGINT, on_interrupt);
  ::signal(SIGTERM, on_interrupt);
  std::error_code ec;
  fs::remove_all(o.out / "data", ec);
  fs::create_directories(o.out, ec);
  fs::remove(o.out / "nodes.log", ec);
  launcher::Cluster cluster(cluster_options(o));
  RunReport report;
  const Clock::time_point epoch = Clock::now();
  const auto finish = [&](int code) {
    report.duration_us = since(epoch);
    std::string error;
    if (!write_report(o.out, report, &error)) {
      std::fprintf(stderr, "raft_chaos: %s\n", error.c_str());
    }
    std::printf("%s\nreport: %s, %s\n", report.summary.c_str(),
                (o.out / "report.json").string().c_str(),
                (o.out / "timeline.html").string().c_str());
    std::fflush(stdout);
    cluster.stop();
    return code;
  };
  if (!start_cluster(o, cluster, report)) return finish(kExitCannotRun);
  std::printf("raft_chaos: %d nodes on ports %d-%d, %d clients, %d keys, %.0f s, seed %llu\n",
              o.nodes, cluster.base_port(), cluster.base_port() + o.nodes - 1, o.clients, o.keys,
              o.seconds, static_cast<unsigned long long>(o.seed));
  std::fflush(stdout);

  HistoryRecorder history;
  std::atomic<bool> stop_sampler{false};
  LeaderSampler sampler(cluster, epoch);
  std::thread sampler_thread([&] { sampler.run(stop_sampler); });
  const std::string run_id = std::to_string(o.seed) + "-" + std::to_string(::getpid());
  const FaultLog faults = run_workload(o, cluster, epoch, run_id, history, report);
  read_final_values(o, cluster, epoch, run_id, history, report);
  report.log_problems = compare_logs(cluster, &report.log_indexes_compared);
  stop_sampler.store(true);
  sampler_thread.join();

  report.history = history.snapshot();
  report.nemesis = faults.events;
  report.leaders = sampler.samples();
  for (const std::string& p : sampler.problems()) report.log_problems.push_back(p);
  for (const std::string& e : faults.errors) report.errors.push_back(e);
  return finish(judge(o, report));
}

int recheck_report(const fs::path& path) {
  std::ifstream in(path);
  const json doc = json::parse(in, nullptr, false);
  if (!in.is_open() || doc.is_discarded() || !doc.is_object() || !doc.contains("history")) {
    std::fprintf(stderr, "raft_chaos: %s is not a report.json with a history\n",
                 path.string().c_str());
    return kExitCannotRun;
  }
  std::vector<Operation> history;
  std::map<std::string, FinalRead> finals;
  try {
    for (const json& op : doc["history"]) history.push_back(operation_from_json(op));
    if (doc.contains("final_values")) {
      for (const auto& [key, value] : doc["final_values"].items()) {
        finals[key] = FinalRead{
            value.is_string() ? std::optional<std::string>(value.get<std::string>()) : std::nullopt,
            0};
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raft_chaos: %s: %s\n", path.string().c_str(), e.what());
    return kExitCannotRun;
  }
  bool ok = true;
  for (const KeyVerdict& v : check_history(history)) {
    std::printf("key %s: %s, %zu ops, %zu configurations, %.3f s%s%s\n", v.key.c_str(),
                v.linearizable ? "linearizable"
                : v.gave_up    ? "undecided"
                               : "NOT linearizable",
                v.ops_checked, v.configurations, v.seconds, v.explanation.empty() ? "" : ": ",
                v.explanation.c_str());
    ok = ok && v.linearizable;
  }
  for (const LostWrite& l : find_lost_writes(history, finals)) {
    std::printf("%s\n", l.explanation.c_str());
    ok = false;
  }
  std::printf("%s\n", ok ? "PASS" : "VIOLATION");
  return ok ? kExitPass : kExitViolation;
}

}  // namespace raft::chaos
