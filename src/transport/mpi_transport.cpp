#include "transport/mpi_transport.hpp"

#include <array>
#include <chrono>
#include <climits>
#include <deque>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "codec/codec.hpp"
#include "transport/doorbell.hpp"

namespace raft::transport {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kTypeSlots = std::size_t{kMessageTypeMax} + 1;
/// Receive buffers kept for receives queued behind an unfinished one.
constexpr std::size_t kMaxSpareBuffers = 8;
/// shutdown() takes at most this many new messages per round, so a peer that
/// keeps sending cannot keep it past its deadline.
constexpr int kShutdownReceivesPerRound = 1024;

/// Buffers of requests that shutdown() freed while unfinished: MPI may still
/// read them (a send) or write them (a receive) until MPI_Finalize, which runs
/// after every transport is gone. Leaked on purpose, so they outlive
/// MPI_Finalize; touched only by the MPI thread (FUNNELED).
std::vector<std::vector<char>>& abandoned_buffers() {
  static auto* buffers = new std::vector<std::vector<char>>();
  return *buffers;
}

bool mpi_finalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

std::string mpi_error_text(int code) {
  std::array<char, MPI_MAX_ERROR_STRING> text{};
  int length = 0;
  if (MPI_Error_string(code, text.data(), &length) != MPI_SUCCESS) {
    return "MPI error " + std::to_string(code);
  }
  return std::string(text.data(), static_cast<std::size_t>(length));
}

/// Releases the memory of a buffer that grew beyond what is worth keeping.
void trim(std::vector<char>& buffer, std::size_t keep_bytes) {
  if (buffer.capacity() > keep_bytes) std::vector<char>().swap(buffer);
}

/// Unfinished sends to one peer: a fixed array of slots so that MPI_Testsome
/// can scan all requests in one call, and each slot keeps its buffer (and its
/// capacity) for the next message.
struct PeerSends {
  std::vector<MPI_Request> requests;  // MPI_REQUEST_NULL marks a free slot
  std::vector<std::vector<char>> buffers;
  std::vector<int> free_slots;
  std::vector<int> done_indexes;  // scratch for MPI_Testsome
  std::vector<MPI_Status> statuses;
  std::size_t in_flight = 0;
  std::size_t bytes_in_flight = 0;
};

/// A matched receive whose bytes are still coming (rendezvous), or one queued
/// behind such a receive from the same peer so that delivery keeps the
/// peer's order.
struct PendingReceive {
  MPI_Request request = MPI_REQUEST_NULL;
  std::vector<char> buffer;
  int tag = 0;
  bool complete = false;
  bool failed = false;
};

}  // namespace

struct MpiTransport::Impl {
  WarnFn warn;
  MpiTransportOptions options;
  MPI_Comm comm = MPI_COMM_NULL;
  NodeId rank = 0;
  int size = 0;
  bool shut_down = false;

  std::vector<PeerSends> sends;                      // by destination rank
  std::vector<std::deque<PendingReceive>> receives;  // by source rank
  std::size_t pending_sends = 0;
  std::size_t pending_send_bytes = 0;
  std::size_t pending_receives = 0;
  /// The buffer of the common case: a receive that completes at once.
  std::vector<char> receive_buffer;
  std::vector<std::vector<char>> spare_buffers;

  std::array<std::uint64_t, kTypeSlots> sent{};
  std::array<std::uint64_t, kTypeSlots> received{};
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t decode_errors = 0;
  MpiTransportDetails counters;  // only its counters are used here
  std::set<std::pair<int, std::string>> warned;
  std::optional<Doorbell> doorbell;
  std::vector<char> wake_due;  ///< by rank: sent to since the last wake_peers()

