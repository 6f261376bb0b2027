#include "sim_cluster.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "seed.hpp"

namespace raft::sim {

namespace {

constexpr std::uint64_t kNetworkStream = 1;
constexpr std::uint64_t kPhaseStream = 2;
constexpr std::uint64_t kDiskStream = 3;
constexpr std::uint64_t kNodeStreamBase = 0x100;

std::string name(NodeId id) { return "n" + std::to_string(id); }

Result refused(const char* why) { return {Status::Refused, why, 0, 0, kNoNode}; }

}  // namespace

ClusterOptions ClusterOptions::fast(std::size_t node_count, std::uint64_t seed) {
  ClusterOptions o;
  o.node_count = node_count;
  o.seed = seed;
  o.config.election_timeout_min_ms = 150;
  o.config.election_timeout_max_ms = 300;
  o.config.heartbeat_interval_ms = 50;
  o.config.initial_delay_ms = 0;
  return o;
}

SimCluster::SimCluster(ClusterOptions options)
    : options_(std::move(options)),
      network_(options_.node_count, derive_seed(options_.seed, kNetworkStream)),
      checker_(options_.node_count),
      trace_(options_.trace_capacity),
      disk_rng_(derive_seed(options_.seed, kDiskStream)) {
  assert(options_.node_count >= 1 && options_.tick_interval_ms >= 1);
  network_.set_options(options_.network);
  trace_.set_echo(options_.echo_trace);
  Rng phase(derive_seed(options_.seed, kPhaseStream));
  for (std::size_t i = 0; i < options_.node_count; ++i) {
    auto s = std::make_unique<Slot>();
    if (on_disk()) {
      s->disk = SimDisk(options_.storage_dir / ("node-" + std::to_string(i)),
                        options_.disks_lose_synced_tail);
    }
    s->node.emplace(config_for(static_cast<NodeId>(i), 0), 0);
    s->conf = s->node->conf_state();
    committed_members_.push_back(s->node->is_member(static_cast<NodeId>(i)));
    // Different phases, so nodes do not all tick in the same instant.
    s->next_tick_ms = phase.uniform(0, options_.tick_interval_ms - 1);
    nodes_.push_back(std::move(s));
  }
  for (std::size_t i = 0; i < options_.node_count; ++i) after_input(static_cast<NodeId>(i));
}

Config SimCluster::config_for(NodeId id, std::uint64_t incarnation) const {
  Config c = options_.config;
  c.id = id;
  c.voters.clear();
  const std::size_t voters = options_.voter_count == 0 ? options_.node_count : options_.voter_count;
  for (std::size_t i = 0; i < voters; ++i) c.voters.push_back(static_cast<NodeId>(i));
  c.node_count = options_.node_count;
  // A restarted node draws new timeouts: a real restart would not replay them.
  c.seed = derive_seed(options_.seed,
                       kNodeStreamBase + static_cast<std::uint64_t>(id) * 0x10000 + incarnation);
  return c;
}

// ---- time ---------------------------------------------------------------------

NodeId SimCluster::next_tick_node() const {
  NodeId best = 0;
  for (std::size_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i]->next_tick_ms < slot(best).next_tick_ms) best = static_cast<NodeId>(i);
  }
  return best;
}

void SimCluster::step() {
  const NodeId tick_id = next_tick_node();
  const TimeMs tick_at = slot(tick_id).next_tick_ms;
  const std::optional<TimeMs> arrival = network_.next_arrival_ms();
  ++stats_.steps;
  if (arrival && *arrival <= tick_at) {
    now_ms_ = std::max(now_ms_, *arrival);
    checker_.set_now(now_ms_);
    deliver();
  } else {
    now_ms_ = std::max(now_ms_, tick_at);
    checker_.set_now(now_ms_);
    tick(tick_id);
  }
  if (++steps_since_full_check_ >= options_.full_check_every_steps) {
    steps_since_full_check_ = 0;
    check_all_logs();
  }
}

void SimCluster::run_until_time(TimeMs time_ms) {
  while (!halted()) {
    TimeMs next = slot(next_tick_node()).next_tick_ms;
    if (const auto arrival = network_.next_arrival_ms()) next = std::min(next, *arrival);
    if (next > time_ms) break;
    step();
  }
  if (!halted()) now_ms_ = std::max(now_ms_, time_ms);
  checker_.set_now(now_ms_);
}

