#pragma once
/// ConnectionGate: what stands between the network and cpp-httplib in every
/// server of the project (http::Server). cpp-httplib 0.11 gives each
/// connection a worker thread for as long as it is open and reads a request
/// there, one byte per recv() for the head, with a timeout per read rather
/// than per request, and reads compressed and chunked bodies whole: 300
/// sockets sending a byte a second held every worker of a node, and a 1 MB
/// gzip body grew a server by 1 GB (docs/SECURITY.md has the figures).
///
/// The gate owns the listening socket and one thread with an epoll loop. It
/// reads each request whole without a worker: the head against HeadLimits
/// within `head_timeout`, then (if the verdict lets it on) the body within
/// `body_timeout`, decoding chunked bodies and never holding more than the
/// body limit. Only a whole, checked request goes to a worker, which answers
/// it with httplib and gives the connection back: an idle keep-alive
/// connection holds no thread. Connections are capped per peer address and
/// in all, and the bytes buffered for requests in all; when a cap is
/// reached the connection that has gone longest without a whole request is
/// closed, so a crowd of slow or idle sockets cannot keep a fresh client
/// out. A refused request gets its answer, the sending side is shut, and
/// what the client still sends is read and dropped for `linger` (so the
/// answer is not lost to a reset) before the socket closes.
///
/// A request may also be taken off the gate without a worker (Hooks::take:
/// a node's key-value requests, answered by the node's loop when the write
/// commits), which saves two thread hand-offs per request.
///
/// Thread-safety: start() and stop() from one owning thread; finished()
/// from any thread; the hooks run on the gate's thread (verdict, refuse,
/// take, tick) or on a worker (what `enqueue` runs).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/request_head.hpp"

namespace raft::http {

struct GateOptions {
  HeadLimits limits;
  /// From the first byte of a request (or from accept) to its blank line.
  std::chrono::milliseconds head_timeout{5'000};
  /// From the end of the head to the end of the body.
  std::chrono::milliseconds body_timeout{20'000};
  /// How long a connection may wait idle between requests.
  std::chrono::milliseconds keep_alive_timeout{5'000};
  /// How long a refused client's bytes are read and dropped before closing.
  std::chrono::milliseconds linger{2'000};
  std::size_t connections_max = 1024;
  std::size_t connections_per_peer_max = 512;
  /// Request bytes held in all (heads and bodies being read, bodies being
  /// served).
  std::size_t buffered_bytes_max = 32 * 1024 * 1024;
  std::size_t requests_per_connection_max = 100;
};

/// Both ends of a connection.
struct Peer {
  std::string ip;
  int port = 0;
  std::string local_ip;
  int local_port = 0;
};

/// A whole request, checked and read, to be answered on `fd`.
struct GateRequest {
  int fd = -1;
  Peer peer;
  /// The head as parsed; its framing fields describe the request as sent
  /// (the body below is whole and decoded: rewrite_head() says it so).
  RequestHead head;
  std::string body;
  /// The answer must close the connection (the client asked, or this was
  /// its last request, or the client has shut its sending side).
  bool close_after = false;
};

class ConnectionGate {
 public:
  struct Hooks {
    /// The answer to a head before its body is read: empty lets the
    /// request on; anything else is the whole answer (bytes on the wire),
    /// after which the connection closes.
    std::function<std::string(const RequestHead&, const Peer&)> verdict;
    /// The whole answer for a refusal of the gate's own (a head over its
    /// limits, a timeout, a body too large) with Connection: close.
    std::function<std::string(const Refusal&, const Peer&)> refuse;
    /// Answers a request on a worker thread; returns whether the
    /// connection may carry another request.
    std::function<bool(GateRequest&)> serve;
    /// Runs a job on a worker thread.
    std::function<void(std::function<void()>)> enqueue;
    /// Optional, on the gate's thread, before a request goes to a worker:
    /// true takes it to be answered without one (the hook must not block).
    /// Whoever answers then calls `done(keep_open)` once, from any thread,
    /// when the answer is written.
    std::function<bool(GateRequest&, std::function<void(bool keep_open)> done)> take;
    /// Optional, on the gate's thread at every tick (about 50 ms) and each
    /// round while stopping: for deadlines of the requests `take` took.
    std::function<void(bool stopping)> tick;
  };

  ConnectionGate(GateOptions options, Hooks hooks);
  /// Stops if running.
  ~ConnectionGate();
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  /// Serves `listen_fd` (a listening socket; the gate closes it at stop()).
  /// False with *error if the loop cannot be set up.
  bool start(int listen_fd, std::string* error);
  /// Stops accepting, closes every connection not being served, waits for
  /// the workers to give theirs back, ends the loop. Idempotent.
  void stop();
  bool running() const { return running_.load(); }

  /// Connections open now, and bytes buffered (for tests and metrics).
  std::size_t connections() const { return open_.load(); }
  std::size_t buffered_bytes() const { return buffered_published_.load(); }

 private:
  struct Conn;
  using Clock = std::chrono::steady_clock;

  void run();
  void accept_all();
  bool make_room_for(const std::string& ip);
  bool evict_oldest(const std::function<bool(const Conn&)>& which);
  void on_event(int fd);
  bool read_some(Conn& c);
  bool within_budget(Conn& c);
  void advance(Conn& c);
  void start_body(Conn& c);
  void read_body(Conn& c);
  void dispatch(Conn& c);
  void refuse(Conn& c, const Refusal& refusal);
  void answer_and_close(Conn& c, const std::string& answer);
  void arm(const Conn& c);
  void finished(int fd, bool keep_open, bool more_input);
  void take_back();
  void reopen(Conn& c, bool armed);
  void expire(Clock::time_point now);
  void close(Conn& c);
  /// Drops the first `bytes` of c.in (taken into a head or body).
  void take_in(Conn& c, std::size_t bytes);
  void recount(Conn& c);
  void begin_stop();

  GateOptions options_;
  Hooks hooks_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool accepting_ = true;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> open_{0};
  std::atomic<std::size_t> buffered_published_{0};

  // Owned by the loop thread.
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::list<int> ages_;  ///< fds, the one longest without a whole request first
  std::unordered_map<std::string, std::size_t> per_peer_;
  std::size_t buffered_ = 0;
  std::size_t busy_ = 0;

  /// A connection a worker is done with.
  struct Returned {
    int fd;
    bool keep_open;
    bool armed;  ///< the worker armed it (kept open, nothing read ahead)
  };
  std::mutex returned_mutex_;
  std::vector<Returned> returned_;
  std::atomic<std::size_t> returned_count_{0};  ///< returned_.size(), read without the lock
};

}  // namespace raft::http
