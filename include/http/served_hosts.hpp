#pragma once
/// The names a server answers to, for its Host and Origin checks. A page of
/// another site can reach a loopback server through the user's browser:
/// with DNS rebinding (evil.example resolving to 127.0.0.1) it can even
/// read the answers, and a cross-site form can POST. Both show in the
/// request: Host names the attacker's domain, Origin the attacker's page.
/// So a server answers only a Host it serves (else 421), and takes a
/// mutating request only from no Origin (not a browser) or its own (else
/// 403).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_head.hpp"

namespace raft::http {

class ServedHosts {
 public:
  /// `port` is the server's. Each of `names` is a host ("127.0.0.1",
  /// "node-3.example", "::1" or "[::1]"), served with `port`, or host:port
  /// for a name clients reach through another port; "*" serves any Host.
  ServedHosts(int port, const std::vector<std::string>& names);

  /// Whether a Host header value ("127.0.0.1:7001", "[::1]:7001",
  /// "localhost" = port 80) names this server.
  bool serves_host(std::string_view host) const;
  /// Whether an Origin header value ("http://127.0.0.1:7001") is a page of
  /// this server. "null" (sandboxed frames, file:// pages) never is.
  bool serves_origin(std::string_view origin) const;
  /// The first few names as host:port, comma-separated (for messages).
  std::string describe() const;

 private:
  bool any_ = false;
  std::vector<std::string> host_ports_;  ///< lower case, IPv6 in brackets, with the port
};

/// The checks above for one request head: 421 for a Host not served; for
/// POST, PUT, PATCH and DELETE, 403 for an Origin that is not a page of
/// this server and for Sec-Fetch-Site: cross-site. Requests without these
/// headers (curl, the project's own clients) pass: browsers always send
/// Host, and Origin with every cross-site POST. nullopt lets the request on.
std::optional<Refusal> refuse_foreign(const RequestHead& head, const ServedHosts& served);

/// What a server bound to `bind` serves when told nothing more: the bind
/// address itself (unless a wildcard), "localhost", "127.0.0.1", "[::1]",
/// the machine's host name, and for a wildcard bind ("0.0.0.0", "::") every
/// address of the machine's interfaces (link-local IPv6 aside).
std::vector<std::string> default_served_names(const std::string& bind);

}  // namespace raft::http
