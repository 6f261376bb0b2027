#pragma once
/// Which address a raft_node registers with discovery: the one other hosts
/// can dial. Thread-safe; local_address_towards() makes one syscall-level UDP
/// "connect" (no packet leaves the machine).

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace raft::discovery {

/// True for the addresses that mean "every interface": 0.0.0.0, ::, [::].
bool is_wildcard_host(std::string_view host);

/// True for loopback hosts: localhost, 127.x.x.x, ::1, [::1].
bool is_loopback_host(std::string_view host);

/// The numeric address of the local interface the kernel would use to send
/// to host:port (a UDP socket connect() then getsockname(); nothing is sent).
/// IPv6 without brackets. nullopt with one sentence in *error on failure.
std::optional<std::string> local_address_towards(const std::string& host, int port,
                                                 std::string* error);

/// Resolves what local_address_towards() does; tests inject fakes.
using RouteLookup =
    std::function<std::optional<std::string>(const std::string&, int, std::string*)>;

/// The host to advertise: `flag` when given; else `bind` when it is one
/// address (the node listens nowhere else); else, for a wildcard bind, the
/// interface that routes to discovery (discovery_host:discovery_port). IPv6
/// hosts come back in brackets, ready for "host:port". nullopt with one
/// sentence in *error when the route cannot be found.
std::optional<std::string> choose_advertise_host(const std::string& flag, const std::string& bind,
                                                 const std::string& discovery_host,
                                                 int discovery_port, const RouteLookup& route,
                                                 std::string* error);

}  // namespace raft::discovery
