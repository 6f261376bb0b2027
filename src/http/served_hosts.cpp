#include "http/served_hosts.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <optional>

#include <ifaddrs.h>

#include "http/request_head.hpp"

namespace raft::http {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// 1-65535, else -1.
int parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return -1;
  int port = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535 ? port : -1;
}

/// "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address, as
/// "host:port" in lower case with IPv6 in brackets and the trailing dot of
/// a fully qualified name dropped; nullopt if malformed.
std::optional<std::string> normalize(std::string_view text, int default_port) {
  std::string_view host = text;
  int port = default_port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(0, close + 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) port = rest.front() == ':' ? parse_port(rest.substr(1)) : -1;
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const std::size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = parse_port(text.substr(colon + 1));
  } else if (text.find(':') != std::string_view::npos) {
    return normalize("[" + std::string(text) + "]", default_port);  // a bare IPv6 address
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || port < 0) return std::nullopt;
  const bool visible = std::all_of(host.begin(), host.end(), [](char c) {
    return c > ' ' && c < 0x7F && c != '/' && c != '@' && c != '?' && c != '#';
  });
  if (!visible) return std::nullopt;
  return lower(host) + ":" + std::to_string(port);
}

bool is_wildcard(const std::string& bind) {
  return bind.empty() || bind == "0.0.0.0" || bind == "::" || bind == "[::]" || bind == "*";
}

void add_interface_addresses(std::vector<std::string>& names) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return;
  for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (a->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      ::inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size());
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) continue;  // needs a zone in a URL
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text.data(), text.size());
    } else {
      continue;
    }
    names.emplace_back(text.data());
  }
  ::freeifaddrs(list);
}

}  // namespace

ServedHosts::ServedHosts(int port, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (name == "*") {
      any_ = true;
      continue;
    }
    std::optional<std::string> host_port = normalize(name, port);
    if (host_port &&
        std::find(host_ports_.begin(), host_ports_.end(), *host_port) == host_ports_.end()) {
      host_ports_.push_back(std::move(*host_port));
    }
  }
}

bool ServedHosts::serves_host(std::string_view host) const {
  if (any_) return true;
  const std::optional<std::string> host_port = normalize(host, 80);
  return host_port &&
         std::find(host_ports_.begin(), host_ports_.end(), *host_port) != host_ports_.end();
}

bool ServedHosts::serves_origin(std::string_view origin) const {
  int default_port = 0;
  if (origin.substr(0, 7) == "http://") {
    default_port = 80;
    origin.remove_prefix(7);
  } else if (origin.substr(0, 8) == "https://") {
    default_port = 443;
    origin.remove_prefix(8);
  } else {
    return false;  // "null", and any other scheme
  }
  if (any_) return true;
  const std::optional<std::string> host_port = normalize(origin, default_port);
  return host_port &&
         std::find(host_ports_.begin(), host_ports_.end(), *host_port) != host_ports_.end();
}

std::string ServedHosts::describe() const {
  if (any_) return "any host";
  std::string out;
  for (std::size_t i = 0; i < host_ports_.size() && i < 3; ++i) {
    if (i > 0) out += ", ";
    out += host_ports_[i];
  }
  if (host_ports_.size() > 3) out += ", ...";
  return out;
}

std::optional<Refusal> refuse_foreign(const RequestHead& head, const ServedHosts& served) {
  const std::optional<std::string_view> host = head.field("Host");
  if (host && !served.serves_host(*host)) {
    return Refusal{421, "this server does not answer to host " + quote_ascii(*host) +
                            "; it serves " + served.describe()};
  }
  const std::string_view m = head.method;
  if (m != "POST" && m != "PUT" && m != "PATCH" && m != "DELETE") return std::nullopt;
  const std::optional<std::string_view> origin = head.field("Origin");
  if (origin && !served.serves_origin(*origin)) {
    return Refusal{403, "cross-origin request refused: Origin " + quote_ascii(*origin) +
                            " is not a page of this server"};
  }
  const std::optional<std::string_view> site = head.field("Sec-Fetch-Site");
  if (site && iequals(*site, "cross-site")) {
    return Refusal{403, "cross-site request refused (Sec-Fetch-Site: cross-site)"};
  }
  return std::nullopt;
}

std::vector<std::string> default_served_names(const std::string& bind) {
  std::vector<std::string> names = {"localhost", "127.0.0.1", "[::1]"};
  if (is_wildcard(bind)) {
    add_interface_addresses(names);
  } else {
    names.push_back(bind);
  }
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) == 0 && host[0] != '\0') {
    names.emplace_back(host.data());
  }
  return names;
}

}  // namespace raft::http
