#include "sim_runner.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace raft::sim {

namespace {

/// Long runs report progress this often (in schedules).
constexpr std::uint64_t kProgressEvery = 10000;

std::string& program_path_storage() {
  static std::string path = "raft_sim_test";
  return path;
}

/// A non-negative integer from the environment, or nullopt if unset; a
/// malformed value is a usage error worth stopping for.
std::optional<std::uint64_t> env_u64(const char* variable) {
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == nullptr || *end != '\0') {
    std::fprintf(stderr, "sim: %s=%s is not a non-negative integer\n", variable, text);
    std::exit(2);
  }
  return value;
}

void add(ClusterStats& into, const ClusterStats& s) {
  into.steps += s.steps;
  into.elections += s.elections;
  into.leaders += s.leaders;
  into.crashes += s.crashes;
  into.restarts += s.restarts;
  into.disk_restarts += s.disk_restarts;
  into.torn_tails_cut += s.torn_tails_cut;
  into.pauses += s.pauses;
  into.crashes_after_send += s.crashes_after_send;
  into.compactions += s.compactions;
  into.snapshots_installed += s.snapshots_installed;
  into.proposals_accepted += s.proposals_accepted;
  into.writes_acked += s.writes_acked;
  into.reads_ok += s.reads_ok;
  into.reads_failed += s.reads_failed;
  into.conf_changes_accepted += s.conf_changes_accepted;
  for (std::size_t i = 0; i < s.conf_changes_refused.size(); ++i) {
    into.conf_changes_refused[i] += s.conf_changes_refused[i];
  }
  for (std::size_t i = 0; i < s.conf_changes_by_type.size(); ++i) {
    into.conf_changes_by_type[i] += s.conf_changes_by_type[i];
  }
  into.auto_promotions += s.auto_promotions;
  into.confs_committed += s.confs_committed;
  into.conf_rollbacks += s.conf_rollbacks;
  into.removed_leaders += s.removed_leaders;
  into.standby_to_member += s.standby_to_member;
  into.member_to_standby += s.member_to_standby;
  into.snapshot_confs += s.snapshot_confs;
}

void add(NetworkStats& into, const NetworkStats& s) {
  into.sent += s.sent;
  into.delivered += s.delivered;
  into.lost += s.lost;
  into.duplicated += s.duplicated;
  into.cut += s.cut;
  into.filtered += s.filtered;
}

void report(const ScheduleParams& params, const ScheduleResult& r, const std::string& filter) {
  const Violation& v = *r.violation;
  std::printf("sim: VIOLATION in seed %llu: %s\n", static_cast<unsigned long long>(r.seed),
              v.invariant.c_str());
  std::printf("  %s\n", v.details.c_str());
  std::printf("  at virtual t=%llu ms; schedule: %s\n", static_cast<unsigned long long>(v.at_ms),
              params.describe().c_str());
  std::printf("  nodes: %s\n", r.nodes.c_str());
  std::printf("  last %zu trace lines:\n", r.trace_tail.size());
  for (const std::string& line : r.trace_tail) std::printf("    %s\n", line.c_str());
  if (!r.disk_dir.empty()) std::printf("  its nodes' files: %s\n", r.disk_dir.c_str());
  std::printf("  replay: %s\n", replay_command(r.seed, filter).c_str());
  std::fflush(stdout);
}

}  // namespace

BatchOptions batch_options_from_env(std::uint64_t default_count, const char* count_variable) {
  BatchOptions o;
  o.count = env_u64(count_variable).value_or(default_count);
  o.first_seed = env_u64("RAFT_SIM_FIRST_SEED").value_or(1);
  const unsigned cores = std::thread::hardware_concurrency();
  o.jobs = env_u64("RAFT_SIM_JOBS").value_or(cores == 0 ? 1 : cores);
  if (o.jobs == 0) {
    std::fprintf(stderr, "sim: RAFT_SIM_JOBS=0: give at least 1\n");
    std::exit(2);
  }
  if (const auto seed = env_u64("RAFT_SIM_SEED")) {
    o.first_seed = *seed;
    o.count = 1;
    o.jobs = 1;
    o.verbose = env_u64("RAFT_SIM_VERBOSE").value_or(0) != 0;
  }
  return o;
}

