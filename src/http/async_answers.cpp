#include "http/async_answers.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <exception>
#include <string>
#include <vector>

#include "http/connection_stream.hpp"

namespace raft::http {

// Claimed here, before the owner is touched: once the server has stopped
// every request is claimed, so a late answer (a node's loop finishing a
// write after its HTTP server is gone) never reaches the destroyed owner.
bool Reply::answer(const Fill& fill) const {
  if (state_->claimed.exchange(true)) return false;
  state_->owner->answer_claimed(*state_, fill);
  return true;
}

bool Reply::answered() const { return state_->claimed.load(); }

void AsyncAnswers::track(const std::shared_ptr<Reply::State>& state, Clock::time_point deadline) {
  std::lock_guard lock(mutex_);
  if (state->claimed.load()) return;  // answered already, on another thread
  state->listing = deadlines_.emplace(deadline, state);
  state->listed = true;
}

void AsyncAnswers::unlist(Reply::State& state) {
  std::lock_guard lock(mutex_);
  if (!state.listed) return;
  deadlines_.erase(state.listing);
  state.listed = false;
}

void AsyncAnswers::answer_claimed(Reply::State& state, const Reply::Fill& fill) {
  unlist(state);
  httplib::Response res;
  res.status = 200;  // as httplib does for a handler that sets none
  try {
    fill(res);
  } catch (const std::exception& e) {
    res = httplib::Response();
    hooks_.internal_error(res, e.what());
  } catch (...) {
    res = httplib::Response();
    hooks_.internal_error(res, "");
  }
  hooks_.finish(state.request, res);
  send(state, res);
}

void AsyncAnswers::send(Reply::State& state, httplib::Response& res) {
  std::string bytes = wire_answer(res, state.framing);
  const bool keep_open = !state.framing.close;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n =
        ::send(state.fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      state.done(false);  // the client is gone
      return;
    }
  }
  if (sent == bytes.size()) {
    state.done(keep_open);
    return;
  }
  // A client slow to read waits on a worker, never on the answering thread
  // (a node's loop).
  bytes.erase(0, sent);
  hooks_.enqueue([fd = state.fd, rest = std::move(bytes), done = state.done, keep_open,
                  timeout = hooks_.write_timeout] {
    ConnectionStream stream(fd, std::string(), Peer{}, timeout);
    const bool whole = stream.write(rest.data(), rest.size()) == static_cast<ssize_t>(rest.size());
    done(whole && keep_open);
  });
}

void AsyncAnswers::expire(bool everything) {
  std::vector<std::shared_ptr<Reply::State>> due;
  {
    std::lock_guard lock(mutex_);
    const auto end = everything ? deadlines_.end() : deadlines_.upper_bound(Clock::now());
    for (auto it = deadlines_.begin(); it != end;) {
      if (std::shared_ptr<Reply::State> state = it->second.lock()) {
        state->listed = false;
        due.push_back(std::move(state));
      }
      it = deadlines_.erase(it);
    }
  }
  for (const std::shared_ptr<Reply::State>& state : due) {
    Reply(state).answer(
        [&state](httplib::Response& res) { state->on_deadline(state->request, res); });
  }
}

}  // namespace raft::http
