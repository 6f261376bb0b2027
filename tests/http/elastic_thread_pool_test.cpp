// The node's HTTP worker pool: it grows to serve every waiting job at once,
// never beyond its maximum, shrinks back when idle, and runs every job it
// accepted before shutdown returns.
#include "http/elastic_thread_pool.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace raft::http {
namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline = 10s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// Jobs that block until released, counting how many run at once.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> inside{0};
  std::atomic<int> done{0};

  std::function<void()> job() {
    return [this] {
      ++inside;
      std::unique_lock lock(mutex);
      cv.wait(lock, [this] { return open; });
      --inside;
      ++done;
    };
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    cv.notify_all();
  }
};

TEST(ElasticThreadPool, StartsWithTheMinimum) {
  ElasticThreadPool pool(3, 10, 60s);
  EXPECT_EQ(pool.threads(), 3u);
}

TEST(ElasticThreadPool, GrowsSoThatEveryBlockedJobRunsAtOnce) {
  ElasticThreadPool pool(2, 64, 60s);
  Gate gate;
  for (int i = 0; i < 40; ++i) pool.enqueue(gate.job());
  // A fixed pool of 2 would leave 38 jobs queued behind the first two.
  EXPECT_TRUE(eventually([&] { return gate.inside == 40; })) << gate.inside << " running";
  EXPECT_EQ(pool.threads(), 40u);
  gate.release();
  EXPECT_TRUE(eventually([&] { return gate.done == 40; }));
}

TEST(ElasticThreadPool, NeverExceedsTheMaximumAndQueuesTheRest) {
  ElasticThreadPool pool(1, 5, 60s);
  Gate gate;
  for (int i = 0; i < 20; ++i) pool.enqueue(gate.job());
  EXPECT_TRUE(eventually([&] { return gate.inside == 5; }));
  EXPECT_EQ(pool.threads(), 5u);
  EXPECT_EQ(gate.inside, 5);
  gate.release();
  EXPECT_TRUE(eventually([&] { return gate.done == 20; }));
  EXPECT_EQ(pool.threads(), 5u);
}

TEST(ElasticThreadPool, IdleWorkersAboveTheMinimumEnd) {
  ElasticThreadPool pool(2, 32, 50ms);
  Gate gate;
  for (int i = 0; i < 12; ++i) pool.enqueue(gate.job());
  EXPECT_TRUE(eventually([&] { return gate.inside == 12; }));
  gate.release();
  EXPECT_TRUE(eventually([&] { return gate.done == 12; }));
  EXPECT_TRUE(eventually([&] { return pool.threads() == 2; })) << pool.threads() << " left";
  // The pool still works after shrinking, and the ended workers get joined.
  std::atomic<int> ran{0};
  for (int i = 0; i < 8; ++i) pool.enqueue([&] { ++ran; });
  EXPECT_TRUE(eventually([&] { return ran == 8; }));
}

TEST(ElasticThreadPool, ShutdownRunsEveryQueuedJobThenJoins) {
  std::atomic<int> ran{0};
  {
    ElasticThreadPool pool(1, 1, 60s);
    Gate gate;
    pool.enqueue(gate.job());
    for (int i = 0; i < 50; ++i) pool.enqueue([&] { ++ran; });
    EXPECT_TRUE(eventually([&] { return gate.inside == 1; }));
    std::thread stopper([&] { pool.shutdown(); });
    // A job given once shutdown has begun runs in the caller's thread: that
    // is how the test sees it began while the queue was still full.
    EXPECT_TRUE(eventually([&] {
      auto in_caller = std::make_shared<std::atomic<bool>>(false);
      pool.enqueue([in_caller, me = std::this_thread::get_id()] {
        if (std::this_thread::get_id() == me) *in_caller = true;
      });
      return in_caller->load();
    }));
    EXPECT_LT(ran, 50);  // the blocked job still holds the only worker
    gate.release();
    stopper.join();
    EXPECT_EQ(ran, 50);
    EXPECT_EQ(pool.threads(), 0u);
  }
  EXPECT_EQ(ran, 50);
}

TEST(ElasticThreadPool, AJobGivenAfterShutdownStillRuns) {
  ElasticThreadPool pool(1, 4, 60s);
  pool.shutdown();
  bool ran = false;
  pool.enqueue([&] { ran = true; });  // httplib's job owns a socket: never drop it
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace raft::http