namespace {

/// The shared state of one batch's workers: the next seed to take, and the
/// totals, which only the holder of `mutex` touches.
struct BatchState {
  explicit BatchState(const BatchOptions& o) : options(o) {}
  const BatchOptions& options;
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  BatchTotals totals;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

void print_progress(BatchState& b) {
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  const BatchTotals& t = b.totals;
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - b.start).count();
  const double rate = elapsed_s > 0 ? static_cast<double>(t.schedules) / elapsed_s : 0;
  const double left_s = rate > 0 ? static_cast<double>(b.options.count - t.schedules) / rate : 0;
  std::printf(
      "sim: %llu of %llu schedules run, %llu violations so far, %.0f schedules/s, "
      "about %.0f s to go\n",
      u(t.schedules), u(b.options.count), u(t.violations), rate, left_s);
  std::fflush(stdout);
}

void add_membership_coverage(Coverage& c, const ScheduleParams& params, const ClusterStats& s) {
  const auto once = [](std::uint64_t count) -> std::uint64_t { return count != 0 ? 1 : 0; };
  c.membership += params.membership.on() ? 1 : 0;
  for (std::size_t i = 0; i < c.conf_changes.size(); ++i) {
    c.conf_changes[i] += once(s.conf_changes_by_type[i]);
  }
  for (std::size_t i = 0; i < c.conf_refusals.size(); ++i) {
    c.conf_refusals[i] += once(s.conf_changes_refused[i]);
  }
  c.auto_promotions += once(s.auto_promotions);
  c.confs_committed += once(s.confs_committed);
  c.conf_rollbacks += once(s.conf_rollbacks);
  c.removed_leaders += once(s.removed_leaders);
  c.standby_to_member += once(s.standby_to_member);
  c.member_to_standby += once(s.member_to_standby);
  c.snapshot_confs += once(s.snapshot_confs);
}

void add_coverage(Coverage& c, const ScheduleParams& params, const ScheduleResult& r) {
  for (std::size_t k = 0; k < kFaultKindCount; ++k) c.faults[k] += r.faults[k] != 0 ? 1 : 0;
  for (std::size_t t = 0; t < c.messages.size(); ++t) {
    c.messages[t] += r.stats.delivered_by_type[t] != 0 ? 1 : 0;
  }
  const Config& config = params.run_options().config;
  c.pre_vote_off += config.pre_vote ? 0 : 1;
  c.check_quorum_off += config.check_quorum ? 0 : 1;
  c.leader_churn += params.leader_churn ? 1 : 0;
  c.compacting += params.cluster.snapshot_every_entries != 0 ? 1 : 0;
  c.snapshot_installs += r.stats.snapshots_installed != 0 ? 1 : 0;
  c.crashes_before_sync +=
      r.faults[static_cast<std::size_t>(FaultKind::CrashBeforeSync)] != 0 ? 1 : 0;
  c.crashes_after_send += r.stats.crashes_after_send != 0 ? 1 : 0;
  c.disk_restarts += r.stats.disk_restarts != 0 ? 1 : 0;
  const Widening& w = params.widening;
  c.slow_disk += w.sync_latency_ms != 0 ? 1 : 0;
  c.lagging_loop += w.lagging_node != kNoNode ? 1 : 0;
  c.stale_campaigner += w.stale_campaigner != kNoNode ? 1 : 0;
  c.long_partition += w.long_partition_ms != 0 ? 1 : 0;
  c.narrow_timeouts += w.spread_percent != 0 ? 1 : 0;
  add_membership_coverage(c, params, r.stats);
  c.races += r.races != 0 ? 1 : 0;
}

/// Folds one schedule's result into the totals and reports a violation.
void record(BatchState& b, const ScheduleParams& params, const ScheduleResult& r) {
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  const BatchOptions& options = b.options;
  std::lock_guard lock(b.mutex);
  BatchTotals& totals = b.totals;
  ++totals.schedules;
  if (r.on_disk) ++totals.disk_schedules;
  add(totals.stats, r.stats);
  add(totals.network, r.network);
  add_coverage(totals.coverage, params, r);
  totals.virtual_ms += r.virtual_ms;
  if (options.verbose) std::printf("sim: seed %llu ends: %s\n", u(r.seed), r.nodes.c_str());
  if (options.count >= 2 * kProgressEvery && totals.schedules % kProgressEvery == 0) {
    print_progress(b);
  }
  if (!r.violation) return;
  if (options.skip_liveness && r.violation->invariant == "Liveness") {
    ++totals.liveness_skipped;
    return;
  }
  ++totals.violations;
  totals.failures.push_back({r.seed, *r.violation});
  if (totals.failures.size() <= options.max_reports) {
    report(params, r, options.gtest_filter);
  } else {
    // Long hunts: one line per further failure is enough to come back to it.
    std::printf("sim: VIOLATION in seed %llu: %s: %s\n  replay: %s\n", u(r.seed),
                r.violation->invariant.c_str(), r.violation->details.c_str(),
                replay_command(r.seed, options.gtest_filter).c_str());
    std::fflush(stdout);
  }
  if (options.stop_at_first_violation) b.stop = true;
}

void run_worker(BatchState& b) {
  const BatchOptions& options = b.options;
  for (;;) {
    const std::uint64_t i = b.next.fetch_add(1);
    if (i >= options.count || b.stop) return;
    const std::uint64_t seed = options.first_seed + i;
    const ScheduleParams params = make_schedule(seed);
    if (options.verbose) {
      std::printf("sim: seed %llu: %s\n", static_cast<unsigned long long>(seed),
                  params.describe().c_str());
    }
    // Replaying one seed keeps a failed disk-backed schedule's files to look at.
    record(b, params, run_schedule(params, options.verbose, options.count == 1));
  }
}

}  // namespace

