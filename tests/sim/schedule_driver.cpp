#include "schedule_driver.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "raft/rng.hpp"
#include "seed.hpp"

namespace raft::sim {

namespace {

constexpr std::uint64_t kDriverStream = 11;
constexpr std::uint64_t kWidenDriverStream = 13;
constexpr std::uint64_t kMembershipDriverStream = 15;
constexpr TimeMs kNever = ~TimeMs{0};

std::string name(NodeId id) { return "n" + std::to_string(id); }

std::string group_text(const std::vector<NodeId>& group) {
  std::string out = "{";
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (i != 0) out += ",";
    out += std::to_string(group[i]);
  }
  return out + "}";
}

/// Plays the chaos phase and then checks liveness.
class Driver {
 public:
  Driver(const ScheduleParams& params, const ClusterOptions& options, SimCluster& cluster)
      : params_(params),
        options_(options),
        cluster_(cluster),
        rng_(derive_seed(params.seed, kDriverStream)),
        widen_rng_(derive_seed(params.seed, kWidenDriverStream)),
        member_rng_(derive_seed(params.seed, kMembershipDriverStream)) {}

  void chaos();
  void heal_and_check_liveness();
  const std::array<std::uint64_t, kFaultKindCount>& faults() const { return faults_; }
  std::uint64_t races() const { return races_; }

 private:
  void inject_fault();
  /// The Widening events due at `t_ms`; returns when the next one is due.
  TimeMs widen(TimeMs t_ms);
  /// Sets every link between `a` and `b` (both directions) up or down.
  void set_links(const std::vector<NodeId>& a, const std::vector<NodeId>& b, bool up);
  void client_write();
  void client_read();
  /// Asks for one membership change, mostly of the leader (MembershipPlan).
  void membership_change(NodeId asked = kNoNode);
  /// The nodes `view` would accept as the subject of a change of `type`.
  std::vector<NodeId> eligible(const Node& view, ConfChangeType type) const;
  /// The members of the stable leader's configuration: whom liveness waits for.
  std::vector<NodeId> live_members() const;
  /// Every node a committed configuration removed reaches STANDBY within
  /// `bound_ms` (after liveness held).
  void check_removed_nodes_standby(TimeMs bound_ms);
  /// A new leader: asked for a change at once, and maybe raced against the
  /// leader it replaces (MembershipPlan::race_percent).
  void on_new_leader(NodeId leader);
  /// A node chosen uniformly among those `pred` accepts, or kNoNode.
  NodeId pick(const std::function<bool(NodeId)>& pred);
  NodeId client_target();
  std::size_t down_count() const;
  bool may_take_down() const { return down_count() < params_.max_down; }
  void note(std::string text) { cluster_.trace().note(cluster_.now_ms(), std::move(text)); }

  const ScheduleParams& params_;
  const ClusterOptions& options_;  ///< as run: params_.run_options()
  SimCluster& cluster_;
  Rng rng_;
  /// Widening's choices at run time (its own stream: the main one, and so
  /// every older seed's faults, are untouched).
  Rng widen_rng_;
  /// Membership's choices (its own stream too).
  Rng member_rng_;
  std::vector<NodeId> long_partition_group_;
  /// The last leader cut off right after a change, until it is raced.
  NodeId cut_leader_ = kNoNode;
  std::uint64_t races_ = 0;
  std::uint64_t next_value_ = 1;
  std::array<std::uint64_t, kFaultKindCount> faults_{};
};

NodeId Driver::pick(const std::function<bool(NodeId)>& pred) {
  std::vector<NodeId> candidates;
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    if (pred(static_cast<NodeId>(i))) candidates.push_back(static_cast<NodeId>(i));
  }
  if (candidates.empty()) return kNoNode;
  return candidates[rng_.uniform(0, candidates.size() - 1)];
}

std::size_t Driver::down_count() const {
  std::size_t down = 0;
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    const NodeId id = static_cast<NodeId>(i);
    if (!cluster_.is_running(id) || cluster_.crash_pending(id)) ++down;
  }
  return down;
}

NodeId Driver::client_target() {
  // Mostly the leader as far as anyone can tell; sometimes anyone (NotLeader,
  // or a deposed leader that still believes it leads).
  const NodeId leader = cluster_.leader();
  if (leader != kNoNode && !rng_.chance(1, 10)) return leader;
  return pick([this](NodeId id) { return cluster_.is_running(id); });
}

