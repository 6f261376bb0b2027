// launch_cluster: one command to a live cluster. Validates every flag before
// anything starts, starts discovery_server and web_monitor and waits until
// they answer, starts `mpirun -n N raft_node`, waits for a leader, prints the
// URLs, and on Ctrl+C / SIGTERM stops everything it started and exits 0. If a
// child dies on its own it names it, stops the rest and exits 1.
//
// Every server requires an auth token, generated for the run unless given:
// loopback is not a trust boundary (any local user or a browser page can
// reach it). The token reaches the children through the environment, is
// written to <data_dir>/auth_token (mode 0600) for scripts, and the monitor
// URL carries it in its fragment.
//
// With --hostfile or --host the ranks run on other machines: discovery and
// the monitor listen on --bind (which must then be reachable), the nodes on
// --node_bind (0.0.0.0) and register the address that routes to discovery,
// and mpirun talks TCP on --mpi_if (see launcher/mpi_command.hpp).
//
// Inside a Slurm allocation (SLURM_JOB_ID set; --slurm) the hosts are the
// allocation's: one rank per task, discovery and the monitor on its first
// node at that node's address, the ranks started by mpirun or srun under
// Slurm (see launcher/slurm_command.hpp). From a salloc shell on a login node
// launch_cluster first moves itself to the first node as a one-task step.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "auth/auth_token.hpp"
#include "discovery/address.hpp"
#include "discovery/advertise.hpp"
#include "launcher/child_process.hpp"
#include "launcher/cluster.hpp"
#include "launcher/mpi_command.hpp"
#include "launcher/slurm_command.hpp"
#include "parse_flags.hpp"

namespace fs = std::filesystem;

namespace {

constexpr int kExitBadFlags = 2;

/// The command line as given (the seed's flag names).
struct Flags {
  // The cluster and its durable state.
  int nodes = 3;
  int spares = 0;  // standby ranks beyond the voters, for add_node
  /// Every rank of the job: the voters and the spares.
  int ranks() const { return nodes + spares; }
  std::string data_dir = "raft_data";
  bool fresh = false;
  std::string fsync = "always";
  std::string log_level = "info";
  std::string log_file;  // empty: the children write to launch_cluster's own output
  // Raft's timing, in ms.
  int min_election_timeout = 2000;
  int max_election_timeout = 4000;
  int heartbeat_interval = 750;
  int initial_delay_ms = 3000;
  int leader_timeout_s = 0;  // 0: derived from the timeouts
  // Where the servers listen and how they are reached.
  std::string bind = "127.0.0.1";
  int discovery_port = 5000;
  int monitor_port = 8080;
  int base_port = 7000;
  std::string node_bind;                  // default: --bind, or 0.0.0.0 with several hosts
  std::string advertise_host;             // this machine as the nodes dial it; default: --bind
  std::string auth_token;                 // default: $RAFT_AUTH_TOKEN, else generated
  std::vector<std::string> served_hosts;  // more names every server answers to
  // MPI, on one host or several.
  std::string mpirun = "mpirun";
  std::string hostfile;
  std::string hosts;
  std::string mpi_if;
  std::vector<std::string> mca;
  // Slurm: whether to use an allocation, and who starts the ranks in one.
  std::string slurm = "auto";
  std::string slurm_launch = "auto";
  std::string srun = "srun";
  // What use_slurm() found: the allocation in use (slurm_nodes 0: none).
  int slurm_nodes = 0;
  std::string slurm_job;
  std::string slurm_tasks_per_node;

