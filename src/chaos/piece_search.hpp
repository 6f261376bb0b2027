#pragma once
// The search over one piece of one key's history: Wing and Gong's depth-first
// search with Lowe's memo of configurations (as in Porcupine and Knossos) on a
// time-ordered list of call and return events. Ops of unknown outcome either
// must take effect inside the piece (their value is seen in it) or may stay
// out of the order; the piece starts from a known register value and must end
// in one. Internal to the checker; pure and thread-compatible.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace raft::chaos::detail {

inline constexpr int kAbsent = -1;    ///< register value: no such key
inline constexpr int kJunk = -2;      ///< a value no op certainly saw (an unknown write's)
inline constexpr int kAnyValue = -3;  ///< where a piece ends: whatever the register holds
inline constexpr std::int64_t kNoReturn = std::numeric_limits<std::int64_t>::max();

enum class Effect : std::uint8_t {
  Read,        ///< the register holds `value`
  Write,       ///< the register becomes `value`
  CasSwap,     ///< the register holds `expected`; it becomes `value`
  CasRefused,  ///< the register does not hold `expected`
  Delete,      ///< the key existed iff `found` (when known); it becomes absent
};

/// Optional ops with the same effect and no precondition are interchangeable:
/// if a valid order exists, one exists that uses them earliest call first, so
/// the search only ever tries the next one of a pool.
enum class Pool : std::uint8_t { None, Writes, Deletes };

enum class Landing : std::uint8_t {
  Known,     ///< completed: takes effect between its call and its return
  Required,  ///< outcome unknown but its value is seen: takes effect by `return_us`
  Optional,  ///< outcome unknown: takes effect after its call, or never
};

struct SearchOp {
  Effect effect = Effect::Read;
  Landing landing = Landing::Known;
  Pool pool = Pool::None;  ///< only for Optional ops
  int value = kAbsent;
  int expected = kAbsent;
  int found = -1;  ///< Delete: 1 the key existed, 0 it did not, -1 not known
  std::int64_t call_us = 0;
  /// Known: its return. Required: the latest it may take effect (the return
  /// of the first op that sees its value), kNoReturn: before the piece ends.
  std::int64_t return_us = 0;
  int source = -1;  ///< the caller's index of the op, -1 for stand-ins
};

struct SearchBudget {
  std::size_t max_configurations = 0;
  double max_seconds = 0;
};

/// How the pools are searched. Counted: each pooled op is taken once, in
/// call order. Unlimited: a pool's first op may be taken again and again (an
/// upper bound on what any pieces before could have left, which keeps the
/// search small: how many were used no longer tells configurations apart).
enum class Pools : std::uint8_t { Counted, Unlimited };

enum class Decision : std::uint8_t { Linearizable, Violation, Undecided };

struct SearchOutcome {
  Decision decision = Decision::Undecided;
  std::size_t configurations = 0;
  /// Linearizable: the Optional ops the order used (indexes into the ops).
  std::vector<int> optional_used;
  std::size_t pooled_writes_used = 0;  ///< how often a pooled write was taken
  std::size_t pooled_deletes_used = 0;
  /// Each time a pooled op was taken, in order: the time of the return that
  /// bounded the candidates then (a pooled op called by then could be it).
  std::vector<std::int64_t> pooled_frontiers[2];
  /// Violation: the op whose return the deepest valid order could not pass
  /// (-1: the piece's final value), how many ops that order held, and its
  /// last (up to 20) ops.
  int stuck = -1;
  std::size_t deepest = 0;
  std::vector<int> deepest_tail;
};

/// Searches for an order of `ops` that starts from `initial`, respects every
/// Known op's interval, takes every Required op, and leaves `final_value`
/// (kAnyValue: anything). Stops at the budget with Decision::Undecided.
SearchOutcome search_piece(const std::vector<SearchOp>& ops, int initial, int final_value,
                           const SearchBudget& budget, Pools pools = Pools::Counted);

}  // namespace raft::chaos::detail