void Driver::client_write() {
  const NodeId target = client_target();
  if (target == kNoNode) return;
  const std::string key = "k" + std::to_string(rng_.uniform(0, params_.key_count - 1));
  cluster_.write(target, key, "v" + std::to_string(next_value_++));
}

void Driver::client_read() {
  const NodeId target = client_target();
  if (target == kNoNode) return;
  const std::string key = "k" + std::to_string(rng_.uniform(0, params_.key_count - 1));
  cluster_.read(target, key);
}

std::vector<NodeId> Driver::eligible(const Node& view, ConfChangeType type) const {
  std::vector<NodeId> out;
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    const NodeId id = static_cast<NodeId>(i);
    switch (type) {
      case ConfChangeType::AddLearner:
      case ConfChangeType::AddNode:
        if (!view.is_member(id)) out.push_back(id);
        break;
      case ConfChangeType::Promote:
        if (view.is_learner(id)) out.push_back(id);
        break;
      case ConfChangeType::Remove:
        if (view.is_member(id)) out.push_back(id);
        break;
    }
  }
  return out;
}

void Driver::membership_change(NodeId asked) {
  const MembershipPlan& plan = params_.membership;
  const auto running = [this](NodeId id) { return cluster_.is_running(id); };
  if (asked == kNoNode) asked = cluster_.leader();
  if (asked == kNoNode || member_rng_.chance(1, 10)) {
    std::vector<NodeId> up;
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      if (running(static_cast<NodeId>(i))) up.push_back(static_cast<NodeId>(i));
    }
    if (up.empty()) return;
    asked = up[member_rng_.uniform(0, up.size() - 1)];
  }
  const std::uint64_t total =
      std::accumulate(plan.weights.begin(), plan.weights.end(), std::uint64_t{0});
  std::uint64_t draw = member_rng_.uniform(0, total - 1);
  std::size_t k = 0;
  while (draw >= plan.weights[k]) draw -= plan.weights[k++];
  const auto type = static_cast<ConfChangeType>(k);
  // Mostly a node the change applies to; sometimes any (the refusals count too).
  std::vector<NodeId> subjects = eligible(cluster_.node(asked), type);
  if (subjects.empty() || member_rng_.chance(1, 20)) {
    subjects.clear();
    for (std::size_t i = 0; i < cluster_.size(); ++i) subjects.push_back(static_cast<NodeId>(i));
  }
  const NodeId subject = subjects[member_rng_.uniform(0, subjects.size() - 1)];
  const Result r = cluster_.change_membership(asked, {type, subject});
  if (r.ok() && member_rng_.uniform(0, 99) < plan.cut_after_change_percent) {
    cluster_.network().isolate(asked);
    cut_leader_ = asked;
    note("membership: leader " + name(asked) + " cut off right after the change");
  }
}

void Driver::on_new_leader(NodeId leader) {
  const NodeId old_leader = cut_leader_;
  membership_change(leader);
  if (old_leader == kNoNode || old_leader == leader ||
      member_rng_.uniform(0, 99) >= params_.membership.race_percent) {
    return;
  }
  cut_leader_ = kNoNode;
  ++races_;
  std::vector<NodeId> others;
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    const NodeId id = static_cast<NodeId>(i);
    if (id != leader && id != old_leader) others.push_back(id);
  }
  for (std::size_t i = others.size(); i > 1; --i) {
    std::swap(others[i - 1], others[member_rng_.uniform(0, i - 1)]);
  }
  const std::size_t half = member_rng_.uniform(0, others.size() / 2);
  std::vector<NodeId> with_new = {leader};
  std::vector<NodeId> with_old = {old_leader};
  for (std::size_t i = 0; i < others.size(); ++i) {
    (i < half ? with_new : with_old).push_back(others[i]);
  }
  std::sort(with_new.begin(), with_new.end());
  std::sort(with_old.begin(), with_old.end());
  cluster_.network().partition({with_new, with_old});
  note("membership: race: new leader " + name(leader) + " with " + group_text(with_new) +
       ", old leader " + name(old_leader) + " with " + group_text(with_old));
}

std::vector<NodeId> Driver::live_members() const {
  const NodeId leader = cluster_.stable_leader();
  if (leader == kNoNode) return {};
  return cluster_.members_of(leader);
}