  /// Several machines: a hostfile, a host list or a Slurm allocation.
  bool multi_host() const { return !hostfile.empty() || !hosts.empty() || slurm_nodes > 0; }
};

[[noreturn]] void fail_flags(const std::string& message) {
  std::cerr << "launch_cluster: " << message << "\n";
  std::exit(kExitBadFlags);
}

std::string find_in_path(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return access(program.c_str(), X_OK) == 0 ? program : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t colon = dirs.find(':', start);
    const std::string dir =
        dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

/// Counts, timeouts and ports, one by one.
void validate_numbers(const Flags& f) {
  auto port_ok = [](int p) { return p >= 1 && p <= 65535; };
  if (f.nodes < 1) fail_flags("--nodes must be at least 1 (got " + std::to_string(f.nodes) + ")");
  if (f.spares < 0) fail_flags("--spares must not be negative");
  if (f.ranks() > 128) {
    fail_flags("--nodes plus --spares must be at most 128 (got " + std::to_string(f.ranks()) + ")");
  }
  if (f.min_election_timeout < 1) fail_flags("--min_election_timeout must be positive");
  if (f.min_election_timeout > f.max_election_timeout) {
    fail_flags("--min_election_timeout (" + std::to_string(f.min_election_timeout) +
               ") must not exceed --max_election_timeout (" +
               std::to_string(f.max_election_timeout) + ")");
  }
  if (f.heartbeat_interval < 1) fail_flags("--heartbeat_interval must be positive");
  if (f.heartbeat_interval >= f.min_election_timeout) {
    fail_flags("--heartbeat_interval (" + std::to_string(f.heartbeat_interval) +
               ") must be below --min_election_timeout (" + std::to_string(f.min_election_timeout) +
               ")");
  }
  if (f.initial_delay_ms < 0) fail_flags("--initial_delay_ms must not be negative");
  if (!port_ok(f.discovery_port)) fail_flags("--discovery_port must be in 1..65535");
  if (!port_ok(f.monitor_port)) fail_flags("--monitor_port must be in 1..65535");
  if (!port_ok(f.base_port) || f.base_port + f.ranks() - 1 > 65535) {
    fail_flags("--base_port must leave room for " + std::to_string(f.ranks()) +
               " ports below 65536");
  }
  if (f.discovery_port == f.monitor_port)
    fail_flags("--discovery_port and --monitor_port must differ");
  for (int p : {f.discovery_port, f.monitor_port}) {
    if (p >= f.base_port && p < f.base_port + f.ranks()) {
      fail_flags("port " + std::to_string(p) +
                 " is both a service port and a node port (--base_port " +
                 std::to_string(f.base_port) + " with " + std::to_string(f.ranks()) + " ranks)");
    }
  }
}

/// fsync, the host list, MPI settings and addresses, one by one.
/// $RAFT_SERVED_HOSTS for the children: --advertise_host (how the nodes and
/// the printed URLs reach discovery and the monitor), every --served_host,
/// and what this process was given in the variable. Exits on a bad name.
std::string served_hosts_env(const Flags& f) {
  const char* inherited = std::getenv(raft::discovery::kServedHostsEnv);
  std::string problem;
  const auto names = raft::discovery::served_names(f.advertise_host, f.served_hosts,
                                                   inherited ? inherited : "", &problem);
  if (!names) fail_flags(problem);
  std::string out;
  for (const std::string& name : *names) out += (out.empty() ? "" : ",") + name;
  return out;
}

void validate_hosts(const Flags& f) {
  if (f.fsync != "always" && f.fsync != "never") fail_flags("--fsync must be 'always' or 'never'");
  if (!f.hostfile.empty() && !fs::is_regular_file(f.hostfile)) {
    fail_flags("--hostfile " + f.hostfile + " is not a readable file");
  }
  if (!f.hostfile.empty() && !f.hosts.empty()) fail_flags("give --hostfile or --host, not both");
  if (f.data_dir.empty()) fail_flags("--data_dir must not be empty");
  if (!f.log_file.empty() && !fs::is_directory(fs::absolute(f.log_file).parent_path())) {
    fail_flags("--log_file " + f.log_file + ": its folder does not exist");
  }
  if (!f.mpi_if.empty()) {
    if (auto why = raft::launcher::mpi_if_error(f.mpi_if)) fail_flags(*why);
  }
  for (const std::string& m : f.mca) {
    std::string why;
    if (!raft::launcher::parse_mca(m, &why)) fail_flags(why);
  }
  for (const auto& [flag, host] : {std::pair{"--bind", f.bind}, {"--node_bind", f.node_bind}}) {
    std::string why;
    if (!host.empty() && !raft::discovery::parse_bind_host(host, &why)) {
      fail_flags(std::string(flag) + " '" + host + "': " + why);
    }
  }
  if (!f.advertise_host.empty()) {
    if (raft::discovery::is_wildcard_host(f.advertise_host)) {
      fail_flags("--advertise_host must be an address the other hosts can dial, not " +
                 f.advertise_host);
    }
    if (auto why = raft::discovery::host_error(f.advertise_host)) {
      fail_flags("--advertise_host '" + f.advertise_host + "': " + *why);
    }
  }
  served_hosts_env(f);  // exits on a bad --served_host before anything starts
}

/// With several hosts, discovery and the monitor listen on --bind, and the
/// nodes on other hosts must be able to dial it.
void validate_reachable(const Flags& f) {
  if (!f.multi_host() || !f.advertise_host.empty()) return;
  if (raft::discovery::is_wildcard_host(f.bind)) {
    fail_flags("--bind " + f.bind +
               " with several hosts needs --advertise_host: this machine's address as the "
               "other hosts reach it");
  }
  if (raft::discovery::is_loopback_host(f.bind)) {
    fail_flags("--bind " + f.bind +
               " is loopback: with --hostfile or --host the other hosts cannot reach "
               "discovery; give --bind this machine's address on the cluster's network");
  }
}

void check_ports_free(const Flags& f) {
  auto check = [&](int port, const std::string& what) {
    if (!raft::launcher::port_is_free(f.bind, port)) {
      std::cerr << "launch_cluster: port " << port << " (" << what << ") is already in use on "
                << f.bind << "\n";
      std::exit(kExitBadFlags);
    }
  };
  check(f.discovery_port, "--discovery_port");
  check(f.monitor_port, "--monitor_port");
  // With several hosts the node ports are on other machines.
  if (!f.multi_host()) {
    for (int i = 0; i < f.ranks(); ++i) check(f.base_port + i, "node " + std::to_string(i));
  }
}

/// Blocks SIGINT and SIGTERM so they can be waited for with sigtimedwait.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return set;
}

/// Waits up to `ms` for SIGINT/SIGTERM; returns the signal or 0.
int wait_signal(const sigset_t& set, int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1'000'000L};
  const int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

void add_flags(CLI::App& app, Flags& f) {
  app.add_option("--nodes", f.nodes, "number of Raft nodes (the voters)")->capture_default_str();
  app.add_option("--spares", f.spares,
                 "standby ranks started beside them, outside the cluster until add_node R")
      ->capture_default_str();
  app.add_option("--discovery_port", f.discovery_port, "discovery_server port")
      ->capture_default_str();
  app.add_option("--monitor_port", f.monitor_port, "web_monitor port")->capture_default_str();
  raft::apps::add_timing_flags(app, f.min_election_timeout, f.max_election_timeout,
                               f.heartbeat_interval);
  app.add_option("--base_port", f.base_port, "node i serves HTTP on base_port + i")
      ->capture_default_str();
  app.add_option("--initial_delay_ms", f.initial_delay_ms, "time a node stays INITIAL")
      ->capture_default_str();
  app.add_option("--data_dir", f.data_dir, "durable state: <data_dir>/node-<rank>/")
      ->capture_default_str();
  app.add_flag("--fresh", f.fresh, "wipe the data_dir's node state and discovery registry first");
  app.add_option("--bind", f.bind,
                 "address discovery, the monitor and (on one host) the nodes listen on")
      ->capture_default_str();
  app.add_option("--node_bind", f.node_bind,
                 "address the nodes listen on (default: --bind; 0.0.0.0 with several hosts)");
  app.add_option("--advertise_host", f.advertise_host,
                 "this machine's address as the nodes reach discovery (default: --bind)");
  app.add_option("--auth_token", f.auth_token,
                 "token for commands and writes on every server (default: $RAFT_AUTH_TOKEN, "
                 "else generated; printed and written to <data_dir>/auth_token)");
  app.add_option("--served_host", f.served_hosts,
                 "another name the servers are reached by, as the Host header carries it (name "
                 "or name:port; repeatable); --advertise_host is served anyway. Passed to every "
                 "server in $RAFT_SERVED_HOSTS");
  app.add_option("--hostfile", f.hostfile, "MPI hostfile, passed to mpirun");
  app.add_option("--host", f.hosts, "comma-separated hosts, passed to mpirun --host");
  app.add_option("--mpi_if", f.mpi_if,
                 "interfaces or subnets MPI uses between hosts (btl_tcp_if_include and "
                 "oob_tcp_if_include), e.g. eth1 or 10.0.0.0/24");
  app.add_option("--mca", f.mca, "extra Open MPI parameter NAME=VALUE (repeatable)");
  app.add_option("--mpirun", f.mpirun, "mpirun to use")->capture_default_str();
  app.add_option("--slurm", f.slurm,
                 "auto: inside a Slurm allocation (SLURM_JOB_ID) take the hosts, rank count and "
                 "address from it; on: require one; off: ignore it")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  app.add_option("--slurm_launch", f.slurm_launch,
                 "in an allocation, start the ranks with mpirun (under Slurm) or srun --mpi=pmix; "
                 "auto: srun if Slurm has PMIx (srun --mpi=list), else mpirun")
      ->check(CLI::IsMember({"auto", "mpirun", "srun"}))
      ->capture_default_str();
  app.add_option("--srun", f.srun, "srun to use in an allocation")->capture_default_str();
  app.add_option("--fsync", f.fsync, "always | never (never is unsafe: for slow disks)")
      ->capture_default_str();
  app.add_option("--log_level", f.log_level, "trace|debug|info|warn|error")->capture_default_str();
  app.add_option("--log_file", f.log_file,
                 "append every child's output to this file; launch_cluster's own lines (the "
                 "URLs) stay on its output");
  app.add_option("--leader_timeout_s", f.leader_timeout_s,
                 "give up waiting for a leader after this (0: auto)");
}

/// Where scripts find the run's token: `curl -H "Authorization: Bearer
/// $(cat raft_data/auth_token)"`.
constexpr const char* kTokenFileName = "auth_token";

/// Writes `token` to `path`, readable by this user only (0600 from the
/// start, so no other user can open it between create and chmod).
void write_token_file(const fs::path& path, const std::string& token) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const std::string line = token + "\n";
  const bool ok = fd >= 0 && ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (fd >= 0) ::close(fd);
  if (!ok) {
    std::cerr << "launch_cluster: cannot write " << path.string() << ": " << std::strerror(errno)
              << "\n";
    std::exit(1);
  }
}