BatchTotals run_batch(const BatchOptions& options) {
  BatchState b(options);
  // Schedules are independent and each is deterministic in its seed, so
  // workers take seeds from one counter; only the order of reports varies.
  const std::uint64_t jobs = std::clamp<std::uint64_t>(options.jobs, 1, options.count);
  std::vector<std::thread> workers;
  for (std::uint64_t j = 1; j < jobs; ++j) workers.emplace_back(run_worker, std::ref(b));
  run_worker(b);
  for (std::thread& w : workers) w.join();
  std::sort(b.totals.failures.begin(), b.totals.failures.end(),
            [](const auto& x, const auto& y) { return x.seed < y.seed; });
  b.totals.jobs = jobs;
  b.totals.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - b.start).count();
  return std::move(b.totals);
}

std::string summary_line(const BatchTotals& t) {
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  char buf[1024];
  std::snprintf(
      buf, sizeof buf,
      "sim: %llu schedules (%llu on disk: %llu restarts from files, %llu torn tails "
      "cut), %llu violations, %llu steps, %llu messages delivered "
      "(%llu lost, %llu duplicated, %llu cut), %llu elections, %llu leaders, "
      "%llu crashes, %llu pauses, %llu compactions, %llu snapshots installed, "
      "%llu writes acked, %llu reads checked, %llu membership changes "
      "(%llu commits of one seen on a node, %llu refused); virtual %.1f s, wall %.1f s "
      "(%llu jobs, %.0f schedules/s)",
      u(t.schedules), u(t.disk_schedules), u(t.stats.disk_restarts), u(t.stats.torn_tails_cut),
      u(t.violations), u(t.stats.steps), u(t.network.delivered), u(t.network.lost),
      u(t.network.duplicated), u(t.network.cut), u(t.stats.elections), u(t.stats.leaders),
      u(t.stats.crashes), u(t.stats.pauses), u(t.stats.compactions), u(t.stats.snapshots_installed),
      u(t.stats.writes_acked), u(t.stats.reads_ok),
      u(t.stats.conf_changes_accepted + t.stats.auto_promotions), u(t.stats.confs_committed),
      u(std::accumulate(t.stats.conf_changes_refused.begin(), t.stats.conf_changes_refused.end(),
                        std::uint64_t{0})),
      static_cast<double>(t.virtual_ms) / 1000.0, t.wall_s, u(t.jobs),
      t.wall_s > 0 ? static_cast<double>(t.schedules) / t.wall_s : 0.0);
  return buf;
}

