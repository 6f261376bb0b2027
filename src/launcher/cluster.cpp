#include "launcher/cluster.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "discovery/advertise.hpp"
#include "launcher/poll.hpp"
#include "launcher/process_tree.hpp"

namespace raft::launcher {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

/// A temporary folder no other cluster of this or another process uses.
fs::path fresh_temp_dir() {
  static std::mutex mutex;
  static int counter = 0;
  const std::lock_guard lock(mutex);
  return fs::temp_directory_path() /
         ("raft_cluster_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
}

std::string seconds_text(std::chrono::milliseconds limit_ms) {
  return std::to_string(limit_ms.count() / 1000) + " s";
}

}  // namespace

ClusterOptions local_cluster_options(const LocalClusterSpec& spec, const fs::path& bin_dir,
                                     const std::string& mpirun) {
  ClusterOptions c;
  c.nodes = spec.nodes;
  c.bin_dir = bin_dir;
  c.mpi.mpirun = mpirun;
  c.mpi.cores = 1;
  c.node.min_election_timeout_ms = spec.min_election_timeout_ms;
  c.node.max_election_timeout_ms = spec.max_election_timeout_ms;
  c.node.heartbeat_interval_ms = spec.heartbeat_interval_ms;
  c.node.initial_delay_ms = spec.initial_delay_ms;
  c.node.fsync = spec.fsync;
  c.node.log_level = "warn";
  return c;
}

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {}

Cluster::~Cluster() { stop(); }

bool Cluster::prepare(std::string* error) {
  if (options_.node_data_dir.empty() && options_.discovery_state_file.empty()) {
    temp_dir_ = fresh_temp_dir();
    std::error_code ec;
    fs::remove_all(temp_dir_, ec);
    options_.node_data_dir = temp_dir_ / "data";
    options_.discovery_state_file = temp_dir_ / "discovery.json";
  }
  std::error_code ec;
  fs::create_directories(options_.node_data_dir, ec);
  if (ec) {
    *error = "cannot create " + options_.node_data_dir.string() + ": " + ec.message();
    return false;
  }
  discovery_port_ = options_.discovery_port > 0 ? options_.discovery_port : free_port_range(1);
  base_port_ = options_.base_port > 0 ? options_.base_port : free_port_range(options_.nodes);
  if (discovery_port_ == 0 || base_port_ == 0) {
    *error = "no free ports found";
    return false;
  }
  const std::string& bind = options_.bind;
  local_host_ = bind.empty() || discovery::is_wildcard_host(bind) ? "127.0.0.1" : bind;
  const std::string& dialed =
      options_.advertise_host.empty() ? local_host_ : options_.advertise_host;
  discovery_url_ = "http://" + dialed + ":" + std::to_string(discovery_port_);
  return true;
}

bool Cluster::start(std::string* error) {
  if (!prepare(error) || !start_discovery(error)) return false;
  if (options_.monitor_port >= 0 && !start_monitor(error)) return false;
  return start_job(error);
}

std::unique_ptr<ChildProcess> Cluster::spawn(const std::string& name,
                                             std::vector<std::string> argv) {
  std::map<std::string, std::string> env = options_.env;
  // The default every program here takes when no flag names discovery (the
  // flags given above still win).
  env.emplace("SERVICE_DISCOVERY_URL", discovery_url_);
  if (!options_.log_file.empty()) {
    // A shell that sends both streams to the file, then becomes the program
    // (same PID, so it is still stopped by PID).
    argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$0\" \"$@\" >>\"$RAFT_CHILD_LOG\" 2>&1"});
    env["RAFT_CHILD_LOG"] = options_.log_file.string();
  }
  return std::make_unique<ChildProcess>(name, std::move(argv), std::move(env));
}