bool SimCluster::run_until(const std::function<bool()>& done, TimeMs limit_ms) {
  const TimeMs deadline_ms = now_ms_ + limit_ms;
  while (!halted()) {
    if (done()) return true;
    TimeMs next = slot(next_tick_node()).next_tick_ms;
    if (const auto arrival = network_.next_arrival_ms()) next = std::min(next, *arrival);
    if (next > deadline_ms) break;
    step();
  }
  if (halted()) return false;
  now_ms_ = std::max(now_ms_, deadline_ms);
  return done();
}

// ---- the owner loop -----------------------------------------------------------

void SimCluster::deliver() {
  std::optional<Message> m = network_.pop_arrival(now_ms_);
  if (!m) return;
  const NodeId to = m->to;
  if (to < 0 || static_cast<std::size_t>(to) >= nodes_.size()) return;
  Slot& s = slot(to);
  if (!s.node || s.paused) {
    trace_.message(now_ms_, "lost at down node:", *m);
    return;
  }
  trace_.message(now_ms_, "deliver", *m);
  if (static_cast<std::size_t>(m->type) < stats_.delivered_by_type.size()) {
    ++stats_.delivered_by_type[static_cast<std::size_t>(m->type)];
  }
  s.node->step(*m);
  after_input(to);
}

void SimCluster::tick(NodeId id) {
  Slot& s = slot(id);
  const auto i = static_cast<std::size_t>(id);
  const TimeMs factor = i < options_.tick_factor.size() ? options_.tick_factor[i] : 1;
  s.next_tick_ms += options_.tick_interval_ms * factor;
  if (!s.node || s.paused) return;
  s.node->tick(local_now_ms(id));
  after_input(id);
}

void SimCluster::after_input(NodeId id) {
  try {
    process_ready(id);
  } catch (const StorageError& e) {
    // A store that cannot take a valid write is a bug like any other.
    checker_.report("storage", name(id) + ": " + e.what());
    return;
  }
  const Slot& s = slot(id);
  if (s.node) checker_.after_step(id, *s.node);
  if (new_leaders_.empty()) return;
  std::vector<NodeId> leaders;
  leaders.swap(new_leaders_);
  for (NodeId l : leaders) {
    if (new_leader_hook_ && !halted() && is_running(l) && node(l).role() == Role::Leader) {
      new_leader_hook_(l);
    }
  }
}

/// The simulator's effects of a Ready: its disk, its network, its KvModel
/// and the invariant checker; ReadyStep decides their order.
class SimCluster::Host final : public runtime::ReadyHost {
 public:
  Host(SimCluster& cluster, NodeId id)
      : c_(cluster), id_(id), s_(cluster.slot(id)), send_at_ms_(cluster.now_ms_) {}

  Storage& store() override { return s_.disk.store(); }
  void on_entries(const std::vector<Entry>& entries) override {
    c_.checker_.on_entries(id_, *s_.node, entries);
  }
  bool before_sync(bool messages_sent) override {
    if (!s_.crash_before_sync) return true;
    if (messages_sent) ++c_.stats_.crashes_after_send;
    c_.crash_now(id_, messages_sent ? "after sending its entries, before syncing them"
                                    : "before syncing its writes");
    return false;
  }
  void sync() override {
    s_.disk.store().sync();
    c_.checker_.on_synced(id_, s_.node->term());
    // A slow disk: nothing that depends on this sync leaves before it ends.
    send_at_ms_ = std::max(send_at_ms_, c_.now_ms_ + c_.options_.sync_latency_ms);
  }
  void on_storage_failure(const std::string& what) override {
    // A store that cannot take a valid write is a bug like any other.
    c_.checker_.report("storage", name(id_) + ": " + what);
  }
  bool send(Message m) override {
    c_.network_.send(std::move(m), send_at_ms_);
    return true;
  }
  bool restore(const Snapshot& snapshot) override {
    c_.restore_snapshot(id_, snapshot);
    return !c_.halted();
  }
  void apply(Entry entry) override { c_.apply(id_, entry); }
  void on_read_state(const ReadState& read) override { c_.on_read_state(id_, read); }
  void serve_reads() override { c_.serve_reads(id_); }
  void on_event(const Event& event) override { c_.on_event(id_, event); }

