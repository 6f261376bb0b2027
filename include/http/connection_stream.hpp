#pragma once
/// The httplib::Stream a worker answers a request on: it reads the request
/// head the ConnectionGate read and rewrote (the body reaches httplib as the
/// request's body, never through the stream), and writes the answer to the
/// socket. Each piece must go out within `write_timeout` plus its size at
/// kSlowestReadBytesPerS, with progress at least every `write_timeout`;
/// else the connection is given up.

#include <chrono>
#include <cstddef>
#include <string>

#include <httplib.h>

#include "http/connection_gate.hpp"

namespace raft::http {

class ConnectionStream final : public httplib::Stream {
 public:
  /// The slowest reading of an answer allowed (a slow link reads faster).
  static constexpr std::size_t kSlowestReadBytesPerS = 16 * 1024;

  ConnectionStream(int fd, std::string head, Peer peer, std::chrono::milliseconds write_timeout);

  bool is_readable() const override { return read_ < head_.size(); }
  bool is_writable() const override;
  /// From the head; 0 once it is all read.
  ssize_t read(char* ptr, size_t size) override;
  /// All of it, or -1 (the client stopped reading or went away).
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  /// Whether a write failed: the connection cannot carry another request.
  bool failed() const { return failed_; }

 private:
  bool wait_writable(std::chrono::milliseconds wait) const;

  int fd_;
  std::string head_;
  std::size_t read_ = 0;
  Peer peer_;
  std::chrono::milliseconds write_timeout_;
  bool failed_ = false;
};

}  // namespace raft::http
