#pragma once
/// Validation shared by the discovery server and its client: node ids,
/// "host:port" addresses and the discovery URL. Pure functions; thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "raft/types.hpp"

namespace raft::discovery {

/// A DNS name is at most 253 characters (RFC 1035); so is our host part.
inline constexpr std::size_t kHostLengthMax = 253;

/// Parses a node id written as decimal text: "0", "12". Leading zeros, signs,
/// spaces and values above the NodeId range are refused (nullopt), so that
/// every id has exactly one spelling in JSON keys.
std::optional<NodeId> parse_node_id(std::string_view text);

/// Checks a "host:port" address. The host is a name or IPv4 address of
/// [A-Za-z0-9.-] (at most kHostLengthMax characters) or an IPv6 address in
/// brackets ("[::1]:7000"); the port is 1-65535. Returns nullopt when the
/// address is valid, else one sentence saying what is wrong.
std::optional<std::string> address_error(std::string_view address);

/// Whether a request from `peer_ip` (the socket's remote address, as text)
/// may speak for the node registered at `registered_address` ("host:port"):
/// the same IP address, or both on loopback. A registered DNS name cannot be
/// checked without a lookup and is accepted (the token still guards it).
bool address_is_from(std::string_view registered_address, std::string_view peer_ip);

/// Checks a host on its own (the host part of an address or a URL).
/// Returns nullopt when valid, else one sentence.
std::optional<std::string> host_error(std::string_view host);

/// A host to listen on, as a --bind flag gives it: a name, an IPv4 address,
/// or an IPv6 address with or without brackets. Returns it without brackets,
/// as getaddrinfo wants it; nullopt with one sentence in *error (if not null)
/// when it is not a host.
std::optional<std::string> parse_bind_host(std::string_view text, std::string* error);

/// The parts of an "http://host[:port][/]" URL. `host` keeps the brackets of
/// an IPv6 address out ("::1"), as httplib::Client wants it.
struct HttpUrl {
  std::string host;
  int port = 80;
};

/// Parses a discovery URL: the scheme must be http, there is no user info,
/// path (other than "/"), query or fragment. On failure returns nullopt and
/// stores one sentence in *error (if error is not null).
std::optional<HttpUrl> parse_http_url(std::string_view url, std::string* error);

}  // namespace raft::discovery
