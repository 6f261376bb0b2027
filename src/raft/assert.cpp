// The failure path of RAFT_ASSERT, out of line so that every check site stays
// a compare and a rarely taken branch.
#include "raft/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace raft::detail {

void assert_failed(const char* file, int line, const char* condition,
                   const char* message) noexcept {
  // stdio rather than iostreams: it works during static destruction, and one
  // fprintf holds the stream's lock, so the line is not cut by other threads.
  std::fprintf(stderr, "%s:%d: RAFT_ASSERT(%s) failed: %s\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace raft::detail
