// NodeDriver: the loop that owns one node's Raft state (see node_driver.hpp).
// The operator commands live in node_driver_commands.cpp.
#include "runtime/node_driver.hpp"

#include <chrono>
#include <thread>

#include <spdlog/spdlog.h>

#include "node_driver_impl.hpp"
#include "raft/assert.hpp"

namespace raft::runtime {

namespace {

KvReply unavailable(std::string error, NodeId leader = kNoNode) {
  KvReply r;
  r.http_status = 503;
  r.ok = false;
  r.error = std::move(error);
  r.leader_id = leader;
  return r;
}

}  // namespace

// ---- construction ------------------------------------------------------------

NodeDriver::NodeDriver(NodeOptions options, std::unique_ptr<transport::Transport> transport,
                       std::shared_ptr<spdlog::logger> logger, std::shared_ptr<Metrics> metrics)
    : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.options = std::move(options);
  // Every message leaves through the operator's slow network (`delay`).
  auto delaying = std::make_unique<transport::DelayingTransport>(std::move(transport));
  d.delays = delaying.get();
  d.transport = std::move(delaying);
  d.log = std::move(logger);
  d.metrics = metrics ? std::move(metrics) : std::make_shared<Metrics>();
  d.started_ms = steady_ms();
  d.started_us = wall_us();
  d.events = std::make_shared<RaftEventLog>(d.options.event_capacity);
  d.recorder = std::make_unique<RaftEventRecorder>(d.events, d.options.events);
  const std::string problem = d.options.raft.validate();
  if (!problem.empty()) throw std::invalid_argument(problem);
  d.open_and_recover();
  d.publish(/*force=*/true);
}

NodeDriver::~NodeDriver() = default;

void NodeDriver::Impl::open_and_recover() {
  storage::FileStoreOptions store_options;
  store_options.fsync = options.fsync ? storage::FsyncMode::Always : storage::FsyncMode::Never;
  file_store = std::make_unique<storage::FileStore>(options.node_dir, store_options);
  RecoveredState recovered = file_store->load();  // throws StorageError naming the file
  for (const std::string& w : file_store->warnings()) log->warn("storage: {}", w);
  ready.reset_durable(recovered.hard_state);

  kv = std::make_unique<KvStateMachine>();
  applied_bytes_since_snapshot = 0;
  if (recovered.snapshot) {
    kv->restore(*recovered.snapshot->data, recovered.snapshot->meta.last_index);
  }
  node = std::make_unique<Node>(options.raft, recovered, raft_now_ms());
  log->info("recovered term {} vote {} log {}..{} snapshot {} from {}", recovered.hard_state.term,
            recovered.hard_state.voted_for, node->log().first_index(), node->log().last_index(),
            node->log().snapshot().last_index, options.node_dir.string());
  last_role = node->role();
}

// ---- clocks ------------------------------------------------------------------

std::uint64_t NodeDriver::Impl::raft_now_ms() const {
  // The Raft clock stands still while the node is paused, so a resumed node
  // has the same time left on its timers as when it was paused.
  const std::uint64_t now = steady_ms();
  const std::uint64_t frozen = paused ? now - pause_started_ms : 0;
  return now - paused_total_ms - frozen;
}

// ---- the loop ----------------------------------------------------------------

std::optional<std::chrono::microseconds> NodeDriver::Impl::until_deadline() const {
  std::optional<std::chrono::microseconds> wait = until_core_deadline();
  // Held messages leave even while the node is paused: they were sent before.
  if (const auto due = delays->next_due()) {
    const auto until_due = std::max(std::chrono::microseconds{0},
                                    std::chrono::duration_cast<std::chrono::microseconds>(
                                        *due - transport::DelayingTransport::Clock::now()));
    wait = wait ? std::min(*wait, until_due) : until_due;
  }
  return wait;
}

