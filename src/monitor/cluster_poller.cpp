#include "monitor/cluster_poller.hpp"

#include <algorithm>
#include <chrono>
#include <system_error>
#include <utility>

#include "discovery/address.hpp"
#include "http/json_views.hpp"

namespace raft::monitor {

namespace {

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

/// A hash of the cluster JSON without what changes on every round.
std::size_t content_key(nlohmann::json body) {
  for (const char* field : {"seq", "updated_at_ms"}) body.erase(field);
  if (auto nodes = body.find("nodes"); nodes != body.end() && nodes->is_array()) {
    for (nlohmann::json& node : *nodes) {
      if (!node.is_object()) continue;
      node.erase("timers");
      node.erase("uptime_ms");
    }
  }
  return std::hash<std::string>{}(http::dump_json(body));
}

}  // namespace

std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

const NodeTarget* ClusterSnapshot::find(NodeId id) const {
  for (const NodeTarget& target : targets) {
    if (target.id == id) return &target;
  }
  return nullptr;
}

const TargetAccess* ClusterSnapshot::access_of(NodeId id) const {
  for (std::size_t i = 0; i < targets.size() && i < access.size(); ++i) {
    if (targets[i].id == id) return &access[i];
  }
  return nullptr;
}

std::optional<Endpoint> ClusterSnapshot::endpoint(NodeId id) const {
  const TargetAccess* a = access_of(id);
  return a != nullptr ? a->endpoint : std::nullopt;
}

NodeAddressRule address_rule(const PollerOptions& options) {
  NodeAddressRule rule;
  rule.ranks = std::max(0, options.nodes);
  if (options.pin_ports) rule.base_port = options.base_port;
  return rule;
}

std::vector<TargetAccess> vet_targets(const std::vector<NodeTarget>& targets,
                                      const NodeAddressRule& rule) {
  std::vector<TargetAccess> out(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const NodeTarget& target = targets[i];
    if (target.address.empty()) continue;
    if (!target.registered) {
      out[i].endpoint = parse_address(target.address);
      if (!out[i].endpoint) out[i].refused = "the address '" + target.address + "' is not valid";
      continue;
    }
    out[i].endpoint = vet_node_address(target.id, target.address, rule, &out[i].refused);
  }
  return out;
}

ClusterPoller::ClusterPoller(PollerOptions options, Fetcher fetcher, RoundObserver* observer)
    : options_(std::move(options)),
      fetcher_(fetcher ? std::move(fetcher) : Fetcher(fetch)),
      observer_(observer) {
  if (!options_.discovery_url.empty()) {
    if (auto url = discovery::parse_http_url(options_.discovery_url, nullptr)) {
      discovery_endpoint_ = Endpoint{url->host, url->port};
    }
  }
}

ClusterPoller::~ClusterPoller() { stop(); }

void ClusterPoller::start() {
  if (thread_.joinable() || stop_.load()) return;
  thread_ = std::thread([this] { run(); });
}

void ClusterPoller::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  updated_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClusterPoller::note_demand() {
  const std::uint64_t now = steady_ms();
  const std::uint64_t before = last_demand_ms_.exchange(now);
  // The poller may be sleeping out a long idle interval: cut it short.
  if (before == 0 || before + static_cast<std::uint64_t>(options_.demand_window_ms) < now) {
    request_round();
  }
}

void ClusterPoller::request_round() {
  {
    std::lock_guard lock(mutex_);
    round_requested_ = true;
  }
  wake_.notify_all();
}

std::shared_ptr<const ClusterSnapshot> ClusterPoller::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::shared_ptr<const ClusterSnapshot> ClusterPoller::wait_newer(std::uint64_t seq,
                                                                 std::chrono::milliseconds timeout,
                                                                 const std::atomic<bool>* cancel) {
  std::unique_lock lock(mutex_);
  updated_.wait_for(lock, timeout, [&] {
    return stop_.load() || (cancel != nullptr && cancel->load()) || (latest_ && latest_->seq > seq);
  });
  return latest_;
}

void ClusterPoller::interrupt_waiters() {
  // Taking the mutex orders this after any waiter's predicate check, so a
  // cancel flag set before the call cannot be missed.
  { std::lock_guard lock(mutex_); }
  updated_.notify_all();
}

DiscoveryState ClusterPoller::read_discovery() {
  if (options_.discovery_url.empty()) return discovery_failure("no discovery URL is configured");
  if (!discovery_endpoint_) {
    return discovery_failure("the discovery URL " + options_.discovery_url + " is not valid");
  }
  FetchRequest request;
  request.path = "/state";
  const FetchResult answer = fetcher_(*discovery_endpoint_, request, options_.discovery_fetch);
  if (!answer.ok()) return discovery_failure("discovery is unreachable: " + answer.error);
  if (answer.status != 200) {
    return discovery_failure("discovery answered HTTP " + std::to_string(answer.status));
  }
  return parse_discovery_state(answer.body);
}

void ClusterPoller::keep_job_ranks(DiscoveryState& discovery) const {
  if (options_.nodes <= 0) return;
  const auto outside = [&](NodeId id) { return id < 0 || id >= options_.nodes; };
  for (auto it = discovery.members.begin(); it != discovery.members.end();) {
    if (outside(it->first)) {
      it = discovery.members.erase(it);
      ++discovery.skipped;
    } else {
      ++it;
    }
  }
  if (discovery.leader != kNoNode && outside(discovery.leader)) discovery.leader = kNoNode;
}

std::vector<NodeProbe> ClusterPoller::probe_all(const std::vector<NodeTarget>& targets,
                                                const std::vector<TargetAccess>& access) {
  std::vector<NodeProbe> probes(targets.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < targets.size(); i = next++) {
      const std::optional<Endpoint>& endpoint = access[i].endpoint;
      if (!endpoint) {
        probes[i].error =
            access[i].refused.empty() ? "not registered with discovery yet" : access[i].refused;
        continue;
      }
      FetchRequest request;
      request.path = "/status";
      const FetchResult answer = fetcher_(*endpoint, request, options_.node_fetch);
      if (!answer.ok()) {
        probes[i].error = answer.error;
      } else {
        probes[i] = probe_from_answer(answer.status, answer.body);
      }
      if (observer_ != nullptr && probes[i].reachable) {
        FetchRequest extra;
        extra.path = observer_->extra_path(targets[i].id);
        if (!extra.path.empty()) {
          observer_->on_extra(targets[i].id, fetcher_(*endpoint, extra, options_.extra_fetch));
        }
      }
    }
  };
  // This thread is one of the workers; the others are started per round
  // (rounds are a few per second, thread start-up is microseconds).
  const std::size_t workers =
      std::min(targets.size(), std::max<std::size_t>(1, options_.max_parallel));
  const std::size_t helpers = workers > 0 ? workers - 1 : 0;
  std::vector<std::thread> threads;
  threads.reserve(helpers);
  try {
    for (std::size_t t = 0; t < helpers; ++t) threads.emplace_back(work);
  } catch (const std::system_error&) {
    // Out of threads: the ones we have (and this one) do the rest.
  }
  work();
  for (std::thread& thread : threads) thread.join();
  return probes;
}

