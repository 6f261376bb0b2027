#pragma once
/// How every HTTP server of this project (node, discovery, monitor) takes its
/// port: open_listener() below, whose socket the ConnectionGate serves.
///
/// The accept queue is SOMAXCONN deep: Debian's compiled cpp-httplib listens
/// with a backlog of 5, so a burst of new connections (64 benchmark clients,
/// 25 nodes re-registering at once) overflowed it, handshakes retried after a
/// second and some connections were reset before the server saw them.
/// SO_REUSEADDR allows quick restarts; SO_REUSEPORT (httplib's default) is
/// not set, since it let a second server bind a port already in use (two
/// discovery servers splitting one registry).

#include <string>

namespace raft::http {

/// Listens on bind:port (port 0: any free port), non-blocking. Returns the
/// socket and sets *bound_port, or returns -1 with one line in *error naming
/// the address.
int open_listener(const std::string& bind, int port, int* bound_port, std::string* error);

}  // namespace raft::http
