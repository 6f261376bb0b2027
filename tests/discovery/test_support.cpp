#include "test_support.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <httplib.h>

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

DiscoveryProcess::DiscoveryProcess(const std::vector<std::string>& args,
                                   std::filesystem::path log_file)
    : ServerProcess(DISCOVERY_SERVER_PATH, args, std::move(log_file)) {}

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