void Driver::check_removed_nodes_standby(TimeMs bound_ms) {
  // Removed: a member of a committed configuration once, of the leader's
  // committed one no longer. A removed node learns it from the leader's
  // appends, or, when it was cut off until a later change committed, from
  // a RemovedNotice; either way it must stop being a FOLLOWER (or a
  // CANDIDATE) outside the cluster. Every node is connected after the heal.
  const NodeId leader = cluster_.stable_leader();
  if (leader == kNoNode) return;
  const ConfState& committed = cluster_.node(leader).committed_conf_state();
  std::vector<NodeId> removed;
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    const NodeId id = static_cast<NodeId>(i);
    if (cluster_.was_committed_member(id) && !conf_has_member(committed, id) &&
        !cluster_.node(leader).is_member(id)) {
      removed.push_back(id);
    }
  }
  const auto all_standby = [this, &removed] {
    for (NodeId id : removed) {
      if (!cluster_.is_crashed(id) && cluster_.node(id).role() != Role::Standby) return false;
    }
    return true;
  };
  if (!cluster_.run_until(all_standby, bound_ms) && !cluster_.halted()) {
    cluster_.checker().report(
        "Liveness", "a node removed by the committed configuration " + describe_conf(committed) +
                        " is not STANDBY " + std::to_string(bound_ms) +
                        " ms after everything applied: " + cluster_.describe_nodes());
  }
}

void Driver::inject_fault() {
  const std::uint64_t total =
      std::accumulate(params_.fault_weights.begin(), params_.fault_weights.end(), 0ULL);
  if (total == 0) return;
  std::uint64_t draw = rng_.uniform(0, total - 1);
  std::size_t k = 0;
  while (draw >= params_.fault_weights[k]) draw -= params_.fault_weights[k++];
  const auto kind = static_cast<FaultKind>(k);
  ++faults_[k];

  SimNetwork& net = cluster_.network();
  const std::size_t n = cluster_.size();
  const auto running = [this](NodeId id) { return cluster_.is_running(id); };
  const NodeId leader = cluster_.leader();
  switch (kind) {
    case FaultKind::Partition: {
      std::vector<NodeId> order(n);
      std::iota(order.begin(), order.end(), 0);
      for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng_.uniform(0, i)]);
      const std::size_t group_count = rng_.chance(1, 4) ? 3 : 2;
      // Cut points strictly inside, so every group is non-empty.
      std::vector<std::size_t> cuts;
      while (cuts.size() < group_count - 1) {
        const std::size_t c = rng_.uniform(1, n - 1);
        if (std::find(cuts.begin(), cuts.end(), c) == cuts.end()) cuts.push_back(c);
      }
      std::sort(cuts.begin(), cuts.end());
      cuts.push_back(n);
      std::vector<std::vector<NodeId>> groups;
      std::size_t from = 0;
      std::string text = "fault: partition";
      for (std::size_t c : cuts) {
        groups.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(from),
                            order.begin() + static_cast<std::ptrdiff_t>(c));
        std::sort(groups.back().begin(), groups.back().end());
        text += " " + group_text(groups.back());
        from = c;
      }
      net.partition(groups);
      note(text);
      break;
    }
    case FaultKind::IsolateLeader: {
      if (leader == kNoNode) break;
      const NodeId buddy = rng_.chance(1, 2) && n >= 5
                               ? pick([leader](NodeId id) { return id != leader; })
                               : kNoNode;
      if (buddy == kNoNode) {
        net.isolate(leader);
        note("fault: isolate leader " + name(leader));
      } else {
        std::vector<NodeId> rest;
        for (std::size_t i = 0; i < n; ++i) {
          const NodeId id = static_cast<NodeId>(i);
          if (id != leader && id != buddy) rest.push_back(id);
        }
        std::vector<NodeId> minority = {std::min(leader, buddy), std::max(leader, buddy)};
        net.partition({minority, rest});
        note("fault: leader " + name(leader) + " in minority " + group_text(minority));
      }
      break;
    }
    case FaultKind::OneWay: {
      NodeId from = static_cast<NodeId>(rng_.uniform(0, n - 1));
      NodeId to = pick([from](NodeId id) { return id != from; });
      if (leader != kNoNode && rng_.chance(1, 2)) {
        if (rng_.chance(1, 2)) {
          from = leader;
          to = pick([leader](NodeId id) { return id != leader; });
        } else {
          to = leader;
          from = pick([leader](NodeId id) { return id != leader; });
        }
      }
      net.cut(from, to);
      note("fault: cut " + name(from) + " -> " + name(to));
      break;
    }
    case FaultKind::Heal:
      net.heal();
      note("fault: heal the network");
      break;
    case FaultKind::Pause: {
      if (!may_take_down()) break;
      const NodeId id = pick(running);
      if (id != kNoNode) cluster_.pause(id);
      break;
    }
    case FaultKind::Resume: {
      const NodeId id = pick([this](NodeId i) { return cluster_.is_paused(i); });
      if (id != kNoNode) cluster_.resume(id);
      break;
    }
    case FaultKind::Crash: {
      if (!may_take_down()) break;
      const NodeId id = pick([this](NodeId i) { return !cluster_.is_crashed(i); });
      if (id != kNoNode) cluster_.crash(id);
      break;
    }
    case FaultKind::CrashLeader:
      if (may_take_down() && leader != kNoNode) cluster_.crash(leader);
      break;
    case FaultKind::CrashBeforeSync: {
      if (!may_take_down()) break;
      const NodeId id = leader != kNoNode && rng_.chance(1, 2) ? leader : pick(running);
      if (id != kNoNode) cluster_.crash_before_next_sync(id);
      break;
    }
    case FaultKind::Restart: {
      const NodeId id = pick([this](NodeId i) { return cluster_.is_crashed(i); });
      if (id != kNoNode) cluster_.restart(id);
      break;
    }
    case FaultKind::Transfer: {
      if (leader == kNoNode) break;
      const NodeId target = pick([leader](NodeId id) { return id != leader; });
      cluster_.transfer_leadership(leader, target);
      break;
    }
    case FaultKind::Campaign: {
      const NodeId id = pick(running);
      if (id == kNoNode) break;
      if (rng_.chance(1, 2)) {
        cluster_.trigger_election(id);
      } else {
        cluster_.force_timeout(id);
      }
      break;
    }
    case FaultKind::NetworkChange: {
      const NetworkOptions& worst = params_.worst_network;
      NetworkOptions o = net.options();
      o.loss_per_mille = static_cast<std::uint32_t>(rng_.uniform(0, worst.loss_per_mille));
      o.duplicate_per_mille =
          static_cast<std::uint32_t>(rng_.uniform(0, worst.duplicate_per_mille));
      o.reorder_per_mille = static_cast<std::uint32_t>(rng_.uniform(0, worst.reorder_per_mille));
      net.set_options(o);
      note("fault: network loss=" + std::to_string(o.loss_per_mille) +
           "/1000 dup=" + std::to_string(o.duplicate_per_mille) +
           "/1000 reorder=" + std::to_string(o.reorder_per_mille) + "/1000");
      break;
    }
    case FaultKind::kCount: break;
  }
}