/// Inside a Slurm allocation: the rank count, the bind address and the hosts
/// come from it; from a login node launch_cluster first re-runs itself on
/// the allocation's first node (never returns then). Exits with one line on
/// a problem.
void use_slurm(const CLI::App& app, Flags& f, int argc, char** argv) {
  namespace rl = raft::launcher;
  const rl::SlurmPlan plan = rl::plan_slurm(*rl::parse_slurm_use(f.slurm), rl::process_env());
  if (!plan.error.empty()) fail_flags(plan.error);
  if (!plan.allocation) return;
  const rl::SlurmAllocation& a = *plan.allocation;
  if (f.multi_host()) {
    fail_flags("inside Slurm job " + a.job_id +
               " the hosts come from Slurm: drop --hostfile and --host, or give --slurm off");
  }
  const std::string srun = find_in_path(f.srun);
  if (srun.empty()) fail_flags("--srun " + f.srun + " was not found (install slurm-client)");
  f.srun = srun;
  if (!a.on_allocated_node()) {
    std::vector<std::string> self = {fs::canonical("/proc/self/exe").string()};
    self.insert(self.end(), argv + 1, argv + argc);
    std::cerr << "launch_cluster: Slurm job " << a.job_id << ": running on its first node, "
              << a.nodes.front() << "\n";
    // Returns only if exec failed.
    const std::string why = rl::exec_first_node_step(srun, a, self);
    std::cerr << "launch_cluster: " << why << "\n";
    std::exit(1);
  }
  if (app.count("--nodes") == 0) {
    f.nodes = a.tasks;
  } else if (f.nodes > a.tasks) {
    fail_flags("--nodes " + std::to_string(f.nodes) + " is more than the " +
               std::to_string(a.tasks) + " tasks of Slurm job " + a.job_id);
  }
  if (app.count("--bind") == 0) {
    std::string why;
    const std::optional<std::string> address =
        rl::node_address(a.this_node, rl::resolve_host, &why);
    if (!address) fail_flags(why + "; give --bind with this node's address");
    f.bind = *address;
  }
  const rl::SlurmLaunch launch =
      rl::resolve_slurm_launch(*rl::parse_slurm_launch(f.slurm_launch), f.srun);
  f.slurm_launch = launch == rl::SlurmLaunch::kSrun ? "srun" : "mpirun";
  f.slurm_nodes = static_cast<int>(a.nodes.size());
  f.slurm_job = a.job_id;
  f.slurm_tasks_per_node = a.tasks_per_node;
}

