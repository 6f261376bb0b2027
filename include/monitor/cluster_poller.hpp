#pragma once
/// ClusterPoller: the monitor's one background poller. On a fixed cadence it
/// reads discovery's /state, then every node's /status in parallel, and
/// publishes the result as an immutable ClusterSnapshot. /api/cluster, every
/// /api/events stream and the forwarding routes all share the latest
/// snapshot, so N browser tabs cost the nodes nothing more than one.
///
/// Cadence: every `poll_interval_ms` while someone has asked for data in the
/// last `demand_window_ms` (an open event stream asks continuously), else
/// every `idle_poll_interval_ms`, so an unwatched monitor stays nearly idle.
///
/// Discovery outages: the members of the last good /state are kept (with
/// liveness unknown), so nodes stay reachable at their registered addresses.
///
/// Thread-safety: every public member may be called from any thread.
/// start() and stop() are meant for the owner; stop() is idempotent and the
/// destructor calls it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "monitor/cluster_view.hpp"
#include "monitor/http_fetch.hpp"

namespace raft::monitor {

struct PollerOptions {
  /// "http://host:port" of discovery; empty = no discovery (configured ranks only).
  std::string discovery_url;
  /// Host and ports of the configured ranks discovery does not know (see
  /// fallback_host() and merge_targets()); empty: never guessed (several
  /// machines), such ranks are offline until they register.
  std::string fallback_host = "127.0.0.1";
  int base_port = 7000;
  /// The job's ranks 0..nodes-1: shown even before they register, and the
  /// only ids the monitor talks to (0: whatever discovery lists).
  int nodes = 0;
  /// Rank r is dialled only on base_port + r (see NodeAddressRule).
  bool pin_ports = false;

  int poll_interval_ms = 250;
  int idle_poll_interval_ms = 2000;
  int demand_window_ms = 10000;
  /// At most this many /status requests in flight at once.
  std::size_t max_parallel = 16;

  FetchOptions node_fetch{200, 500, 2000, 256 * 1024};
  /// The RoundObserver's request (a node's recorded events).
  FetchOptions extra_fetch{200, 1000, 2000, 2u << 20};
  FetchOptions discovery_fetch{300, 800, 2000, 4u << 20};
};

/// The address rule these options give (routing.hpp).
NodeAddressRule address_rule(const PollerOptions& options);

/// How the monitor may reach one target: its endpoint, or why not.
struct TargetAccess {
  std::optional<Endpoint> endpoint;
  std::string refused;  ///< one sentence when there is no endpoint; empty: no address yet
};

/// The access to each of `targets`, in order. A registered address (from
/// discovery, that is from the network) must pass vet_node_address; an
/// address the monitor made up from its own flags (--node_host,
/// --base_port) is its operator's word and only parsed.
std::vector<TargetAccess> vet_targets(const std::vector<NodeTarget>& targets,
                                      const NodeAddressRule& rule);

/// One round's result. Immutable once published; shared by pointer.
struct ClusterSnapshot {
  std::uint64_t seq = 0;          ///< 1, 2, ... in publication order
  std::uint64_t taken_at_ms = 0;  ///< steady clock, when the round finished
  std::vector<NodeTarget> targets;
  std::vector<NodeProbe> probes;  ///< probes[i] belongs to targets[i]
  /// access[i] belongs to targets[i]: every request the monitor sends to a
  /// node goes to access[i].endpoint, and nowhere else.
  std::vector<TargetAccess> access;
  LeaderChoice leader;
  std::string json_text;  ///< the /api/cluster body
  /// Changes only when something but the timers and uptimes changed: event
  /// streams send a snapshot whose key did not change only now and then.
  std::size_t content_key = 0;

