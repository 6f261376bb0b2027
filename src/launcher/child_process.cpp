#include "launcher/child_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include <httplib.h>

extern char** environ;

namespace raft::launcher {

namespace {

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

}  // namespace

ChildProcess::ChildProcess(std::string name, std::vector<std::string> argv,
                           std::map<std::string, std::string> extra_env)
    : name_(std::move(name)) {
  if (argv.empty()) throw std::runtime_error("no program given for " + name_);
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const std::string key = entry.substr(0, entry.find('='));
    if (!extra_env.count(key)) env_storage.push_back(entry);
  }
  for (const auto& [k, v] : extra_env) env_storage.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  // exec errors come back through a close-on-exec pipe: EOF means exec worked.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed: " + std::string(strerror(errno)));
  pid_ = fork();
  if (pid_ < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error("cannot start " + name_ + ": fork failed: " + strerror(errno));
  }
  if (pid_ == 0) {
    setpgid(0, 0);  // its own group: we signal the whole group on shutdown
    // The launcher blocks SIGINT/SIGTERM to wait for them; masks survive exec.
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);  // ignored dispositions survive exec too
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execve(args[0], args.data(), envp.data());
    const int err = errno;
    [[maybe_unused]] ssize_t n = write(fds[1], &err, sizeof err);
    _exit(127);
  }
  setpgid(pid_, pid_);  // also from the parent, so there is no race with kill()
  close(fds[1]);
  int err = 0;
  const ssize_t n = read(fds[0], &err, sizeof err);
  close(fds[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_status_ = status;
    throw std::runtime_error("cannot start " + name_ + " (" + argv[0] + "): " + strerror(err));
  }
}

ChildProcess::~ChildProcess() {
  if (running()) stop(std::chrono::milliseconds(2000));
}

std::optional<std::string> ChildProcess::poll_exit() {
  if (!exit_status_) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) exit_status_ = status;
  }
  if (!exit_status_) return std::nullopt;
  return name_ + " (pid " + std::to_string(pid_) + ") " + describe_status(*exit_status_);
}

namespace {

/// A process's start time (field 22 of /proc/PID/stat), which tells a PID
/// apart from a later process that reuses it; 0 if it is gone.
unsigned long long start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::stoull(field);
  }
  return 0;
}

/// Every descendant of `pid` with its start time, from /proc/PID/task/TID/children.
std::vector<std::pair<pid_t, unsigned long long>> descendants(pid_t pid) {
  std::vector<std::pair<pid_t, unsigned long long>> out;
  std::vector<pid_t> todo = {pid};
  while (!todo.empty() && out.size() < 4096) {
    const pid_t parent = todo.back();
    todo.pop_back();
    std::error_code ec;
    const std::filesystem::path tasks = "/proc/" + std::to_string(parent) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
      std::ifstream children(task.path() / "children");
      pid_t child = 0;
      while (children >> child) {
        out.emplace_back(child, start_time(child));
        todo.push_back(child);
      }
    }
  }
  return out;
}

}  // namespace

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) {
    kill(-pid_, SIGKILL);  // leftovers of its group, if any
    return;
  }
  // mpirun puts every rank in a process group of its own, so the group
  // signal below does not reach them: remember them by PID while mpirun still
  // knows them, in case it hangs and they must be killed one by one.
  const auto family = descendants(pid_);
  kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (poll_exit()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Whatever is left (a rank that ignored SIGTERM, a hung mpirun) goes now;
  // a PID whose start time changed belongs to someone else by now.
  kill(-pid_, SIGKILL);
  for (const auto& [pid, started] : family) {
    if (started != 0 && start_time(pid) == started) kill(pid, SIGKILL);
  }
  if (running()) {
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_status_ = status;
  }
}

bool port_is_free(const std::string& host, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
  // SO_REUSEADDR, as our servers set it: a listener still makes bind fail,
  // but the TIME_WAIT connections a cluster stopped a moment ago leave behind
  // do not (without it, Ctrl+C and an immediate relaunch said "in use").
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return free;
}

int free_port_range(int count) {
  constexpr int kFirst = 20000, kEnd = 32700;
  static std::mutex mutex;
  static int next = kFirst + static_cast<int>(::getpid() % 1000) * 12;
  const std::lock_guard lock(mutex);
  for (int attempt = 0; attempt < 2000; ++attempt) {
    if (next + count > kEnd) next = kFirst;
    const int base = next;
    next += count + 1;
    bool all_free = true;
    for (int p = base; p < base + count && all_free; ++p) all_free = port_is_free("127.0.0.1", p);
    if (all_free) return base;
  }
  return 0;
}

bool wait_healthy(const std::string& host, int port, std::chrono::milliseconds limit,
                  ChildProcess* child) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  httplib::Client client(host, port);
  client.set_connection_timeout(0, 200'000);
  client.set_read_timeout(1, 0);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto res = client.Get("/healthz"); res && res->status == 200) return true;
    if (child && child->poll_exit()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace raft::launcher
