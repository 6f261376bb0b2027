#pragma once
/// ChildProcess: a program the launcher started, in its own process group so
/// that it and everything it starts (mpirun's ranks) can be signalled at once.
/// Not thread-safe; the launcher's main thread owns every child.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace raft::launcher {

class ChildProcess {
 public:
  /// Starts `argv[0]` (a path) with `argv`, the launcher's environment plus
  /// `extra_env`, stdin from /dev/null. Throws std::runtime_error if fork or
  /// exec fails (exec failure is reported through a pipe, so it is caught here).
  ChildProcess(std::string name, std::vector<std::string> argv,
               std::map<std::string, std::string> extra_env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  bool running() const { return !exit_status_.has_value(); }
  /// Reaps the child if it has exited; returns a description once it has.
  std::optional<std::string> poll_exit();

  /// SIGTERM to the group, then SIGKILL after `grace` to the group and to
  /// every descendant seen at the start (mpirun's ranks have groups of their
  /// own); waits for the child.
  void stop(std::chrono::milliseconds grace);

 private:
  std::string name_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

/// True if nothing listens on host:port (we can bind it ourselves).
bool port_is_free(const std::string& host, int port);

/// A base port with `count` free loopback ports after it, for tests and tools
/// that start throwaway clusters; 0 if none was found. The ports lie in
/// 20000-32700: away from the defaults (5000, 7000+, 8080) and below the
/// kernel's ephemeral range (32768-60999 on Linux), where a port free when
/// checked can be taken by any outgoing connection or by mpirun's own
/// listeners before the node binds it (seen with 25 ranks: "Address already
/// in use"). Successive calls in one process walk on, so they do not return
/// the same range twice; the start depends on the PID, so processes differ.
int free_port_range(int count);

/// GETs http://host:port/healthz until it answers 200 or `limit` passes.
/// Gives up early (false) if `child` exits meanwhile.
bool wait_healthy(const std::string& host, int port, std::chrono::milliseconds limit,
                  ChildProcess* child);

}  // namespace raft::launcher
