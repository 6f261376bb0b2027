#include "runtime/loop_wait.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace raft::runtime {

using std::chrono::microseconds;

std::chrono::microseconds choose_wait(const WaitInputs& in) {
  if (in.active) return microseconds{0};
  // Without a doorbell, messages right after client traffic are caught by
  // polling; with one, they ring.
  const bool busy = !in.has_doorbell && in.since_busy < kBusyTier;
  if (busy || in.expecting_message || in.transfers_pending) {
    return in.until_deadline ? std::min(kBusyWait, *in.until_deadline) : kBusyWait;
  }
  microseconds wait;
  if (in.has_doorbell) {
    wait = kDoorbellIdleWait;
  } else if (in.since_busy < kWarmTier) {
    wait = kWarmWait;
  } else {
    const TimeMs idle_ms = std::clamp<TimeMs>(in.heartbeat_interval_ms / 6, 1, 100);
    wait = std::chrono::milliseconds(idle_ms);
  }
  return in.until_deadline ? std::min(wait, *in.until_deadline) : wait;
}

std::chrono::microseconds choose_spin(const WaitInputs& in, microseconds wait,
                                      microseconds window) {
  if (in.active || !in.has_doorbell || in.since_busy >= window) return microseconds{0};
  return std::min(wait, window - in.since_busy);
}

LoopWaker::LoopWaker() : event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (event_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

LoopWaker::~LoopWaker() { ::close(event_fd_); }

void LoopWaker::notify() {
  const std::uint64_t one = 1;
  // Can only fail if the counter would overflow: it is then readable anyway.
  [[maybe_unused]] const ssize_t n = ::write(event_fd_, &one, sizeof one);
}

void LoopWaker::clear() {
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(event_fd_, &count, sizeof count);
}

void LoopWaker::sleep(microseconds timeout, int doorbell_fd, microseconds spin) {
  pollfd fds[2] = {{event_fd_, POLLIN, 0}, {doorbell_fd, POLLIN, 0}};
  const nfds_t count = doorbell_fd >= 0 ? 2 : 1;
  if (spin.count() > 0) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto spin_end = start + std::min(spin, timeout);
    auto now = start;
    while (now < spin_end) {
      if (::poll(fds, count, 0) > 0) return;
      ::sched_yield();
      const auto before = now;
      now = Clock::now();
      if (now - before > kYieldGaveAway) break;  // the CPU is wanted: sleep
    }
    timeout -= std::chrono::duration_cast<microseconds>(now - start);
    if (timeout.count() <= 0) return;
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const timespec ts{static_cast<time_t>(seconds.count()),
                    static_cast<long>((timeout - seconds).count() * 1000)};
  ::ppoll(fds, count, &ts, nullptr);  // EINTR: the loop just goes round again
}

}  // namespace raft::runtime
