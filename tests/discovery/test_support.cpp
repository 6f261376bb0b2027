#include "test_support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <httplib.h>
#include <spawn.h>

extern char** environ;

namespace raft::discovery::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "discovery-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log_file) {
  std::vector<std::string> argv_text;
  argv_text.push_back(DISCOVERY_SERVER_PATH);
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error(std::string("cannot start discovery_server: ") + std::strerror(rc));
  }
  return pid;
}

std::optional<int> reap(pid_t pid, std::chrono::milliseconds deadline) {
  std::optional<int> code;
  wait_until(
      [&] {
        int status = 0;
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done != pid) return false;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return true;
      },
      deadline);
  return code;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

DiscoveryProcess::DiscoveryProcess(std::vector<std::string> args, std::filesystem::path log_file)
    : log_file_(std::move(log_file)) {
  pid_ = spawn(args, log_file_);
}

DiscoveryProcess::~DiscoveryProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool DiscoveryProcess::wait_healthy(int port, std::chrono::milliseconds deadline) {
  return wait_until(
      [&] {
        if (pid_ <= 0) return false;
        return http_get(port, "/healthz").status == 200;
      },
      deadline);
}

std::optional<int> DiscoveryProcess::stop(int signal, std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, signal);
  return wait_exit(deadline);
}

std::optional<int> DiscoveryProcess::wait_exit(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return std::nullopt;
  auto code = reap(pid_, deadline);
  if (code) pid_ = -1;
  return code;
}

std::string DiscoveryProcess::output() const { return read_file(log_file_); }

RunResult run_discovery_server(const std::vector<std::string>& args,
                               const std::filesystem::path& log_file,
                               std::chrono::milliseconds deadline) {
  DiscoveryProcess process(args, log_file);
  RunResult result;
  result.exit_code = process.wait_exit(deadline);
  result.output = process.output();
  return result;
}

HttpAnswer http_request(int port, const std::string& method, const std::string& path,
                        const std::string& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::milliseconds(500));
  client.set_read_timeout(std::chrono::seconds(2));
  client.set_write_timeout(std::chrono::seconds(2));
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "GET") {
    res = client.Get(path);
  } else if (method == "POST") {
    res = client.Post(path, body, "application/json");
  } else if (method == "PUT") {
    res = client.Put(path, body, "application/json");
  } else if (method == "DELETE") {
    res = client.Delete(path);
  } else {
    throw std::invalid_argument("unsupported method " + method);
  }
  HttpAnswer answer;
  if (!res) return answer;
  answer.status = res->status;
  answer.body = res->body;
  answer.content_type = res->get_header_value("Content-Type");
  answer.allow = res->get_header_value("Allow");
  return answer;
}

HttpAnswer http_get(int port, const std::string& path) {
  return http_request(port, "GET", path, "");
}

HttpAnswer http_post(int port, const std::string& path, const std::string& body) {
  return http_request(port, "POST", path, body);
}

}  // namespace raft::discovery::testing
