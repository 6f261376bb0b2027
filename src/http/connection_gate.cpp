#include "http/connection_gate.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "http/chunked_body.hpp"

namespace raft::http {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
/// Reads per readiness event, so that one fast sender cannot hold the loop.
constexpr std::size_t kReadsPerEvent = 4;
constexpr std::size_t kAcceptsPerEvent = 128;
/// What a refused client may still send before the socket is closed on it.
constexpr std::size_t kLingerBytesMax = 8 * 1024 * 1024;
constexpr std::chrono::milliseconds kTick{50};
/// With no connection and nothing being served there is nothing to expire:
/// the loop sleeps until a client or stop() wakes it. Ticking every 50 ms
/// instead woke each idle server 20 times a second.
constexpr std::chrono::milliseconds kIdleWait{60'000};
/// A connection's events: each one disarms it until the loop (or the
/// worker giving it back) arms it again, so a connection being served
/// never wakes the loop.
constexpr std::uint32_t kArmed = EPOLLIN | EPOLLONESHOT;

std::pair<std::string, int> address_text(const sockaddr_storage& addr) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size());
    return {text.data(), ntohs(in->sin_port)};
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text.data(), text.size());
    return {text.data(), ntohs(in6->sin6_port)};
  }
  return {"unknown", 0};
}

Peer describe_peer(int fd, const sockaddr_storage& remote) {
  Peer peer;
  std::tie(peer.ip, peer.port) = address_text(remote);
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
    std::tie(peer.local_ip, peer.local_port) = address_text(local);
  }
  return peer;
}

/// Sends what the socket takes now; a refusal is small, and a client that
/// does not read it loses it.
void send_best_effort(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

struct ConnectionGate::Conn {
  enum class Phase { Idle, Head, Body, Busy, Linger };
  explicit Conn(const HeadLimits& limits) : scanner(limits) {}

  int fd = -1;
  Peer peer;
  Phase phase = Phase::Idle;
  std::string in;  ///< received, not yet taken into a head or body
  HeadScanner scanner;
  std::optional<RequestHead> head;
  std::optional<ChunkedDecoder> chunked;
  std::string body;
  Clock::time_point deadline;
  std::list<int>::iterator age;
  std::size_t served = 0;   ///< requests handed to workers
  std::size_t counted = 0;  ///< this connection's share of buffered_
  std::size_t lent = 0;     ///< body bytes a worker holds
  std::size_t dropped = 0;  ///< read and dropped while lingering
  bool peer_done = false;   ///< the client shut its sending side
};

ConnectionGate::ConnectionGate(GateOptions options, Hooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)) {}

ConnectionGate::~ConnectionGate() { stop(); }

bool ConnectionGate::start(int listen_fd, std::string* error) {
  assert(!thread_.joinable() && listen_fd >= 0);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  bool ok = epoll_fd_ >= 0 && wake_fd_ >= 0;
  ev.data.fd = listen_fd;
  ok = ok && ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd, &ev) == 0;
  ev.data.fd = wake_fd_;
  ok = ok && ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) == 0;
  if (!ok) {
    if (error != nullptr)
      *error = std::string("cannot set up the event loop: ") + std::strerror(errno);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    epoll_fd_ = wake_fd_ = -1;
    return false;
  }
  listen_fd_ = listen_fd;
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return true;
}

void ConnectionGate::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(epoll_fd_);
  ::close(wake_fd_);
  epoll_fd_ = wake_fd_ = -1;
}

void ConnectionGate::run() {
  ::pthread_setname_np(::pthread_self(), "http-gate");  // for top -H and perf
  std::array<epoll_event, 64> events{};
  Clock::time_point next_expiry = Clock::now();
  while (true) {
    const bool nothing_to_expire = conns_.empty() && busy_ == 0 && accepting_;
    const auto wait = nothing_to_expire ? kIdleWait : kTick;
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(wait.count()));
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == listen_fd_) {
        accept_all();
      } else if (fd == wake_fd_) {
        std::uint64_t value = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &value, sizeof value);
      } else {
        on_event(fd);
      }
    }
    take_back();
    const Clock::time_point now = Clock::now();
    if (now >= next_expiry) {
      expire(now);
      if (hooks_.tick) hooks_.tick(false);
      next_expiry = now + kTick;
    }
    if (stopping_.load()) {
      begin_stop();
      if (hooks_.tick) hooks_.tick(true);
      if (busy_ == 0) break;
    }
  }
  assert(conns_.empty());
  running_ = false;
}

