#include "discovery/advertise.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "discovery/address.hpp"

namespace raft::discovery {

namespace {

std::string strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::string(host);
}

std::string with_brackets(const std::string& host) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

}  // namespace

bool is_wildcard_host(std::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::optional<std::string> local_address_towards(const std::string& host, int port,
                                                 std::string* error) {
  const auto fail = [&](const std::string& why) -> std::optional<std::string> {
    if (error != nullptr) *error = why;
    return std::nullopt;
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const std::string name = strip_brackets(host);
  const std::string service = std::to_string(port);
  if (const int rc = getaddrinfo(name.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return fail("cannot resolve " + name + ": " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    // A UDP connect only picks the route and source address; nothing is sent.
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    const bool ok = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0;
    if (!ok) last_error = std::strerror(errno);
    ::close(fd);
    if (!ok) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        local.ss_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&local)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&local)->sin_addr);
    if (::inet_ntop(local.ss_family, raw, text, sizeof text) == nullptr) {
      last_error = std::strerror(errno);
      continue;
    }
    freeaddrinfo(found);
    return std::string(text);
  }
  freeaddrinfo(found);
  return fail("no route to " + name + ":" + service + ": " + last_error);
}

std::optional<std::string> choose_advertise_host(const std::string& flag, const std::string& bind,
                                                 const std::string& discovery_host,
                                                 int discovery_port, const RouteLookup& route,
                                                 std::string* error) {
  if (!flag.empty()) return with_brackets(strip_brackets(flag));
  if (!is_wildcard_host(bind)) return with_brackets(strip_brackets(bind));
  std::string why;
  std::optional<std::string> local = route(discovery_host, discovery_port, &why);
  if (!local) {
    if (error != nullptr) {
      *error =
          "cannot find this host's address towards discovery (" + why + "); give --advertise_host";
    }
    return std::nullopt;
  }
  return with_brackets(*local);
}

namespace {

/// Why `name` is no served-host entry, or nullopt.
std::optional<std::string> served_name_error(const std::string& name) {
  if (name == "*") return std::nullopt;
  const std::size_t colons = static_cast<std::size_t>(std::count(name.begin(), name.end(), ':'));
  if (name.front() == '[') {
    // "[v6]" or "[v6]:port"
    return name.back() == ']' ? host_error(name) : address_error(name);
  }
  if (colons == 1) return address_error(name);
  if (colons > 1) return host_error("[" + name + "]");  // a bare IPv6 address
  return host_error(name);
}

}  // namespace

std::optional<std::vector<std::string>> served_names(const std::string& advertised,
                                                     const std::vector<std::string>& flag_names,
                                                     std::string_view env_names,
                                                     std::string* error) {
  std::vector<std::string> names;
  if (!advertised.empty()) names.push_back(advertised);
  names.insert(names.end(), flag_names.begin(), flag_names.end());
  const std::size_t from_env = names.size();
  while (!env_names.empty()) {
    const std::size_t comma = env_names.find(',');
    std::string_view entry = env_names.substr(0, comma);
    env_names = comma == std::string_view::npos ? std::string_view{} : env_names.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (!entry.empty()) names.emplace_back(entry);
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    std::optional<std::string> why =
        name.empty() ? std::optional<std::string>("the name is empty") : served_name_error(name);
    if (why) {
      if (error != nullptr) {
        *error = (i >= from_env ? std::string(kServedHostsEnv) + " entry '"
                                : std::string("served host '")) +
                 name + "': " + *why;
      }
      return std::nullopt;
    }
  }
  return names;
}

}  // namespace raft::discovery
