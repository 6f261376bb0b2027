#pragma once
/// The bytes of an answer as cpp-httplib writes them (status line, the
/// fields in its order, Content-Length, then the body), for the answers the
/// skeleton writes itself: refusals before a body is read, and the answers
/// of routes served without a worker (Route::async_handler).

#include <cstddef>
#include <string>

namespace httplib {
struct Response;
}  // namespace httplib

namespace raft::http {

/// How the connection goes on after the answer.
struct AnswerFraming {
  /// "Connection: close" (else "Keep-Alive: timeout=..., max=...").
  bool close = true;
  int keep_alive_timeout_s = 5;
  std::size_t keep_alive_max = 100;
  /// An answer to HEAD: the fields of the GET answer, no body.
  bool head_only = false;
};

/// The reason phrase of `status` ("Not Found"); "Error" for one unknown.
const char* reason_phrase(int status);

/// The whole answer on the wire. Fields of `res` come in httplib's order
/// (names compared without case), the framing fields among them.
std::string wire_answer(const httplib::Response& res, const AnswerFraming& framing);

}  // namespace raft::http