void ConnectionGate::begin_stop() {
  if (listen_fd_ >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  std::vector<int> idle;
  for (const auto& [fd, c] : conns_) {
    if (c->phase != Conn::Phase::Busy) idle.push_back(fd);
  }
  for (int fd : idle) close(*conns_.at(fd));
}

void ConnectionGate::accept_all() {
  for (std::size_t i = 0; i < kAcceptsPerEvent && accepting_; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: free one, or wait for the next tick.
        if (evict_oldest([](const Conn&) { return true; })) continue;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        accepting_ = false;
      }
      return;  // EAGAIN: the queue is empty
    }
    Peer peer = describe_peer(fd, addr);
    if (!make_room_for(peer.ip)) {
      ::close(fd);  // every connection of the cap is being served
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_unique<Conn>(options_.limits);
    Conn& c = *conn;
    c.fd = fd;
    c.peer = std::move(peer);
    c.deadline = Clock::now() + options_.head_timeout;
    c.age = ages_.insert(ages_.end(), fd);
    ++per_peer_[c.peer.ip];
    conns_.emplace(fd, std::move(conn));
    recount(c);
    epoll_event ev{};
    ev.events = kArmed;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) close(c);
  }
}

bool ConnectionGate::make_room_for(const std::string& ip) {
  const auto it = per_peer_.find(ip);
  if (it != per_peer_.end() && it->second >= options_.connections_per_peer_max &&
      !evict_oldest([&ip](const Conn& c) { return c.peer.ip == ip; })) {
    return false;
  }
  return conns_.size() < options_.connections_max || evict_oldest([](const Conn&) { return true; });
}

bool ConnectionGate::evict_oldest(const std::function<bool(const Conn&)>& which) {
  for (const int fd : ages_) {
    Conn& c = *conns_.at(fd);
    if (c.phase == Conn::Phase::Busy || !which(c)) continue;
    if (c.phase == Conn::Phase::Body || (c.phase == Conn::Phase::Head && !c.in.empty())) {
      send_best_effort(c.fd, hooks_.refuse(Refusal{503,
                                                   "the server is at its connection limit; "
                                                   "retry shortly"},
                                           c.peer));
    }
    close(c);
    return true;
  }
  return false;
}

void ConnectionGate::on_event(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;  // closed earlier in this round
  if (it->second->phase == Conn::Phase::Busy) {
    take_back();  // a worker gave it back and armed it already
    it = conns_.find(fd);
    if (it == conns_.end() || it->second->phase == Conn::Phase::Busy) return;
  }
  Conn& c = *it->second;
  if (read_some(c) && c.phase != Conn::Phase::Linger) advance(c);
  // The event disarmed it (EPOLLONESHOT): arm it again unless it went to a
  // worker or was closed.
  it = conns_.find(fd);
  if (it != conns_.end() && it->second->phase != Conn::Phase::Busy) arm(*it->second);
}

