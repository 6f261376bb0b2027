#pragma once
/// Invariant checks of the Raft core.
///
/// RAFT_ASSERT(cond, msg) stays on in every build, NDEBUG included: a broken
/// invariant in a consensus core means the node may already have lost or
/// invented committed data, and stopping it at once (file:line, the
/// condition and the message on stderr, then abort) is the only safe answer.
/// It must therefore be cheap: O(1), no allocation on the passing path. Use it
/// for what the core itself guarantees, never for what a peer sent (messages
/// are untrusted; the core drops malformed ones instead).
///
/// RAFT_DEBUG_ASSERT(cond, msg) is the same check for what costs more than
/// O(1) (a walk over the log or over every peer). It is compiled only without
/// NDEBUG or with RAFT_DEBUG_CHECKS defined (the sanitizer build defines it);
/// otherwise `cond` is not evaluated.

namespace raft::detail {

/// Prints "file:line: RAFT_ASSERT(condition) failed: message" to stderr and
/// aborts. Never returns.
[[noreturn]] void assert_failed(const char* file, int line, const char* condition,
                                const char* message) noexcept;

}  // namespace raft::detail

#define RAFT_ASSERT(cond, msg)                                         \
  do {                                                                 \
    if (!(cond)) [[unlikely]] {                                        \
      ::raft::detail::assert_failed(__FILE__, __LINE__, #cond, (msg)); \
    }                                                                  \
  } while (false)

#if !defined(NDEBUG) || defined(RAFT_DEBUG_CHECKS)
#define RAFT_DEBUG_ASSERT(cond, msg) RAFT_ASSERT(cond, msg)
#else
#define RAFT_DEBUG_ASSERT(cond, msg) \
  do {                               \
    if (false) {                     \
      (void)(cond);                  \
      (void)(msg);                   \
    }                                \
  } while (false)
#endif