/// What main works out from the flags before anything starts.
struct Setup {
  std::string auth_token;
  bool token_generated = false;
  fs::path bin_dir;
  fs::path data_dir;
  std::string mpirun;
};

/// Resolves the token, finds the programs and mpirun, checks the ports and
/// prepares the data folder; exits with one line on the first problem.
Setup prepare(const Flags& f) {
  Setup s;
  std::string token_problem;
  s.auth_token = raft::auth::resolve_token(f.auth_token, &token_problem);
  if (!token_problem.empty()) fail_flags(token_problem);
  if (s.auth_token.empty()) {
    s.auth_token = raft::auth::generate_token();
    s.token_generated = true;
  }
  s.bin_dir = fs::canonical("/proc/self/exe").parent_path();
  for (const char* program : {"discovery_server", "web_monitor", "raft_node"}) {
    if (access((s.bin_dir / program).c_str(), X_OK) != 0) {
      std::cerr << "launch_cluster: " << (s.bin_dir / program).string()
                << " is missing; build it first\n";
      std::exit(1);
    }
  }
  s.mpirun = find_in_path(f.mpirun);
  if (s.mpirun.empty()) fail_flags("--mpirun " + f.mpirun + " was not found (install openmpi-bin)");
  check_ports_free(f);
  s.data_dir = fs::absolute(f.data_dir);
  std::error_code ec;
  if (f.fresh) {
    for (const auto& e : fs::directory_iterator(s.data_dir, ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("node-", 0) == 0 || n == "discovery_state.json") fs::remove_all(e.path(), ec);
    }
  }
  fs::create_directories(s.data_dir, ec);
  if (ec) {
    std::cerr << "launch_cluster: cannot create " << s.data_dir.string() << ": " << ec.message()
              << "\n";
    std::exit(1);
  }
  write_token_file(s.data_dir / kTokenFileName, s.auth_token);
  return s;
}

