#pragma once
/// Helpers for the discovery tests: temporary directories, free ports,
/// deadlines, and discovery_server run as a child process (started and
/// stopped by PID; never by name).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server_process.hpp"

namespace raft::discovery::testing {

/// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

using raft::testing::free_port;
using raft::testing::wait_until;

/// A discovery_server child process. Its stdout and stderr go to `log_file`.
class DiscoveryProcess : public raft::testing::ServerProcess {
 public:
  DiscoveryProcess(const std::vector<std::string>& args, std::filesystem::path log_file);
};

/// Runs discovery_server to completion (for flag and start-up errors).
struct RunResult {
  std::optional<int> exit_code;
  std::string output;
};
RunResult run_discovery_server(const std::vector<std::string>& args,
                               const std::filesystem::path& log_file,
                               std::chrono::milliseconds deadline);

/// A short HTTP exchange with 127.0.0.1:port; status -1 when it failed.
struct HttpAnswer {
  int status = -1;
  std::string body;
  std::string content_type;
  std::string allow;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};
HttpAnswer http_get(int port, const std::string& path);
HttpAnswer http_post(int port, const std::string& path, const std::string& body);
HttpAnswer http_request(int port, const std::string& method, const std::string& path,
                        const std::string& body);

}  // namespace raft::discovery::testing
