#include "http/connection_stream.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace raft::http {

ConnectionStream::ConnectionStream(int fd, std::string head, Peer peer,
                                   std::chrono::milliseconds write_timeout)
    : fd_(fd), head_(std::move(head)), peer_(std::move(peer)), write_timeout_(write_timeout) {}

bool ConnectionStream::wait_writable(std::chrono::milliseconds wait) const {
  pollfd p{fd_, POLLOUT, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, wait.count())));
  } while (ready < 0 && errno == EINTR);
  return ready > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) == 0;
}

bool ConnectionStream::is_writable() const { return !failed_ && wait_writable(write_timeout_); }

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  const std::size_t n = std::min(size, head_.size() - read_);
  std::memcpy(ptr, head_.data() + read_, n);
  read_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  // The whole piece within the write timeout plus its size at the slowest
  // rate a client may read: a client that reads a byte now and then holds
  // the worker no longer than a slow link would.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + write_timeout_ +
                                     std::chrono::milliseconds(size * 1000 / kSlowestReadBytesPerS);
  std::size_t sent = 0;
  while (!failed_ && sent < size) {
    const ssize_t n = ::send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      failed_ = !wait_writable(std::min(left, write_timeout_));
    } else {
      failed_ = true;
    }
  }
  return failed_ ? -1 : static_cast<ssize_t>(sent);
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  ip = peer_.ip;
  port = peer_.port;
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  ip = peer_.local_ip;
  port = peer_.local_port;
}

}  // namespace raft::http