/// MPI and raft_node settings from the flags.
void set_job_options(const Flags& f, const Setup& s, raft::launcher::ClusterOptions& c) {
  c.mpi.mpirun = s.mpirun;
  c.mpi.cores = std::max(1u, std::thread::hardware_concurrency());
  c.mpi.hostfile = f.hostfile;
  c.mpi.hosts = f.hosts;
  c.mpi.mpi_if = f.mpi_if;
  c.mpi.slurm_nodes = f.slurm_nodes;
  if (f.slurm_nodes > 0 && f.slurm_launch == "srun") c.mpi.srun = f.srun;
  for (const std::string& m : f.mca)
    c.mpi.extra_mca.push_back(*raft::launcher::parse_mca(m, nullptr));
  c.mpi.forwarded_env = {"SERVICE_DISCOVERY_URL"};
  c.mpi.forwarded_env.push_back(raft::auth::kTokenEnv);
  if (c.env.count(raft::discovery::kServedHostsEnv) != 0) {
    c.mpi.forwarded_env.push_back(raft::discovery::kServedHostsEnv);
  }
  c.node.min_election_timeout_ms = f.min_election_timeout;
  c.node.max_election_timeout_ms = f.max_election_timeout;
  c.node.heartbeat_interval_ms = f.heartbeat_interval;
  c.node.initial_delay_ms = f.initial_delay_ms;
  c.node.bind = !f.node_bind.empty() ? f.node_bind : (f.multi_host() ? "0.0.0.0" : f.bind);
  c.node.fsync = f.fsync;
  c.node.log_level = f.log_level;
  if (f.spares > 0) c.node.voters = f.nodes;
}

