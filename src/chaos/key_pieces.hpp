#pragma once
// Cuts one key's history into pieces that can be searched apart. A completed
// op that overlaps no other completed op of the key (a read, a write, a
// swapped compare-and-set or a delete) fixes the register's value at its
// point: everything completed before it comes first, everything after it
// later. Such quiescent ops end the pieces; the next piece starts from the
// value they fixed.
//
// Ops of unknown outcome cross those cuts. Values are unique per write (as
// raft_chaos makes them), so an unknown write whose value a completed op
// saw must take effect in the piece where its value is first seen: before
// that piece its value would have to survive a cut that fixed another one,
// after it the value was already seen. Such ops are Required there. Every
// other unknown op may take effect any time after its call, or never: it is
// Optional in every piece from the first one it could reach. Optional writes
// whose value no one saw are interchangeable (they leave a value no one
// reads) and so are optional deletes; a piece gets stand-ins for the ones
// invoked before it, as many as could make a difference there. Internal to
// the checker.

#include <cstddef>
#include <string>
#include <vector>

#include "chaos/history.hpp"
#include "piece_search.hpp"

namespace raft::chaos::detail {

/// An op of the key as the search sees it: values interned.
struct KeyOp {
  const Operation* op = nullptr;
  int value = kAbsent;     ///< write/cas: the new value; read: the value returned
  int expected = kAbsent;  ///< cas
};

enum class Role : std::uint8_t {
  Known,          ///< completed (ok)
  Required,       ///< unknown, its value is seen: takes effect in one piece
  PooledWrite,    ///< unknown write or cas whose value no one saw
  PooledDelete,   ///< unknown delete
  OptionalCas,    ///< unknown cas, value unseen, but it may match a value seen
  OptionalValue,  ///< unknown write of a value seen that others wrote too
  Irrelevant,     ///< unknown, and whether it happened changes nothing
};

struct PiecePlan {
  std::vector<int> known;     ///< indexes into KeySplit::ops, by call time
  std::vector<int> required;  ///< unknown ops that take effect in it
  std::vector<int> optional;  ///< optional ops whose first chance it is
  std::vector<int> carried;   ///< earlier non-pooled optional ops that may matter in it
  int initial = kAbsent;      ///< the value it starts from
  int final_value = kAnyValue;
  std::size_t pooled_writes = 0;   ///< pooled writes among `optional`
  std::size_t pooled_deletes = 0;  ///< pooled deletes among `optional`
  /// How many ops could profit from an unseen write / a delete just before
  /// them: more stand-ins than that cannot help.
  std::size_t write_beneficiaries = 0;
  std::size_t delete_beneficiaries = 0;
};

struct KeySplit {
  std::string key;
  std::vector<KeyOp> ops;  ///< the key's ops that matter (not failed, no unknown or stale reads)
  std::vector<Role> roles;
  std::vector<PiecePlan> pieces;
};

/// Splits one key's history (every op must carry that key); with `cut`
/// false it stays one piece.
KeySplit split_key(std::string key, const std::vector<const Operation*>& history, bool cut);

/// What a span of pieces may use from before it.
struct Carry {
  /// True: as many pooled ops as could help (one stand-in per pool, searched
  /// with Pools::Unlimited; the span's own pooled ops are left out, the
  /// stand-in covers them). False: the counts below and the span's own.
  bool unlimited = false;
  std::size_t pooled_writes = 0;
  std::size_t pooled_deletes = 0;
  const std::vector<bool>* consumed = nullptr;  ///< per op: taken by an earlier piece
};

/// The search input for pieces first..last taken as one.
std::vector<SearchOp> span_ops(const KeySplit& split, std::size_t first, std::size_t last,
                               const Carry& carry);

}  // namespace raft::chaos::detail
