#include "chaos_cluster.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <httplib.h>

namespace raft::chaos {

namespace fs = std::filesystem;

ChaosCluster::ChaosCluster(ClusterOptions options) : options_(std::move(options)) {}

ChaosCluster::~ChaosCluster() { stop(); }

bool ChaosCluster::start(std::string* error) {
  fs::create_directories(options_.work_dir / "data");
  discovery_port_ = launcher::free_port_range(1);
  base_port_ = launcher::free_port_range(options_.nodes);
  if (discovery_port_ == 0 || base_port_ == 0) {
    *error = "no free ports found";
    return false;
  }
  // Children write to files: warnings of paused or crashed nodes are expected
  // here and would drown the run's own output.
  const std::string log = (options_.work_dir / "nodes.log").string();
  discovery_ = std::make_unique<launcher::ChildProcess>(
      "discovery_server",
      std::vector<std::string>{"/bin/sh", "-c", "exec \"$0\" \"$@\" >>\"$CHAOS_LOG\" 2>&1",
                               (options_.bin_dir / "discovery_server").string(), "--port",
                               std::to_string(discovery_port_), "--state_file",
                               (options_.work_dir / "discovery.json").string()},
      std::map<std::string, std::string>{{"CHAOS_LOG", log}});
  if (!launcher::wait_healthy("127.0.0.1", discovery_port_, std::chrono::seconds(30),
                              discovery_.get())) {
    *error = "discovery_server did not become healthy (see " + log + ")";
    return false;
  }
  return start_job(error);
}

bool ChaosCluster::start_job(std::string* error) {
  launcher::MpiCommandOptions mpi;
  mpi.mpirun = options_.mpirun;
  mpi.ranks = options_.nodes;
  mpi.as_root = ::geteuid() == 0;
  mpi.cores = 1;  // always --oversubscribe: the machine is shared with other jobs
  launcher::RaftNodeFlags node;
  node.binary = (options_.bin_dir / "raft_node").string();
  node.min_election_timeout_ms = options_.min_election_timeout_ms;
  node.max_election_timeout_ms = options_.max_election_timeout_ms;
  node.heartbeat_interval_ms = options_.heartbeat_interval_ms;
  node.initial_delay_ms = 100;
  node.base_port = base_port_;
  node.data_dir = (options_.work_dir / "data").string();
  node.discovery_url = "http://127.0.0.1:" + std::to_string(discovery_port_);
  node.fsync = options_.fsync;
  node.snapshot_every = options_.snapshot_every;
  node.log_level = "warn";
  mpi.program = launcher::raft_node_argv(node);
  std::vector<std::string> args = {"/bin/sh", "-c", "exec \"$0\" \"$@\" >>\"$CHAOS_LOG\" 2>&1"};
  for (std::string& a : launcher::mpirun_argv(mpi)) args.push_back(std::move(a));
  try {
    auto job = std::make_unique<launcher::ChildProcess>(
        "mpirun", args,
        std::map<std::string, std::string>{
            {"CHAOS_LOG", (options_.work_dir / "nodes.log").string()}});
    std::lock_guard lock(job_mutex_);
    job_ = std::move(job);
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
  if (!wait_nodes_healthy(std::chrono::seconds(60))) {
    *error = "the nodes did not answer /healthz within 60 s (see " +
             (options_.work_dir / "nodes.log").string() + ")";
    return false;
  }
  return true;
}

bool ChaosCluster::wait_nodes_healthy(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (int rank = 0; rank < options_.nodes; ++rank) {
    for (;;) {
      if (unexpected_exit()) return false;
      if (get(rank, "/healthz", std::chrono::milliseconds(500)).status == 200) break;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

namespace {

/// The fields of /proc/<pid>/stat after the command name: state, ppid.
bool read_stat(pid_t pid, char* state, pid_t* ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  return static_cast<bool>(rest >> *state >> *ppid);
}

/// Direct children of `parent` (Open MPI's mpirun forks the ranks itself and
/// puts each in a process group of its own, so the job's group misses them).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    char state = 0;
    pid_t ppid = 0;
    if (read_stat(pid, &state, &ppid) && ppid == parent) out.push_back(pid);
  }
  return out;
}

/// Gone, or a zombie nobody reaped yet (it holds no ports or files).
bool is_gone(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  return !read_stat(pid, &state, &ppid) || state == 'Z' || state == 'X';
}

}  // namespace

void ChaosCluster::kill_job() {
  std::lock_guard lock(job_mutex_);
  if (!job_) return;
  const pid_t group = job_->pid();
  // All at once: mpirun's group, then the ranks by PID (found first: once
  // mpirun is gone they belong to init). mpirun goes first so it cannot
  // report the ranks' deaths as a failed job in nodes.log.
  const std::vector<pid_t> ranks = children_of(group);
  ::kill(-group, SIGKILL);
  for (pid_t r : ranks) ::kill(r, SIGKILL);
  job_->stop(std::chrono::milliseconds(0));  // reaps mpirun
  // Wait until no rank is left, so the relaunched ranks find their ports and
  // files free.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (pid_t r : ranks) {
    while (!is_gone(r) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  job_.reset();
}

bool ChaosCluster::relaunch(std::string* error) { return start_job(error); }

std::optional<std::string> ChaosCluster::unexpected_exit() {
  std::lock_guard lock(job_mutex_);
  if (!job_) return std::nullopt;
  return job_->poll_exit();
}

void ChaosCluster::stop() {
  {
    std::lock_guard lock(job_mutex_);
    if (job_) job_->stop(std::chrono::seconds(5));
    job_.reset();
  }
  if (discovery_) discovery_->stop(std::chrono::seconds(3));
  discovery_.reset();
}

namespace {

HttpAnswer answer_of(const httplib::Result& r) {
  HttpAnswer out;
  if (!r) {
    out.error = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.body = nlohmann::json::parse(r->body, nullptr, false);
  return out;
}

}  // namespace

HttpAnswer ChaosCluster::get(int rank, const std::string& path,
                             std::chrono::milliseconds timeout) const {
  httplib::Client c("127.0.0.1", port(rank));
  c.set_connection_timeout(0, 300'000);
  c.set_read_timeout(timeout);
  return answer_of(c.Get(path));
}

HttpAnswer ChaosCluster::command(int rank, const std::string& cmd) const {
  httplib::Client c("127.0.0.1", port(rank));
  c.set_connection_timeout(0, 300'000);
  c.set_read_timeout(std::chrono::seconds(6));
  httplib::Headers headers;
  if (const char* token = std::getenv("RAFT_AUTH_TOKEN"); token && *token)
    headers.emplace("Authorization", std::string("Bearer ") + token);
  return answer_of(
      c.Post("/command", headers, nlohmann::json{{"cmd", cmd}}.dump(), "application/json"));
}

}  // namespace raft::chaos