 private:
  SimCluster& c_;
  NodeId id_;
  Slot& s_;
  TimeMs send_at_ms_;  ///< when this node's messages leave (after a slow sync)
};

void SimCluster::process_ready(NodeId id) {
  Slot& s = slot(id);
  Host host(*this, id);
  while (s.node && s.node->has_ready() && !halted()) {
    if (!s.ready.run(*s.node, host).completed) return;
    maybe_compact(id);
  }
}

void SimCluster::restore_snapshot(NodeId id, const Snapshot& snapshot) {
  Slot& s = slot(id);
  std::optional<KvModel> kv =
      snapshot.data ? KvModel::deserialize(*snapshot.data) : std::optional<KvModel>();
  if (!kv) {
    checker_.report("State Machine Safety", name(id) + " got snapshot bytes for index " +
                                                std::to_string(snapshot.meta.last_index) +
                                                " that do not parse");
    return;
  }
  s.kv = std::move(*kv);
  checker_.on_snapshot_restored(id, s.node->term(), snapshot.meta, s.kv);
}

void SimCluster::apply(NodeId id, const Entry& entry) {
  Slot& s = slot(id);
  checker_.on_applied(id, s.node->term(), entry, s.kv.applied_index());
  s.kv.apply(entry);
  const auto it = unacked_.find({id, entry.index});
  if (it == unacked_.end()) return;
  Proposal& p = proposals_[it->second];
  if (p.term == entry.term && p.data == entry.data) {
    p.acked = true;
    ++stats_.writes_acked;
  }
  unacked_.erase(it);
}

void SimCluster::on_read_state(NodeId id, const ReadState& read) {
  const auto it = reads_.find(read.request_id);
  if (it == reads_.end() || it->second.node != id ||
      it->second.state != ReadRecord::State::Pending) {
    checker_.report("ReadIndex contract", name(id) + " answered read " +
                                              std::to_string(read.request_id) +
                                              ", which it does not have pending");
    return;
  }
  ReadRecord& r = it->second;
  if (!read.ok) {
    r.state = ReadRecord::State::Failed;
    ++stats_.reads_failed;
    return;
  }
  r.read_index = read.index;
  slot(id).waiting_reads.push_back(read.request_id);
}

void SimCluster::serve_reads(NodeId id) {
  Slot& s = slot(id);
  std::vector<std::uint64_t> still_waiting;
  for (std::uint64_t read_id : s.waiting_reads) {
    ReadRecord& r = reads_.at(read_id);
    if (r.read_index > s.kv.applied_index()) {
      still_waiting.push_back(read_id);
      continue;
    }
    const KvValue* v = s.kv.get(r.key);
    r.state = ReadRecord::State::Ok;
    if (v != nullptr) r.value = *v;
    ++stats_.reads_ok;
    checker_.on_read(id, r.key, r.required_index, v, r.read_index);
  }
  s.waiting_reads = std::move(still_waiting);
}

void SimCluster::on_event(NodeId id, const Event& e) {
  switch (e.kind) {
    case EventKind::RoleChanged:
      if (e.role == Role::Leader) {
        ++stats_.leaders;
        new_leaders_.push_back(id);
      }
      note(name(id) + " -> " + std::string(role_name(e.role)) + " term " + std::to_string(e.term) +
           " (" + e.detail + ")");
      break;
    case EventKind::LeaderChanged:
      note(name(id) + " follows " + (e.node == kNoNode ? std::string("nobody") : name(e.node)) +
           " in term " + std::to_string(e.term));
      break;
    case EventKind::ElectionStarted:
      if (!e.pre_vote) ++stats_.elections;
      note(name(id) + (e.pre_vote ? " starts a PreVote for term " : " campaigns in term ") +
           std::to_string(e.term) + " (" + e.detail + ")");
      break;
    case EventKind::VoteGranted:
      checker_.on_vote(id, e.term, e.node);
      note(name(id) + " votes for " + name(e.node) + " in term " + std::to_string(e.term));
      break;
    case EventKind::SnapshotInstalled:
      ++stats_.snapshots_installed;
      if (slot(id).node->log().snapshot().conf.index != 0) ++stats_.snapshot_confs;
      note(name(id) + ": " + e.detail);
      break;
    case EventKind::ConfigChanged:
    case EventKind::ConfigCommitted: on_membership_event(id, e); break;
  }
  if (e.kind == EventKind::RoleChanged) {
    if (e.role == Role::Standby) ++stats_.member_to_standby;
    if (e.role == Role::Standby && e.detail.find("removal committed") != std::string::npos) {
      ++stats_.removed_leaders;
    }
    if (e.detail == "added to the configuration") ++stats_.standby_to_member;
  }
}