  /// Collective: every rank opens its doorbell (or fails to) and all learn
  /// each other's addresses; a rank without one publishes port 0.
  void open_doorbell() {
    DoorbellAddress mine;
    if (!options.doorbell_host.empty()) {
      std::string error;
      doorbell = Doorbell::open(options.doorbell_host, &error);
      if (doorbell) {
        mine = doorbell->address();
      } else if (warn) {
        warn("no doorbell (" + error + "): idle peers notice messages only when they poll");
      }
    }
    std::vector<DoorbellAddress> all(static_cast<std::size_t>(size));
    MPI_Allgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, comm);
    if (doorbell) doorbell->set_peers(std::move(all));
    wake_due.assign(static_cast<std::size_t>(size), 0);
  }

  // ---- logging ---------------------------------------------------------------
  template <typename MakeText>
  void warn_once(int peer, std::string_view kind, MakeText&& make_text) {
    if (!warned.emplace(peer, std::string(kind)).second) return;
    if (!warn) return;
    warn(make_text() + " (once per rank and kind: further " + std::string(kind) + " with rank " +
         std::to_string(peer) + " are only counted)");
  }

  void mpi_error(int peer, std::string_view what, int code) {
    ++counters.mpi_errors;
    warn_once(peer, "mpi_error", [&] {
      return std::string(what) + " with rank " + std::to_string(peer) +
             " failed: " + mpi_error_text(code);
    });
  }

  // ---- sends -----------------------------------------------------------------
  /// Frees a slot whose request is done (or, with `abandon`, was freed
  /// unfinished: its buffer then goes to abandoned_buffers()).
  void release_send(PeerSends& peer, int slot, bool abandon = false) {
    std::vector<char>& buffer = peer.buffers[static_cast<std::size_t>(slot)];
    peer.bytes_in_flight -= buffer.size();
    pending_send_bytes -= buffer.size();
    --peer.in_flight;
    --pending_sends;
    if (abandon) {
      abandoned_buffers().push_back(std::move(buffer));
      buffer = std::vector<char>();
    } else {
      trim(buffer, options.keep_buffer_bytes);
    }
    peer.free_slots.push_back(slot);
  }

  void reap_sends(int rank_of_peer) {
    PeerSends& peer = sends[static_cast<std::size_t>(rank_of_peer)];
    if (peer.in_flight == 0) return;
    int done = 0;
    const int rc = MPI_Testsome(static_cast<int>(peer.requests.size()), peer.requests.data(), &done,
                                peer.done_indexes.data(), peer.statuses.data());
    if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS) {
      mpi_error(rank_of_peer, "MPI_Testsome on sends", rc);
      return;
    }
    if (done == MPI_UNDEFINED) return;
    for (int i = 0; i < done; ++i) {
      const auto& status = peer.statuses[static_cast<std::size_t>(i)];
      if (rc == MPI_ERR_IN_STATUS && status.MPI_ERROR != MPI_SUCCESS) {
        mpi_error(rank_of_peer, "MPI_Isend", status.MPI_ERROR);
      }
      release_send(peer, peer.done_indexes[static_cast<std::size_t>(i)]);
    }
  }

  void reap_all_sends() {
    if (pending_sends == 0) return;
    for (int peer = 0; peer < size; ++peer) reap_sends(peer);
  }

  bool send(const Message& message) {
    if (shut_down) return false;
    if (message.to < 0 || message.to >= size) {
      ++counters.send_refused;
      warn_once(message.to, "unknown_peer", [&] {
        return "cannot send to rank " + std::to_string(message.to) + ": ranks are 0.." +
               std::to_string(size - 1);
      });
      return false;
    }
    if (message.from != rank) {
      // The receiver would reject it (the codec checks `from` against the MPI
      // source); refusing here names the bug on the side that has it.
      ++counters.send_refused;
      warn_once(message.to, "wrong_sender", [&] {
        return "refused a message to rank " + std::to_string(message.to) +
               " that claims to be from " + std::to_string(message.from) + ", not from this rank " +
               std::to_string(rank);
      });
      return false;
    }
    PeerSends& peer = sends[static_cast<std::size_t>(message.to)];
    if (peer.free_slots.empty()) reap_sends(message.to);
    if (peer.free_slots.empty()) return drop_queue_full(message.to);

    const int slot = peer.free_slots.back();
    std::vector<char>& buffer = peer.buffers[static_cast<std::size_t>(slot)];
    buffer.clear();
    if (auto error = codec::encode_into(message, buffer)) {
      ++counters.send_refused;
      warn_once(message.to, codec::reason_name(error->reason), [&] {
        return "cannot encode a " + std::string(message_type_name(message.type)) + " to rank " +
               std::to_string(message.to) + ": " + error->text;
      });
      return false;
    }
    const std::size_t bytes = buffer.size();
    if (peer.in_flight > 0 && peer.bytes_in_flight + bytes > options.max_pending_bytes_per_peer) {
      return drop_queue_full(message.to);
    }
    MPI_Request& request = peer.requests[static_cast<std::size_t>(slot)];
    // bytes <= codec::kMessageBytesMax (the encoder refuses more), so it fits an int.
    int rc = MPI_Isend(buffer.data(), static_cast<int>(bytes), MPI_BYTE, message.to,
                       codec::mpi_tag(message.type), comm, &request);
    if (rc != MPI_SUCCESS) {
      request = MPI_REQUEST_NULL;
      mpi_error(message.to, "MPI_Isend", rc);
      return false;
    }
    peer.free_slots.pop_back();
    ++peer.in_flight;
    ++pending_sends;
    peer.bytes_in_flight += bytes;
    pending_send_bytes += bytes;
    ++sent[static_cast<std::size_t>(message.type)];
    bytes_sent += bytes;
    // Small (eager) messages are usually done already: freeing the slot now
    // keeps has_pending_sends() meaningful for the loop.
    int done = 0;
    rc = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      mpi_error(message.to, "MPI_Test on a send", rc);
    } else if (done != 0) {
      release_send(peer, slot);
    }
    return true;
  }

  bool drop_queue_full(int peer) {
    ++dropped_queue_full;
    warn_once(peer, "queue_full", [&] {
      return "rank " + std::to_string(peer) +
             " is not keeping up (paused, partitioned or slow): its send queue is full, dropping "
             "messages to it";
    });
    return false;
  }

  // ---- receives --------------------------------------------------------------
  std::vector<char> take_spare_buffer() {
    if (spare_buffers.empty()) return {};
    std::vector<char> buffer = std::move(spare_buffers.back());
    spare_buffers.pop_back();
    return buffer;
  }

  void recycle(std::vector<char>&& buffer) {
    if (buffer.capacity() == 0 || buffer.capacity() > options.keep_buffer_bytes) return;
    if (spare_buffers.size() < kMaxSpareBuffers) spare_buffers.push_back(std::move(buffer));
  }

  /// Hands one fully received payload to the decoder (or drops it).
  void deliver(int source, int tag, const std::vector<char>& buffer, bool failed, bool discard,
               std::vector<Message>& out, std::size_t& appended) {
    bytes_received += buffer.size();
    if (failed) return;  // counted in mpi_errors when it failed
    if (discard) {
      ++counters.discarded_at_shutdown;
      return;
    }
    if (buffer.size() > codec::kMessageBytesMax) {
      ++decode_errors;
      warn_once(source, codec::reason_name(codec::ErrorReason::MessageTooLarge), [&] {
        return "dropped a " + std::to_string(buffer.size()) + "-byte message (tag " +
               std::to_string(tag) + ") from rank " + std::to_string(source) + ": above " +
               std::to_string(codec::kMessageBytesMax) + " bytes";
      });
      return;
    }
    Message& message = out.emplace_back();
    const auto bytes = std::as_bytes(std::span<const char>(buffer.data(), buffer.size()));
    if (auto error = codec::decode_into(bytes, source, rank, tag, message)) {
      out.pop_back();
      ++decode_errors;
      warn_once(source, codec::reason_name(error->reason), [&] {
        return "dropped a malformed message from rank " + std::to_string(source) + " (tag " +
               std::to_string(tag) + ", " + std::to_string(buffer.size()) +
               " bytes): " + error->text;
      });
      return;
    }
    ++received[static_cast<std::size_t>(message.type)];
    ++appended;
  }

  /// Delivers, in order, the receives from `source` that have completed; stops
  /// at the first unfinished one or when `appended` reaches `max`.
  void finish_receives_from(int source, bool discard, std::vector<Message>& out,
                            std::size_t& appended, std::size_t max) {
    auto& queue = receives[static_cast<std::size_t>(source)];
    while (!queue.empty()) {
      PendingReceive& pending = queue.front();
      if (!pending.complete) {
        int done = 0;
        const int rc = MPI_Test(&pending.request, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
          mpi_error(source, "MPI_Imrecv", rc);
          pending.failed = true;
          if (pending.request != MPI_REQUEST_NULL) {
            // Nothing more can be learnt from it; MPI may still write.
            MPI_Request_free(&pending.request);
            abandoned_buffers().push_back(std::move(pending.buffer));
            pending.buffer.clear();
          }
        } else if (done == 0) {
          return;
        }
        pending.complete = true;
      }
      if (!discard && appended >= max) return;  // the next poll() delivers it
      deliver(source, pending.tag, pending.buffer, pending.failed, discard, out, appended);
      recycle(std::move(pending.buffer));
      queue.pop_front();
      --pending_receives;
    }
  }

  void finish_receives(bool discard, std::vector<Message>& out, std::size_t& appended,
                       std::size_t max) {
    if (pending_receives == 0) return;
    for (int source = 0; source < size && (discard || appended < max); ++source) {
      finish_receives_from(source, discard, out, appended, max);
    }
  }

  /// Matches one waiting message, if any, and receives it; returns false if
  /// none was waiting. Never waits for the message's bytes: if they are still
  /// to come, the receive is parked and finished by a later call.
  bool receive_one(bool discard, std::vector<Message>& out, std::size_t& appended,
                   std::size_t max) {
    int flag = 0;
    MPI_Message handle = MPI_MESSAGE_NULL;
    MPI_Status status;
    int rc = MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &flag, &handle, &status);
    if (rc != MPI_SUCCESS) {
      mpi_error(-1, "MPI_Improbe", rc);
      return false;
    }
    if (flag == 0) return false;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    if (count < 0) count = 0;  // MPI_UNDEFINED cannot happen for MPI_BYTE
    const int source = status.MPI_SOURCE;
    const int tag = status.MPI_TAG;
    auto& queue = receives[static_cast<std::size_t>(source)];

    // A message above the codec's limit is still received in full, then
    // dropped: every send must complete, and Open MPI 4.1 crashes on a
    // truncated rendezvous receive (vader CMA and tcp, seen on this project's
    // machines), so receiving it into a small buffer is not an option.
    if (queue.empty() && static_cast<std::size_t>(count) <= options.keep_buffer_bytes) {
      receive_buffer.resize(static_cast<std::size_t>(count));
      MPI_Request request = MPI_REQUEST_NULL;
      rc = MPI_Imrecv(receive_buffer.data(), count, MPI_BYTE, &handle, &request);
      if (rc != MPI_SUCCESS) {
        mpi_error(source, "MPI_Imrecv", rc);
        return true;
      }
      int done = 0;
      rc = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS) {
        mpi_error(source, "MPI_Imrecv", rc);
        if (request != MPI_REQUEST_NULL) {
          MPI_Request_free(&request);
          abandoned_buffers().push_back(std::move(receive_buffer));
          receive_buffer = take_spare_buffer();
        }
        return true;
      }
      if (done != 0) {
        deliver(source, tag, receive_buffer, false, discard, out, appended);
        return true;
      }
      // The bytes are still coming. Moving the vector keeps its storage, the
      // address MPI writes to.
      PendingReceive& pending = queue.emplace_back();
      pending.request = request;
      pending.buffer = std::move(receive_buffer);
      pending.tag = tag;
      receive_buffer = take_spare_buffer();
      ++pending_receives;
      return true;
    }

    // Large, or behind an unfinished receive from the same peer.
    PendingReceive& pending = queue.emplace_back();
    pending.tag = tag;
    if (static_cast<std::size_t>(count) <= options.keep_buffer_bytes) {
      pending.buffer = take_spare_buffer();
    }
    pending.buffer.resize(static_cast<std::size_t>(count));
    ++pending_receives;
    rc = MPI_Imrecv(pending.buffer.data(), count, MPI_BYTE, &handle, &pending.request);
    if (rc != MPI_SUCCESS) {
      mpi_error(source, "MPI_Imrecv", rc);
      pending.request = MPI_REQUEST_NULL;
      pending.complete = true;
      pending.failed = true;
    }
    finish_receives_from(source, discard, out, appended, max);
    return true;
  }

  std::size_t poll(std::vector<Message>& out, std::size_t max) {
    if (shut_down) return 0;
    reap_all_sends();
    std::size_t appended = 0;
    finish_receives(false, out, appended, max);
    // `handled` also bounds the work a stream of malformed input can cause.
    for (std::size_t handled = 0; appended < max && handled < max; ++handled) {
      if (!receive_one(false, out, appended, max)) break;
    }
    return appended;
  }

  // ---- shutdown --------------------------------------------------------------
  void abandon_requests() {
    for (auto& peer : sends) {
      for (std::size_t slot = 0; slot < peer.requests.size(); ++slot) {
        MPI_Request& request = peer.requests[slot];
        if (request == MPI_REQUEST_NULL) continue;
        ++counters.abandoned_at_shutdown;
        // Open MPI's ob1 cannot cancel a send that has started (the call is a
        // no-op there); other PMLs can, and then the request completes here.
        MPI_Cancel(&request);
        int done = 0;
        const bool finished =
            MPI_Test(&request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && done != 0;
        if (!finished && request != MPI_REQUEST_NULL) MPI_Request_free(&request);
        request = MPI_REQUEST_NULL;
        release_send(peer, static_cast<int>(slot), !finished);
      }
    }
    for (auto& queue : receives) {
      for (auto& pending : queue) {
        if (pending.request != MPI_REQUEST_NULL) {
          ++counters.abandoned_at_shutdown;
          MPI_Request_free(&pending.request);
          abandoned_buffers().push_back(std::move(pending.buffer));
        }
      }
      queue.clear();
    }
    pending_receives = 0;
  }

  void shutdown() {
    if (shut_down) return;
    shut_down = true;
    if (comm == MPI_COMM_NULL) return;
    if (mpi_finalized()) {
      // Too late to call MPI (MpiSession destroyed first): keep what MPI may
      // still touch, and leave.
      for (auto& peer : sends) {
        for (auto& buffer : peer.buffers) abandoned_buffers().push_back(std::move(buffer));
      }
      for (auto& queue : receives) {
        for (auto& pending : queue) abandoned_buffers().push_back(std::move(pending.buffer));
      }
      comm = MPI_COMM_NULL;
      return;
    }
    const auto deadline = Clock::now() + std::chrono::milliseconds(options.shutdown_wait_ms);
    std::vector<Message> none;
    std::size_t appended = 0;
    while (true) {
      reap_all_sends();
      finish_receives(true, none, appended, 0);
      bool received_any = false;
      for (int i = 0; i < kShutdownReceivesPerRound; ++i) {
        if (!receive_one(true, none, appended, 0)) break;
        received_any = true;
      }
      if (pending_sends == 0 && pending_receives == 0 && !received_any) break;
      if (Clock::now() >= deadline) break;
      // Bounded by the deadline; only shutdown() ever waits.
      std::this_thread::yield();
    }
    abandon_requests();
    MPI_Comm_free(&comm);
    comm = MPI_COMM_NULL;
  }
};

