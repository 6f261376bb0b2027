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

/// Right after traffic, a sleeping thread costs each hop of a write a
/// wake-up through the kernel (and, in a VM, a halted vCPU woken by an
/// interrupt): measured on the 2-core VM, a 1-client write's leader saw
/// 0.8-1.1 ms from its own sync to the commit when sleeping and 0.5-0.6 ms
/// when checking first (docs/BENCHMARKS.md, "Where one write's time goes").
/// So for this long after the loop last served traffic it checks its
/// descriptors, yielding the CPU between checks, before it sleeps. Idle
/// nodes never spin.
inline constexpr std::chrono::microseconds kSpinWindowDefault{2000};

/// How long to check before sleeping `wait`: what is left of `window` since
/// the last traffic, at most `wait`; nothing when the loop is active or
/// without a doorbell (the polling tiers cover that case).
std::chrono::microseconds choose_spin(const WaitInputs& in, std::chrono::microseconds wait,
                                      std::chrono::microseconds window);

/// A yield that took longer than this gave the CPU to a thread with work
/// for a whole slice (a compiler, a busy process): the CPU is wanted, and
/// checking on would switch to and fro with it. A yield with nothing else
/// to run returns in about a microsecond, and one to another spinning loop
/// or a short burst of the HTTP gate or a client in tens: those keep the
/// spin (with 30 us here one client's write took 0.50-0.54 ms at p50
/// instead of 0.42-0.46, raft_cluster_bench --concurrency 1, quiet VM).
inline constexpr std::chrono::microseconds kYieldGaveAway{200};

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
  /// is readable; the first `spin` of it by checking them, yielding the CPU
  /// in between, instead of sleeping in the kernel, until a yield shows the
  /// CPU is wanted (kYieldGaveAway): then it sleeps.
  void sleep(std::chrono::microseconds timeout, int doorbell_fd,
             std::chrono::microseconds spin = std::chrono::microseconds{0});

 private:
  int event_fd_ = -1;
};

}  // namespace raft::runtime
