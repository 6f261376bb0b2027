#pragma once
/// Which address a raft_node registers with discovery: the one other hosts
/// can dial. Thread-safe; local_address_towards() makes one syscall-level UDP
/// "connect" (no packet leaves the machine).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// More names the servers answer to (Host, Origin), comma-separated:
/// launch_cluster hands its --advertise_host and --served_host names to
/// every child this way, so a name given once reaches each server.
inline constexpr const char* kServedHostsEnv = "RAFT_SERVED_HOSTS";

/// The help of each program's --served_host flag.
inline constexpr const char* kServedHostHelp =
    "another name clients reach this server by, as the Host header carries it (name or "
    "name:port; repeatable; also $RAFT_SERVED_HOSTS, comma-separated). The bind address, "
    "loopback and this machine's name are served anyway; other Host headers get 421 (DNS "
    "rebinding)";

/// The names a server serves beyond http::default_served_names(bind) (its
/// bind address, loopback, the machine's name): `advertised` when not
/// empty, each of `flag_names` (--served_host) and each comma-separated
/// entry of `env_names` ($RAFT_SERVED_HOSTS). An entry is a host ("name",
/// "10.0.0.5", "[::1]"), host:port, or "*" (any Host: the rebinding check
/// off). nullopt with one sentence in *error naming the bad entry.
std::optional<std::vector<std::string>> served_names(const std::string& advertised,
                                                     const std::vector<std::string>& flag_names,
                                                     std::string_view env_names,
                                                     std::string* error);

}  // namespace raft::discovery
