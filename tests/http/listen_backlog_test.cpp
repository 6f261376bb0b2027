// open_listener: its accept queue takes a burst of connections that a tiny
// backlog (Debian's cpp-httplib listens with 5) leaves in SYN retries; a
// port in use is refused with one line naming the address (no SO_REUSEPORT).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
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

TEST(ListenBacklog, OpenListenerTakesABurstThatATinyBacklogDoesNot) {
  int narrow_port = 0;
  const int narrow = listener_with_backlog(1, &narrow_port);
  ASSERT_GE(narrow, 0);
  int wide_port = 0;
  std::string error;
  const int wide = open_listener("127.0.0.1", 0, &wide_port, &error);
  ASSERT_GE(wide, 0) << error;
  ASSERT_GT(wide_port, 0);

  // Well under the 1 s after which Linux retries a dropped SYN, and long
  // enough for a loaded machine to finish the loopback handshakes.
  const int through_narrow = connected_in_burst(narrow_port, std::chrono::milliseconds(700));
  const int through_wide = connected_in_burst(wide_port, std::chrono::milliseconds(700));
  EXPECT_EQ(through_wide, kBurst);
  EXPECT_LT(through_narrow, kBurst / 2) << "the kernel took the burst with a tiny backlog";
  ::close(narrow);
  ::close(wide);
}

TEST(ListenBacklog, APortInUseIsRefusedWithTheAddress) {
  int port = 0;
  std::string error;
  const int first = open_listener("127.0.0.1", 0, &port, &error);
  ASSERT_GE(first, 0) << error;
  int second_port = 0;
  EXPECT_EQ(open_listener("127.0.0.1", port, &second_port, &error), -1);
  EXPECT_EQ(error,
            "cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
  EXPECT_EQ(open_listener("no such host.invalid", 0, &second_port, &error), -1);
  EXPECT_NE(error.find("cannot listen on no such host.invalid:0: "), std::string::npos) << error;
  ::close(first);
}

}  // namespace
}  // namespace raft::http
