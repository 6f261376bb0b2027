#pragma once
/// What a stale read (GET /kv/{key}?stale=true) promises, checked on a
/// history. Such a read is answered from the node's own copy of the state
/// machine, which holds a prefix of the committed log, so it is not
/// linearizable, but it promises:
///
/// 1. The value was written: some write or compare-and-set that may have
///    taken effect wrote it (or the key is absent).
/// 2. Never from the future: that write was invoked before the read
///    completed and, when the answer names the node's applied index, its
///    entry is at or below that index and no later change of the key is.
/// 3. Monotonic per node: once a node has shown that it applied index I (it
///    answered a write at I, or returned a value written at I, or named I as
///    its applied index), no later stale read on it returns a value that an
///    entry at or below I had replaced, nor one that an op certainly
///    replaced before a value it returned earlier was written. A restart
///    rebuilds the state machine from the last snapshot and may go back, so
///    reads are only compared within one run of a node.
///
/// Log indexes come from the answers (Operation::log_index,
/// Operation::applied_index); without them the checks that need them are
/// skipped. Values are assumed unique per write, as raft_chaos makes them.
/// Pure functions, thread-compatible, O(n log n).

#include <cstdint>
#include <string>
#include <vector>

#include "chaos/history.hpp"

namespace raft::chaos {

/// A time in which node `node`'s state machine may have been rebuilt from
/// its snapshot (a crash and restart, a kill -9 and relaunch).
struct RestartWindow {
  int node = -1;
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
};

struct StaleReadProblem {
  int op_id = -1;  ///< the stale read
  std::string key;
  int node = -1;
  std::string explanation;
};

/// Checks every ok stale read of `history` against the promise above; one
/// problem at most per read.
std::vector<StaleReadProblem> check_stale_reads(const std::vector<Operation>& history,
                                                const std::vector<RestartWindow>& restarts);

}  // namespace raft::chaos