raft::launcher::ClusterOptions cluster_options(const Flags& f, const Setup& s) {
  raft::launcher::ClusterOptions c;
  c.nodes = f.ranks();
  c.bin_dir = s.bin_dir;
  c.node_data_dir = s.data_dir;
  c.discovery_state_file = s.data_dir / "discovery_state.json";
  c.bind = f.bind;
  c.advertise_host = f.advertise_host;
  c.discovery_port = f.discovery_port;
  c.base_port = f.base_port;
  c.monitor_port = f.monitor_port;
  // On other hosts a rank's address is known only once it registers.
  if (f.multi_host()) c.monitor_args = {"--node_host", "none"};
  c.service_healthy_limit_ms = std::chrono::seconds(10);
  if (!f.log_file.empty()) c.log_file = fs::absolute(f.log_file);
  c.job_stop_grace_ms = std::chrono::seconds(6);
  // Through the environment, not argv: other users see argv in `ps`.
  c.env[raft::auth::kTokenEnv] = s.auth_token;
  if (const std::string served = served_hosts_env(f); !served.empty()) {
    c.env[raft::discovery::kServedHostsEnv] = served;
  }
  // Open MPI reads the slots from here, and in launch_cluster's own step
  // Slurm has put the step's value in its place.
  if (f.slurm_nodes > 0) c.env["SLURM_TASKS_PER_NODE"] = f.slurm_tasks_per_node;
  // The nodes may be on other hosts: only discovery knows where they are.
  c.leader_from_discovery = true;
  set_job_options(f, s, c);
  return c;
}

