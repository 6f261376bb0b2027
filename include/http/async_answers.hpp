#pragma once
/// AsyncAnswers: the requests a server took off its gate without a worker
/// (Route::async_handler), until each is answered: who answers first (the
/// handler's Reply or the route's deadline) wins, the answer is written from
/// the answering thread without blocking it (what the socket does not take
/// at once is finished on a worker), and the gate gets the connection back.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <httplib.h>

#include "http/reply.hpp"
#include "http/wire_answer.hpp"

namespace raft::http {

struct Reply::State {
  using Clock = std::chrono::steady_clock;
  class AsyncAnswers* owner = nullptr;
  int fd = -1;
  AnswerFraming framing;
  httplib::Request request;
  /// Fills the answer sent when the deadline passes (or the server stops).
  std::function<void(const httplib::Request&, httplib::Response&)> on_deadline;
  /// Gives the connection back to the gate (ConnectionGate::Hooks::take).
  std::function<void(bool keep_open)> done;
  std::atomic<bool> claimed{false};
  bool listed = false;  ///< in owner's deadlines (under its mutex)
  std::multimap<Clock::time_point, std::weak_ptr<State>>::iterator listing;
};

class AsyncAnswers {
 public:
  using Clock = Reply::State::Clock;
  struct Hooks {
    /// Completes an answer before it is written (default fields, the
    /// `answered` hook for metrics); any thread.
    std::function<void(const httplib::Request&, httplib::Response&)> finish;
    /// Fills a 500 for a `fill` that threw (the server's error envelope).
    std::function<void(httplib::Response&, const std::string& message)> internal_error;
    /// Runs a job on a worker (the rest of an answer the socket did not
    /// take at once).
    std::function<void(std::function<void()>)> enqueue;
    /// How long one piece of an answer may wait for a client that does not
    /// read.
    std::chrono::milliseconds write_timeout{5'000};
  };

  explicit AsyncAnswers(Hooks hooks) : hooks_(std::move(hooks)) {}

  /// Lists `state` until it is answered, at most until `deadline`.
  void track(const std::shared_ptr<Reply::State>& state, Clock::time_point deadline);
  /// Fills and sends the answer of a request Reply::answer() claimed.
  void answer_claimed(Reply::State& state, const Reply::Fill& fill);
  /// Answers every request past its deadline; all of them when `everything`
  /// (the server is stopping). On the gate's thread.
  void expire(bool everything);

 private:
  void send(Reply::State& state, httplib::Response& res);
  void unlist(Reply::State& state);

  Hooks hooks_;
  std::mutex mutex_;
  std::multimap<Clock::time_point, std::weak_ptr<Reply::State>> deadlines_;
};

}  // namespace raft::http
