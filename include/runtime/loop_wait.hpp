#pragma once
/// How long the node's loop may sleep, and the sleep itself.
///
/// The loop sleeps exactly as long as nothing can be due: until the core's
/// next timer deadline (Node::next_deadline_ms), an HTTP request, or a
/// peer's doorbell (transport/doorbell.hpp), so no timer fires late and no
/// message waits for a poll. Without a doorbell (a transport that has none)
/// it must poll for messages, in tiers by how recently it served clients.

#include <chrono>
#include <optional>

#include "raft/types.hpp"

namespace raft::runtime {

struct WaitInputs {
  /// The last iteration did work (messages, requests, a Ready).
  bool active = false;
  /// Time since the loop last served client traffic.
  std::chrono::microseconds since_busy{std::chrono::hours(1)};
  /// A doorbell will wake the loop when a message comes.
  bool has_doorbell = false;
  /// A peer rang but its message has not arrived yet (MPI may make it
  /// visible a little after the datagram): poll briefly instead of sleeping.
  bool expecting_message = false;
  /// A large message is half sent or half received: MPI moves it only while
  /// the loop polls.
  bool transfers_pending = false;
  /// Until the core's next deadline; nullopt when no timer runs (paused,
  /// crashed, storage failed).
  std::optional<std::chrono::microseconds> until_deadline;
  TimeMs heartbeat_interval_ms = 750;
};

/// Without a doorbell, polls right after client traffic: every 50 us for
/// 500 us, so an exchange of several messages does not sleep between them.
inline constexpr std::chrono::microseconds kBusyWait{50};
inline constexpr std::chrono::microseconds kBusyTier{500};
/// A peer rang: poll every 50 us for up to 5 ms until its message shows.
inline constexpr std::chrono::microseconds kExpectWindow{5000};
/// With a doorbell, the loop still wakes this often when nothing is due,
/// so the published status stays fresh and a lost datagram costs at most this.
inline constexpr std::chrono::milliseconds kDoorbellIdleWait{250};
/// Without one: every 1 ms for 2 s after client traffic, then a sixth of
/// the heartbeat interval (1-100 ms).
inline constexpr std::chrono::microseconds kWarmWait{1000};
inline constexpr std::chrono::milliseconds kWarmTier{2000};

std::chrono::microseconds choose_wait(const WaitInputs& in);

/// Lets the loop sleep in poll(2) until a timeout, a notify() from another
/// thread, or a readable doorbell descriptor.
class LoopWaker {
 public:
  LoopWaker();  ///< throws std::system_error if no eventfd can be made
  ~LoopWaker();
  LoopWaker(const LoopWaker&) = delete;
  LoopWaker& operator=(const LoopWaker&) = delete;

  /// Thread-safe: the next (or current) sleep returns at once.
  void notify();
  /// Loop thread: forget earlier notifications. Call before looking at what
  /// they announced, so one that comes after is not lost.
  void clear();
  /// Sleeps up to `timeout`, or until notify() or `doorbell_fd` (if >= 0)
  /// is readable.
  void sleep(std::chrono::microseconds timeout, int doorbell_fd);

 private:
  int event_fd_ = -1;
};

}  // namespace raft::runtime