void Driver::set_links(const std::vector<NodeId>& a, const std::vector<NodeId>& b, bool up) {
  for (NodeId x : a) {
    for (NodeId y : b) {
      if (x == y) continue;
      cluster_.network().set_link(x, y, up);
      cluster_.network().set_link(y, x, up);
    }
  }
}

TimeMs Driver::widen(TimeMs t_ms) {
  const Widening& w = params_.widening;
  std::vector<NodeId> all(cluster_.size());
  std::iota(all.begin(), all.end(), 0);
  TimeMs next_ms = kNever;
  const auto due = [&](TimeMs at_ms) {
    if (at_ms > t_ms) next_ms = std::min(next_ms, at_ms);
    return at_ms == t_ms;
  };
  if (w.stale_campaigner != kNoNode) {
    const NodeId x = w.stale_campaigner;
    if (due(0)) {
      set_links({x}, all, false);
      note("widening: " + name(x) + " cut off, to fall behind");
    }
    if (due(w.stale_until_ms)) {
      set_links({x}, all, true);
      note("widening: " + name(x) + " back, with a stale log");
    }
    if (t_ms >= w.stale_until_ms && t_ms < w.campaign_until_ms) {
      const TimeMs phase_ms = (t_ms - w.stale_until_ms) % w.campaign_gap_ms;
      if (phase_ms == 0 && cluster_.is_running(x)) cluster_.trigger_election(x);
      const TimeMs next_campaign_ms = t_ms + w.campaign_gap_ms - phase_ms;
      if (next_campaign_ms < w.campaign_until_ms) next_ms = std::min(next_ms, next_campaign_ms);
    } else if (t_ms < w.stale_until_ms) {
      next_ms = std::min(next_ms, w.stale_until_ms);
    }
  }
  if (w.long_partition_ms != 0) {
    if (due(w.long_partition_at_ms)) {
      std::vector<NodeId> order = all;
      for (std::size_t i = order.size() - 1; i > 0; --i) {
        std::swap(order[i], order[widen_rng_.uniform(0, i)]);
      }
      long_partition_group_.assign(
          order.begin(), order.begin() + static_cast<std::ptrdiff_t>(w.long_partition_size));
      set_links(long_partition_group_, all, false);
      note("widening: long partition of " + group_text(long_partition_group_));
    }
    if (due(w.long_partition_at_ms + w.long_partition_ms)) {
      set_links(long_partition_group_, all, true);
      note("widening: the long partition heals");
    }
  }
  return next_ms;
}

