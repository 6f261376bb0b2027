#pragma once
/// MpiSession and MpiTransport: Raft messages as MPI point-to-point messages.
///
/// Threading: MPI is initialised with MPI_THREAD_FUNNELED, so every MPI call
/// (and therefore every call on MpiSession and MpiTransport, stats() included)
/// must come from the thread that created the MpiSession: the node's loop.
///
/// Wire: one MPI message per raft::Message, tag = codec::mpi_tag(type),
/// payload = the codec's encoding (include/codec/codec.hpp), on a private
/// duplicate of MPI_COMM_WORLD so that no other MPI traffic can collide with
/// ours. MPI keeps messages between one pair of ranks in order, and so do we.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <mpi.h>

#include "raft/message.hpp"
#include "transport/transport.hpp"

namespace raft::transport {

/// Owns MPI's lifetime in a process: MPI_Init_thread(MPI_THREAD_FUNNELED) in
/// the constructor, MPI_Finalize in the destructor. Create exactly one, in
/// main(), on the thread that will run the node's loop, before any
/// MpiTransport; destroy every MpiTransport before it.
/// Errors: throws std::logic_error if MPI was already initialised, and
/// std::runtime_error if the library cannot provide MPI_THREAD_FUNNELED (MPI
/// is finalised again before the throw). Not copyable, not movable.
class MpiSession {
 public:
  /// `argc` and `argv` may be null; MPI may remove its own arguments.
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  /// The thread level MPI granted (>= MPI_THREAD_FUNNELED).
  int thread_level() const noexcept { return thread_level_; }

  /// Ends every rank of the job now (MPI_Abort on MPI_COMM_WORLD) with
  /// `exit_code`. Use it for a fatal error once MPI is up, instead of
  /// returning from main(): a returning rank runs MPI_Finalize, which waits
  /// for all other ranks, while they may be waiting for it in a collective
  /// (MpiTransport's constructor) or simply go on running: the job hangs
  /// instead of ending (seen with Open MPI 4.1). mpirun ends the job on a
  /// non-zero exit anyway, so aborting loses nothing.
  [[noreturn]] void abort(int exit_code) const noexcept;

 private:
  int rank_ = 0;
  int size_ = 1;
  int thread_level_ = MPI_THREAD_SINGLE;
};

struct MpiTransportOptions {
  /// Unfinished sends allowed per peer; the next message to that peer is
  /// dropped (and counted) until one completes. Must be >= 1.
  std::size_t max_pending_sends_per_peer = 64;
  /// Encoded bytes of unfinished sends allowed per peer. One message is always
  /// allowed into an empty queue, whatever its size, so a large snapshot
  /// chunk cannot be refused for ever.
  std::size_t max_pending_bytes_per_peer = std::size_t{8} << 20;
  /// How long shutdown() keeps completing unfinished sends and receives
  /// before it cancels and frees them.
  std::int64_t shutdown_wait_ms = 200;
  /// Send and receive buffers up to this capacity are kept for reuse; larger
  /// ones (snapshot chunks) are freed once their message has gone.
  std::size_t keep_buffer_bytes = std::size_t{1} << 20;
  /// The address this rank's doorbell (doorbell.hpp) listens on: the host
  /// the peers reach this rank at. Empty: no doorbell; if it cannot be
  /// opened, the transport warns and works without one.
  std::string doorbell_host;
};

/// Counters and gauges beyond TransportStats, for metrics and tests.
struct MpiTransportDetails {
  std::size_t pending_sends = 0;       ///< unfinished sends, all peers
  std::size_t pending_send_bytes = 0;  ///< their encoded bytes
  std::size_t pending_receives = 0;    ///< matched receives still transferring
  /// send() refused a message that can never be sent: unknown peer, `from`
  /// other than our rank, or a message the codec cannot encode (logged once).
  std::uint64_t send_refused = 0;
  std::uint64_t mpi_errors = 0;             ///< MPI calls that failed (logged once per peer)
  std::uint64_t abandoned_at_shutdown = 0;  ///< requests shutdown() had to free unfinished
  std::uint64_t discarded_at_shutdown = 0;  ///< messages received by shutdown() and dropped
  std::uint64_t doorbell_failures = 0;      ///< wake-ups that could not be sent
};

/// Transport over MPI point-to-point messages (see the file comment).
///
/// Ownership: owns a duplicate of MPI_COMM_WORLD, the encoded buffer of every
/// unfinished send, and the buffer of every receive in progress.
/// Thread-safety: none; only the thread that created the MpiSession may call
/// any method (MPI_THREAD_FUNNELED).
/// Blocking: send() and poll() never block, sleep or wait for a peer: sends
/// are MPI_Isend with a bounded queue per peer; receives are matched with
/// MPI_Improbe and completed with MPI_Imrecv, so a large message whose bytes
/// still have to come (rendezvous) is finished by a later poll() instead of
/// stalling this one. Only shutdown() waits, at most shutdown_wait_ms.
/// Errors: the constructor throws std::logic_error if MPI is not initialised
/// with at least MPI_THREAD_FUNNELED or is called off the main thread, and
/// std::runtime_error if MPI_Comm_dup fails. After that, nothing throws except
/// std::bad_alloc: malformed input, refused sends and MPI errors are counted
/// and reported through `warn`, once per (peer, kind).
class MpiTransport final : public Transport {
 public:
  using WarnFn = std::function<void(const std::string&)>;

