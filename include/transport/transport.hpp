#pragma once
/// Transport: how a node's loop exchanges raft::Messages with its peers.
/// MpiTransport (MPI point-to-point) is the real one; tests may use an
/// in-process one. Every method is called from the node's loop thread only.

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "raft/message.hpp"

namespace raft::transport {

struct TransportStats {
  std::map<MessageType, std::uint64_t> sent;
  std::map<MessageType, std::uint64_t> received;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  /// Messages not sent because the peer's queue of unfinished sends was full
  /// (a paused, slow or partitioned peer): Raft retransmits what matters.
  std::uint64_t dropped_queue_full = 0;
  /// Received messages rejected by the decoder.
  std::uint64_t decode_errors = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual NodeId rank() const = 0;
  /// Ranks are 0..size()-1.
  virtual int size() const = 0;

  /// Queues `message` for `message.to`. Never blocks. Returns false if it was
  /// dropped (the peer's bounded queue is full, or the peer is unknown).
  virtual bool send(const Message& message) = 0;

  /// Appends messages that have arrived (at most `max`) to `out`. Never blocks.
  /// Malformed input is logged once per peer and kind, counted, and dropped.
  /// Returns how many were appended.
  virtual std::size_t poll(std::vector<Message>& out, std::size_t max) = 0;

  virtual TransportStats stats() const = 0;

  /// A descriptor that turns readable when a peer has sent us something
  /// since the last drain_wakes(), or -1 if this transport has none (then
  /// the loop must poll to notice messages). See doorbell.hpp.
  virtual int wake_fd() const { return -1; }
  /// Empties wake_fd(); true if a peer had rung. Call it before poll(): a
  /// wake that comes after it then keeps the fd readable, so no message is
  /// slept through.
  virtual bool drain_wakes() { return false; }
  /// Wakes every peer sent to since the last call. Call once per loop
  /// iteration, after its last send.
  virtual void wake_peers() {}
  /// A message is still moving in or out and moves only while this side
  /// calls poll() (a large MPI message's rendezvous): the loop must poll,
  /// not sleep, until it is done.
  virtual bool transfers_pending() const { return false; }

  /// Cancels unfinished sends and stops receiving; later calls do nothing.
  virtual void shutdown() = 0;
};

}  // namespace raft::transport