void Driver::chaos() {
  const Widening& w = params_.widening;
  // The chaos lasts until a long partition has healed by itself.
  const TimeMs end_ms =
      w.long_partition_ms != 0
          ? std::max(params_.chaos_ms, w.long_partition_at_ms + w.long_partition_ms + 100)
          : params_.chaos_ms;
  TimeMs next_fault_ms = rng_.uniform(1, params_.fault_gap_max_ms);
  TimeMs next_write_ms = rng_.uniform(1, params_.write_gap_max_ms);
  TimeMs next_read_ms = rng_.uniform(1, params_.read_gap_max_ms);
  TimeMs next_widen_ms = w.any() ? widen(0) : kNever;
  const MembershipPlan& plan = params_.membership;
  TimeMs next_member_ms = plan.on() ? member_rng_.uniform(1, plan.gap_max_ms) : kNever;
  if (plan.at_election) {
    cluster_.set_new_leader_hook([this](NodeId leader) { on_new_leader(leader); });
  }
  while (!cluster_.halted()) {
    const TimeMs t = std::min(
        {next_fault_ms, next_write_ms, next_read_ms, next_widen_ms, next_member_ms, end_ms});
    cluster_.run_until_time(t);
    if (cluster_.halted() || t >= end_ms) break;
    if (t == next_widen_ms) next_widen_ms = widen(t);
    if (t == next_fault_ms) {
      inject_fault();
      next_fault_ms = t + rng_.uniform(1, params_.fault_gap_max_ms);
    }
    if (t == next_write_ms) {
      client_write();
      next_write_ms = t + rng_.uniform(1, params_.write_gap_max_ms);
    }
    if (t == next_read_ms) {
      client_read();
      next_read_ms = t + rng_.uniform(1, params_.read_gap_max_ms);
    }
    if (t == next_member_ms) {
      membership_change();
      next_member_ms = t + member_rng_.uniform(1, plan.gap_max_ms);
    }
  }
  cluster_.set_new_leader_hook(nullptr);  // the heal and liveness phase changes nothing
}

