#include "http/elastic_thread_pool.hpp"

#include <algorithm>
#include <iterator>
#include <system_error>
#include <utility>

namespace raft::http {

ElasticThreadPool::ElasticThreadPool(std::size_t min_threads, std::size_t max_threads,
                                     std::chrono::milliseconds idle_exit)
    : min_threads_(std::max<std::size_t>(1, min_threads)),
      max_threads_(std::max(max_threads, std::max<std::size_t>(1, min_threads))),
      idle_exit_(idle_exit) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < min_threads_; ++i) spawn_locked();
}

ElasticThreadPool::~ElasticThreadPool() { shutdown(); }

void ElasticThreadPool::enqueue(std::function<void()> fn) {
  {
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      join_finished_locked();
      jobs_.push_back(std::move(fn));
      // Idle workers that were already woken still count as idle until they
      // run, so a burst of jobs starts as many new workers as it needs.
      if (idle_ < jobs_.size() && running_.size() < max_threads_) spawn_locked();
      // Woken after the unlock: a worker woken under the lock would only
      // wait for it (measured: most of a busy server's lock waits).
      lock.unlock();
      work_ready_.notify_one();
      return;
    }
  }
  // After shutdown nobody would run it, and httplib's job owns a socket that
  // only the job closes: run it here rather than leak it.
  fn();
}

void ElasticThreadPool::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && running_.empty() && finished_.empty()) return;
    stopping_ = true;
  }
  work_ready_.notify_all();
  // Once stopping_ is set no worker moves between the lists and no new one
  // starts, so they can be joined without the lock (which the workers need).
  for (std::thread& t : running_) t.join();
  for (std::thread& t : finished_) t.join();
  std::lock_guard lock(mutex_);
  running_.clear();
  finished_.clear();
}

std::size_t ElasticThreadPool::threads() const {
  std::lock_guard lock(mutex_);
  return running_.size();
}

void ElasticThreadPool::spawn_locked() {
  running_.emplace_back();
  const Workers::iterator self = std::prev(running_.end());
  // The new worker first takes the lock, which the caller holds, so `*self`
  // is assigned before the worker can look at it.
  try {
    *self = std::thread([this, self] { work(self); });
    ++idle_;  // idle from birth: a job queued before it first waits is its
  } catch (const std::system_error&) {
    // Out of threads: the jobs wait for the workers there are.
    running_.erase(self);
  }
}

void ElasticThreadPool::join_finished_locked() {
  // A finished worker has left work() (it moved itself here under the lock
  // and returned), so join() waits at most for its thread to wind down.
  for (std::thread& t : finished_) t.join();
  finished_.clear();
}

void ElasticThreadPool::work(Workers::iterator self) {
  std::unique_lock lock(mutex_);
  while (true) {
    // Here this worker is counted in idle_ (spawn_locked counted it at birth).
    const bool woken =
        work_ready_.wait_for(lock, idle_exit_, [&] { return stopping_ || !jobs_.empty(); });
    --idle_;
    if (!jobs_.empty()) {
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
      ++idle_;
      continue;
    }
    if (stopping_) return;
    if (!woken && running_.size() > min_threads_) {
      finished_.splice(finished_.end(), running_, self);
      return;
    }
    ++idle_;
  }
}

}  // namespace raft::http