std::optional<std::chrono::microseconds> NodeDriver::Impl::until_core_deadline() const {
  if (!runnable()) return std::nullopt;
  const TimeMs deadline_ms = node->next_deadline_ms();
  const TimeMs now_ms = raft_now_ms();
  if (deadline_ms <= now_ms) return std::chrono::microseconds{0};
  // The Raft clock counts whole steady milliseconds: it reaches the
  // deadline at the start of a millisecond, part of this one has gone.
  using std::chrono::microseconds;
  const auto into_ms = std::chrono::duration_cast<microseconds>(
                           std::chrono::steady_clock::now().time_since_epoch()) %
                       std::chrono::milliseconds(1);
  return std::chrono::milliseconds(deadline_ms - now_ms) - into_ms;
}

void NodeDriver::run() {
  Impl& d = *impl_;
  d.log->info("node {} of {} running (election {}-{} ms, heartbeat {} ms, fsync {}, doorbell {})",
              d.options.raft.id, d.ranks(), d.options.raft.election_timeout_min_ms,
              d.options.raft.election_timeout_max_ms, d.options.raft.heartbeat_interval_ms,
              d.options.fsync ? "always" : "never (unsafe)",
              d.transport->wake_fd() >= 0 ? "on" : "off (idle peers poll)");
  LoopPace pace;
  std::vector<Message> inbox;
  std::deque<std::function<void()>> requests;
  for (;;) {
    // Before looking: a wake-up that comes after this is kept for the sleep.
    d.waker.clear();
    const bool rung = d.transport->drain_wakes();
    LoopPass pass;
    // The core's clock first: a message read after a long sleep must be
    // stepped at the time it arrived (a heartbeat restarts the election
    // timer from now), not at the time of the last wake-up.
    if (d.runnable()) d.node->tick(d.raft_now_ms());
    pace.note_ring(rung, d.receive(inbox, pass));
    if (!d.run_requests(requests, pass)) break;
    while (d.runnable() && d.node->has_ready()) {
      d.metrics->messages_dropped += d.ready.run(*d.node, d).dropped;
      pass.active = true;
    }
    d.transport->wake_peers();
    d.maybe_compact();
    d.stop_if_storage_failed();
    d.observe_events();
    d.publish_and_sleep(pass, pace);
  }
  d.fail_everything("the node is shutting down");
  d.publish(/*force=*/true);
  d.log->info("loop stopped");
}

std::size_t NodeDriver::Impl::receive(std::vector<Message>& inbox, LoopPass& pass) {
  inbox.clear();
  transport->poll(inbox, 4096);
  for (Message& m : inbox) {
    pass.client_traffic |= !m.entries.empty() || m.type == MessageType::InstallSnapshot;
    pass.active |= deliver(std::move(m));
  }
  return inbox.size();
}

bool NodeDriver::Impl::run_requests(std::deque<std::function<void()>>& requests, LoopPass& pass) {
  {
    std::lock_guard lock(queue_mutex);
    requests.swap(queue);
    if (stop_requested && requests.empty()) return false;
  }
  for (auto& request : requests) request();
  pass.active |= !requests.empty();
  pass.client_traffic |= !requests.empty() || !pending_writes.empty() || !pending_reads.empty();
  requests.clear();
  return true;
}

void LoopPace::note_ring(bool rung, std::size_t received) {
  if (received != 0) {
    ring_unanswered = false;
  } else if (rung && !ring_unanswered) {
    ring_unanswered = true;
    ring_unanswered_since = Clock::now();
  }
}