void print_banner(const Flags& f, const Setup& s, const raft::launcher::Cluster& cluster,
                  const raft::launcher::Leader& leader) {
  std::printf("Raft cluster of %d node%s is up", f.nodes, f.nodes == 1 ? "" : "s");
  if (f.spares > 0) std::printf(" (and %d standby: add_node R adds one)", f.spares);
  std::printf(".\n");
  const std::string shown_host = f.advertise_host.empty() ? cluster.local_host() : f.advertise_host;
  std::printf("  Monitor:    http://%s:%d/#token=%s\n", shown_host.c_str(), f.monitor_port,
              s.auth_token.c_str());
  std::printf("  Discovery:  %s/state\n", cluster.discovery_url().c_str());
  if (!f.multi_host()) {
    for (int i = 0; i < f.ranks(); ++i)
      std::printf("  Node %-3d    http://%s:%d\n", i, f.bind.c_str(), f.base_port + i);
  } else {
    // The addresses the nodes registered: the only ones that are right.
    for (const auto& [id, address] : cluster.discovery_nodes())
      std::printf("  Node %-3s    http://%s\n", id.c_str(), address.c_str());
  }
  std::printf("  Leader:     node %d (term %lld)\n", leader.rank, leader.term);
  if (f.slurm_nodes > 0) {
    std::printf("  Slurm:      job %s, %d node%s, ranks started by %s\n", f.slurm_job.c_str(),
                f.slurm_nodes, f.slurm_nodes == 1 ? "" : "s", f.slurm_launch.c_str());
  }
  std::printf("  Data:       %s\n", s.data_dir.string().c_str());
  std::printf(
      "  Auth token: %s (%s; in %s; commands and writes need 'Authorization: Bearer "
      "<token>')\n",
      s.auth_token.c_str(), s.token_generated ? "generated for this run" : "as given",
      (s.data_dir / kTokenFileName).string().c_str());
  std::printf("Press Ctrl+C to stop every process.\n");
  std::fflush(stdout);
}

/// Runs until a signal (exit 0) or until a child dies (exit 1).
int serve(raft::launcher::Cluster& cluster, const sigset_t& stop_signals) {
  for (;;) {
    if (int sig = wait_signal(stop_signals, 200)) {
      std::cerr << "launch_cluster: " << strsignal(sig) << " received, stopping the cluster\n";
      return 0;
    }
    if (auto why = cluster.first_exit()) {
      std::cerr << "launch_cluster: " << *why << "; stopping the rest\n";
      return 1;
    }
  }
}

/// Starts everything, waits for a leader discovery knows, prints the URLs,
/// serves; stops every process it started on the way out.
int run(const Flags& f, const Setup& s) {
  const sigset_t stop_signals = block_stop_signals();
  raft::launcher::Cluster cluster(cluster_options(f, s));
  std::string error;
  if (!cluster.start(&error)) {
    std::cerr << "launch_cluster: " << error << "; stopping what was started\n";
    return 1;
  }
  const int leader_timeout_ms = f.leader_timeout_s > 0
                                    ? f.leader_timeout_s * 1000
                                    : f.initial_delay_ms + 10 * f.max_election_timeout + 15000;
  int sig = 0;
  std::optional<std::string> died;
  const auto leader = cluster.wait_leader(std::chrono::milliseconds(leader_timeout_ms), [&] {
    sig = wait_signal(stop_signals, 100);
    if (sig == 0) died = cluster.first_exit();
    return sig != 0 || died.has_value();
  });
  if (sig != 0) {
    std::cerr << "launch_cluster: " << strsignal(sig) << " received, stopping the cluster\n";
    return 0;
  }
  if (!leader) {
    std::cerr << "launch_cluster: "
              << (died ? *died + " before a leader was elected"
                       : "no leader was elected within " +
                             std::to_string(leader_timeout_ms / 1000) + " s")
              << "; stopping what was started\n";
    return 1;
  }
  print_banner(f, s, cluster, *leader);
  const int exit_code = serve(cluster, stop_signals);
  cluster.stop();
  if (exit_code == 0) std::cerr << "launch_cluster: stopped every process\n";
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // Output piped to a reader that dies first (`scripts/demo.sh | tee log`,
  // Ctrl+C kills tee too) must not kill the launcher before it has stopped
  // its children: a write then fails with EPIPE instead. Children get the
  // default back (child_process.cpp).
  std::signal(SIGPIPE, SIG_IGN);
  Flags f;
  CLI::App app{"Start a Raft cluster: discovery_server, web_monitor and mpirun -n N raft_node"};
  add_flags(app, f);
  if (const auto code = raft::apps::parse_flags(app, argc, argv, fail_flags)) return *code;
  use_slurm(app, f, argc, argv);
  validate_numbers(f);
  validate_hosts(f);
  validate_reachable(f);
  return run(f, prepare(f));
}