void SimCluster::on_membership_event(NodeId id, const Event& e) {
  Slot& s = slot(id);
  if (e.kind == EventKind::ConfigCommitted) {
    for (const auto* ids :
         {&s.node->committed_conf_state().voters, &s.node->committed_conf_state().learners}) {
      for (NodeId member : *ids) committed_members_.at(static_cast<std::size_t>(member)) = true;
    }
    ++stats_.confs_committed;
    note(name(id) + " configuration committed: " + e.detail);
    return;
  }
  // Events are reported after the Ready, so compare with what the node
  // shows now: a configuration index that went down was cut off.
  const ConfState& now = s.node->conf_state();
  if (now.index < s.conf.index) ++stats_.conf_rollbacks;
  if (!operator_change_ && s.node->role() == Role::Leader && e.node != kNoNode &&
      conf_is_promoting(s.conf, e.node) && conf_has_voter(now, e.node)) {
    ++stats_.auto_promotions;
  }
  s.conf = now;
  note(name(id) + " configuration in effect: " + e.detail +
       (e.node == kNoNode ? std::string() : " (" + name(e.node) + ")"));
}

void SimCluster::maybe_compact(NodeId id) {
  Slot& s = slot(id);
  if (options_.snapshot_every_entries == 0 || !s.node) return;
  const Index applied = s.kv.applied_index();
  if (applied < s.node->log().snapshot().last_index + options_.snapshot_every_entries) return;
  auto data = std::make_shared<const std::string>(s.kv.serialize());
  Snapshot snapshot;
  const Result r = s.node->compact(applied, std::move(data), &snapshot);
  if (!r.ok()) return;
  s.disk.store().install_snapshot(snapshot);
  s.disk.store().sync();
  ++stats_.compactions;
}

// ---- faults -------------------------------------------------------------------

void SimCluster::pause(NodeId id) {
  Slot& s = slot(id);
  if (!s.node || s.paused) return;
  s.paused = true;
  s.stopped_at_ms = now_ms_;
  ++stats_.pauses;
  note("pause " + name(id));
}

void SimCluster::resume(NodeId id) {
  Slot& s = slot(id);
  if (!s.paused) return;
  s.paused = false;
  // The node's timers stood still: its clock skips the pause.
  s.clock_offset_ms += now_ms_ - s.stopped_at_ms;
  note("resume " + name(id));
}

void SimCluster::crash(NodeId id) { crash_now(id, "crash"); }

void SimCluster::crash_before_next_sync(NodeId id) {
  Slot& s = slot(id);
  if (!s.node) return;
  s.crash_before_sync = true;
  note(name(id) + " will crash before its next sync");
}

void SimCluster::crash_now(NodeId id, const char* why) {
  Slot& s = slot(id);
  if (!s.node) return;
  std::string torn_tail;
  if (on_disk() && disk_rng_.chance(1, 2)) {
    torn_tail.resize(disk_rng_.uniform(1, 40));
    for (char& c : torn_tail) c = static_cast<char>(disk_rng_.uniform(0, 255));
  }
  s.disk.crash(torn_tail);
  s.node.reset();
  if (!s.paused) s.stopped_at_ms = now_ms_;  // a paused node's clock stopped already
  s.paused = false;
  s.crash_before_sync = false;
  s.waiting_reads.clear();
  for (auto& [read_id, r] : reads_) {
    if (r.node == id && r.state == ReadRecord::State::Pending) {
      r.state = ReadRecord::State::Failed;
      ++stats_.reads_failed;
    }
  }
  for (auto it = unacked_.begin(); it != unacked_.end();) {
    it = it->first.first == id ? unacked_.erase(it) : std::next(it);
  }
  checker_.on_crash(id);
  ++stats_.crashes;
  note("crash " + name(id) + " (" + why + ")");
}

