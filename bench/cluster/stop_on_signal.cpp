#include "stop_on_signal.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>

#include "launcher/process_tree.hpp"

namespace raft::bench {

namespace {

void kill_children_and_exit(int sig) {
  for (pid_t child : launcher::children_of(::getpid())) {
    for (pid_t rank : launcher::children_of(child)) ::kill(rank, SIGKILL);
    ::kill(-child, SIGKILL);  // its group: every child was started in one of its own
    ::kill(child, SIGKILL);
  }
  // The launcher's cluster folders and etcd_cluster's, named after our PID.
  namespace fs = std::filesystem;
  const std::string pid = std::to_string(::getpid());
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("raft_cluster_" + pid + "_", 0) == 0 ||
        name.rfind("raft_bench_etcd_" + pid + "_", 0) == 0) {
      fs::remove_all(entry.path(), ec);
    }
  }
  std::fprintf(stderr, "stopped by signal %d: every process started was killed\n", sig);
  std::_Exit(128 + sig);
}

}  // namespace

void stop_children_on_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0) kill_children_and_exit(sig);
  }).detach();
}

}  // namespace raft::bench
