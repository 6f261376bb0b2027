// widen_listen_backlog: a listening socket created with a tiny backlog (as
// Debian's cpp-httplib does, with 5) takes a burst of connections once
// widened; before, most of the burst waits in SYN retries.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http/server_socket.hpp"

namespace raft::http {
namespace {

constexpr int kBurst = 64;

int listener_with_backlog(int backlog, int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, backlog) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

/// Opens kBurst connections at once without accepting any; returns how many
/// were established within `wait`.
int connected_in_burst(int port, std::chrono::milliseconds wait) {
  std::vector<int> fds;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  for (int i = 0; i < kBurst; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(wait);
  int established = 0;
  for (const int fd : fds) {
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t len = sizeof error;
    if (::poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) &&
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0) {
      ++established;
    }
    ::close(fd);
  }
  return established;
}

TEST(ListenBacklog, AWidenedListenerTakesABurstThatATinyOneDoesNot) {
  int narrow_port = 0;
  const int narrow = listener_with_backlog(1, &narrow_port);
  ASSERT_GE(narrow, 0);
  int wide_port = 0;
  const int wide = listener_with_backlog(1, &wide_port);
  ASSERT_GE(wide, 0);
  EXPECT_EQ(widen_listen_backlog(wide_port), 1);

  // Well under the 1 s after which Linux retries a dropped SYN, and long
  // enough for a loaded machine to finish the loopback handshakes.
  const int through_narrow = connected_in_burst(narrow_port, std::chrono::milliseconds(700));
  const int through_wide = connected_in_burst(wide_port, std::chrono::milliseconds(700));
  EXPECT_EQ(through_wide, kBurst);
  EXPECT_LT(through_narrow, kBurst / 2) << "the kernel took the burst without widening";
  ::close(narrow);
  ::close(wide);
}

TEST(ListenBacklog, NoListenerOnThePortWidensNothing) {
  int port = 0;
  const int fd = listener_with_backlog(1, &port);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(widen_listen_backlog(port), 0);
}

}  // namespace
}  // namespace raft::http
