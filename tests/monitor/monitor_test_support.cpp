#include "monitor_test_support.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace raft::monitor::testing {

using nlohmann::json;

// ---- FakeServer -------------------------------------------------------------------

FakeServer::FakeServer() = default;

FakeServer::~FakeServer() { shutdown(); }

void FakeServer::shutdown() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

void FakeServer::start() {
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("a fake server cannot bind a loopback port");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  if (!wait_until([this] { return server_.is_running(); }, std::chrono::seconds(5))) {
    throw std::runtime_error("a fake server did not start");
  }
}

void FakeServer::record(const httplib::Request& req) {
  Received r;
  r.method = req.method;
  r.target = req.target;
  r.body = req.body;
  r.content_type = req.get_header_value("Content-Type");
  for (const auto& [name, value] : req.headers) r.headers[name] = value;
  std::lock_guard lock(mutex_);
  received_.push_back(std::move(r));
}

std::vector<Received> FakeServer::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::optional<Received> FakeServer::last(const std::string& method,
                                         const std::string& path_prefix) const {
  std::lock_guard lock(mutex_);
  for (auto it = received_.rbegin(); it != received_.rend(); ++it) {
    if (it->method == method && it->target.rfind(path_prefix, 0) == 0) return *it;
  }
  return std::nullopt;
}

// ---- FakeNode ---------------------------------------------------------------------

FakeNode::FakeNode(int rank) : rank_(rank) {
  set_status("FOLLOWER", 1);
  server_.Get("/status", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    std::lock_guard lock(mutex_);
    res.set_content(status_body_, "application/json");
  });
  server_.Post("/command", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    std::lock_guard lock(mutex_);
    res.status = command_status_;
    res.set_content(command_body_, "application/json");
  });
  server_.Get("/log", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_content(
        json{{"log", {"line one of node " + std::to_string(rank_), "<b>two</b>"}}}.dump(),
        "application/json");
  });
  server_.Get("/cmd_history", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_content(R"({"history":["12:00:00 - pause"]})", "application/json");
  });
  server_.Get("/entries", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_content(
        R"({"entries":[{"index":1,"term":1,"type":"noop","data":""}],"commit_index":1,"first_index":1,"last_index":1})",
        "application/json");
  });
  const auto kv = [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    std::lock_guard lock(mutex_);
    res.status = kv_status_;
    for (const auto& [name, value] : kv_headers_) res.set_header(name.c_str(), value);
    res.set_content(kv_body_, "application/json");
  };
  // GET /events?after=SEQ as raft_node answers it (runtime/raft_events.hpp).
  server_.Get("/events", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    const std::uint64_t after =
        req.has_param("after") ? std::stoull(req.get_param_value("after")) : 0;
    std::lock_guard lock(mutex_);
    json list = json::array();
    for (const json& e : events_) {
      if (e["seq"].get<std::uint64_t>() > after) list.push_back(e);
    }
    const std::uint64_t last = events_.empty() ? 0 : events_.back()["seq"].get<std::uint64_t>();
    res.set_content(json{{"node_id", std::to_string(rank_)},
                         {"boot", boot_},
                         {"first_seq", events_.empty() ? 0 : 1},
                         {"last_seq", last},
                         {"lost", 0},
                         {"overwritten", 0},
                         {"events", std::move(list)}}
                        .dump(),
                    "application/json");
  });
  server_.Get(R"(/kv/.*)", kv);
  server_.Put(R"(/kv/.*)", kv);
  server_.Delete(R"(/kv/.*)", kv);
  start();
}

void FakeNode::set_status(const std::string& state, std::uint64_t term,
                          std::optional<int> leader_id) {
  json s = {
      {"node_id", std::to_string(rank_)},
      {"rank", rank_},
      {"state", state},
      {"term", term},
      {"leader_id", leader_id ? json(std::to_string(*leader_id)) : json(nullptr)},
      {"log_length", 1},
      {"commit_index", 1},
      {"last_applied", 1},
      {"voted_for", nullptr},
      {"paused", false},
      {"crashed", false},
      {"timers", {{"election_timeout_ms", 3000}, {"election_elapsed_ms", 100}, {"running", true}}}};
  std::lock_guard lock(mutex_);
  status_body_ = s.dump();
}

void FakeNode::add_event(json event) {
  std::lock_guard lock(mutex_);
  event["seq"] = events_.size() + 1;
  events_.push_back(std::move(event));
}

void FakeNode::restart_events(std::uint64_t boot) {
  std::lock_guard lock(mutex_);
  boot_ = boot;
  events_.clear();
}

void FakeNode::set_command_answer(int status, std::string body) {
  std::lock_guard lock(mutex_);
  command_status_ = status;
  command_body_ = std::move(body);
}

void FakeNode::set_kv_answer(int status, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers) {
  std::lock_guard lock(mutex_);
  kv_status_ = status;
  kv_body_ = std::move(body);
  kv_headers_ = std::move(headers);
}

// ---- FakeDiscovery -------------------------------------------------------------------

FakeDiscovery::FakeDiscovery() {
  server_.Get("/state", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    std::lock_guard lock(mutex_);
    res.set_content(state_body_, "application/json");
  });
  start();
}

void FakeDiscovery::set_state(const json& state) {
  std::lock_guard lock(mutex_);
  state_body_ = state.dump();
}

// ---- MonitorProcess ---------------------------------------------------------------------

namespace {

std::filesystem::path temp_log_file() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "web-monitor-test-XXXXXX").string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error(std::string("mkstemp failed: ") + std::strerror(errno));
  ::close(fd);
  return pattern;
}

}  // namespace

MonitorProcess::MonitorProcess(const std::vector<std::string>& args)
    : ServerProcess(WEB_MONITOR_PATH, args, temp_log_file()) {}

MonitorProcess::~MonitorProcess() {
  std::error_code ec;
  std::filesystem::remove(log_file(), ec);
}

// ---- HTTP ---------------------------------------------------------------------------------

std::string HttpAnswer::header(const char* name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpAnswer http_request(int port, const std::string& method, const std::string& path,
                        const std::string& body, const std::string& content_type,
                        const httplib::Headers& headers) {
  httplib::Client client("127.0.0.1", port);
  client.set_default_headers(headers);
  client.set_connection_timeout(std::chrono::milliseconds(500));
  client.set_read_timeout(std::chrono::seconds(10));
  client.set_write_timeout(std::chrono::seconds(5));
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "GET") {
    res = client.Get(path);
  } else if (method == "POST") {
    res = client.Post(path, body, content_type.c_str());
  } else if (method == "PUT") {
    res = client.Put(path, body, content_type.c_str());
  } else if (method == "DELETE") {
    res = client.Delete(path);
  } else if (method == "PATCH") {
    res = client.Patch(path, body, content_type.c_str());
  } else {
    throw std::invalid_argument("unsupported method " + method);
  }
  HttpAnswer answer;
  if (!res) return answer;
  answer.status = res->status;
  answer.body = res->body;
  answer.headers = res->headers;
  return answer;
}

}  // namespace raft::monitor::testing
