#pragma once
/// Linearizability checker for a history of register operations (read,
/// write, compare-and-set, delete) on many keys. Pure functions (they start
/// threads of their own and join them), thread-compatible. A delete makes the
/// register absent (the value a read of a missing key, a 404, returns); its
/// "found" answer, when known, must match whether the key existed then.
///
/// A register history is linearizable iff each key's sub-history is
/// (P-compositionality), so keys are checked apart. Each key's history is
/// cut at quiescent ops: a completed read, write, swapped compare-and-set or
/// delete that overlaps no other completed op of the key fixes the register's
/// value at its point, so the ops before and after it can be searched apart.
/// Ops of unknown outcome are carried across the cuts exactly: one whose
/// value a completed op saw must take effect in the piece where it is first
/// seen (values are unique per write); any other may take effect any time
/// after its call, or never. Each piece is searched with Wing and Gong's
/// algorithm as improved by Lowe ("Testing for linearizability", 2017; as in
/// Porcupine and Knossos), on every core at once.
///
/// Ops with outcome Fail are ignored (they did not happen), and so are
/// unknown reads (they change nothing) and stale reads (they promise less;
/// see stale_reads.hpp). Every key starts absent.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chaos/history.hpp"

namespace raft::chaos {

struct CheckOptions {
  /// A piece is left undecided (neither proven nor refuted) once its search
  /// has explored this many configurations or run this long, so a
  /// pathological history cannot eat all memory or time. Per piece; a
  /// search keeps 24 bytes a configuration (at most 400 MB at this budget)
  /// and there is one search per thread.
  std::size_t max_configurations = 10'000'000;
  double max_seconds = 120;
  /// Threads searching pieces at once; 0: one per core.
  unsigned threads = 0;
  /// False: search each key's history whole, as one piece (to cross-check
  /// the cuts, and to show what they buy).
  bool cut = true;
};

struct KeyVerdict {
  std::string key;
  bool linearizable = false;
  bool gave_up = false;            ///< a piece ran out of budget: neither proven nor refuted
  std::size_t ops_checked = 0;     ///< after dropping failed ops, unknown and stale reads
  std::size_t pieces = 0;          ///< pieces the key's history was cut into
  std::size_t largest_piece = 0;   ///< ops in the largest piece searched
  std::size_t configurations = 0;  ///< distinct (ops taken, register value) pairs explored
  double seconds = 0;              ///< time spent searching this key's pieces
  /// When not linearizable or undecided: the piece in question, named by the
  /// ids of its first and last op and its number of ops.
  int piece_first_op = -1;
  int piece_last_op = -1;
  std::size_t piece_ops = 0;
  /// When not linearizable: the op whose return could never be reached with a
  /// valid order (-1: the piece's closing value could not be reached), how far
  /// the deepest partial order got, and its last (up to 20) op ids.
  int stuck_op = -1;
  std::size_t deepest_prefix = 0;
  std::vector<int> deepest_order;
  std::string explanation;
};

/// Checks the operations of one key (every op must carry that key).
KeyVerdict check_key(const std::string& key, const std::vector<Operation>& ops,
                     const CheckOptions& options = {});

/// Partitions `history` by key and checks every key; verdicts by key name.
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
/// missing from `final_reads` are skipped. Linear in the history.
std::vector<LostWrite> find_lost_writes(const std::vector<Operation>& history,
                                        const std::map<std::string, FinalRead>& final_reads);

}  // namespace raft::chaos
