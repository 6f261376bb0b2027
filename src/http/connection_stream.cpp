#include "http/connection_stream.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace raft::http {

ConnectionStream::ConnectionStream(int fd, std::string head, Peer peer,
                                   std::chrono::milliseconds write_timeout)
    : fd_(fd), head_(std::move(head)), peer_(std::move(peer)), write_timeout_(write_timeout) {}

bool ConnectionStream::wait_writable() const {
  pollfd p{fd_, POLLOUT, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, static_cast<int>(write_timeout_.count()));
  } while (ready < 0 && errno == EINTR);
  return ready > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) == 0;
}

bool ConnectionStream::is_writable() const { return !failed_ && wait_writable(); }

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  const std::size_t n = std::min(size, head_.size() - read_);
  std::memcpy(ptr, head_.data() + read_, n);
  read_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  std::size_t sent = 0;
  while (!failed_ && sent < size) {
    const ssize_t n = ::send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      failed_ = !wait_writable();  // a client that reads nothing for that long is gone
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
