#include "transport/doorbell.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace raft::transport {

namespace {

std::optional<in_addr> resolve_ipv4(const std::string& host, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    *error = "cannot resolve '" + host + "' to an IPv4 address: " + ::gai_strerror(rc);
    return std::nullopt;
  }
  const in_addr address = reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr;
  ::freeaddrinfo(found);
  return address;
}

}  // namespace

std::optional<Doorbell> Doorbell::open(const std::string& host, std::string* error) {
  const std::optional<in_addr> ip = resolve_ipv4(host, error);
  if (!ip) return std::nullopt;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return std::nullopt;
  }
  sockaddr_in bound{};
  bound.sin_family = AF_INET;
  bound.sin_addr = *ip;
  bound.sin_port = 0;  // any free port; peers learn it through MPI
  socklen_t length = sizeof bound;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    *error = "bind to " + host + ": " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  return Doorbell(fd, DoorbellAddress{bound.sin_addr.s_addr, bound.sin_port});
}

Doorbell::Doorbell(Doorbell&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      address_(other.address_),
      peers_(std::move(other.peers_)),
      ring_failures_(other.ring_failures_) {}

Doorbell& Doorbell::operator=(Doorbell&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    address_ = other.address_;
    peers_ = std::move(other.peers_);
    ring_failures_ = other.ring_failures_;
  }
  return *this;
}

Doorbell::~Doorbell() {
  if (fd_ >= 0) ::close(fd_);
}

void Doorbell::ring(int rank) {
  if (rank < 0 || static_cast<std::size_t>(rank) >= peers_.size()) return;
  const DoorbellAddress& peer = peers_[static_cast<std::size_t>(rank)];
  if (peer.port == 0) return;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = peer.ipv4;
  to.sin_port = peer.port;
  const char nothing = 0;
  if (::sendto(fd_, &nothing, 0, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    ++ring_failures_;
  }
}

int Doorbell::drain() {
  char sink[64];
  // Bounded: a flood of datagrams cannot hold the loop here.
  int drained = 0;
  while (drained < 256 && ::recv(fd_, sink, sizeof sink, 0) >= 0) ++drained;
  return drained;
}

}  // namespace raft::transport