void NodeDriver::Impl::publish_and_sleep(const LoopPass& pass, LoopPace& pace) {
  const auto now = LoopPace::Clock::now();
  if (pass.client_traffic) pace.last_busy = now;
  WaitInputs in;
  in.active = pass.active;
  in.since_busy = std::chrono::duration_cast<std::chrono::microseconds>(now - pace.last_busy);
  in.has_doorbell = transport->wake_fd() >= 0;
  in.expecting_message = pace.ring_unanswered && now - pace.ring_unanswered_since < kExpectWindow;
  in.transfers_pending = transport->transfers_pending();
  in.until_deadline = until_deadline();
  in.heartbeat_interval_ms = options.raft.heartbeat_interval_ms;
  const std::chrono::microseconds wait = choose_wait(in);
  // Status is republished at most every kPublishEveryMs under load; before
  // a long sleep, work not yet published is published now, or the pages
  // would show it only after the sleep.
  pace.unpublished_work |= pass.active;
  const bool long_sleep = wait > std::chrono::milliseconds(kPublishEveryMs);
  if (publish(/*force=*/pace.unpublished_work && long_sleep)) pace.unpublished_work = false;
  if (wait.count() > 0) {
    waker.sleep(wait, transport->wake_fd(), choose_spin(in, wait, options.spin_window));
  }
}

bool NodeDriver::Impl::deliver(Message m) {
  const auto type = static_cast<std::size_t>(m.type);
  if (type < metrics->messages_received.size()) metrics->messages_received[type]++;
  recorder->received(m);
  // A paused or crashed node receives and drops, so no sender's request hangs.
  if (const std::optional<DropReason> why = inbound_drop(m.from)) {
    metrics->messages_dropped++;
    recorder->dropped(m, /*inbound=*/true, *why, wall_us());
    return false;
  }
  node->step(std::move(m));
  return true;
}

std::optional<DropReason> NodeDriver::Impl::inbound_drop(NodeId from) const {
  if (!node) return DropReason::Crashed;
  if (paused) return DropReason::Paused;
  if (storage_failed()) return DropReason::Storage;
  const LinkFilter& links = ready.links();
  if (links.partitioned.count(from) > 0) return DropReason::Partition;
  if (!links.accepts_from(from)) return DropReason::Cut;
  return std::nullopt;
}

void NodeDriver::Impl::observe_events() {
  if (!recorder->enabled()) return;
  ObservedState s;
  s.paused = paused;
  s.crashed = crashed;
  if (node) {
    const std::uint64_t raft_now = raft_now_ms();
    s.has_node = true;
    s.role = node->role();
    s.term = node->term();
    s.leader = node->leader();
    s.vote = node->voted_for();
    s.pre_vote = node->pre_voting();
    s.commit = node->commit_index();
    s.timeout_ms = node->election_timeout_ms();
    s.elapsed_ms =
        s.role == Role::Leader ? 0 : raft_now - std::min(raft_now, node->election_timer_start_ms());
  }
  recorder->observe(s, wall_us());
}

