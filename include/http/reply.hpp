#pragma once
/// Reply: how a route served without a worker (Route::async_handler)
/// answers. The handler runs on the server's gate thread and must not
/// block: it starts the work (a node queues a write for its loop) and keeps
/// the Reply; whichever thread finishes the work answers through it (the
/// node's loop, once the write is committed and applied), and the answer
/// goes out from that thread without waking another. If no answer comes by
/// the route's deadline, or the server stops first, the route's
/// `on_deadline` answer goes out instead; an answer after that is dropped.

#include <functional>
#include <memory>
#include <utility>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace raft::http {

class Reply {
 public:
  using Fill = std::function<void(httplib::Response&)>;

  /// The first answer wins: runs `fill` on a fresh response and sends it,
  /// unless the request was answered already (then `fill` never runs).
  /// Any thread. The server stays up while `fill` runs, so `fill` may use
  /// what the server's owner keeps alive until Server::stop() returns.
  /// Returns whether this call answered.
  bool answer(const Fill& fill) const;
  /// Whether the request has been answered (by this Reply or its deadline).
  bool answered() const;

  struct State;  ///< the server's side (async_answers.hpp)
  explicit Reply(std::shared_ptr<State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<State> state_;
};

/// A route's handler that answers later, through `reply`.
using AsyncHandler = std::function<void(const httplib::Request&, Reply reply)>;

}  // namespace raft::http
