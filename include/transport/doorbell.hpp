#pragma once
/// Doorbell: a UDP socket that wakes a sleeping node loop when a peer has
/// sent it an MPI message.
///
/// Why: MPI has no way to sleep until a message arrives without spinning a
/// core (a blocking receive busy-polls in Open MPI), so an idle loop sleeps
/// and polls. Every hop of a message then waited for the receiver's next poll
/// (up to 100 ms when idle). With a doorbell the loop sleeps in poll(2) on
/// this socket and wakes within microseconds: after sending, a node rings
/// each peer it sent to with one empty datagram. The Raft messages stay MPI
/// point-to-point; the datagram carries nothing, so a stray or hostile one
/// can only cause one extra (cheap) wake-up, never a message.
///
/// Threading: none; the node's loop thread owns it.

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace raft::transport {

/// Where a rank's doorbell listens: an IPv4 address and port, both in network
/// byte order (port 0: that rank has none, never ring it).
struct DoorbellAddress {
  std::uint32_t ipv4 = 0;
  std::uint16_t port = 0;
};

class Doorbell {
 public:
  /// Binds a non-blocking UDP socket to `host` (an IPv4 address or a name
  /// that resolves to one) on a free port. Returns nullopt and sets `error`
  /// if that is impossible.
  static std::optional<Doorbell> open(const std::string& host, std::string* error);

  Doorbell(Doorbell&& other) noexcept;
  Doorbell& operator=(Doorbell&& other) noexcept;
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;
  ~Doorbell();

  DoorbellAddress address() const { return address_; }
  /// Readable when someone rang since the last drain().
  int fd() const { return fd_; }
  /// The peers' addresses, indexed by rank.
  void set_peers(std::vector<DoorbellAddress> peers) { peers_ = std::move(peers); }
  /// One empty datagram to `rank` (if it has a doorbell). Never blocks;
  /// failures only count (the peer's next poll picks the message up anyway).
  void ring(int rank);
  /// Reads every datagram waiting, so the next poll(2) sleeps again;
  /// returns how many there were.
  int drain();
  std::uint64_t ring_failures() const { return ring_failures_; }

 private:
  explicit Doorbell(int fd, DoorbellAddress address) : fd_(fd), address_(address) {}

  int fd_ = -1;
  DoorbellAddress address_;
  std::vector<DoorbellAddress> peers_;
  std::uint64_t ring_failures_ = 0;
};

}  // namespace raft::transport
