#include "chaos/chaos_run.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
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
/// from the last value it saw (25 %; a read when it saw none). Every fourth
/// client sends half of its reads with ?stale=true, to one node after the
/// other.
void client_loop(KvClient& client, int index, const ChaosOptions& o,
                 const std::atomic<bool>& stop) {
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<std::uint64_t>(index));
  std::map<std::string, std::optional<std::string>> seen;  // last value seen per key
  std::uint64_t counter = 0;
  const bool stale_reader = index % 4 == 3;
  while (!stop.load() && !g_interrupted.load()) {
    const std::string key = key_name(static_cast<int>(rng() % o.keys));
    const int dice = static_cast<int>(rng() % 20);
    const std::string fresh = "c" + std::to_string(index) + "-" + std::to_string(++counter);
    Operation op;
    auto known = seen.find(key);
    if (dice < 8 || (dice >= 15 && (known == seen.end() || !known->second))) {
      if (stale_reader && rng() % 2 == 0) {
        client.stale_read(key);
        continue;  // what one node had is no base for a compare-and-set
      }
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
          {"spares", o.spare_ranks()},
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
                         " --nodes " + std::to_string(o.nodes) + " --spares " +
                         std::to_string(o.spare_ranks()) + nemesis_flag(o.nemesis)}};
}