MpiTransport::MpiTransport(WarnFn warn, MpiTransportOptions options)
    : impl_(std::make_unique<Impl>()) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized == 0 || mpi_finalized()) {
    throw std::logic_error("MpiTransport: MPI is not initialised (create an MpiSession first)");
  }
  int level = MPI_THREAD_SINGLE;
  MPI_Query_thread(&level);
  if (level < MPI_THREAD_FUNNELED) {
    throw std::logic_error("MpiTransport: MPI must be initialised with MPI_THREAD_FUNNELED");
  }
  int main_thread = 0;
  MPI_Is_thread_main(&main_thread);
  if (main_thread == 0) {
    throw std::logic_error("MpiTransport: must be created on the thread that initialised MPI");
  }
  if (options.max_pending_sends_per_peer == 0 ||
      options.max_pending_sends_per_peer > static_cast<std::size_t>(INT_MAX / 2)) {
    throw std::invalid_argument("MpiTransport: max_pending_sends_per_peer must be 1..INT_MAX/2");
  }
  Impl& impl = *impl_;
  impl.warn = std::move(warn);
  impl.options = options;
  if (MPI_Comm_dup(MPI_COMM_WORLD, &impl.comm) != MPI_SUCCESS) {
    throw std::runtime_error("MpiTransport: MPI_Comm_dup(MPI_COMM_WORLD) failed");
  }
  // Errors on our communicator come back as codes (counted and logged once)
  // instead of aborting the job.
  MPI_Comm_set_errhandler(impl.comm, MPI_ERRORS_RETURN);
  MPI_Comm_set_name(impl.comm, "raft_transport");
  MPI_Comm_rank(impl.comm, &impl.rank);
  MPI_Comm_size(impl.comm, &impl.size);

  const std::size_t slots = options.max_pending_sends_per_peer;
  impl.sends.resize(static_cast<std::size_t>(impl.size));
  for (auto& peer : impl.sends) {
    peer.requests.assign(slots, MPI_REQUEST_NULL);
    peer.buffers.resize(slots);
    peer.done_indexes.resize(slots);
    peer.statuses.resize(slots);
    peer.free_slots.reserve(slots);
    for (std::size_t slot = slots; slot > 0; --slot) {
      peer.free_slots.push_back(static_cast<int>(slot - 1));
    }
  }
  impl.receives.resize(static_cast<std::size_t>(impl.size));
  impl.open_doorbell();
}