void SimCluster::restart(NodeId id) {
  Slot& s = slot(id);
  if (s.node) return;
  s.clock_offset_ms += now_ms_ - s.stopped_at_ms;
  RecoveredState recovered;
  std::vector<std::string> warnings;
  try {
    recovered = s.disk.recover(&warnings);
  } catch (const StorageError& e) {
    checker_.report("durability", name(id) + " cannot recover its storage: " + e.what());
    return;
  }
  if (on_disk()) ++stats_.disk_restarts;
  if (!warnings.empty()) {
    ++stats_.torn_tails_cut;
    for (const std::string& w : warnings) note(name(id) + " recovery: " + w);
  }
  ++s.incarnation;
  s.node.emplace(config_for(id, s.incarnation), recovered, local_now_ms(id));
  s.conf = s.node->conf_state();
  ++stats_.restarts;
  note("restart " + name(id) + " term " + std::to_string(recovered.hard_state.term) + " commit " +
       std::to_string(recovered.hard_state.commit) + " entries " +
       std::to_string(recovered.entries.size()) + " snapshot " +
       std::to_string(recovered.snapshot ? recovered.snapshot->meta.last_index : 0));
  s.ready.reset_durable(recovered.hard_state);
  s.kv = KvModel{};
  if (recovered.snapshot) restore_snapshot(id, *recovered.snapshot);
  checker_.on_restart(id, *s.node, recovered);
  after_input(id);
}

void SimCluster::heal_all() {
  network_.heal();
  NetworkOptions reliable = network_.options();
  reliable.loss_per_mille = 0;
  reliable.duplicate_per_mille = 0;
  reliable.reorder_per_mille = 0;
  network_.set_options(reliable);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const NodeId id = static_cast<NodeId>(i);
    slot(id).crash_before_sync = false;
    if (is_crashed(id)) restart(id);
    if (is_paused(id)) resume(id);
  }
  note("heal: network reliable, every node running");
}

// ---- clients and operators ---------------------------------------------------------

Result SimCluster::propose(NodeId id, std::string data) {
  if (!is_running(id)) return refused("the node is down");
  Slot& s = slot(id);
  const Result r = s.node->propose(EntryType::Command, data);
  if (r.ok()) {
    ++stats_.proposals_accepted;
    unacked_[{id, r.index}] = proposals_.size();
    note("client: " + name(id) + " accepts " + data + " at index " + std::to_string(r.index) +
         " term " + std::to_string(r.term));
    proposals_.push_back({id, r.index, r.term, std::move(data), false});
  }
  after_input(id);
  return r;
}

std::uint64_t SimCluster::read(NodeId id, std::string_view key) {
  if (!is_running(id)) return 0;
  const std::uint64_t read_id = next_read_id_++;
  ReadRecord record;
  record.node = id;
  record.key = std::string(key);
  // What the read must see is fixed when it is issued.
  record.required_index = checker_.committed_write_index(key);
  reads_.emplace(read_id, std::move(record));
  const Result r = slot(id).node->read_index(read_id);
  if (!r.ok()) reads_.erase(read_id);
  after_input(id);
  return r.ok() ? read_id : 0;
}

const ReadRecord* SimCluster::read_result(std::uint64_t read_id) const {
  const auto it = reads_.find(read_id);
  return it == reads_.end() ? nullptr : &it->second;
}

Result SimCluster::trigger_election(NodeId id) {
  if (!is_running(id)) return refused("the node is down");
  note("operator: trigger_election on " + name(id));
  const Result r = slot(id).node->trigger_election();
  after_input(id);
  return r;
}

Result SimCluster::force_timeout(NodeId id) {
  if (!is_running(id)) return refused("the node is down");
  note("operator: force_timeout on " + name(id));
  const Result r = slot(id).node->force_timeout();
  after_input(id);
  return r;
}

Result SimCluster::change_membership(NodeId id, ConfChange change) {
  if (!is_running(id)) return refused("the node is down");
  note("operator: " + std::string(conf_change_type_name(change.type)) + " " + name(change.node) +
       " on " + name(id));
  operator_change_ = true;
  const Result r = slot(id).node->change_membership(change);
  if (r.ok()) {
    ++stats_.conf_changes_accepted;
    ++stats_.conf_changes_by_type[static_cast<std::size_t>(change.type)];
  } else if (r.status == Status::Refused) {
    MembershipRefusal why = MembershipRefusal::Other;
    if (r.error.find("entry of its term") != std::string::npos) {
      why = MembershipRefusal::NewTermEntryFirst;
    } else if (r.error.find("one change at a time") != std::string::npos) {
      why = MembershipRefusal::OneAtATime;
    } else if (r.error.find("has not caught up") != std::string::npos) {
      why = MembershipRefusal::CatchUp;
    } else if (r.error.find("no quorum") != std::string::npos ||
               r.error.find("no voter") != std::string::npos) {
      why = MembershipRefusal::NoQuorum;
    }
    ++stats_.conf_changes_refused[static_cast<std::size_t>(why)];
    note("  refused: " + r.error);
  }
  after_input(id);
  operator_change_ = false;
  return r;
}

