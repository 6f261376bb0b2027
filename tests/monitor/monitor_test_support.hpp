#pragma once
/// Helpers for the monitor's loopback tests: fake nodes and a fake discovery
/// (httplib servers on free loopback ports, in this process), web_monitor run
/// as a child process (started and stopped by PID, never by name), and short
/// HTTP exchanges. Every wait has a deadline; nothing sleeps a fixed time.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.hpp"

namespace raft::monitor::testing {

using raft::testing::free_port;
using raft::testing::wait_until;

/// One request a fake server received.
struct Received {
  std::string method;
  std::string target;  ///< raw path and query
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;
};

/// An httplib::Server on 127.0.0.1 and a port the kernel picks, serving on
/// its own thread until destroyed. Records every request.
class FakeServer {
 public:
  FakeServer();
  virtual ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<Received> received() const;
  std::optional<Received> last(const std::string& method, const std::string& path_prefix) const;

 protected:
  /// Registers routes, then starts serving. Call once from the subclass.
  void start();
  /// Stops serving and joins the thread. Subclasses call it first in their
  /// destructors, so no handler runs on members already destroyed.
  void shutdown();
  void record(const httplib::Request& req);
  httplib::Server server_;

 private:
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Received> received_;
};

/// A node's API as far as the monitor uses it: /status, /command, /log,
/// /entries, /cmd_history, /kv/{key}. Answers are scripted per test.
class FakeNode : public FakeServer {
 public:
  explicit FakeNode(int rank);
  ~FakeNode() override { shutdown(); }
  /// The /status body (the node_id/rank fields are filled in).
  void set_status(const std::string& state, std::uint64_t term,
                  std::optional<int> leader_id = std::nullopt);
  /// The /command answer: status and exact body.
  void set_command_answer(int status, std::string body);
  /// The /kv answer for every method: status, body and extra headers.
  void set_kv_answer(int status, std::string body,
                     std::vector<std::pair<std::string, std::string>> headers = {});
  /// Records a Raft event for GET /events (its "seq" is set: 1, 2, ...).
  void add_event(nlohmann::json event);
  /// Events are numbered again from 1 under a new boot (a restarted node).
  void restart_events(std::uint64_t boot);

 private:
  int rank_;
  std::mutex mutex_;
  std::string status_body_;
  int command_status_ = 200;
  std::string command_body_ = R"({"ok":true,"result":"done"})";
  int kv_status_ = 200;
  std::string kv_body_ = R"({"ok":true,"index":1,"term":1})";
  std::vector<std::pair<std::string, std::string>> kv_headers_;
  std::uint64_t boot_ = 1'700'000'000'000'000;
  std::vector<nlohmann::json> events_;
};

/// Discovery's GET /state with a scripted body.
class FakeDiscovery : public FakeServer {
 public:
  FakeDiscovery();
  ~FakeDiscovery() override { shutdown(); }
  void set_state(const nlohmann::json& state);

 private:
  std::mutex mutex_;
  std::string state_body_ = R"({"nodes":{},"leader":null,"members":{}})";
};

/// web_monitor as a child process; stdout and stderr go to a temporary file,
/// removed with it.
class MonitorProcess : public raft::testing::ServerProcess {
 public:
  explicit MonitorProcess(const std::vector<std::string>& args);
  ~MonitorProcess() override;
};

/// A short HTTP exchange with 127.0.0.1:port; status -1 when it failed.
struct HttpAnswer {
  int status = -1;
  std::string body;
  httplib::Headers headers;
  std::string header(const char* name) const;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};
HttpAnswer http_request(int port, const std::string& method, const std::string& path,
                        const std::string& body = "",
                        const std::string& content_type = "application/json",
                        const httplib::Headers& headers = {});

}  // namespace raft::monitor::testing
