#include "launcher/poll.hpp"

#include <thread>

namespace raft::launcher {

bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds limit_ms,
                std::chrono::milliseconds interval_ms) {
  const auto end = std::chrono::steady_clock::now() + limit_ms;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(interval_ms);
  }
  return condition();
}

}  // namespace raft::launcher