void ConnectionGate::arm(const Conn& c) {
  epoll_event ev{};
  ev.events = kArmed;
  ev.data.fd = c.fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

bool ConnectionGate::read_some(Conn& c) {
  std::array<char, kReadChunk> buf;  // NOLINT: filled by recv
  for (std::size_t i = 0; i < kReadsPerEvent; ++i) {
    const ssize_t n = ::recv(c.fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 || (n == 0 && c.phase != Conn::Phase::Head && c.phase != Conn::Phase::Body)) {
      close(c);
      return false;
    }
    if (n == 0) {
      c.peer_done = true;  // what came may still be a whole request
      return true;
    }
    const auto bytes = static_cast<std::size_t>(n);
    const bool drained = bytes < buf.size();  // more would be another event
    if (c.phase == Conn::Phase::Linger) {
      c.dropped += bytes;
      if (c.dropped > kLingerBytesMax) {
        close(c);
        return false;
      }
      if (drained) break;
      continue;
    }
    if (c.phase == Conn::Phase::Idle) {
      c.phase = Conn::Phase::Head;
      c.deadline = Clock::now() + options_.head_timeout;
    }
    c.in.append(buf.data(), bytes);
    recount(c);
    if (!within_budget(c)) {
      refuse(c, Refusal{503, "the server holds too many request bytes; retry shortly"});
      return false;
    }
    // A head is judged once it is over its limit; no need to read on.
    if (drained || (c.phase == Conn::Phase::Head && c.in.size() > options_.limits.head_bytes_max)) {
      break;
    }
  }
  return true;
}

bool ConnectionGate::within_budget(Conn& c) {
  // Only a connection holding a buffer gives back enough to count (an idle
  // one holds two empty strings).
  const auto holds_bytes = [&c](const Conn& o) {
    return &o != &c && o.in.capacity() + o.body.capacity() >= kReadChunk / 16;
  };
  while (buffered_ > options_.buffered_bytes_max) {
    if (!evict_oldest(holds_bytes)) return false;
  }
  return true;
}

void ConnectionGate::advance(Conn& c) {
  if (c.phase == Conn::Phase::Head) {
    const HeadScan scan = c.scanner.scan(c.in);
    if (scan.kind == HeadScan::Kind::Refused) return refuse(c, scan.refusal);
    if (scan.kind == HeadScan::Kind::Incomplete) {
      if (c.peer_done) close(c);
      return;
    }
    HeadParse parsed =
        parse_request_head(std::string_view(c.in).substr(0, scan.head_bytes), options_.limits);
    take_in(c, scan.head_bytes);
    if (!parsed.head) return refuse(c, parsed.refusal);
    c.head = std::move(parsed.head);
    const std::string answer = hooks_.verdict(*c.head, c.peer);
    if (!answer.empty()) return answer_and_close(c, answer);
    start_body(c);
  }
  if (c.phase == Conn::Phase::Body) {
    read_body(c);
    if (c.phase == Conn::Phase::Body && c.peer_done) close(c);
  }
}

void ConnectionGate::start_body(Conn& c) {
  c.phase = Conn::Phase::Body;
  c.deadline = Clock::now() + options_.body_timeout;
  const RequestHead& head = *c.head;
  if (head.framing == BodyFraming::Chunked) c.chunked.emplace(options_.limits.body_bytes_max);
  if (head.framing == BodyFraming::Length) {
    c.body.reserve(static_cast<std::size_t>(head.content_length));
    recount(c);
  }
  if (head.expects_continue && head.framing != BodyFraming::None && c.in.empty()) {
    send_best_effort(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
  }
}

void ConnectionGate::read_body(Conn& c) {
  if (c.chunked) {
    take_in(c, c.chunked->feed(c.in, &c.body));
    if (c.chunked->state() == ChunkedDecoder::State::Refused) {
      return refuse(c, c.chunked->refusal());
    }
    if (c.chunked->state() == ChunkedDecoder::State::NeedMore) return;
  } else {
    const std::size_t need = static_cast<std::size_t>(c.head->content_length) - c.body.size();
    const std::size_t take = std::min(need, c.in.size());
    c.body.append(c.in, 0, take);
    take_in(c, take);
    if (take < need) return;
  }
  if (!within_budget(c)) {
    return refuse(c, Refusal{503, "the server holds too many request bytes; retry shortly"});
  }
  dispatch(c);
}

void ConnectionGate::dispatch(Conn& c) {
  c.phase = Conn::Phase::Busy;  // disarmed: the event that brought the request was one-shot
  ++busy_;
  ++c.served;
  GateRequest request;
  request.fd = c.fd;
  request.peer = c.peer;
  request.close_after = !c.head->keep_alive || c.peer_done ||
                        c.served >= options_.requests_per_connection_max || stopping_.load();
  request.head = std::move(*c.head);
  c.lent = c.body.capacity();
  request.body = std::move(c.body);
  c.body = std::string();
  c.head.reset();
  c.chunked.reset();
  c.scanner.reset();
  ages_.splice(ages_.end(), ages_, c.age);  // a whole request: young again
  recount(c);
  const bool more_input = !c.in.empty();
  if (hooks_.take) {
    const int fd = c.fd;  // c may be gone by the time `done` runs
    auto done = [this, fd, more_input](bool keep_open) { finished(fd, keep_open, more_input); };
    if (hooks_.take(request, std::move(done))) return;
  }
  hooks_.enqueue([this, more_input, request = std::move(request)]() mutable {
    bool keep = false;
    try {
      keep = hooks_.serve(request);
    } catch (...) {
      keep = false;  // the connection is closed; the gate must get it back
    }
    finished(request.fd, keep, more_input);
  });
}

void ConnectionGate::refuse(Conn& c, const Refusal& refusal) {
  answer_and_close(c, hooks_.refuse(refusal, c.peer));
}

void ConnectionGate::answer_and_close(Conn& c, const std::string& answer) {
  send_best_effort(c.fd, answer);
  ::shutdown(c.fd, SHUT_WR);
  c.phase = Conn::Phase::Linger;
  c.deadline = Clock::now() + options_.linger;
  c.head.reset();
  c.chunked.reset();
  std::string().swap(c.in);
  std::string().swap(c.body);
  recount(c);
  arm(c);
}

void ConnectionGate::finished(int fd, bool keep_open, bool more_input) {
  // A connection kept open with nothing read ahead waits for its client:
  // arm it here, and the loop takes it back when it wakes next (first
  // thing, if this connection is what wakes it). Otherwise the loop has
  // work now: wake it. Listed before armed, so that its event never finds
  // it unlisted; both under the lock, so that the loop cannot take it back
  // (and end, and close its descriptors at stop()) before this is done.
  const bool arm_here = keep_open && !more_input && !stopping_.load();
  std::lock_guard lock(returned_mutex_);
  returned_.push_back(Returned{fd, keep_open, arm_here});
  returned_count_.fetch_add(1);
  if (arm_here) {
    epoll_event ev{};
    ev.events = kArmed;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  } else {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
}

void ConnectionGate::take_back() {
  if (returned_count_.load() == 0) return;  // most rounds: no lock taken
  std::vector<Returned> back;
  {
    std::lock_guard lock(returned_mutex_);
    back.swap(returned_);
    returned_count_.store(0);
  }
  for (const Returned& r : back) {
    Conn& c = *conns_.at(r.fd);
    assert(c.phase == Conn::Phase::Busy);
    --busy_;
    c.lent = 0;
    c.phase = Conn::Phase::Idle;
    recount(c);
    if (stopping_.load()) {
      close(c);
    } else if (!r.keep_open) {
      answer_and_close(c, std::string());  // the answer went out: linger, then close
    } else {
      reopen(c, r.armed);
    }
  }
}

void ConnectionGate::reopen(Conn& c, bool armed) {
  if (!armed) arm(c);
  if (c.in.empty()) {
    std::string().swap(c.in);
    recount(c);
    c.deadline = Clock::now() + options_.keep_alive_timeout;
    return;
  }
  c.phase = Conn::Phase::Head;  // the client sent its next request already
  c.deadline = Clock::now() + options_.head_timeout;
  advance(c);
}

void ConnectionGate::expire(Clock::time_point now) {
  if (!accepting_ && listen_fd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd_;
    accepting_ = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) == 0;
  }
  std::vector<int> due;
  for (const auto& [fd, c] : conns_) {
    if (c->phase != Conn::Phase::Busy && c->deadline <= now) due.push_back(fd);
  }
  for (const int fd : due) {
    Conn& c = *conns_.at(fd);
    if (c.phase == Conn::Phase::Head) {
      refuse(c, Refusal{408,
                        "the request head did not come within " + ms_text(options_.head_timeout)});
    } else if (c.phase == Conn::Phase::Body) {
      refuse(c, Refusal{408,
                        "the request body did not come within " + ms_text(options_.body_timeout)});
    } else {
      close(c);  // idle, or done lingering
    }
  }
}

void ConnectionGate::close(Conn& c) {
  assert(c.phase != Conn::Phase::Busy);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  const auto peer = per_peer_.find(c.peer.ip);
  if (peer != per_peer_.end() && --peer->second == 0) per_peer_.erase(peer);
  ages_.erase(c.age);
  buffered_ -= c.counted;
  buffered_published_ = buffered_;
  const int fd = c.fd;
  conns_.erase(fd);  // destroys c
  open_ = conns_.size();
}

void ConnectionGate::take_in(Conn& c, std::size_t bytes) {
  c.in.erase(0, bytes);
  if (c.in.empty()) std::string().swap(c.in);  // what it held counts no more
  recount(c);
}

void ConnectionGate::recount(Conn& c) {
  buffered_ -= c.counted;
  c.counted = c.in.capacity() + c.body.capacity() + c.lent;
  buffered_ += c.counted;
  buffered_published_ = buffered_;
  open_ = conns_.size();
}

}  // namespace raft::http