  /// Collective: every rank must construct its transport at the same point
  /// (MPI_Comm_dup of MPI_COMM_WORLD). `warn` receives one line per first
  /// occurrence of each (peer, problem kind); it may be empty.
  explicit MpiTransport(WarnFn warn = {}, MpiTransportOptions options = {});
  /// Calls shutdown().
  ~MpiTransport() override;
  MpiTransport(const MpiTransport&) = delete;
  MpiTransport& operator=(const MpiTransport&) = delete;

  NodeId rank() const override;
  int size() const override;

  /// Encodes `message` into a buffer owned by the transport and starts an
  /// MPI_Isend to `message.to` (which may be this rank). Returns false, and
  /// counts why, if the peer's queue is full, the message cannot be sent at
  /// all (see MpiTransportDetails::send_refused), or after shutdown().
  bool send(const Message& message) override;

  /// Reaps finished sends, finishes receives in progress, then receives new
  /// messages until `max` were appended to `out`, `max` were received in this
  /// call (malformed ones included), or none is waiting. Messages from one
  /// peer are appended in the order that peer sent them. Returns 0 after
  /// shutdown().
  std::size_t poll(std::vector<Message>& out, std::size_t max) override;

  TransportStats stats() const override;

  int wake_fd() const override;
  bool drain_wakes() override;
  void wake_peers() override;
  bool transfers_pending() const override;

  /// Waits up to shutdown_wait_ms for unfinished sends while receiving and
  /// discarding whatever peers still send us (so a peer shutting down at the
  /// same time can finish too); then cancels and frees what is left, keeping
  /// those buffers alive until the process ends (MPI may still read them),
  /// and frees the communicator. Idempotent. Afterwards MPI_Finalize does not
  /// wait for this transport.
  void shutdown() override;

  /// True while some send has not completed: the loop may want to poll soon
  /// (large sends progress only inside MPI calls). It stays true for as long
  /// as a peer does not receive, so use it to shorten the loop's sleep, not
  /// to spin.
  bool has_pending_sends() const noexcept;
  /// True while a large incoming message is still transferring.
  bool has_pending_receives() const noexcept;
  /// Unfinished sends to `peer` (0 for an unknown peer).
  std::size_t pending_sends(NodeId peer) const noexcept;
  MpiTransportDetails details() const;
  const MpiTransportOptions& options() const noexcept;

  /// The private communicator the messages travel on (MPI_COMM_NULL after
  /// shutdown()). Only for tests and tools that must inject raw messages.
  MPI_Comm communicator() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raft::transport
