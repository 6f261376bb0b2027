#pragma once
/// HttpConnection: the load generator's keep-alive HTTP/1.1 connection. Each
/// request goes out in one write, head and body together, as wrk and curl
/// send small requests: httplib's client writes the head and the body
/// separately, so each request reached the server as two TCP segments and
/// woke its reader twice (for both stores measured, ours and etcd). Answers
/// are read by Content-Length or chunked framing. Not thread-safe: one per
/// client thread.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace raft::bench {

struct HttpAnswer {
  int status = 0;  ///< 0: no answer (see error)
  std::string body;
  std::string error;
};

class HttpConnection {
 public:
  HttpConnection(std::string host, int port, std::chrono::milliseconds timeout);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  /// Sends one request (connecting first if needed) and reads its answer.
  /// `headers` are "Name: value" lines without line ends.
  HttpAnswer request(const std::string& method, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     const std::string& body);

 private:
  bool connect_now(std::string* error);
  void close_now();
  bool read_more(std::string* error);
  bool read_answer(HttpAnswer& answer);
  bool read_chunked(std::size_t from, std::string& body, std::string* error);

  std::string host_;
  int port_ = 0;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string in_;  ///< bytes read past what the last answer used
};

}  // namespace raft::bench
