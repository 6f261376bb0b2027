#include "http_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace raft::bench {

HttpConnection::HttpConnection(std::string host, int port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

HttpConnection::~HttpConnection() { close_now(); }

void HttpConnection::close_now() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
}

bool HttpConnection::connect_now(std::string* error) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port_));
  if (fd_ < 0 || ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = std::string("cannot connect: ") + std::strerror(errno);
    close_now();
    return false;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool HttpConnection::read_more(std::string* error) {
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout_.count()));
  if (ready <= 0) {
    *error = ready == 0 ? "read timed out" : std::string("poll: ") + std::strerror(errno);
    return false;
  }
  char buf[16384];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    *error = n == 0 ? "the server closed the connection" : std::string(std::strerror(errno));
    return false;
  }
  in_.append(buf, static_cast<std::size_t>(n));
  return true;
}

HttpAnswer HttpConnection::request(const std::string& method, const std::string& path,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::string& body) {
  HttpAnswer answer;
  if (fd_ < 0 && !connect_now(&answer.error)) return answer;
  std::string out = method + " " + path + " HTTP/1.1\r\nHost: " + host_ + ":" +
                    std::to_string(port_) + "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  out += body;
  std::size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      answer.error = std::string("send: ") + std::strerror(errno);
      close_now();
      return answer;
    }
    sent += static_cast<std::size_t>(n);
  }
  if (!read_answer(answer)) {
    answer.status = 0;
    close_now();
  }
  return answer;
}

bool HttpConnection::read_answer(HttpAnswer& answer) {
  std::size_t head_end = std::string::npos;
  while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more(&answer.error)) return false;
  }
  const std::string head = in_.substr(0, head_end + 2);
  if (head.compare(0, 9, "HTTP/1.1 ") != 0 || head.size() < 12) {
    answer.error = "not an HTTP/1.1 answer";
    return false;
  }
  answer.status = std::atoi(head.c_str() + 9);
  bool chunked = false;
  bool close_after = false;
  std::size_t length = 0;
  for (std::size_t at = head.find("\r\n") + 2; at < head.size();) {
    const std::size_t end = head.find("\r\n", at);
    const std::string line = head.substr(at, end - at);
    at = end + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (strcasecmp(name.c_str(), "Content-Length") == 0) length = std::stoul(value);
    if (strcasecmp(name.c_str(), "Transfer-Encoding") == 0) chunked = value == "chunked";
    if (strcasecmp(name.c_str(), "Connection") == 0) close_after = value == "close";
  }
  const std::size_t body_at = head_end + 4;
  if (chunked) {
    if (!read_chunked(body_at, answer.body, &answer.error)) return false;
  } else {
    while (in_.size() < body_at + length) {
      if (!read_more(&answer.error)) return false;
    }
    answer.body = in_.substr(body_at, length);
    in_.erase(0, body_at + length);
  }
  if (close_after) close_now();
  return true;
}

bool HttpConnection::read_chunked(std::size_t from, std::string& body, std::string* error) {
  std::size_t at = from;
  while (true) {
    std::size_t line_end;
    while ((line_end = in_.find("\r\n", at)) == std::string::npos) {
      if (!read_more(error)) return false;
    }
    const std::size_t size = std::stoul(in_.substr(at, line_end - at), nullptr, 16);
    const std::size_t data_at = line_end + 2;
    while (in_.size() < data_at + size + 2) {
      if (!read_more(error)) return false;
    }
    body.append(in_, data_at, size);
    at = data_at + size + 2;
    if (size == 0) break;  // no trailers from the servers measured
  }
  in_.erase(0, at);
  return true;
}

}  // namespace raft::bench
