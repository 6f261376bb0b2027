#include "etcd_cluster.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

#include "launcher/http_call.hpp"
#include "launcher/poll.hpp"

namespace raft::bench {

namespace fs = std::filesystem;

namespace {

std::string url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

fs::path fresh_dir() {
  static int counter = 0;
  const fs::path dir =
      fs::temp_directory_path() /
      ("raft_bench_etcd_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  return dir;
}

launcher::HttpReply call(int port, const std::string& method, const std::string& path,
                         const std::string& body = {}) {
  launcher::HttpRequest request;
  request.method = method;
  request.path = path;
  request.body = body;
  request.read_timeout_ms = std::chrono::milliseconds(2000);
  return launcher::http_call("127.0.0.1", port, request);
}

/// A uint64 the gateway writes as a string (or a number, to be safe) as text.
std::string id_text(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  return j.is_null() ? std::string() : j.dump();
}

/// "3.4.23" -> true for 3.4 and later, whose gateway lives under /v3.
bool has_v3_gateway(const std::string& version) {
  int major = 0, minor = 0;
  char dot = 0;
  std::istringstream in(version);
  in >> major >> dot >> minor;
  return major > 3 || (major == 3 && minor >= 4);
}

}  // namespace

std::optional<std::string> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

EtcdCluster::TempDir::~TempDir() {
  std::error_code ec;
  if (!path.empty()) fs::remove_all(path, ec);
}

EtcdCluster::EtcdCluster(const std::string& etcd_path, int members) {
  dir_.path = fresh_dir();
  client_base_port_ = launcher::free_port_range(members);
  peer_base_port_ = launcher::free_port_range(members);
  if (client_base_port_ == 0 || peer_base_port_ == 0) {
    throw std::runtime_error("no free ports found for etcd");
  }
  std::string initial_cluster;
  for (int i = 0; i < members; ++i) {
    initial_cluster += (i ? "," : "") + ("m" + std::to_string(i)) + "=" + url(peer_base_port_ + i);
  }
  for (int i = 0; i < members; ++i) start_member(etcd_path, i, initial_cluster);
  wait_ready();
}

EtcdCluster::~EtcdCluster() {
  for (auto& m : members_) m->stop(std::chrono::seconds(5));
}

void EtcdCluster::start_member(const std::string& etcd_path, int member,
                               const std::string& initial_cluster) {
  const std::string name = "m" + std::to_string(member);
  const std::string client = url(client_port(member)), peer = url(peer_base_port_ + member);
  std::vector<std::string> argv = {
      etcd_path,
      "--name=" + name,
      "--data-dir=" + (dir_.path / name).string(),
      "--listen-client-urls=" + client,
      "--advertise-client-urls=" + client,
      "--listen-peer-urls=" + peer,
      "--initial-advertise-peer-urls=" + peer,
      "--initial-cluster=" + initial_cluster,
      "--initial-cluster-state=new",
      "--initial-cluster-token=raft-bench-" + dir_.path.filename().string(),
      "--logger=zap",
      "--log-level=warn",
      "--log-outputs=" + (dir_.path / (name + ".log")).string()};
  // What etcd writes outside its logger (its gateway's gRPC client warns
  // while the member starts) goes to <name>.out, not into the report: a shell
  // sends both streams there, then becomes etcd (same PID: stopped by PID).
  argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$0\" \"$@\" >>\"$ETCD_BENCH_LOG\" 2>&1"});
  members_.push_back(std::make_unique<launcher::ChildProcess>(
      "etcd " + name, std::move(argv),
      std::map<std::string, std::string>{
          {"ETCD_BENCH_LOG", (dir_.path / (name + ".out")).string()}}));
}

void EtcdCluster::wait_ready() {
  std::string exited;
  const auto ready = [&] {
    for (int i = 0; i < size(); ++i) {
      if (auto gone = members_[static_cast<std::size_t>(i)]->poll_exit()) {
        exited = *gone + "; its log ends: " + log_tail(i);
        return true;  // stop waiting: it will not come back
      }
    }
    for (int i = 0; i < size(); ++i) {
      const launcher::HttpReply r = call(client_port(i), "GET", "/health");
      if (r.status != 200 || !r.body.is_object() || r.body.value("health", "") != "true") {
        return false;
      }
    }
    if (version_.empty() && !read_version()) return false;
    return leader() >= 0;
  };
  const bool done =
      launcher::poll_until(ready, std::chrono::seconds(60), std::chrono::milliseconds(100));
  if (!exited.empty()) throw std::runtime_error(exited);
  if (!done)
    throw std::runtime_error("etcd did not become healthy within 60 s; member 0's log ends: " +
                             log_tail(0));
}

bool EtcdCluster::read_version() {
  const launcher::HttpReply r = call(client_port(0), "GET", "/version");
  if (r.status != 200 || !r.body.is_object() || !r.body["etcdserver"].is_string()) return false;
  version_ = r.body["etcdserver"].get<std::string>();
  api_prefix_ = has_v3_gateway(version_) ? "/v3" : "/v3beta";
  return true;
}

int EtcdCluster::leader() const {
  std::string agreed;
  int leader_member = -1;
  for (int i = 0; i < size(); ++i) {
    const launcher::HttpReply r =
        call(client_port(i), "POST", api_prefix_ + "/maintenance/status", "{}");
    if (r.status != 200 || !r.body.is_object() || !r.body.contains("leader")) return -1;
    const std::string leader = id_text(r.body["leader"]);
    if (leader.empty() || (!agreed.empty() && leader != agreed)) return -1;
    agreed = leader;
    if (r.body.contains("header") && id_text(r.body["header"]["member_id"]) == leader) {
      leader_member = i;
    }
  }
  return leader_member;
}

std::string EtcdCluster::log_tail(int member) const {
  const std::string name = "m" + std::to_string(member);
  std::string last;
  for (const char* suffix : {".out", ".log"}) {  // the logger's own lines win
    std::ifstream in(dir_.path / (name + suffix));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) last = line;
    }
  }
  return last.empty() ? "(empty)" : last.substr(0, 300);
}

}  // namespace raft::bench