  /// The target with this id, or nullptr.
  const NodeTarget* find(NodeId id) const;
  /// Where node `id` may be reached: nullopt when it is unknown, has no
  /// address yet, or its address was refused (access_of(id)->refused says).
  std::optional<Endpoint> endpoint(NodeId id) const;
  /// The access of node `id`, or nullptr when it is no target.
  const TargetAccess* access_of(NodeId id) const;
  /// Whether targets[i] answered its /status in this round.
  bool reachable(std::size_t i) const { return i < probes.size() && probes[i].reachable; }
};

/// The network call of a round; tests inject fakes.
using Fetcher =
    std::function<FetchResult(const Endpoint&, const FetchRequest&, const FetchOptions&)>;

/// What else a round does (the monitor's event history, event_collector.hpp):
/// one more request to each node that answered its /status, and a look at the
/// round's result before it is published.
class RoundObserver {
 public:
  virtual ~RoundObserver() = default;
  /// The path (and query) to ask node `id` for next; empty: nothing.
  virtual std::string extra_path(NodeId id) = 0;
  /// Its answer. Called from the round's workers, for different nodes at once.
  virtual void on_extra(NodeId id, const FetchResult& answer) = 0;
  /// After every node was asked, before the snapshot is published.
  virtual void on_round(const ClusterSnapshot& snapshot) = 0;
};

/// Milliseconds on std::chrono::steady_clock.
std::uint64_t steady_ms();

class ClusterPoller {
 public:
  /// `fetcher` defaults to the real fetch(). `observer`, if any, must
  /// outlive the poller.
  explicit ClusterPoller(PollerOptions options, Fetcher fetcher = {},
                         RoundObserver* observer = nullptr);
  ~ClusterPoller();
  ClusterPoller(const ClusterPoller&) = delete;
  ClusterPoller& operator=(const ClusterPoller&) = delete;

  /// Starts the background thread; its first round begins at once. Call once.
  void start();
  /// Stops the thread and wakes every waiter. Idempotent.
  void stop();

  /// Runs one round in the calling thread and publishes it. start() is not
  /// needed (tests); concurrent rounds are serialised.
  std::shared_ptr<const ClusterSnapshot> poll_once();

  /// The latest snapshot, or nullptr before the first round finished.
  std::shared_ptr<const ClusterSnapshot> latest() const;

  /// Someone wants fresh data: poll at the fast cadence for a while. Wakes
  /// an idle poller so the first request after a quiet spell is quick.
  void note_demand();

  /// Asks the background thread for a round now.
  void request_round();

  /// Waits until a snapshot with seq > `seq` exists, `timeout` passes, the
  /// poller stops, or `*cancel` becomes true (checked whenever waiters are
  /// woken; see interrupt_waiters). Returns the latest snapshot (possibly
  /// still the old one, or nullptr).
  std::shared_ptr<const ClusterSnapshot> wait_newer(std::uint64_t seq,
                                                    std::chrono::milliseconds timeout,
                                                    const std::atomic<bool>* cancel = nullptr);

  /// Wakes every wait_newer() so it re-checks its cancel flag (set the flag
  /// first). Used by the server to end event streams on shutdown.
  void interrupt_waiters();

  bool stopped() const { return stop_.load(); }
  const PollerOptions& options() const { return options_; }

 private:
  void run();
  DiscoveryState read_discovery();
  /// Leaves out what discovery says about ids outside the job.
  void keep_job_ranks(DiscoveryState& discovery) const;
  std::vector<NodeProbe> probe_all(const std::vector<NodeTarget>& targets,
                                   const std::vector<TargetAccess>& access);

  const PollerOptions options_;
  const Fetcher fetcher_;
  RoundObserver* const observer_;
  std::optional<Endpoint> discovery_endpoint_;  ///< nullopt: no discovery

  std::mutex round_mutex_;  ///< serialises rounds; guards last_good_members_
  std::map<NodeId, DiscoveryMember> last_good_members_;
  std::uint64_t next_seq_ = 1;

  mutable std::mutex mutex_;         ///< guards latest_, round_requested_
  std::condition_variable wake_;     ///< the poller thread sleeps on it
  std::condition_variable updated_;  ///< waiters for a new snapshot sleep on it
  std::shared_ptr<const ClusterSnapshot> latest_;
  bool round_requested_ = false;

  std::atomic<std::uint64_t> last_demand_ms_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace raft::monitor