namespace {

double seconds_between(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

void NodeDriver::Impl::sync() {
  const auto t0 = Clock::now();
  file_store->sync();
  metrics->fsync_seconds.observe(seconds_between(t0, Clock::now()));
}

void NodeDriver::Impl::on_durable(Index index) {
  // The writes this sync made durable on the leader. Assigned, not raised:
  // a follower's log (a deposed leader's) may have been cut back.
  const auto now = Clock::now();
  for (auto it = pending_writes.upper_bound(durable_up_to);
       it != pending_writes.end() && it->first <= index; ++it) {
    it->second.synced_at = now;
    metrics->write_leader_sync_seconds.observe(seconds_between(it->second.proposed_at, now));
  }
  durable_up_to = index;
}

void NodeDriver::Impl::on_storage_failure(const std::string& what) {
  storage_error = what;
  log->critical("storage failed: the node stops until 'restart' reloads it from disk: {}", what);
  fail_everything("storage failed: " + storage_error);
}

void NodeDriver::Impl::drop_volatile_state() {
  node.reset();
  kv.reset();
  file_store.reset();
}

void NodeDriver::Impl::stop_if_storage_failed() {
  // Not inside the failure's callback: the Ready step still holds the core.
  if (!storage_failed() || !node) return;
  drop_volatile_state();
  publish(/*force=*/true);
}

bool NodeDriver::Impl::send(Message m) {
  const auto type = static_cast<std::size_t>(m.type);
  if (!transport->send(m)) {
    recorder->dropped(m, /*inbound=*/false, DropReason::QueueFull, wall_us());
    return false;
  }
  if (type < metrics->messages_sent.size()) metrics->messages_sent[type]++;
  recorder->sent(m, delays->delay_ms(m.to), wall_us());
  return true;
}

void NodeDriver::Impl::on_filtered(const Message& m) {
  const bool partition = ready.links().partitioned.count(m.to) > 0;
  recorder->dropped(m, /*inbound=*/false, partition ? DropReason::Partition : DropReason::Cut,
                    wall_us());
}

bool NodeDriver::Impl::restore(const Snapshot& snapshot) {
  try {
    kv->restore(*snapshot.data, snapshot.meta.last_index);
  } catch (const std::exception& e) {
    storage_error = std::string("snapshot from the leader is unreadable: ") + e.what();
    log->critical("{}", storage_error);
    fail_everything(storage_error);
    return false;
  }
  metrics->snapshots_installed++;
  applied_bytes_since_snapshot = 0;
  recorder->snapshot(snapshot.meta.last_index, /*installed=*/true, wall_us());
  // Writes whose entries were folded into the snapshot: the outcome is not
  // known here; a retry with the same client id and sequence is safe.
  resolve_writes_up_to(snapshot.meta.last_index);
  return true;
}

void NodeDriver::Impl::apply(Entry e) {
  applied_bytes_since_snapshot += e.data.size();
  std::optional<KvApplyResult> result = kv->apply(e);
  metrics->entries_applied++;
  auto it = pending_writes.find(e.index);
  if (it == pending_writes.end()) return;
  KvReply reply;
  if (it->second.term != e.term) {
    reply = unavailable("a new leader replaced this write before it committed; it was not applied",
                        node->leader());
  } else {
    reply.index = e.index;
    reply.term = e.term;
    if (result) {
      reply.ok = result->ok;
      reply.found = result->found;
      reply.duplicate = result->duplicate;
      reply.error = result->error;
      if (!result->ok) reply.http_status = 409;
    }
  }
  metrics->kv_writes++;
  const PendingWrite& w = it->second;
  const auto now = Clock::now();
  if (w.synced_at != Clock::time_point{}) {
    metrics->write_replicate_commit_seconds.observe(seconds_between(w.synced_at, now));
  }
  metrics->write_total_seconds.observe(seconds_between(w.queued_at, now));
  answer_write(it, std::move(reply));
}

void NodeDriver::Impl::answer_write(std::map<Index, PendingWrite>::iterator it, KvReply reply) {
  RAFT_ASSERT(pending_write_bytes >= it->second.bytes, "pending write bytes under-counted");
  pending_write_bytes -= it->second.bytes;
  it->second.done(std::move(reply));
  pending_writes.erase(it);
}

void NodeDriver::Impl::resolve_writes_up_to(Index index) {
  while (!pending_writes.empty() && pending_writes.begin()->first <= index) {
    answer_write(pending_writes.begin(),
                 unavailable("the write's outcome is unknown (a snapshot replaced the log); retry "
                             "it with the same client id and sequence"));
  }
}

std::optional<KvReply> NodeDriver::Impl::refuse_for_memory(const KvCommand& command,
                                                           std::size_t bytes) const {
  constexpr std::size_t kMiB = 1024 * 1024;
  if (pending_write_bytes + bytes > options.pending_write_bytes_max) {
    return unavailable(std::to_string(pending_write_bytes / kMiB) +
                       " MiB of writes already wait for a quorum; retry shortly");
  }
  const std::size_t grows_by = command.key.size() + command.value.size();
  if (command.op != KvOp::Delete && options.kv_bytes_max != 0 &&
      kv->bytes() + grows_by > options.kv_bytes_max) {
    KvReply r = unavailable("the store holds " + std::to_string(kv->bytes() / kMiB) +
                            " MiB and its quota is " + std::to_string(options.kv_bytes_max / kMiB) +
                            " MiB (--kv_quota_mb): delete keys or raise the quota");
    r.http_status = 507;
    return r;
  }
  return std::nullopt;
}

void NodeDriver::Impl::on_read_state(const ReadState& r) {
  auto it = pending_reads.find(r.request_id);
  if (it == pending_reads.end()) return;
  if (!r.ok) {
    it->second.done(
        unavailable("leadership was lost before the read was confirmed", node->leader()));
    pending_reads.erase(it);
    return;
  }
  it->second.read_index = r.index;
  it->second.confirmed = true;
}

void NodeDriver::Impl::serve_reads() {
  for (auto it = pending_reads.begin(); it != pending_reads.end();) {
    if (!it->second.confirmed || kv->applied_index() < it->second.read_index) {
      ++it;
      continue;
    }
    KvReply reply;
    reply.value = kv->get(it->second.key);
    reply.found = reply.value.has_value();
    reply.index = it->second.read_index;
    reply.term = node->term();
    if (!reply.found) {
      reply.http_status = 404;
      reply.ok = false;
      reply.error = "key not found";
    }
    metrics->kv_reads++;
    it->second.done(std::move(reply));
    it = pending_reads.erase(it);
  }
}

void NodeDriver::Impl::on_event(const Event& e) {
  switch (e.kind) {
    case EventKind::RoleChanged:
      log->info("{} -> {} in term {} ({})", role_name(last_role), role_name(e.role), e.term,
                e.detail);
      if (e.role == Role::Leader) metrics->elections_won++;
      last_role = e.role;
      break;
    case EventKind::LeaderChanged:
      metrics->leader_changes++;
      if (e.node == kNoNode) {
        log->info("no known leader in term {}", e.term);
      } else {
        log->info("leader is node {} in term {}", e.node, e.term);
      }
      break;
    case EventKind::ElectionStarted:
      if (e.pre_vote) {
        metrics->pre_votes_started++;
        log->info("PreVote for term {} ({})", e.term, e.detail);
      } else {
        metrics->elections_started++;
        log->info("election for term {} ({})", e.term, e.detail);
      }
      break;
    case EventKind::VoteGranted: log->info("voted for node {} in term {}", e.node, e.term); break;
    case EventKind::SnapshotInstalled: log->info("{} from node {}", e.detail, e.node); break;
    case EventKind::ConfigChanged: log->info("configuration in effect: {}", e.detail); break;
    case EventKind::ConfigCommitted: log->info("configuration committed: {}", e.detail); break;
  }
}

void NodeDriver::Impl::maybe_compact() {
  if (!node || storage_failed() || options.snapshot_every_entries == 0) return;
  const Index applied = kv->applied_index();
  const bool by_count =
      applied >= node->log().snapshot().last_index + options.snapshot_every_entries;
  const bool by_bytes = options.snapshot_every_bytes != 0 &&
                        applied_bytes_since_snapshot >= options.snapshot_every_bytes;
  if (!by_count && !by_bytes) return;
  std::string error;
  if (!take_snapshot(&error)) log->warn("automatic snapshot failed: {}", error);
}

bool NodeDriver::Impl::take_snapshot(std::string* error) {
  const Index applied = kv->applied_index();
  Snapshot snap;
  Result r = node->compact(applied, std::make_shared<const std::string>(kv->snapshot()), &snap);
  if (!r.ok()) {
    *error = r.error;
    return false;
  }
  try {
    file_store->install_snapshot(snap);
    file_store->sync();
  } catch (const std::exception& e) {
    storage_error = e.what();
    log->critical("storage failed while saving a snapshot: {}", e.what());
    fail_everything("storage failed: " + storage_error);
    *error = storage_error;
    return false;
  }
  metrics->snapshots_taken++;
  applied_bytes_since_snapshot = 0;
  recorder->snapshot(snap.meta.last_index, /*installed=*/false, wall_us());
  log->info("snapshot at index {} (term {}), {} bytes; log now starts at {}", snap.meta.last_index,
            snap.meta.last_term, snap.data->size(), node->log().first_index());
  return true;
}

void NodeDriver::Impl::fail_everything(const std::string& why) {
  for (auto& [index, w] : pending_writes) w.done(unavailable(why));
  pending_writes.clear();
  pending_write_bytes = 0;
  for (auto& [id, r] : pending_reads) r.done(unavailable(why));
  pending_reads.clear();
}

// ---- status ------------------------------------------------------------------

void NodeDriver::Impl::fill_raft_status(NodeStatus& s) const {
  const std::uint64_t raft_now = raft_now_ms();
  s.role = node->role();
  s.term = node->term();
  s.leader_id = node->leader();
  s.voted_for = node->voted_for();
  s.log_length = node->log().last_index();
  s.first_index = node->log().first_index();
  s.snapshot_index = node->log().snapshot().last_index;
  s.commit_index = node->commit_index();
  s.last_applied = kv->applied_index();
  s.pre_voting = node->pre_voting();
  s.transfer_target = node->transfer_target();
  s.election_timeout_ms = node->election_timeout_ms();
  s.election_elapsed_ms = node->role() == Role::Leader
                              ? 0
                              : raft_now - std::min(raft_now, node->election_timer_start_ms());
  s.heard_from_leader = node->leader_contact_ms() != 0 || node->role() == Role::Leader;
  s.since_leader_contact_ms =
      node->role() == Role::Leader ? 0 : raft_now - std::min(raft_now, node->leader_contact_ms());
  s.initial_remaining_ms = node->role() == Role::Initial && node->initial_deadline_ms() > raft_now
                               ? node->initial_deadline_ms() - raft_now
                               : 0;
  s.kv_keys = kv->size();
  const ConfState& conf = node->conf_state();
  s.voters.assign(conf.voters.begin(), conf.voters.end());
  s.learners.assign(conf.learners.begin(), conf.learners.end());
  s.config_index = conf.index;
  s.peers.clear();
  const LinkFilter& links = ready.links();
  for (const auto& [id, p] : node->progress()) {
    s.peers.push_back({id, p.match, p.next, std::string(progress_state_name(p.state)),
                       links.partitioned.count(id) > 0, links.drop_from.count(id) > 0,
                       links.drop_to.count(id) > 0});
  }
}

bool NodeDriver::Impl::publish(bool force) {
  const std::uint64_t now = steady_ms();
  const bool changed = node && (node->role() != published_role || node->term() != published_term ||
                                node->leader() != published_leader);
  if (!force && !changed && now < last_publish_ms + kPublishEveryMs) return false;
  last_publish_ms = now;

  auto s = std::make_shared<NodeStatus>(last_status ? *last_status : NodeStatus{});
  s->rank = options.raft.id;
  s->cluster_size = ranks();
  s->paused = paused;
  s->crashed = crashed;
  if (!node) {
    // Crashed or failed: no role and no leader, not the last ones it had (a
    // failed leader must not go on saying LEADER beside the new one).
    s->role = Role::Follower;
    s->leader_id = kNoNode;
  }
  const LinkFilter& links = ready.links();
  s->partitioned.assign(links.partitioned.begin(), links.partitioned.end());
  s->dropping_from.assign(links.drop_from.begin(), links.drop_from.end());
  s->dropping_to.assign(links.drop_to.begin(), links.drop_to.end());
  s->heartbeat_interval_ms = options.raft.heartbeat_interval_ms;
  s->election_timeout_min_ms = options.raft.election_timeout_min_ms;
  s->election_timeout_max_ms = options.raft.election_timeout_max_ms;
  s->storage_error = storage_error;
  s->delaying = delays->delays();
  s->published_at_ms = now;
  s->uptime_ms = now - started_ms;
  if (node) {
    fill_raft_status(*s);
    published_role = node->role();
    published_term = node->term();
    published_leader = node->leader();

    metrics->term = s->term;
    metrics->role = static_cast<int>(s->role);
    metrics->commit_index = s->commit_index;
    metrics->last_applied = s->last_applied;
    metrics->log_length = s->log_length;
  }
  metrics->paused = paused ? 1 : 0;
  metrics->crashed = crashed ? 1 : 0;
  const transport::TransportStats ts = transport->stats();
  metrics->decode_errors = ts.decode_errors;

  const bool leadership_news =
      changed || !last_status || last_status->paused != paused || last_status->crashed != crashed;
  last_status = s;
  {
    std::lock_guard lock(status_mutex);
    status = std::move(s);
  }
  if (leadership_news && options.on_leadership_change) options.on_leadership_change();
  return true;
}

// ---- thread-safe entry points ------------------------------------------------

void NodeDriver::stop() {
  {
    std::lock_guard lock(impl_->queue_mutex);
    impl_->stop_requested = true;
  }
  impl_->waker.notify();
}

std::shared_ptr<const NodeStatus> NodeDriver::status() const {
  std::lock_guard lock(impl_->status_mutex);
  return impl_->status;
}

RaftEventLog::Page NodeDriver::events(std::uint64_t after, std::size_t limit) const {
  return impl_->events->read(after, limit);
}

std::uint64_t NodeDriver::started_us() const { return impl_->started_us; }

std::vector<std::string> NodeDriver::command_history() const {
  std::lock_guard lock(impl_->history_mutex);
  return {impl_->history.begin(), impl_->history.end()};
}

void NodeDriver::Impl::enqueue(std::function<void()> request) {
  {
    std::lock_guard lock(queue_mutex);
    queue.push_back(std::move(request));
  }
  waker.notify();
}

void NodeDriver::kv_write(KvCommand command, KvDone done) {
  const auto queued_at = Impl::Clock::now();
  impl_->enqueue(
      [d = impl_.get(), done = std::move(done), command = std::move(command), queued_at]() mutable {
        if (std::optional<KvReply> refusal = d->refuse_kv(/*write=*/true)) {
          done(std::move(*refusal));
          return;
        }
        const std::string problem = validate_kv_command(command);
        if (!problem.empty()) {
          KvReply r;
          r.http_status = 400;
          r.ok = false;
          r.error = problem;
          done(std::move(r));
          return;
        }
        if (d->pending_writes.size() >= d->options.max_pending_writes) {
          done(unavailable("too many writes in flight; retry shortly"));
          return;
        }
        std::string entry = encode_kv_command(command);
        const std::size_t bytes = entry.size();
        if (std::optional<KvReply> refusal = d->refuse_for_memory(command, bytes)) {
          done(std::move(*refusal));
          return;
        }
        Result r = d->node->propose(EntryType::Command, std::move(entry));
        if (!r.ok()) {
          done(unavailable(r.error, d->node->leader()));
          return;
        }
        const auto proposed_at = Impl::Clock::now();
        d->metrics->write_queue_seconds.observe(seconds_between(queued_at, proposed_at));
        d->pending_writes[r.index] =
            Impl::PendingWrite{r.term, std::move(done), queued_at, proposed_at, {}, bytes};
        d->pending_write_bytes += bytes;
      });
}

void NodeDriver::kv_read(std::string key, bool stale, KvDone done) {
  impl_->enqueue([d = impl_.get(), done = std::move(done), key = std::move(key), stale]() mutable {
    if (stale) {
      if (!d->kv) {
        done(unavailable("the node is crashed"));
        return;
      }
      KvReply reply;
      reply.value = d->kv->get(key);
      reply.found = reply.value.has_value();
      reply.index = d->kv->applied_index();
      reply.term = d->node ? d->node->term() : 0;
      if (!reply.found) {
        reply.http_status = 404;
        reply.ok = false;
        reply.error = "key not found";
      }
      d->metrics->kv_reads++;
      done(std::move(reply));
      return;
    }
    if (std::optional<KvReply> refusal = d->refuse_kv(/*write=*/false)) {
      done(std::move(*refusal));
      return;
    }
    const std::uint64_t id = ++d->next_read_id;
    Result r = d->node->read_index(id);
    if (!r.ok()) {
      done(unavailable(r.error, d->node->leader()));
      return;
    }
    d->pending_reads[id] = Impl::PendingRead{key, 0, false, std::move(done)};
  });
}

namespace {

/// The waiting form: a promise kept by the loop's answer (broken if the
/// loop drops the request unanswered).
template <typename Start>
std::future<KvReply> promised(Start start) {
  auto promise = std::make_shared<std::promise<KvReply>>();
  std::future<KvReply> future = promise->get_future();
  start([promise](KvReply reply) { promise->set_value(std::move(reply)); });
  return future;
}

}  // namespace

std::future<KvReply> NodeDriver::kv_write(KvCommand command) {
  return promised([&](KvDone done) { kv_write(std::move(command), std::move(done)); });
}

std::future<KvReply> NodeDriver::kv_read(std::string key, bool stale) {
  return promised([&](KvDone done) { kv_read(std::move(key), stale, std::move(done)); });
}

std::optional<KvReply> NodeDriver::Impl::refuse_kv(bool write) const {
  if (crashed || !node) return unavailable("the node is crashed; restart it first");
  if (paused) return unavailable("the node is paused; resume it first");
  if (storage_failed()) return unavailable("storage failed: " + storage_error);
  if (node->role() != Role::Leader) {
    const NodeId leader = node->leader();
    KvReply r = unavailable(leader == kNoNode ? "no leader known" : "not leader", leader);
    if (leader != kNoNode) r.http_status = 307;
    return r;
  }
  (void)write;
  return std::nullopt;
}

namespace {
/// The start of `e` that entries() copies, `budget` bytes being left.
std::size_t entry_bytes_copied(const Entry& e, std::size_t data_bytes_max, std::size_t budget) {
  const std::size_t summary = kKvHeaderBytesMax + kMaxKeyBytes;
  return std::min(e.data.size(), std::max(summary, std::min(data_bytes_max, budget)));
}
}  // namespace

std::future<EntriesReply> NodeDriver::entries(Index from, std::size_t limit,
                                              std::size_t data_bytes_max) {
  auto promise = std::make_shared<std::promise<EntriesReply>>();
  std::future<EntriesReply> future = promise->get_future();
  impl_->enqueue([d = impl_.get(), promise, from, limit, data_bytes_max] {
    EntriesReply reply;
    if (!d->node) {
      reply.http_status = 503;
      reply.error = "the node is crashed; restart it first";
      promise->set_value(std::move(reply));
      return;
    }
    const RaftLog& log = d->node->log();
    reply.first_index = log.first_index();
    reply.last_index = log.last_index();
    reply.commit_index = d->node->commit_index();
    std::size_t budget = kEntriesAnswerBytesMax;
    for (Index i = std::max(from, log.first_index());
         i <= log.last_index() && reply.entries.size() < limit; ++i) {
      const Entry& e = log.at(i);
      const std::size_t copied = entry_bytes_copied(e, data_bytes_max, budget);
      budget -= std::min(budget, copied);
      reply.entries.push_back({e.index, e.term, e.type, e.data.substr(0, copied), e.data.size()});
    }
    promise->set_value(std::move(reply));
  });
  return future;
}

}  // namespace raft::runtime