/// The cluster a run attacks: free loopback ports, short timeouts, small
/// snapshots (so compaction and snapshot installs happen), and the children's
/// output in nodes.log.
launcher::ClusterOptions cluster_options(const ChaosOptions& o) {
  const launcher::LocalClusterSpec spec = {.nodes = o.nodes + o.spare_ranks(),
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
  if (o.spare_ranks() > 0) c.node.voters = o.nodes;
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
  c.nodes = cluster.size();  // spares too: any rank may lead once added
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
  MembershipTally membership;
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
  no.voters = o.nodes;
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
  return {nemesis.events(), nemesis.errors(), nemesis.membership_tally()};
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

/// The verdict's counts, for the summary line.
struct Tally {
  std::size_t ok = 0, unknown = 0, failed = 0, bad_keys = 0, undecided = 0, leader_changes = 0;
};

Tally tally(const RunReport& report) {
  Tally t;
  for (const Operation& op : report.history) {
    (op.outcome == Outcome::Ok ? t.ok : op.outcome == Outcome::Unknown ? t.unknown : t.failed)++;
  }
  for (const KeyVerdict& v : report.check.verdicts) {
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

std::string checks_line(const RunCheck& c, const Tally& t) {
  char seconds[96];
  std::snprintf(seconds, sizeof seconds, "checked in %.1f s (+%.1f s self-check)",
                c.history_seconds, c.self_check_seconds);
  return std::to_string(c.verdicts.size() - t.bad_keys - t.undecided) + "/" +
         std::to_string(c.verdicts.size()) + " keys linearizable" +
         (t.undecided ? ", " + std::to_string(t.undecided) + " undecided" : "") + ", " +
         std::to_string(c.lost_writes.size()) + " lost writes, " + std::to_string(c.stale_reads) +
         " stale reads (" + std::to_string(c.stale_problems.size()) + " broke their promise), " +
         std::to_string(c.planted.size() - missed_plants(c)) + "/" +
         std::to_string(c.planted.size()) + " planted faults caught; " + seconds;
}

/// ", membership: N changes asked, ..." when the membership nemesis ran.
std::string membership_text(const RunReport& report) {
  const json& m = report.membership;
  if (m.empty()) return {};
  const auto n = [&](const char* k) { return std::to_string(m.value(k, 0)); };
  return ", membership: " + n("asked") + " changes asked, " + n("done") + " done (" + n("adds") +
         " add_node, " + n("removes") + " remove_node of which " + n("leader_removes") +
         " the leader's; " + n("with_paused") + " asked with another voter paused), " +
         n("refused") + " refused, " + n("not_done") + " not done in time";
}

std::string summary_line(const RunReport& report, const Tally& t, bool violation) {
  return std::string(report.passed ? "PASS"
                     : violation   ? "VIOLATION"
                                   : "ERROR") +
         ": " + std::to_string(report.history.size()) + " ops (" + std::to_string(t.ok) + " ok, " +
         std::to_string(t.unknown) + " unknown, " + std::to_string(t.failed) + " failed), " +
         std::to_string(report.nemesis.size()) + " nemesis actions, " +
         std::to_string(t.leader_changes) + " leader changes, " +
         std::to_string(report.log_problems.size()) + " log problems (" +
         std::to_string(report.log_indexes_compared) + " index pairs compared), " +
         std::to_string(report.errors.size()) + " run errors" + membership_text(report) + "; " +
         checks_line(report.check, t);
}

/// Answers the API does not give, one line per kind: the cluster broke its
/// contract even if the history checks out.
void answer_errors(const std::vector<Operation>& history, std::vector<std::string>& errors) {
  for (const char* kind : {"malformed answer", "unexpected answer"}) {
    std::size_t count = 0;
    const Operation* first = nullptr;
    for (const Operation& op : history) {
      if (op.note.rfind(kind, 0) != 0) continue;
      if (count++ == 0) first = &op;
    }
    if (count > 0) {
      errors.push_back(std::to_string(count) + " ops got a " + kind + ", first op #" +
                       std::to_string(first->id) + ": " + first->note);
    }
  }
}

/// Planted faults the checker did not refute, as errors.
void self_check_errors(const RunCheck& c, std::vector<std::string>& errors) {
  for (const PlantedCheck& p : c.planted) {
    if (p.caught) continue;
    errors.push_back("checker self-check: a planted " + std::string(plant_name(p.fault.kind)) +
                     " in " + p.key + " (" + p.fault.what + ") came out " +
                     (p.undecided ? "undecided" : "linearizable"));
  }
}

/// Prints the first lines of a list of problems (report.json has them all).
template <typename T, typename Text>
void print_some(const std::vector<T>& problems, Text text) {
  constexpr std::size_t kShown = 20;
  for (std::size_t i = 0; i < std::min(problems.size(), kShown); ++i)
    std::printf("  %s\n", text(problems[i]).c_str());
  if (problems.size() > kShown) std::printf("  ... and %zu more\n", problems.size() - kShown);
}

void print_problems(const RunCheck& c) {
  for (const KeyVerdict& v : c.verdicts) {
    if (!v.linearizable) std::printf("  key %s: %s\n", v.key.c_str(), v.explanation.c_str());
  }
  print_some(c.lost_writes, [](const LostWrite& l) { return l.explanation; });
  print_some(c.stale_problems, [](const StaleReadProblem& p) { return p.explanation; });
}

/// Checks the history, decides, prints the problems; returns the exit code.
int judge(const ChaosOptions& o, RunReport& report) {
  std::printf("checking %zu ops\n", report.history.size());
  std::fflush(stdout);
  report.check =
      check_run(report.history, report.final_reads, restart_windows(report.nemesis), o.seed);
  answer_errors(report.history, report.errors);
  self_check_errors(report.check, report.errors);
  const Tally t = tally(report);
  const bool violation = t.bad_keys > 0 || !report.check.lost_writes.empty() ||
                         !report.check.stale_problems.empty() || !report.log_problems.empty() ||
                         t.undecided > 0;
  report.passed = !violation && report.errors.empty();
  report.summary = summary_line(report, t, violation);
  print_problems(report.check);
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

int ChaosOptions::spare_ranks() const {
  if (spares >= 0) return spares;
  return std::find(nemesis.begin(), nemesis.end(), "membership") != nemesis.end() ? 2 : 0;
}

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
  std::printf(
      "raft_chaos: %d nodes (+%d standby) on ports %d-%d, %d clients, %d keys, %.0f s, "
      "seed %llu\n",
      o.nodes, o.spare_ranks(), cluster.base_port(), cluster.base_port() + cluster.size() - 1,
      o.clients, o.keys, o.seconds, static_cast<unsigned long long>(o.seed));
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

  report.history = history.take();
  report.nemesis = faults.events;
  report.leaders = sampler.samples();
  for (const std::string& p : sampler.problems()) report.log_problems.push_back(p);
  for (const std::string& e : faults.errors) report.errors.push_back(e);
  if (std::find(o.nemesis.begin(), o.nemesis.end(), "membership") != o.nemesis.end()) {
    const MembershipTally& m = faults.membership;
    report.membership = {{"asked", m.asked},
                         {"done", m.done},
                         {"refused", m.refused},
                         {"not_done", m.not_done},
                         {"adds", m.adds},
                         {"removes", m.removes},
                         {"leader_removes", m.leader_removes},
                         {"with_paused", m.with_paused}};
  }
  return finish(judge(o, report));
}

namespace {

/// What --check needs from a saved report.json.
struct SavedRun {
  std::vector<Operation> history;
  std::map<std::string, FinalRead> final_reads;
  std::vector<NemesisEvent> nemesis;
  std::uint64_t seed = 1;
};

/// Reads the history op by op, dropping each op's JSON once it is converted,
/// so a long run's report needs no document tree of its history.
json parse_streaming(std::istream& in, std::vector<Operation>& history) {
  std::string key;  // the last key of the top-level object
  const json::parser_callback_t keep = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) key = parsed.get<std::string>();
    if (event == json::parse_event_t::object_end && depth == 2 && key == "history") {
      history.push_back(operation_from_json(parsed));
      return false;
    }
    return true;
  };
  return json::parse(in, keep);
}

/// False and `error` set if the file is not a report with a history.
bool load_saved_run(const fs::path& path, SavedRun& run, std::string& error) {
  std::ifstream in(path);
  if (!in.is_open()) {
    error = "cannot open " + path.string();
    return false;
  }
  try {
    const json doc = parse_streaming(in, run.history);
    if (!doc.is_object() || !doc.contains("history")) {
      error = path.string() + " is not a report.json with a history";
      return false;
    }
    if (const auto finals = doc.find("final_values"); finals != doc.end() && finals->is_object()) {
      for (const auto& [key, value] : finals->items()) {
        run.final_reads[key] = FinalRead{
            value.is_string() ? std::optional<std::string>(value.get<std::string>()) : std::nullopt,
            0};
      }
    }
    if (const auto nemesis = doc.find("nemesis"); nemesis != doc.end() && nemesis->is_array()) {
      for (const json& n : *nemesis) {
        run.nemesis.push_back({n.at("start_us").get<std::int64_t>(),
                               n.at("end_us").get<std::int64_t>(), n.value("kind", ""),
                               n.value("detail", ""), n.value("restarted", std::vector<int>{})});
      }
    }
    if (const auto config = doc.find("config"); config != doc.end() && config->is_object())
      run.seed = config->value("seed", std::uint64_t{1});
  } catch (const std::exception& e) {
    error = path.string() + ": " + e.what();
    return false;
  }
  return true;
}

}  // namespace

int recheck_report(const fs::path& path) {
  SavedRun run;
  std::string error;
  if (!load_saved_run(path, run, error)) {
    std::fprintf(stderr, "raft_chaos: %s\n", error.c_str());
    return kExitCannotRun;
  }
  std::printf("checking %zu ops\n", run.history.size());
  std::fflush(stdout);
  const RunCheck check =
      check_run(run.history, run.final_reads, restart_windows(run.nemesis), run.seed);
  for (const KeyVerdict& v : check.verdicts) {
    std::printf("key %s: %s, %zu ops in %zu pieces (largest %zu), %zu configurations, %.3f s\n",
                v.key.c_str(),
                v.linearizable ? "linearizable"
                : v.gave_up    ? "undecided"
                               : "NOT linearizable",
                v.ops_checked, v.pieces, v.largest_piece, v.configurations, v.seconds);
  }
  print_problems(check);
  for (const PlantedCheck& p : check.planted) {
    std::printf("planted %s in %s: %s (%.3f s)\n", std::string(plant_name(p.fault.kind)).c_str(),
                p.key.c_str(),
                p.caught      ? "caught"
                : p.undecided ? "UNDECIDED"
                              : "MISSED",
                p.seconds);
  }
  RunReport report;
  report.history = std::move(run.history);
  report.check = check;
  const Tally t = tally(report);
  const bool ok = t.bad_keys == 0 && t.undecided == 0 && check.lost_writes.empty() &&
                  check.stale_problems.empty() && missed_plants(check) == 0;
  std::printf("%s: %zu ops; %s\n", ok ? "PASS" : "VIOLATION", report.history.size(),
              checks_line(check, t).c_str());
  return ok ? kExitPass : kExitViolation;
}

}  // namespace raft::chaos
