#include "discovery/address.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace raft::discovery {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_name_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
}

bool is_ipv6_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/// Decimal 1-65535 without sign or leading zeros; nullopt otherwise.
std::optional<int> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || text[0] == '0') return std::nullopt;
  int port = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

/// Splits "host:port" at the colon that ends the host (after "]" for IPv6).
bool split_host_port(std::string_view address, std::string_view* host, std::string_view* port) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  return true;
}

bool is_loopback_ip(std::string_view host) {
  return host == "::1" || host.rfind("127.", 0) == 0 || host.rfind("::ffff:127.", 0) == 0;
}

/// `host` (no brackets) as 16 bytes of IPv6, IPv4 mapped; nullopt for a name.
std::optional<std::array<unsigned char, 16>> ip_bytes(std::string_view host) {
  const std::string text(host);
  std::array<unsigned char, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.data()) == 1) return out;
  return std::nullopt;
}

}  // namespace

bool address_is_from(std::string_view registered_address, std::string_view peer_ip) {
  std::string_view host, port;
  if (!split_host_port(registered_address, &host, &port)) return false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || is_loopback_ip(host)) return is_loopback_ip(peer_ip);
  const auto registered = ip_bytes(host);
  if (!registered) return true;  // a name: see the header
  const auto peer = ip_bytes(peer_ip);
  return peer && *peer == *registered;
}

std::optional<NodeId> parse_node_id(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > std::numeric_limits<NodeId>::max()) return std::nullopt;
  return static_cast<NodeId>(value);
}

std::optional<std::string> host_error(std::string_view host) {
  if (host.empty()) return "the host is empty";
  if (host.front() == '[') {
    if (host.size() < 4 || host.back() != ']') {
      return "an IPv6 host must look like [::1]";
    }
    std::string_view inside = host.substr(1, host.size() - 2);
    bool has_colon = false;
    for (char c : inside) {
      if (!is_ipv6_char(c)) return "an IPv6 host may hold only hex digits, ':' and '.'";
      has_colon = has_colon || c == ':';
    }
    if (!has_colon) return "an IPv6 host must look like [::1]";
    return std::nullopt;
  }
  if (host.size() > kHostLengthMax) {
    return "the host is longer than " + std::to_string(kHostLengthMax) + " characters";
  }
  for (char c : host) {
    if (c == ':') return "an IPv6 host must be written in brackets, like [::1]:7000";
    if (!is_name_char(c)) return "the host may hold only letters, digits, '.' and '-'";
  }
  return std::nullopt;
}

std::optional<std::string> parse_bind_host(std::string_view text, std::string* error) {
  const bool bare_ipv6 = text.find(':') != std::string_view::npos && text.front() != '[';
  const std::string bracketed = bare_ipv6 ? "[" + std::string(text) + "]" : std::string(text);
  if (auto why = host_error(bracketed)) {
    if (error != nullptr) *error = *why;
    return std::nullopt;
  }
  if (bracketed.front() == '[') return bracketed.substr(1, bracketed.size() - 2);
  return bracketed;
}

std::optional<std::string> address_error(std::string_view address) {
  std::string_view host;
  std::string_view port;
  if (!split_host_port(address, &host, &port)) {
    return "the address must be host:port, like 127.0.0.1:7000";
  }
  if (auto error = host_error(host)) return "bad address: " + *error;
  if (!parse_port(port)) return "bad address: the port must be a number from 1 to 65535";
  return std::nullopt;
}

std::optional<HttpUrl> parse_http_url(std::string_view url, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<HttpUrl> {
    if (error != nullptr) *error = "bad discovery URL '" + std::string(url) + "': " + why;
    return std::nullopt;
  };
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return fail("it must start with http:// (https is not supported)");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return fail("it must be http://host:port, without a path, query or fragment");
  }
  if (rest.find('@') != std::string_view::npos) return fail("user names are not supported");

  if (rest.empty()) return fail("the host is empty");

  HttpUrl parsed;
  std::string_view host = rest;
  std::string_view port;
  // A colon after the host (after "]" for IPv6) introduces the port.
  std::size_t host_end = rest.front() == '[' ? rest.find(']') : rest.find(':');
  if (rest.front() == '[') {
    if (host_end == std::string_view::npos) return fail("an IPv6 host must look like [::1]");
    host = rest.substr(0, host_end + 1);
    std::string_view after = rest.substr(host_end + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("expected ':' and a port after the IPv6 host");
      port = after.substr(1);
      if (port.empty()) return fail("the port is empty");
    }
  } else if (host_end != std::string_view::npos) {
    host = rest.substr(0, host_end);
    port = rest.substr(host_end + 1);
    if (port.empty()) return fail("the port is empty");
  }
  if (auto why = host_error(host)) return fail(*why);
  if (!port.empty()) {
    auto number = parse_port(port);
    if (!number) return fail("the port must be a number from 1 to 65535");
    parsed.port = *number;
  }
  parsed.host =
      host.front() == '[' ? std::string(host.substr(1, host.size() - 2)) : std::string(host);
  return parsed;
}

}  // namespace raft::discovery
