#include "monitor/routing.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>

#include "discovery/address.hpp"
#include "http/request_parsing.hpp"

namespace raft::monitor {

namespace {

constexpr std::string_view kNodesPrefix = "/api/nodes/";
constexpr std::string_view kKvPrefix = "/api/kv/";

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

NodeRoute parse_node_route(std::string_view path) {
  NodeRoute route;
  if (path.substr(0, kNodesPrefix.size()) != kNodesPrefix) {
    route.error = "the path must be /api/nodes/{id}/{action}";
    return route;
  }
  const std::string_view rest = path.substr(kNodesPrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    route.error = "the path must be /api/nodes/{id}/{action}";
    return route;
  }
  const std::string_view id_text = rest.substr(0, slash);
  const std::string_view action = rest.substr(slash + 1);
  const std::optional<NodeId> id = discovery::parse_node_id(id_text);
  if (!id) {
    route.error =
        "'" + http::quote_for_error(id_text) + "' is not a node id (ids are ranks: 0, 1, ...)";
    return route;
  }
  bool known = false;
  for (std::string_view a : kNodeActions) known = known || a == action;
  if (!known) {
    route.error = "unknown action '" + http::quote_for_error(action) +
                  "'; use command, status, log, entries or cmd_history";
    return route;
  }
  route.id = *id;
  route.action = std::string(action);
  return route;
}

std::string_view node_route_methods(std::string_view action) {
  return action == "command" ? "POST" : "GET, HEAD";
}

std::string node_path_for(std::string_view action) { return "/" + std::string(action); }

std::string percent_encode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

KvRoute parse_kv_route(std::string_view target, const std::optional<std::string>& stale) {
  KvRoute route;
  if (target.substr(0, kKvPrefix.size()) != kKvPrefix) {
    route.http_status = 400;
    route.error = "the path must be /api/kv/{key}";
    return route;
  }
  // "/api/kv/..." -> "/kv/...": the node's own parser, so both agree on keys.
  http::KvKey key = http::parse_kv_key(target.substr(4));
  if (!key.ok()) {
    route.http_status = key.http_status;
    route.error = std::move(key.error);
    return route;
  }
  route.key = std::move(key.key);
  route.node_path = "/kv/" + percent_encode(route.key);
  if (stale) {
    const std::optional<bool> flag = http::parse_flag(*stale);
    if (!flag) {
      route.http_status = 400;
      route.error = "stale must be true or false";
      return route;
    }
    if (*flag) route.node_path += "?stale=true";
  }
  return route;
}

std::optional<Endpoint> parse_address(std::string_view address) {
  if (discovery::address_error(address)) return std::nullopt;
  const std::optional<discovery::HttpUrl> url =
      discovery::parse_http_url("http://" + std::string(address), nullptr);
  if (!url) return std::nullopt;
  return Endpoint{url->host, url->port};
}

namespace {

bool fail(std::string* why, std::string text) {
  if (why != nullptr) *why = std::move(text);
  return false;
}

/// Whether `host` (no brackets) is an address a node can listen on and be
/// dialled at: an IP literal, not 0.0.0.0 / ::, multicast or broadcast.
bool unicast_ip(const std::string& host, std::string* why) {
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    const std::uint32_t ip = ntohl(v4.s_addr);
    if (ip == 0) return fail(why, "0.0.0.0 is no address to dial");
    if ((ip >> 28) == 0xE) return fail(why, host + " is a multicast address");
    if (ip == 0xFFFFFFFFu) return fail(why, "255.255.255.255 is the broadcast address");
    return true;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_UNSPECIFIED(&v6)) return fail(why, ":: is no address to dial");
    if (IN6_IS_ADDR_MULTICAST(&v6)) return fail(why, host + " is a multicast address");
    return true;
  }
  return fail(why, "'" + http::quote_for_error(host) +
                       "' is a name, not an IP address: the monitor dials only the IP "
                       "addresses nodes register (give raft_node --advertise_host an IP)");
}

}  // namespace

std::optional<Endpoint> vet_node_address(NodeId id, std::string_view address,
                                         const NodeAddressRule& rule, std::string* why) {
  const std::string node = "node " + std::to_string(id);
  if (rule.ranks > 0 && (id < 0 || id >= rule.ranks)) {
    fail(why,
         node + " is not a rank of this job (ranks 0.." + std::to_string(rule.ranks - 1) + ")");
    return std::nullopt;
  }
  std::optional<Endpoint> endpoint = parse_address(address);
  if (!endpoint) {
    fail(why, node + "'s address '" + http::quote_for_error(address) + "' is not host:port");
    return std::nullopt;
  }
  std::string problem;
  if (!unicast_ip(endpoint->host, &problem)) {
    fail(why, node + "'s address is refused: " + problem);
    return std::nullopt;
  }
  if (rule.base_port &&
      static_cast<long>(endpoint->port) != static_cast<long>(*rule.base_port) + id) {
    fail(why, node + " registered port " + std::to_string(endpoint->port) + ", not " +
                  std::to_string(static_cast<long>(*rule.base_port) + id) + " (base port " +
                  std::to_string(*rule.base_port) +
                  " + rank); the monitor dials only that one (web_monitor --node_ports any "
                  "lifts this)");
    return std::nullopt;
  }
  return endpoint;
}

std::optional<std::string> http_origin(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  const std::string_view rest = url.substr(kScheme.size());
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return std::nullopt;
  const std::optional<discovery::HttpUrl> parsed =
      discovery::parse_http_url("http://" + std::string(authority), nullptr);
  if (!parsed) return std::nullopt;
  const bool ipv6 = parsed->host.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + parsed->host + "]" : parsed->host) + ":" +
         std::to_string(parsed->port);
}

}  // namespace raft::monitor
