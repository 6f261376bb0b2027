#pragma once
/// DiscoveryClient: a raft_node's link to the discovery server. A background
/// thread registers the node (and keeps registering it every heartbeat, which
/// is how discovery knows it is alive), reports leadership with its term, and
/// re-reads the node list every poll interval.
///
/// Discovery informs known_nodes() only (what the node shows and where its
/// peers' web pages are). It never decides who votes: the voters are the MPI
/// ranks. A discovery outage keeps the last good node list (the original
/// emptied it) and the node works on without discovery; the client retries
/// with exponential back-off (100 ms doubling to 2 s), logging the first
/// failure and the recovery, not every retry.
///
/// THREAD-SAFETY: every method is thread-safe, except that start() and stop()
/// must not race with each other (the node calls both from main()). The
/// leader_source passed to start() is called from the client's thread every
/// leader_check_interval_ms: it must be cheap, thread-safe and not block.
///
/// TIMEOUTS: every request uses connect_timeout_ms (300) and read_timeout_ms
/// (1000); sync_now() therefore returns within about 1.3 s, and stop() within
/// about 1 s even when discovery is down or hangs (it aborts the request in
/// flight).
///
/// HTTP: one short-lived connection per request (no keep-alive), so that a
/// cluster of many nodes never pins the threads of the discovery server.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "discovery/address.hpp"
#include "raft/types.hpp"

namespace httplib {
class Client;
}
namespace spdlog {
class logger;
}

namespace raft::discovery {

/// What the node says about itself, read by the client's thread.
struct LeaderInfo {
  bool is_leader = false;
  Term term = 0;
};

class DiscoveryClient {
 public:
  struct Options {
    /// http://host:port of the discovery server (no https, no path).
    std::string url = "http://127.0.0.1:5000";
    NodeId rank = 0;
    /// host:port where this node's HTTP API listens, as peers should dial it.
    std::string advertise_address = "127.0.0.1:7000";
    /// How often the node list is re-read (seconds, 1..3600).
    int poll_interval_s = 5;
    /// How often the node re-registers, which is its heartbeat (50..60000 ms).
    int heartbeat_interval_ms = 1000;
    /// How often leader_source is read to notice a change of leadership that
    /// nobody announced with notify_leadership_changed() (10..heartbeat_interval_ms).
    /// raft_node announces every change, so this is only a safety net, kept
    /// slow because every wake-up of an idle node costs CPU.
    int leader_check_interval_ms = 1000;
    int connect_timeout_ms = 300;
    int read_timeout_ms = 1000;
    /// Longest wait between retries while discovery is unreachable.
    int backoff_max_ms = 2000;
    /// Sent as `Authorization: Bearer <auth_token>` on every POST when not
    /// empty (discovery then refuses writes without it).
    std::string auth_token;

    /// nullopt when valid, else one sentence naming the bad field.
    std::optional<std::string> validate() const;
  };

  /// Throws std::invalid_argument (what() = Options::validate()'s sentence)
  /// when the options are invalid. A null logger means spdlog's default logger.
  DiscoveryClient(Options options, std::shared_ptr<spdlog::logger> logger);
  /// Calls stop().
  ~DiscoveryClient();

  DiscoveryClient(const DiscoveryClient&) = delete;
  DiscoveryClient& operator=(const DiscoveryClient&) = delete;

  /// Starts the background thread. Throws std::logic_error if called twice.
  void start(std::function<LeaderInfo()> leader_source);

  /// Wakes the thread to read leader_source now (call it when the node's
  /// role changes, so a new leader is reported without any delay).
  void notify_leadership_changed();

  /// Stops the thread (waking it at once), then deregisters the node
  /// (address null) if discovery was reachable, and joins. Idempotent; returns
  /// within about 1 s even if discovery is down or hangs.
  void stop();

  /// Re-reads the node list now (GET /state), blocking for at most about
  /// 1.3 s. On failure returns false, keeps the last good list, and stores one
  /// sentence in *error (if not null). Works with or without start().
  bool sync_now(std::string* error);

  /// The last node list read from discovery (empty until the first good read;
  /// never emptied by an outage).
  std::map<NodeId, std::string> known_nodes() const;
  /// The leader discovery knew of at the last good read.
  std::optional<NodeId> discovery_leader() const;
  /// Whether the last request of the background thread succeeded.
  bool connected() const;
  /// The last failure in one sentence; empty while connected.
  std::string last_error() const;
  /// The parsed URL (for logs and status pages).
  const HttpUrl& url() const { return url_; }

 private:
  struct StateView {
    std::map<NodeId, std::string> nodes;
    std::optional<NodeId> leader;
  };

  struct Round;

  void run();
  /// One round of the background thread: the heartbeat (/register) when due,
  /// leadership news (/set_leader), the node list (/state) when due. False
  /// with *error set when a request failed.
  bool exchange(httplib::Client& http, Round& round, std::string* error);
  bool report_leader(httplib::Client& http, Round& round, Term term, std::string* error);
  /// leader_source_ (nothing known when there is none or it throws).
  LeaderInfo read_leader() const;
  /// One request; on failure returns false and sets *error (one sentence).
  bool post_json(httplib::Client& http, const std::string& path, const std::string& body,
                 std::string* error);
  bool read_state(httplib::Client& http, std::string* error);
  void configure(httplib::Client& http, int read_timeout_ms) const;
  void on_success();
  void on_failure(const std::string& error);
  bool stop_requested() const;

  const Options options_;
  const HttpUrl url_;
  const std::shared_ptr<spdlog::logger> logger_;

  mutable std::mutex mutex_;  ///< guards everything below
  std::condition_variable wake_cv_;
  bool stop_requested_ = false;
  bool wake_requested_ = false;
  bool started_ = false;
  bool registered_ever_ = false;
  bool connected_ = false;
  bool outage_logged_ = false;
  std::string last_error_;
  std::map<NodeId, std::string> known_nodes_;
  std::optional<NodeId> leader_;
  /// The background thread's client, so stop() can abort its request.
  httplib::Client* active_http_ = nullptr;
  std::function<LeaderInfo()> leader_source_;
  std::thread thread_;
};

}  // namespace raft::discovery