bool Cluster::start_service(std::unique_ptr<ChildProcess>* slot, const std::string& name,
                            std::vector<std::string> argv, int port, std::string* error) {
  try {
    *slot = spawn(name, std::move(argv));
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
  const auto limit_ms = options_.service_healthy_limit_ms;
  if (wait_healthy(local_host_, port, limit_ms, slot->get())) return true;
  const std::optional<std::string> died = first_exit();
  *error = name + " did not become healthy" +
           (died ? ": it " + *died : " within " + seconds_text(limit_ms)) +
           (options_.log_file.empty() ? "" : " (see " + options_.log_file.string() + ")");
  return false;
}

bool Cluster::start_discovery(std::string* error) {
  std::vector<std::string> argv = {(options_.bin_dir / "discovery_server").string(), "--port",
                                   std::to_string(discovery_port_)};
  if (!options_.bind.empty()) argv.insert(argv.end(), {"--bind", options_.bind});
  argv.insert(argv.end(), {"--state_file", options_.discovery_state_file.string()});
  // Registrations for node ids outside the job are refused.
  argv.insert(argv.end(), {"--ranks", std::to_string(options_.nodes)});
  return start_service(&discovery_, "discovery_server", std::move(argv), discovery_port_, error);
}

void Cluster::stop_discovery() {
  if (discovery_) discovery_->stop(std::chrono::seconds(3));
}

void Cluster::kill_discovery() {
  if (!discovery_) return;
  ::kill(discovery_->pid(), SIGKILL);
  poll_until([&] { return discovery_->poll_exit().has_value(); }, std::chrono::seconds(30));
}

bool Cluster::start_monitor(std::string* error) {
  std::vector<std::string> argv = {(options_.bin_dir / "web_monitor").string(), "--port",
                                   std::to_string(options_.monitor_port)};
  if (!options_.bind.empty()) argv.insert(argv.end(), {"--bind", options_.bind});
  argv.insert(argv.end(), {"--discovery_url", discovery_url_, "--base_port",
                           std::to_string(base_port_), "--nodes", std::to_string(options_.nodes)});
  // The monitor's event history lives beside the nodes' data.
  if (!options_.node_data_dir.empty()) {
    argv.insert(argv.end(), {"--data_dir", (options_.node_data_dir / "monitor").string()});
  }
  argv.insert(argv.end(), options_.monitor_args.begin(), options_.monitor_args.end());
  return start_service(&monitor_, "web_monitor", std::move(argv), options_.monitor_port, error);
}

bool Cluster::start_job(std::string* error) {
  RaftNodeFlags node = options_.node;
  node.binary = (options_.bin_dir / "raft_node").string();
  node.base_port = base_port_;
  node.data_dir = options_.node_data_dir.string();
  node.discovery_url = discovery_url_;
  MpiCommandOptions mpi = options_.mpi;
  mpi.ranks = options_.nodes;
  mpi.as_root = ::geteuid() == 0;
  mpi.program = raft_node_argv(node);
  try {
    auto job =
        spawn(mpi.srun.empty() ? "raft_node job (mpirun)" : "raft_node job (srun)", job_argv(mpi));
    const std::lock_guard lock(job_mutex_);
    job_ = std::move(job);
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
  return true;
}

void Cluster::kill_job() {
  const std::lock_guard lock(job_mutex_);
  if (!job_) return;
  const pid_t group = job_->pid();
  // All at once: mpirun's group, then the ranks by PID (found first: once
  // mpirun is gone they belong to init). mpirun goes first so it cannot
  // report the ranks' deaths as a failed job.
  const std::vector<pid_t> ranks = children_of(group);
  ::kill(-group, SIGKILL);
  for (pid_t r : ranks) ::kill(r, SIGKILL);
  job_->stop(std::chrono::milliseconds(0));  // reaps mpirun
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (pid_t r : ranks) {
    while (!is_gone(r) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  job_.reset();
}

bool Cluster::wait_nodes_healthy(std::chrono::milliseconds limit_ms, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + limit_ms;
  for (int rank = 0; rank < options_.nodes; ++rank) {
    for (;;) {
      if (std::optional<std::string> died = job_exit()) {
        *error = *died + " before every node answered /healthz";
        return false;
      }
      if (get(rank, "/healthz", std::chrono::milliseconds(500)).status == 200) break;
      if (std::chrono::steady_clock::now() > deadline) {
        *error = "the nodes did not answer /healthz within " + seconds_text(limit_ms) +
                 (options_.log_file.empty() ? "" : " (see " + options_.log_file.string() + ")");
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

void Cluster::stop() {
  {
    const std::lock_guard lock(job_mutex_);
    if (job_) job_->stop(options_.job_stop_grace_ms);
    job_.reset();
  }
  if (monitor_) monitor_->stop(std::chrono::seconds(3));
  monitor_.reset();
  if (discovery_) discovery_->stop(std::chrono::seconds(3));
  discovery_.reset();
  if (!temp_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(temp_dir_, ec);
    temp_dir_.clear();
  }
}

std::optional<std::string> Cluster::job_exit() {
  const std::lock_guard lock(job_mutex_);
  if (!job_) return std::nullopt;
  return job_->poll_exit();
}

std::optional<std::string> Cluster::first_exit() {
  for (ChildProcess* child : {discovery_.get(), monitor_.get()}) {
    if (child == nullptr) continue;
    if (std::optional<std::string> why = child->poll_exit()) return why;
  }
  return job_exit();
}

ChildProcess& Cluster::job() {
  const std::lock_guard lock(job_mutex_);
  return *job_;
}

}  // namespace raft::launcher
