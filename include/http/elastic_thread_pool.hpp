#pragma once
/// A task queue for cpp-httplib whose worker threads grow with the load and
/// shrink when it passes. httplib's own ThreadPool has a fixed size, and every
/// keep-alive connection holds a worker while it is open: with 64 workers, 256
/// clients meant 192 connections queued behind the others for seconds (p99 of
/// 1.6-2.3 s, measured). Growing up to `max_threads` on demand serves them all
/// at once, and an idle server keeps only `min_threads`. Every server of the
/// project (node, monitor, discovery) runs on it through http::Server.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

#include <httplib.h>

namespace raft::http {

class ElasticThreadPool final : public httplib::TaskQueue {
 public:
  /// Starts `min_threads` workers. A job that finds no idle worker starts a
  /// new one, up to `max_threads`; beyond that jobs wait in order. A worker
  /// above `min_threads` that has had nothing to do for `idle_exit` ends.
  ElasticThreadPool(std::size_t min_threads, std::size_t max_threads,
                    std::chrono::milliseconds idle_exit);
  ~ElasticThreadPool() override;
  ElasticThreadPool(const ElasticThreadPool&) = delete;
  ElasticThreadPool& operator=(const ElasticThreadPool&) = delete;

  void enqueue(std::function<void()> fn) override;
  /// Runs every job already queued, then ends and joins every worker.
  void shutdown() override;

  /// Workers running now (for tests and metrics).
  std::size_t threads() const;

 private:
  using Workers = std::list<std::thread>;
  void spawn_locked();
  void join_finished_locked();
  void work(Workers::iterator self);

  const std::size_t min_threads_;
  const std::size_t max_threads_;
  const std::chrono::milliseconds idle_exit_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<std::function<void()>> jobs_;
  Workers running_;   ///< workers that may take jobs
  Workers finished_;  ///< workers that ended on idle, to be joined
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace raft::http
