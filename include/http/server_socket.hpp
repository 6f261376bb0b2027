#pragma once
/// How every HTTP server of this project (node, discovery, monitor) takes its
/// port: bind_server() below. Header-only so each program's library can use it.
///
/// Debian's compiled cpp-httplib listens with a backlog of 5
/// (CPPHTTPLIB_LISTEN_BACKLOG is fixed inside the library), so a burst of new
/// connections, such as 64 benchmark clients or 25 nodes re-registering at
/// once, overflows the accept queue: handshakes retry after a second and some
/// connections are reset before the server ever sees them. After
/// bind_to_port() the listening socket exists but is hidden inside the
/// server object, so this finds it among the process's descriptors (a
/// listening TCP socket with that local port) and calls listen() again with
/// SOMAXCONN, which Linux allows on a listening socket to resize its queue.

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <httplib.h>

namespace raft::http {

/// Returns how many listening sockets on `port` were widened (0 if none).
inline int widen_listen_backlog(int port) {
  int widened = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (...) {
      continue;
    }
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) continue;
    int local_port = -1;
    if (addr.ss_family == AF_INET) {
      local_port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      local_port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    }
    if (local_port == port && ::listen(fd, SOMAXCONN) == 0) ++widened;
  }
  return widened;
}

/// Binds `server` to bind:port (port 0: any free port) and widens its accept
/// queue. httplib's default socket options also set SO_REUSEPORT, which would
/// let a second server bind a port already in use (two discovery servers
/// splitting one registry); SO_REUSEADDR alone still allows quick restarts.
/// Returns the port, or 0 with `*error` saying why in one line.
inline int bind_server(httplib::Server& server, const std::string& bind, int port,
                       std::string* error) {
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  errno = 0;
  int bound = 0;
  if (port == 0) {
    bound = std::max(0, server.bind_to_any_port(bind));
  } else if (server.bind_to_port(bind, port)) {
    bound = port;
  }
  if (bound == 0) {
    const int err = errno;
    if (error != nullptr) {
      *error = "cannot listen on " + bind + ":" + std::to_string(port) + ": " +
               (err != 0 ? std::string(std::strerror(err))
                         : std::string("the address is in use or not available"));
    }
    return 0;
  }
  widen_listen_backlog(bound);
  return bound;
}

}  // namespace raft::http