std::string coverage_lines(const BatchTotals& t) {
  const Coverage& c = t.coverage;
  std::string never;
  const auto item = [&never](std::string_view name, std::uint64_t count) {
    if (count == 0) never += (never.empty() ? "" : ", ") + std::string(name);
    return " " + std::string(name) + " " + std::to_string(count);
  };
  std::string out = "sim coverage (schedules): faults:";
  for (std::size_t k = 0; k < kFaultKindCount; ++k) {
    out += item(fault_kind_name(static_cast<FaultKind>(k)), c.faults[k]);
  }
  out += "\nsim coverage (schedules): messages delivered:";
  for (std::size_t m = kMessageTypeMin; m <= kMessageTypeMax; ++m) {
    out += item(message_type_name(static_cast<MessageType>(m)), c.messages[m]);
  }
  out += "\nsim coverage (schedules): paths:" + item("pre_vote_off", c.pre_vote_off) +
         item("check_quorum_off", c.check_quorum_off) + item("leader_churn", c.leader_churn) +
         item("compacting", c.compacting) + item("snapshot_installed", c.snapshot_installs) +
         item("crash_before_sync", c.crashes_before_sync) +
         item("crash_after_send", c.crashes_after_send) +
         item("restart_from_files", c.disk_restarts) + item("slow_disk", c.slow_disk) +
         item("lagging_loop", c.lagging_loop) + item("stale_campaigner", c.stale_campaigner) +
         item("long_partition", c.long_partition) + item("narrow_timeouts", c.narrow_timeouts);
  out += "\nsim coverage (schedules): membership:" + item("membership", c.membership);
  for (std::size_t k = 0; k < c.conf_changes.size(); ++k) {
    out += item(conf_change_type_name(static_cast<ConfChangeType>(k)), c.conf_changes[k]);
  }
  out += item("auto_promote", c.auto_promotions) + item("config_committed", c.confs_committed) +
         item("config_rolled_back", c.conf_rollbacks) +
         item("removed_leader_stepped_down", c.removed_leaders) +
         item("standby_added", c.standby_to_member) +
         item("member_to_standby", c.member_to_standby) +
         item("snapshot_with_config", c.snapshot_confs) + item("leader_race", c.races);
  constexpr std::array<std::string_view, 5> kRefusals = {
      "refused_new_term_entry_first", "refused_one_at_a_time", "refused_catch_up",
      "refused_no_quorum", "refused_other"};
  for (std::size_t k = 0; k < c.conf_refusals.size(); ++k) {
    out += item(kRefusals[k], c.conf_refusals[k]);
  }
  out += "\nsim coverage: never taken: " + (never.empty() ? std::string("none") : never);
  return out;
}

void set_program_path(std::string path) { program_path_storage() = std::move(path); }

std::string replay_command(std::uint64_t seed, const std::string& gtest_filter) {
  std::string cmd = "RAFT_SIM_SEED=" + std::to_string(seed) + " " + program_path_storage();
  if (!gtest_filter.empty()) cmd += " --gtest_filter=" + gtest_filter;
  return cmd;
}

std::string current_test_filter() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return {};
  return std::string(info->test_suite_name()) + "." + info->name();
}

}  // namespace raft::sim
