#pragma once
/// One of our server programs (discovery_server, web_monitor) run by a test
/// as a child process: started with posix_spawn, its stdout and stderr kept
/// in a file, stopped and reaped by PID (never by name). Every wait has a
/// deadline; nothing sleeps a fixed time.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace raft::testing {

/// Polls `condition` every 10 ms until it holds or `deadline` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline);

/// A loopback TCP port that was free a moment ago (bound to port 0, closed).
int free_port();

class ServerProcess {
 public:
  /// Starts `binary` with `args`; its output is appended to `log_file`.
  /// Throws std::runtime_error with the reason if it cannot be started.
  ServerProcess(const std::string& binary, const std::vector<std::string>& args,
                std::filesystem::path log_file);
  /// Kills the process (SIGKILL) if it still runs, and reaps it.
  virtual ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// Waits for GET /healthz on 127.0.0.1:port to answer 200.
  bool wait_healthy(int port, std::chrono::milliseconds deadline) const;
  /// Sends `signal` and waits for the exit: the exit code, 128 + signal when
  /// killed by one, or nullopt if it did not exit in time.
  std::optional<int> stop(int signal, std::chrono::milliseconds deadline);
  /// Waits for the process to exit by itself (same answers as stop).
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  /// Everything it printed so far.
  std::string output() const;
  const std::filesystem::path& log_file() const { return log_file_; }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_file_;
};

}  // namespace raft::testing