Result SimCluster::transfer_leadership(NodeId id, NodeId target) {
  if (!is_running(id)) return refused("the node is down");
  note("operator: transfer_leadership " + name(id) + " -> " + name(target));
  const Result r = slot(id).node->transfer_leadership(target);
  after_input(id);
  return r;
}

NodeId SimCluster::wait_for_leader(TimeMs limit_ms) {
  run_until([this] { return stable_leader() != kNoNode; }, limit_ms);
  return stable_leader();
}

bool SimCluster::elect(NodeId id, TimeMs limit_ms) {
  const TimeMs deadline_ms = now_ms_ + limit_ms;
  const auto is_leader = [this, id] { return is_running(id) && node(id).role() == Role::Leader; };
  // A vote round takes one round trip; retry soon after it, before some other
  // node's election timer fires (a retry in a higher term is what wins when
  // voters already gave their vote in this one).
  const TimeMs retry_ms = 4 * options_.network.delay_max_ms + 2 * options_.tick_interval_ms + 1;
  // A node that merely believes it leads (cut off, say) must win a new term.
  const Term start_term = is_crashed(id) ? 0 : node(id).term();
  const auto won = [&] { return is_leader() && node(id).term() > start_term; };
  while (!won() && now_ms_ < deadline_ms && !halted()) {
    trigger_election(id);
    run_until(won, std::min<TimeMs>(deadline_ms - now_ms_, retry_ms));
  }
  return won();
}

// ---- views ---------------------------------------------------------------------------

NodeId SimCluster::leader() const {
  NodeId best = kNoNode;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const NodeId id = static_cast<NodeId>(i);
    if (!is_running(id) || node(id).role() != Role::Leader) continue;
    if (best == kNoNode || node(id).term() > node(best).term()) best = id;
  }
  return best;
}

NodeId SimCluster::stable_leader() const {
  const NodeId l = leader();
  if (l == kNoNode) return kNoNode;
  for (NodeId id : members_of(l)) {
    if (!is_running(id)) continue;
    if (node(id).term() != node(l).term() || node(id).leader() != l) return kNoNode;
  }
  return l;
}

std::vector<NodeId> SimCluster::members_of(NodeId id) const {
  const ConfState& conf = node(id).conf_state();
  std::vector<NodeId> members = conf.voters;
  members.insert(members.end(), conf.learners.begin(), conf.learners.end());
  std::sort(members.begin(), members.end());
  return members;
}

void SimCluster::check_all_logs() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const NodeId id = static_cast<NodeId>(i);
    if (!is_crashed(id)) checker_.check_log(id, node(id));
  }
}

std::string SimCluster::describe_nodes() const {
  std::string out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const NodeId id = static_cast<NodeId>(i);
    if (!out.empty()) out += " | ";
    out += name(id) + " ";
    if (is_crashed(id)) {
      out += "crashed";
      continue;
    }
    const Node& n = node(id);
    if (is_paused(id)) out += "paused ";
    if (n.is_learner(id)) out += "learner ";
    out += std::string(role_name(n.role())) + " term=" + std::to_string(n.term()) +
           " leader=" + (n.leader() == kNoNode ? std::string("-") : name(n.leader())) + " last=(" +
           std::to_string(n.log().last_index()) + "," + std::to_string(n.log().last_term()) +
           ") commit=" + std::to_string(n.commit_index()) +
           " applied=" + std::to_string(kv(id).applied_index()) +
           " snap=" + std::to_string(n.log().snapshot().last_index) + " conf@" +
           std::to_string(n.conf_state().index) + "=" +
           std::to_string(n.conf_state().voters.size()) + "v" +
           std::to_string(n.conf_state().learners.size()) + "l";
  }
  return out;
}

}  // namespace raft::sim
