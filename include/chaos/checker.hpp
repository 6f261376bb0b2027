#pragma once
/// Linearizability checker for a history of register operations (read,
/// write, compare-and-set, delete) on many keys. Pure functions,
/// thread-compatible. A delete makes the register absent (the value a read of a
/// missing key, a 404, returns); its "found" answer, when known, must match
/// whether the key existed at that point.
///
/// The algorithm is Wing & Gong's search as improved by Lowe ("Testing for
/// linearizability", 2017) and used by Porcupine and Knossos: walk the
/// time-ordered list of call and return events, tentatively linearize any op
/// whose call has happened, backtrack when a return is reached whose op is not
/// linearized yet, and memoise (set of linearized ops, register value) so no
/// configuration is explored twice. A register history is linearizable iff
/// each key's sub-history is (P-compositionality), so keys are checked apart.
///
/// Ops with outcome Fail are ignored (they did not happen). Unknown reads are
/// ignored (they change nothing). Unknown writes and cas may take effect at any
/// time after their invocation, or never. Every key starts absent.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chaos/history.hpp"

namespace raft::chaos {

struct CheckOptions {
  /// The search gives up on a key (neither proven nor refuted) after
  /// remembering this many configurations or bytes of them, or after this
  /// long, so a pathological history cannot eat all memory or time.
  std::size_t max_configurations = 4'000'000;
  std::size_t max_bytes = std::size_t{512} << 20;
  double max_seconds = 30;
};

struct KeyVerdict {
  std::string key;
  bool linearizable = false;
  bool gave_up = false;            ///< the budget ran out: neither proven nor refuted
  std::size_t ops_checked = 0;     ///< after dropping failed ops and unknown reads
  std::size_t configurations = 0;  ///< distinct (linearized set, value) pairs explored
  double seconds = 0;
  /// When not linearizable: the op whose return could never be reached with a
  /// valid order, and how far the deepest partial linearization got.
  int stuck_op = -1;
  std::size_t deepest_prefix = 0;
  std::vector<int> deepest_order;  ///< the last (up to 20) op ids of that partial order
  std::string explanation;
};

/// Checks the operations of one key (every op must carry that key).
KeyVerdict check_key(const std::string& key, const std::vector<Operation>& ops,
                     const CheckOptions& options = {});

/// Partitions `history` by key and checks each key.
std::vector<KeyVerdict> check_history(const std::vector<Operation>& history,
                                      const CheckOptions& options = {});

/// What a key held when read after the final heal.
struct FinalRead {
  std::optional<std::string> value;  ///< nullopt: the key was absent
  std::int64_t invoke_us = 0;
};

struct LostWrite {
  int op_id = -1;  ///< the acknowledged write (or swapped cas)
  std::string key;
  std::string value;
  std::string explanation;
};

/// Every acknowledged write (ok write, ok swapped cas) must be the final value
/// of its key or be superseded: the final value must come from a write that
/// could have taken effect after it (one that had not completed before the
/// acknowledged write was invoked), or, if the key is absent, a delete must
/// have been able to follow it. Likewise an acknowledged delete leaves the key
/// absent unless the final value comes from a write that could follow it.
/// Values are assumed unique per write, as raft_chaos generates them. Keys
/// missing from `final_reads` are skipped.
std::vector<LostWrite> find_lost_writes(const std::vector<Operation>& history,
                                        const std::map<std::string, FinalRead>& final_reads);

/// For a self-check on a real history: makes the last ok read of `key` return
/// the value of an acknowledged write that a later acknowledged write had
/// certainly replaced before the read began (values are unique), which no
/// linearizable history can contain. Returns the id of the changed read, or
/// -1 if the history has no such read and writes.
int plant_stale_read(std::vector<Operation>& history, const std::string& key);

}  // namespace raft::chaos
