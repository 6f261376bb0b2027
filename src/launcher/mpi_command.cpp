#include "launcher/mpi_command.hpp"

#include <algorithm>
#include <cctype>

#include "launcher/slurm_command.hpp"

namespace raft::launcher {

namespace {

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// Whether `digits` is 1 to `max_digits` decimal digits spelling at most `max`.
bool small_decimal(std::string_view digits, std::size_t max_digits, int max) {
  if (digits.empty() || digits.size() > max_digits) return false;
  int value = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  return value <= max;
}

/// "a.b.c.d/n" with each part in range.
bool is_ipv4_cidr(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view address = text.substr(0, slash);
  if (!small_decimal(text.substr(slash + 1), 2, 32)) return false;
  int parts = 0;
  while (true) {
    const std::size_t dot = address.find('.');
    if (!small_decimal(address.substr(0, dot), 3, 255)) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    address.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool is_interface_name(std::string_view text) {
  if (text.empty() || text.size() > 15) return false;  // IFNAMSIZ - 1
  for (char c : text) {
    if (!is_name_char(c) && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

std::vector<McaParam> mca_params(const MpiCommandOptions& o) {
  std::vector<McaParam> params;
  const bool user_btl = std::any_of(o.extra_mca.begin(), o.extra_mca.end(),
                                    [](const auto& param) { return param.first == "btl"; });
  if (o.multi_host()) {
    params.emplace_back("btl", "self,tcp");
  } else if (!user_btl) {
    // One host: shared memory only. Open MPI's default also loads its TCP
    // transport, and every rank then listens on a port of every interface,
    // which a loopback-only demo has no use for.
    params.emplace_back("btl", "self,vader");
  }
  if (!o.multi_host()) {
    // Shared memory's single copy (Linux CMA) reads another rank's memory
    // with process_vm_readv, which needs ptrace rights that containers and
    // hardened kernels often deny; plain copies through the shared segment
    // always work.
    params.emplace_back("btl_vader_single_copy_mechanism", "none");
  }
  if (!o.mpi_if.empty()) {
    params.emplace_back("btl_tcp_if_include", o.mpi_if);
    params.emplace_back("oob_tcp_if_include", o.mpi_if);
  }
  params.insert(params.end(), o.extra_mca.begin(), o.extra_mca.end());
  return params;
}

std::vector<std::string> mpirun_argv(const MpiCommandOptions& o) {
  std::vector<std::string> argv = {o.mpirun};
  if (o.as_root) argv.push_back("--allow-run-as-root");
  if (!o.hostfile.empty()) {
    argv.insert(argv.end(), {"--hostfile", o.hostfile});
  } else if (!o.hosts.empty()) {
    argv.insert(argv.end(), {"--host", o.hosts});
  }
  // A host list without slot counts gives each host one slot: let the ranks
  // share hosts rather than refuse to start. Slurm's slots are its tasks,
  // and launch_cluster never asks for more ranks than that.
  if (o.slurm_nodes == 0 && (static_cast<unsigned>(o.ranks) > o.cores || o.multi_host())) {
    argv.push_back("--oversubscribe");
  }
  // Raft outlives a lost node only if its ranks are on different nodes.
  if (o.slurm_nodes > 0) argv.insert(argv.end(), {"--map-by", "node"});
  for (const auto& [name, value] : mca_params(o)) argv.insert(argv.end(), {"--mca", name, value});
  argv.insert(argv.end(), {"-n", std::to_string(o.ranks), "--bind-to", "none"});
  for (const std::string& name : o.forwarded_env) argv.insert(argv.end(), {"-x", name});
  argv.insert(argv.end(), o.program.begin(), o.program.end());
  return argv;
}

std::vector<std::string> job_argv(const MpiCommandOptions& o) {
  return o.srun.empty() ? mpirun_argv(o) : srun_argv(o);
}

std::vector<std::string> raft_node_argv(const RaftNodeFlags& f) {
  std::vector<std::string> argv = {f.binary};
  const auto number = [&](const char* flag, int value) {
    if (value >= 0) argv.insert(argv.end(), {flag, std::to_string(value)});
  };
  const auto text = [&](const char* flag, const std::string& value) {
    if (!value.empty()) argv.insert(argv.end(), {flag, value});
  };
  number("--min_election_timeout", f.min_election_timeout_ms);
  number("--max_election_timeout", f.max_election_timeout_ms);
  number("--heartbeat_interval", f.heartbeat_interval_ms);
  number("--initial_delay_ms", f.initial_delay_ms);
  number("--base_port", f.base_port);
  number("--snapshot_every", f.snapshot_every);
  number("--voters", f.voters);
  text("--bind", f.bind);
  text("--data_dir", f.data_dir);
  text("--discovery_url", f.discovery_url);
  text("--fsync", f.fsync);
  text("--log_level", f.log_level);
  return argv;
}

std::optional<McaParam> parse_mca(std::string_view text, std::string* error) {
  const auto fail = [&](const std::string& why) -> std::optional<McaParam> {
    if (error != nullptr) *error = why;
    return std::nullopt;
  };
  const std::size_t equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == text.size()) {
    return fail("--mca must be NAME=VALUE, like plm_rsh_agent=/usr/bin/ssh (got '" +
                std::string(text) + "')");
  }
  const std::string_view name = text.substr(0, equals);
  for (char c : name) {
    if (!is_name_char(c)) {
      return fail("--mca name '" + std::string(name) + "' may hold only letters, digits and '_'");
    }
  }
  return McaParam{std::string(name), std::string(text.substr(equals + 1))};
}

std::optional<std::string> mpi_if_error(std::string_view list) {
  if (list.empty()) return "--mpi_if must not be empty";
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    const std::string_view item = list.substr(start, comma - start);
    if (!is_ipv4_cidr(item) && !is_interface_name(item)) {
      return "--mpi_if: '" + std::string(item) +
             "' is neither an interface name nor an IPv4 subnet like 10.0.0.0/24";
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return std::nullopt;
}

}  // namespace raft::launcher
