// choose_wait(): the node's loop sleeps exactly as long as nothing can be
// due. It never sleeps past the core's next timer deadline, never sleeps
// after doing work, and, with a doorbell, sleeps long when idle (the
// doorbell wakes it) instead of polling.
#include "runtime/loop_wait.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace raft::runtime {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

WaitInputs idle(bool doorbell) {
  WaitInputs in;
  in.has_doorbell = doorbell;
  in.heartbeat_interval_ms = 750;
  return in;
}

TEST(LoopWait, NeverSleepsPastTheNextDeadline) {
  for (bool doorbell : {false, true}) {
    for (microseconds until : {microseconds{0}, microseconds{1}, microseconds{999},
                               microseconds{37'000}, microseconds{2'500'000}}) {
      WaitInputs in = idle(doorbell);
      in.until_deadline = until;
      EXPECT_LE(choose_wait(in), until) << "doorbell " << doorbell;
      in.since_busy = microseconds{10};  // right after client traffic
      EXPECT_LE(choose_wait(in), until) << "busy, doorbell " << doorbell;
      in.expecting_message = true;
      EXPECT_LE(choose_wait(in), until) << "expecting, doorbell " << doorbell;
    }
  }
}

TEST(LoopWait, ADeadlineNearerThanThePollIsWhatItWaitsFor) {
  WaitInputs in = idle(/*doorbell=*/true);
  in.until_deadline = milliseconds{3};
  EXPECT_EQ(choose_wait(in), milliseconds{3}) << "wakes exactly at the deadline, not a poll later";
}

TEST(LoopWait, WorkMeansNoSleep) {
  WaitInputs in = idle(/*doorbell=*/true);
  in.active = true;
  EXPECT_EQ(choose_wait(in), microseconds{0});
}

TEST(LoopWait, WithADoorbellAnIdleNodeSleepsUntilWoken) {
  WaitInputs in = idle(/*doorbell=*/true);
  EXPECT_EQ(choose_wait(in), kDoorbellIdleWait);
  in.since_busy = microseconds{10};
  EXPECT_EQ(choose_wait(in), kDoorbellIdleWait) << "the doorbell, not polling, brings answers";
}

TEST(LoopWait, ARingWhoseMessageHasNotShownIsPolledFor) {
  WaitInputs in = idle(/*doorbell=*/true);
  in.expecting_message = true;
  EXPECT_EQ(choose_wait(in), kBusyWait);
}

TEST(LoopWait, AHalfMovedMessageIsPolledFor) {
  WaitInputs in = idle(/*doorbell=*/true);
  in.transfers_pending = true;
  EXPECT_EQ(choose_wait(in), kBusyWait) << "MPI moves it only while the loop polls";
}

TEST(LoopWait, WithoutADoorbellItPollsInTiers) {
  WaitInputs in = idle(/*doorbell=*/false);
  in.since_busy = microseconds{100};
  EXPECT_EQ(choose_wait(in), kBusyWait);
  in.since_busy = milliseconds{100};
  EXPECT_EQ(choose_wait(in), kWarmWait);
  in.since_busy = std::chrono::seconds{10};
  in.heartbeat_interval_ms = 300;
  EXPECT_EQ(choose_wait(in), milliseconds{50}) << "a sixth of the heartbeat interval";
  in.heartbeat_interval_ms = 750;
  EXPECT_EQ(choose_wait(in), milliseconds{100}) << "at most 100 ms";
}

TEST(LoopWaker, NotifyEndsASleepAndClearForgetsIt) {
  LoopWaker waker;
  waker.notify();
  const auto t0 = std::chrono::steady_clock::now();
  waker.sleep(std::chrono::seconds{10}, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{5});
  waker.clear();
  const auto t1 = std::chrono::steady_clock::now();
  waker.sleep(milliseconds{20}, -1);
  EXPECT_GE(std::chrono::steady_clock::now() - t1, milliseconds{19}) << "cleared: sleeps again";
}

TEST(LoopSpin, OnlyRightAfterTrafficAndNeverPastTheWindowOrTheWait) {
  const microseconds window{2000};
  WaitInputs in = idle(/*doorbell=*/true);
  EXPECT_EQ(choose_spin(in, milliseconds{250}, window), microseconds{0}) << "idle: no spin";
  in.since_busy = microseconds{500};
  EXPECT_EQ(choose_spin(in, milliseconds{250}, window), microseconds{1500}) << "rest of window";
  EXPECT_EQ(choose_spin(in, microseconds{300}, window), microseconds{300}) << "at most the wait";
  in.since_busy = window;
  EXPECT_EQ(choose_spin(in, milliseconds{250}, window), microseconds{0}) << "window over";
  in.since_busy = microseconds{10};
  EXPECT_EQ(choose_spin(in, milliseconds{250}, microseconds{0}), microseconds{0}) << "off";
  in.active = true;
  EXPECT_EQ(choose_spin(in, milliseconds{250}, window), microseconds{0}) << "work: no sleep";
  in.active = false;
  in.has_doorbell = false;
  EXPECT_EQ(choose_spin(in, milliseconds{250}, window), microseconds{0}) << "the tiers poll";
}

TEST(LoopWaker, ASpinEndsAtANotifyAndOtherwiseSleepsTheRest) {
  LoopWaker waker;
  std::thread ringer([&] {
    std::this_thread::sleep_for(milliseconds{2});
    waker.notify();
  });
  const auto t0 = std::chrono::steady_clock::now();
  waker.sleep(std::chrono::seconds{10}, -1, std::chrono::seconds{10});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{5})
      << "seen while spinning";
  ringer.join();
  waker.clear();
  const auto t1 = std::chrono::steady_clock::now();
  waker.sleep(milliseconds{20}, -1, milliseconds{5});
  EXPECT_GE(std::chrono::steady_clock::now() - t1, milliseconds{19}) << "spin, then sleep the rest";
}

/// Times the calling thread has left the CPU, asked or not.
long thread_switches() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nvcsw + usage.ru_nivcsw;
}

/// Pins the calling thread to `cpu` (false if the machine will not).
bool pin_to(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return sched_setaffinity(0, sizeof one, &one) == 0;
}

/// The first CPU this process may run on.
int first_allowed_cpu() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  sched_getaffinity(0, sizeof allowed, &allowed);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) return cpu;
  }
  return 0;
}

TEST(LoopWaker, ASpinGivesUpTheCpuToAThreadThatWantsIt) {
  // A busy thread on the same CPU: spinning on would switch to and fro with
  // it (each yield hands it the CPU, each slice's end hands it back) for the
  // whole spin; the spin must notice and sleep instead.
  const int cpu = first_allowed_cpu();
  std::atomic<bool> stop{false};
  std::atomic<bool> pinned{false};
  std::thread busy([&] {
    pinned = pin_to(cpu);
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  while (!pinned.load()) std::this_thread::yield();
  ASSERT_TRUE(pin_to(cpu));
  LoopWaker waker;
  const long switches0 = thread_switches();
  const auto t0 = std::chrono::steady_clock::now();
  waker.sleep(milliseconds{200}, -1, milliseconds{200});
  const auto waited = std::chrono::steady_clock::now() - t0;
  const long switches = thread_switches() - switches0;
  stop = true;
  busy.join();
  EXPECT_GE(waited, milliseconds{190});
  EXPECT_LE(switches, 5) << "it kept spinning beside a busy thread";
}

}  // namespace
}  // namespace raft::runtime