MpiTransport::~MpiTransport() { shutdown(); }

NodeId MpiTransport::rank() const { return impl_->rank; }
int MpiTransport::size() const { return impl_->size; }

bool MpiTransport::send(const Message& message) {
  if (!impl_->send(message)) return false;
  if (message.to != impl_->rank) impl_->wake_due[static_cast<std::size_t>(message.to)] = 1;
  return true;
}

bool MpiTransport::transfers_pending() const {
  return impl_->pending_sends > 0 || impl_->pending_receives > 0;
}

int MpiTransport::wake_fd() const { return impl_->doorbell ? impl_->doorbell->fd() : -1; }

bool MpiTransport::drain_wakes() { return impl_->doorbell && impl_->doorbell->drain() > 0; }

void MpiTransport::wake_peers() {
  Impl& impl = *impl_;
  for (std::size_t peer = 0; peer < impl.wake_due.size(); ++peer) {
    if (impl.wake_due[peer] == 0) continue;
    impl.wake_due[peer] = 0;
    if (impl.doorbell) impl.doorbell->ring(static_cast<int>(peer));
  }
}

std::size_t MpiTransport::poll(std::vector<Message>& out, std::size_t max) {
  return impl_->poll(out, max);
}

TransportStats MpiTransport::stats() const {
  TransportStats stats;
  for (std::size_t type = kMessageTypeMin; type <= kMessageTypeMax; ++type) {
    stats.sent[static_cast<MessageType>(type)] = impl_->sent[type];
    stats.received[static_cast<MessageType>(type)] = impl_->received[type];
  }
  stats.bytes_sent = impl_->bytes_sent;
  stats.bytes_received = impl_->bytes_received;
  stats.dropped_queue_full = impl_->dropped_queue_full;
  stats.decode_errors = impl_->decode_errors;
  return stats;
}

void MpiTransport::shutdown() { impl_->shutdown(); }

bool MpiTransport::has_pending_sends() const noexcept { return impl_->pending_sends > 0; }
bool MpiTransport::has_pending_receives() const noexcept { return impl_->pending_receives > 0; }

std::size_t MpiTransport::pending_sends(NodeId peer) const noexcept {
  if (peer < 0 || peer >= impl_->size) return 0;
  return impl_->sends[static_cast<std::size_t>(peer)].in_flight;
}

MpiTransportDetails MpiTransport::details() const {
  MpiTransportDetails details = impl_->counters;
  details.doorbell_failures = impl_->doorbell ? impl_->doorbell->ring_failures() : 0;
  details.pending_sends = impl_->pending_sends;
  details.pending_send_bytes = impl_->pending_send_bytes;
  details.pending_receives = impl_->pending_receives;
  return details;
}

const MpiTransportOptions& MpiTransport::options() const noexcept { return impl_->options; }

MPI_Comm MpiTransport::communicator() const noexcept { return impl_->comm; }

}  // namespace raft::transport
