#include "launcher/slurm_allocation.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cstdlib>
#include <utility>

#include "discovery/advertise.hpp"

namespace raft::launcher {

namespace {

/// More names than any real allocation has: a list that expands beyond it is
/// a typo ("n[1-99999999]"), not a machine room.
constexpr std::size_t kHostsMax = 65536;

bool fail(std::string* error, std::string why) {
  if (error != nullptr) *error = std::move(why);
  return false;
}

/// Splits on commas outside brackets ("a[1,2],b" is "a[1,2]" and "b").
std::vector<std::string_view> split_top_level(std::string_view list) {
  std::vector<std::string_view> parts;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i] == '[') ++depth;
    if (list[i] == ']') --depth;
    if (list[i] == ',' && depth == 0) {
      parts.push_back(list.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(list.substr(start));
  return parts;
}

std::optional<long> parse_count(std::string_view digits) {
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  long value = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

/// "01-03,7" into "01" "02" "03" "7": a range keeps its first number's width.
bool expand_ranges(std::string_view body, std::vector<std::string>* out, std::string* error) {
  for (std::string_view item : split_top_level(body)) {
    const std::size_t dash = item.find('-');
    const std::string_view first = item.substr(0, dash);
    const std::string_view last = dash == std::string_view::npos ? first : item.substr(dash + 1);
    const std::optional<long> low = parse_count(first);
    const std::optional<long> high = parse_count(last);
    if (!low || !high) return fail(error, "'" + std::string(item) + "' is not a number or range");
    if (*high < *low) return fail(error, "range '" + std::string(item) + "' runs backwards");
    if (static_cast<std::size_t>(*high - *low) + out->size() >= kHostsMax) {
      return fail(error, "it names more than " + std::to_string(kHostsMax) + " hosts");
    }
    for (long v = *low; v <= *high; ++v) {
      std::string text = std::to_string(v);
      if (text.size() < first.size()) text.insert(0, first.size() - text.size(), '0');
      out->push_back(std::move(text));
    }
  }
  return true;
}

/// One name with any number of bracket groups: "r[1-2]n[1-2]" gives r1n1
/// r1n2 r2n1 r2n2.
bool expand_name(std::string_view name, std::vector<std::string>* out, std::string* error) {
  const std::size_t open = name.find('[');
  if (open == std::string_view::npos) {
    if (name.find(']') != std::string_view::npos) return fail(error, "a ']' has no '['");
    out->emplace_back(name);
    return true;
  }
  const std::size_t close = name.find(']', open);
  if (close == std::string_view::npos) return fail(error, "a '[' is not closed");
  std::vector<std::string> numbers;
  if (!expand_ranges(name.substr(open + 1, close - open - 1), &numbers, error)) return false;
  std::vector<std::string> tails;
  if (!expand_name(name.substr(close + 1), &tails, error)) return false;
  const std::string_view prefix = name.substr(0, open);
  for (const std::string& number : numbers) {
    for (const std::string& tail : tails) {
      if (out->size() >= kHostsMax) {
        return fail(error, "it names more than " + std::to_string(kHostsMax) + " hosts");
      }
      out->push_back(std::string(prefix) + number + tail);
    }
  }
  return true;
}

bool is_usable(const std::string& address) {
  return !discovery::is_loopback_host(address) && address.rfind("fe80:", 0) != 0;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::optional<std::vector<std::string>> expand_hostlist(std::string_view list, std::string* error) {
  std::vector<std::string> hosts;
  std::string why;
  for (std::string_view name : split_top_level(list)) {
    if (name.empty()) {
      why = "an empty name";
    } else if (!expand_name(name, &hosts, &why)) {
      why = "'" + std::string(name) + "': " + why;
    }
    if (!why.empty()) {
      if (error != nullptr) *error = "host list '" + std::string(list) + "' is malformed: " + why;
      return std::nullopt;
    }
  }
  return hosts;
}

std::optional<int> count_tasks(std::string_view tasks_per_node, std::string* error) {
  long total = 0;
  for (std::string_view item : split_top_level(tasks_per_node)) {
    long repeat = 1;
    const std::size_t paren = item.find("(x");
    if (paren != std::string_view::npos) {
      const std::optional<long> times =
          item.back() == ')' ? parse_count(item.substr(paren + 2, item.size() - paren - 3))
                             : std::nullopt;
      if (!times) {
        total = -1;
        break;
      }
      repeat = *times;
      item = item.substr(0, paren);
    }
    const std::optional<long> tasks = parse_count(item);
    if (!tasks || *tasks * repeat > 1'000'000 - total) {
      total = -1;
      break;
    }
    total += *tasks * repeat;
  }
  if (total <= 0) {
    if (error != nullptr) {
      *error = "tasks per node '" + std::string(tasks_per_node) +
               "' is not a list like 2(x3),1 with at least one task";
    }
    return std::nullopt;
  }
  return static_cast<int>(total);
}

SlurmAllocationRead read_allocation(const EnvLookup& env) {
  SlurmAllocationRead read;
  const std::optional<std::string> job = env("SLURM_JOB_ID");
  if (!job || job->empty()) return read;
  SlurmAllocation a;
  a.job_id = *job;
  const std::optional<std::string> nodelist = env("SLURM_JOB_NODELIST");
  if (!nodelist || nodelist->empty()) {
    read.error = "SLURM_JOB_ID is set but SLURM_JOB_NODELIST is not: not a usable Slurm job";
    return read;
  }
  std::optional<std::vector<std::string>> nodes = expand_hostlist(*nodelist, &read.error);
  if (!nodes) return read;
  a.nodes = std::move(*nodes);
  // Inside launch_cluster's own step the job's value is in kJobTasksPerNodeEnv.
  std::optional<std::string> per_node = env(kJobTasksPerNodeEnv);
  if (!per_node || env(kJobTasksJobIdEnv) != a.job_id) per_node = env("SLURM_TASKS_PER_NODE");
  if (!per_node) {
    read.error = "SLURM_JOB_ID is set but SLURM_TASKS_PER_NODE is not: not a usable Slurm job";
    return read;
  }
  const std::optional<int> tasks = count_tasks(*per_node, &read.error);
  if (!tasks) return read;
  a.tasks_per_node = *per_node;
  a.tasks = *tasks;
  a.this_node = env("SLURMD_NODENAME").value_or("");
  a.in_step = env("SLURM_STEP_ID").has_value();
  read.allocation = std::move(a);
  return read;
}

std::vector<std::string> resolve_host(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::vector<std::string> addresses;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return addresses;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
        ::inet_ntop(a->ai_family, raw, text, sizeof text) != nullptr) {
      addresses.emplace_back(text);
    }
  }
  ::freeaddrinfo(found);
  return addresses;
}

std::optional<std::string> node_address(const std::string& node, const HostResolver& resolve,
                                        std::string* error) {
  const std::vector<std::string> addresses = resolve(node);
  for (bool want_v4 : {true, false}) {
    for (const std::string& address : addresses) {
      const bool v4 = address.find(':') == std::string::npos;
      if (v4 == want_v4 && is_usable(address)) return address;
    }
  }
  if (error != nullptr) {
    *error = addresses.empty() ? "node " + node + " does not resolve to an address"
                               : "node " + node + " resolves only to loopback (" +
                                     addresses.front() + "), which other nodes cannot dial";
  }
  return std::nullopt;
}

}  // namespace raft::launcher