std::shared_ptr<const ClusterSnapshot> ClusterPoller::poll_once() {
  std::lock_guard round(round_mutex_);
  DiscoveryState discovery = read_discovery();
  keep_job_ranks(discovery);
  if (discovery.ok) {
    last_good_members_ = discovery.members;
  } else {
    // Keep reaching nodes at the addresses they registered; only liveness
    // is unknown while discovery is away.
    discovery.members = last_good_members_;
    for (auto& [id, member] : discovery.members) member.alive.reset();
  }

  auto snapshot = std::make_shared<ClusterSnapshot>();
  snapshot->targets =
      merge_targets(discovery, options_.fallback_host, options_.base_port, options_.nodes);
  snapshot->access = vet_targets(snapshot->targets, address_rule(options_));
  // Discovery's word for the leader counts only for a node the monitor may
  // dial: a forged registration must not become the leader shown or used.
  if (const TargetAccess* leader = snapshot->access_of(discovery.leader);
      discovery.leader != kNoNode && (leader == nullptr || !leader->endpoint)) {
    discovery.leader = kNoNode;
  }
  snapshot->probes = probe_all(snapshot->targets, snapshot->access);
  snapshot->leader = choose_leader(snapshot->targets, snapshot->probes, discovery);
  nlohmann::json body =
      cluster_json(snapshot->targets, snapshot->probes, discovery, options_.discovery_url);
  snapshot->seq = next_seq_++;
  snapshot->taken_at_ms = steady_ms();
  body["seq"] = snapshot->seq;
  body["updated_at_ms"] = wall_ms();
  body["poll_interval_ms"] = options_.poll_interval_ms;
  snapshot->json_text = http::dump_json(body);
  snapshot->content_key = content_key(body);
  if (observer_ != nullptr) observer_->on_round(*snapshot);

  std::shared_ptr<const ClusterSnapshot> published = std::move(snapshot);
  {
    std::lock_guard lock(mutex_);
    latest_ = published;
  }
  updated_.notify_all();
  return published;
}

void ClusterPoller::run() {
  while (!stop_.load()) {
    const auto round_start = std::chrono::steady_clock::now();
    try {
      poll_once();
    } catch (...) {
      // A round that fails (out of memory, no threads) is retried on the
      // next tick; the last snapshot stays in place meanwhile.
    }
    const std::uint64_t last_demand = last_demand_ms_.load();  // 0: never
    const bool demanded =
        last_demand != 0 &&
        last_demand + static_cast<std::uint64_t>(options_.demand_window_ms) >= steady_ms();
    const int interval_ms = demanded ? options_.poll_interval_ms : options_.idle_poll_interval_ms;
    const auto next = round_start + std::chrono::milliseconds(std::max(1, interval_ms));
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, next, [&] { return stop_.load() || round_requested_; });
    round_requested_ = false;
  }
}

}  // namespace raft::monitor