void Driver::heal_and_check_liveness() {
  cluster_.heal_all();
  const Config& config = options_.config;
  const TimeMs bound_ms = 10 * config.election_timeout_max_ms + config.initial_delay_ms;
  if (cluster_.wait_for_leader(bound_ms) == kNoNode) {
    if (!cluster_.halted()) {
      cluster_.checker().report("Liveness",
                                "no stable leader " + std::to_string(bound_ms) +
                                    " ms after the faults healed: " + cluster_.describe_nodes());
    }
    return;
  }
  // Every write a leader accepted that committed must reach every state
  // machine, and so must everything in the final leader's log.
  Index must_apply = 0;
  for (const Proposal& p : cluster_.proposals()) {
    if (cluster_.checker().committed_term(p.index) == p.term) {
      must_apply = std::max(must_apply, p.index);
    }
  }
  // Ten election timeouts, plus the time flow control needs for the backlog:
  // with one entry per append and one append in flight, a hundred entries
  // behind is a hundred round trips, however healthy the cluster.
  // Every member of the leader's configuration, that is: STANDBY nodes
  // hold no log, and a removed node that missed its removal is no one's.
  Index min_applied = cluster_.kv(cluster_.stable_leader()).applied_index();
  for (NodeId id : live_members()) {
    min_applied = std::min(min_applied, cluster_.kv(id).applied_index());
  }
  const NodeId first_leader = cluster_.stable_leader();
  const Index leader_last = cluster_.node(first_leader).log().last_index();
  const Index backlog = std::max(must_apply, leader_last) - std::min(min_applied, leader_last);
  const Index per_round_trip = config.append_entries_max * config.inflight_appends_max;
  const Widening& w = params_.widening;
  const TimeMs round_trip_ms = 2 * options_.network.delay_max_ms +
                               options_.tick_interval_ms * w.lag_factor + 2 * w.sync_latency_ms + 1;
  const TimeMs apply_bound_ms = bound_ms + 2 * (backlog / per_round_trip + 1) * round_trip_ms;
  Index target = must_apply;
  const auto all_applied = [this, must_apply, &target] {
    const NodeId leader = cluster_.stable_leader();
    if (leader == kNoNode) return false;
    target = std::max(must_apply, cluster_.node(leader).log().last_index());
    for (NodeId id : cluster_.members_of(leader)) {
      if (cluster_.kv(id).applied_index() < target) return false;
    }
    return true;
  };
  if (!cluster_.run_until(all_applied, apply_bound_ms)) {
    if (!cluster_.halted()) {
      cluster_.checker().report(
          "Liveness", "not every node applied up to index " + std::to_string(target) + " within " +
                          std::to_string(apply_bound_ms) +
                          " ms of electing a leader after the heal: " + cluster_.describe_nodes());
    }
    return;
  }
  cluster_.check_all_logs();
  check_removed_nodes_standby(bound_ms);
  if (cluster_.halted()) return;
  // Same applied index, same state: the end-to-end form of State Machine Safety.
  for (std::size_t i = 1; i < cluster_.size(); ++i) {
    const KvModel& a = cluster_.kv(0);
    const KvModel& b = cluster_.kv(static_cast<NodeId>(i));
    if (a.applied_index() == b.applied_index() && !(a == b)) {
      cluster_.checker().report("State Machine Safety", "n0 and " + name(static_cast<NodeId>(i)) +
                                                            " applied up to index " +
                                                            std::to_string(a.applied_index()) +
                                                            " but hold different states");
      return;
    }
  }
}

ScheduleResult run_schedule_in(const ScheduleParams& params, const ClusterOptions& options) {
  SimCluster cluster(options);
  cluster.trace().note(0, "schedule " + std::to_string(params.seed) + ": " + params.describe());
  Driver driver(params, options, cluster);
  driver.chaos();
  if (!cluster.halted()) driver.heal_and_check_liveness();
  if (!cluster.halted()) cluster.check_all_logs();

  ScheduleResult result;
  result.seed = params.seed;
  if (!cluster.checker().ok()) result.violation = cluster.checker().violations().front();
  if (result.violation) result.trace_tail = cluster.trace().lines();
  result.nodes = cluster.describe_nodes();
  result.stats = cluster.stats();
  result.network = cluster.network().stats();
  result.virtual_ms = cluster.now_ms();
  result.faults = driver.faults();
  result.races = driver.races();
  return result;
}

/// A fresh directory for one disk-backed schedule: under $RAFT_SIM_DISK_DIR
/// if set, else the system's temporary folder.
std::filesystem::path fresh_disk_dir(std::uint64_t seed) {
  const char* base = std::getenv("RAFT_SIM_DISK_DIR");
  const std::filesystem::path root = base != nullptr && *base != '\0'
                                         ? std::filesystem::path(base)
                                         : std::filesystem::temp_directory_path();
  const std::filesystem::path dir =
      root / ("raft-sim-" + std::to_string(::getpid()) + "-seed-" + std::to_string(seed));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

ScheduleResult run_schedule(const ScheduleParams& params, bool echo_trace, bool keep_failed_disk) {
  ClusterOptions options = params.run_options();
  options.echo_trace = echo_trace;
  if (params.on_disk) options.storage_dir = fresh_disk_dir(params.seed);
  ScheduleResult result = run_schedule_in(params, options);
  if (params.on_disk) {
    result.on_disk = true;
    if (result.violation && keep_failed_disk) {
      result.disk_dir = options.storage_dir.string();
    } else {
      std::error_code ignored;
      std::filesystem::remove_all(options.storage_dir, ignored);
    }
  }
  return result;
}

}  // namespace raft::sim
