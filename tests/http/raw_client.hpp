#pragma once
// A raw TCP client for tests of what a server does with bytes no HTTP
// library would send: partial heads, pipelined requests, half-closed
// sockets. Every read waits with a deadline.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>

namespace raft::http::testing {

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void shut_write() { ::shutdown(fd_, SHUT_WR); }

  /// Reads until `done(received)` holds, the server closes, or `wait` passes.
  template <typename Done>
  std::string read_until(Done done, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!done(buffer_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
    return buffer_;
  }

  /// One whole answer with a Content-Length body (taken off the buffer),
  /// or whatever came before the server closed or `wait` passed.
  std::string answer(std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    std::size_t length = std::string::npos;
    read_until([&length](const std::string& b) { return (length = answer_length(b)) <= b.size(); },
               wait);
    const std::size_t take = std::min(length, buffer_.size());
    std::string out = buffer_.substr(0, take);
    buffer_.erase(0, take);
    return out;
  }

  /// Whether the server closes the connection within `wait`.
  bool closed_within(std::chrono::milliseconds wait) {
    read_until([this](const std::string&) { return closed_; }, wait);
    return closed_;
  }

  /// The bytes of a whole answer at the start of `b` (a 1xx head alone
  /// counts), or npos while incomplete.
  static std::size_t answer_length(const std::string& b) {
    const std::size_t end = b.find("\r\n\r\n");
    if (end == std::string::npos) return std::string::npos;
    if (b.compare(0, 10, "HTTP/1.1 1") == 0) return end + 4;
    const std::size_t at = b.find("Content-Length: ");
    if (at == std::string::npos || at > end) return end + 4;
    return end + 4 + std::stoul(b.substr(at + 16, b.find("\r\n", at) - at - 16));
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

/// The status code of an answer ("HTTP/1.1 413 ..."), 0 if none.
inline int status_of(std::string_view answer) {
  if (answer.size() < 12 || answer.substr(0, 5) != "HTTP/") return 0;
  return std::stoi(std::string(answer.substr(9, 3)));
}

/// The body of an answer.
inline std::string body_of(const std::string& answer) {
  const std::size_t end = answer.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : answer.substr(end + 4);
}

}  // namespace raft::http::testing
