// Cutting one key's history at quiescent ops, and what each piece searches.
#include "key_pieces.hpp"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace raft::chaos::detail {

namespace {

constexpr std::int64_t kLongAgo = std::numeric_limits<std::int64_t>::min() / 2;
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

/// The ops that can constrain the register, values interned. Failed ops did
/// not happen; unknown reads and stale reads say nothing about it.
void keep_and_intern(KeySplit& s, const std::vector<const Operation*>& history) {
  std::unordered_map<std::string, int> ids;
  const auto intern = [&](const std::string& v) {
    return ids.emplace(v, static_cast<int>(ids.size())).first->second;
  };
  for (const Operation* op : history) {
    if (op->outcome == Outcome::Fail) continue;
    if (op->kind == OpKind::Read && (op->outcome != Outcome::Ok || op->stale)) continue;
    KeyOp k;
    k.op = op;
    if (op->kind == OpKind::Read) {
      k.value = op->read_value ? intern(*op->read_value) : kAbsent;
    } else if (op->kind != OpKind::Delete) {
      k.value = intern(op->value);
    }
    if (op->kind == OpKind::Cas) k.expected = intern(op->expected);
    s.ops.push_back(k);
  }
  s.roles.assign(s.ops.size(), Role::Irrelevant);
}

/// Whether a completed op leaves a value that does not depend on before.
bool fixes_value(const Operation& op) { return op.kind != OpKind::Cas || op.cas_swapped; }

int value_after(const KeyOp& k) { return k.op->kind == OpKind::Delete ? kAbsent : k.value; }

/// Cuts the completed ops into pieces at quiescent ones. Returns each
/// piece's end: the completion of the op that closed it (kNever for a last
/// piece that no quiescent op closed).
std::vector<std::int64_t> cut_known(KeySplit& s, bool cut) {
  std::vector<int> known;
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    if (s.ops[i].op->outcome == Outcome::Ok) {
      known.push_back(static_cast<int>(i));
      s.roles[i] = Role::Known;
    }
  }
  std::sort(known.begin(), known.end(), [&](int a, int b) {
    const Operation &x = *s.ops[a].op, &y = *s.ops[b].op;
    if (x.invoke_us != y.invoke_us) return x.invoke_us < y.invoke_us;
    if (x.complete_us != y.complete_us) return x.complete_us < y.complete_us;
    return x.id < y.id;
  });
  std::vector<std::int64_t> ends;
  std::int64_t latest_return = kLongAgo;  // of the ops before this one
  PiecePlan current;
  for (std::size_t i = 0; i < known.size(); ++i) {
    const Operation& op = *s.ops[known[i]].op;
    const bool alone =
        latest_return < op.invoke_us &&
        (i + 1 == known.size() || s.ops[known[i + 1]].op->invoke_us > op.complete_us);
    latest_return = std::max(latest_return, op.complete_us);
    current.known.push_back(known[i]);
    if (!cut || !alone || !fixes_value(op)) continue;
    current.final_value = value_after(s.ops[known[i]]);
    const int next_initial = current.final_value;
    s.pieces.push_back(std::move(current));
    current = PiecePlan{};
    current.initial = next_initial;
    ends.push_back(op.complete_us);
  }
  if (!current.known.empty()) {
    s.pieces.push_back(std::move(current));
    ends.push_back(kNever);
  }
  return ends;
}

/// What the completed ops saw, per value, and who wrote it.
struct ValueFacts {
  std::unordered_map<int, int> writers;         ///< value -> ops that may have written it
  std::unordered_map<int, int> unknown_writer;  ///< value -> an unknown op writing it
  std::unordered_map<int, int> first_seen;      ///< value -> first piece a completed op saw it in
};

ValueFacts value_facts(const KeySplit& s) {
  ValueFacts f;
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    const Operation& op = *s.ops[i].op;
    const bool writes = op.kind == OpKind::Write ||
                        (op.kind == OpKind::Cas && (op.outcome != Outcome::Ok || op.cas_swapped));
    if (writes) ++f.writers[s.ops[i].value];
    if (writes && op.outcome == Outcome::Unknown)
      f.unknown_writer[s.ops[i].value] = static_cast<int>(i);
  }
  for (std::size_t p = 0; p < s.pieces.size(); ++p) {
    for (int k : s.pieces[p].known) {
      const Operation& op = *s.ops[k].op;
      int seen = kAbsent;
      if (op.kind == OpKind::Read) seen = s.ops[k].value;
      if (op.kind == OpKind::Cas && op.cas_swapped) seen = s.ops[k].expected;
      if (seen >= 0) f.first_seen.emplace(seen, static_cast<int>(p));
    }
  }
  return f;
}

/// The piece each unknown write must take effect in (-1: none): where a
/// completed op first saw its value, or where a required compare-and-set
/// that expected its value takes effect.
std::vector<int> required_pieces(const KeySplit& s, const ValueFacts& f) {
  std::vector<int> piece(s.ops.size(), -1);
  const auto unique_unknown = [&](int value) {
    auto w = f.writers.find(value);
    auto u = f.unknown_writer.find(value);
    return w != f.writers.end() && w->second == 1 && u != f.unknown_writer.end() ? u->second : -1;
  };
  for (const auto& [value, p] : f.first_seen) {
    if (const int u = unique_unknown(value); u >= 0) piece[u] = p;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < s.ops.size(); ++i) {
      if (piece[i] < 0 || s.ops[i].op->kind != OpKind::Cas) continue;
      const int w = unique_unknown(s.ops[i].expected);
      if (w >= 0 && (piece[w] < 0 || piece[w] > piece[i])) {
        piece[w] = piece[i];
        changed = true;
      }
    }
  }
  return piece;
}

/// Decides the role of every unknown op (see Role).
void classify_unknown(KeySplit& s, const ValueFacts& f, const std::vector<int>& required) {
  std::unordered_set<int> visible;  // values some op needs the register to hold
  for (const auto& [value, p] : f.first_seen) visible.insert(value);
  std::unordered_set<int> may_hold;  // values that may be the register's
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    if (required[i] >= 0 && s.ops[i].op->kind == OpKind::Cas) visible.insert(s.ops[i].expected);
  }
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    const Operation& op = *s.ops[i].op;
    if (op.outcome != Outcome::Unknown) {
      if (op.kind == OpKind::Write || (op.kind == OpKind::Cas && op.cas_swapped))
        may_hold.insert(s.ops[i].value);
      continue;
    }
    if (op.kind == OpKind::Delete) {
      s.roles[i] = Role::PooledDelete;
    } else if (required[i] >= 0) {
      s.roles[i] = Role::Required;
      s.pieces[static_cast<std::size_t>(required[i])].required.push_back(static_cast<int>(i));
    } else if (visible.count(s.ops[i].value)) {
      s.roles[i] = Role::OptionalValue;  // others wrote that value too
    } else {
      s.roles[i] = op.kind == OpKind::Write ? Role::PooledWrite : Role::OptionalCas;
    }
    if (s.roles[i] == Role::Required || s.roles[i] == Role::OptionalValue)
      may_hold.insert(s.ops[i].value);
  }
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    // A cas whose expected value no op can leave in the register never swaps.
    if (s.roles[i] == Role::OptionalCas && !may_hold.count(s.ops[i].expected))
      s.roles[i] = Role::Irrelevant;
  }
}

bool is_optional(Role r) {
  return r == Role::PooledWrite || r == Role::PooledDelete || r == Role::OptionalCas ||
         r == Role::OptionalValue;
}

/// The pieces in which `value` may be the register's: where it is the
/// starting value or an op of the piece writes it.
std::unordered_map<int, std::vector<int>> value_pieces(const KeySplit& s) {
  std::unordered_map<int, std::vector<int>> out;
  for (std::size_t p = 0; p < s.pieces.size(); ++p) {
    const PiecePlan& piece = s.pieces[p];
    std::vector<int> values;
    if (piece.initial >= 0) values.push_back(piece.initial);
    for (int k : piece.known) {
      const Operation& op = *s.ops[k].op;
      if (op.kind == OpKind::Write || (op.kind == OpKind::Cas && op.cas_swapped))
        values.push_back(s.ops[k].value);
    }
    for (int k : piece.required) values.push_back(s.ops[k].value);
    for (int v : values) {
      std::vector<int>& list = out[v];
      if (list.empty() || list.back() != static_cast<int>(p)) list.push_back(static_cast<int>(p));
    }
  }
  return out;
}

/// Gives each optional op its first piece (the first whose closing op had
/// not completed when it was invoked) and the later pieces it may matter in.
void place_optional(KeySplit& s, const std::vector<std::int64_t>& ends) {
  bool any_optional_value = false;
  for (Role r : s.roles) any_optional_value |= r == Role::OptionalValue;
  const auto holds = value_pieces(s);
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    if (!is_optional(s.roles[i])) continue;
    const auto it = std::upper_bound(ends.begin(), ends.end(), s.ops[i].op->invoke_us);
    if (it == ends.end()) {
      s.roles[i] = Role::Irrelevant;  // invoked after the last value was fixed
      continue;
    }
    const auto home = static_cast<std::size_t>(it - ends.begin());
    PiecePlan& first = s.pieces[home];
    first.optional.push_back(static_cast<int>(i));
    if (s.roles[i] == Role::PooledWrite) ++first.pooled_writes;
    if (s.roles[i] == Role::PooledDelete) ++first.pooled_deletes;
    const bool anywhere = s.roles[i] == Role::OptionalValue ||
                          (s.roles[i] == Role::OptionalCas && any_optional_value);
    if (anywhere) {
      for (std::size_t p = home + 1; p < s.pieces.size(); ++p)
        s.pieces[p].carried.push_back(static_cast<int>(i));
    } else if (s.roles[i] == Role::OptionalCas) {
      const auto where = holds.find(s.ops[i].expected);
      if (where == holds.end()) continue;
      for (int p : where->second) {
        if (static_cast<std::size_t>(p) > home) s.pieces[p].carried.push_back(static_cast<int>(i));
      }
    }
  }
}

/// Counts the ops that an unseen write or a delete just before them could
/// make valid (see PiecePlan).
void count_beneficiaries(KeySplit& s) {
  for (PiecePlan& piece : s.pieces) {
    for (int k : piece.known) {
      const Operation& op = *s.ops[k].op;
      const bool refused = op.kind == OpKind::Cas && !op.cas_swapped;
      piece.write_beneficiaries +=
          refused || (op.kind == OpKind::Delete && op.delete_found == true);
      piece.delete_beneficiaries += refused ||
                                    (op.kind == OpKind::Delete && op.delete_found == false) ||
                                    (op.kind == OpKind::Read && s.ops[k].value == kAbsent);
    }
    piece.delete_beneficiaries += piece.final_value == kAbsent;
  }
}

}  // namespace

KeySplit split_key(std::string key, const std::vector<const Operation*>& history, bool cut) {
  KeySplit s;
  s.key = std::move(key);
  keep_and_intern(s, history);
  const std::vector<std::int64_t> ends = cut_known(s, cut);
  const ValueFacts facts = value_facts(s);
  classify_unknown(s, facts, required_pieces(s, facts));
  place_optional(s, ends);
  count_beneficiaries(s);
  return s;
}

namespace {

SearchOp known_op(const KeyOp& k, int index) {
  const Operation& op = *k.op;
  SearchOp s;
  s.call_us = op.invoke_us;
  s.return_us = op.complete_us;
  s.source = index;
  s.value = k.value;
  s.expected = k.expected;
  switch (op.kind) {
    case OpKind::Read: s.effect = Effect::Read; break;
    case OpKind::Write: s.effect = Effect::Write; break;
    case OpKind::Cas: s.effect = op.cas_swapped ? Effect::CasSwap : Effect::CasRefused; break;
    case OpKind::Delete:
      s.effect = Effect::Delete;
      s.value = kAbsent;
      if (op.delete_found) s.found = *op.delete_found ? 1 : 0;
      break;
  }
  return s;
}

/// An unknown op: when it takes effect, a write writes and a cas swaps (a
/// cas that took effect without swapping is the same as one that did not).
SearchOp unknown_op(const KeyOp& k, int index, Role role) {
  SearchOp s;
  s.call_us = k.op->invoke_us;
  s.source = index;
  s.landing = role == Role::Required ? Landing::Required : Landing::Optional;
  s.return_us = kNoReturn;
  s.effect = k.op->kind == OpKind::Delete ? Effect::Delete
             : k.op->kind == OpKind::Cas  ? Effect::CasSwap
                                          : Effect::Write;
  s.value = k.op->kind == OpKind::Delete                             ? kAbsent
            : role == Role::PooledWrite || role == Role::OptionalCas ? kJunk
                                                                     : k.value;
  s.expected = k.expected;
  s.pool = role == Role::PooledWrite    ? Pool::Writes
           : role == Role::PooledDelete ? Pool::Deletes
                                        : Pool::None;
  return s;
}

/// Gives each Required op of `ops` its deadline: the return of the first op
/// that sees its value (a read of it, a cas that swapped it), or the deadline
/// of a Required cas that expects it. Never before its own call, so a value
/// seen too early shows as the read that saw it.
void set_deadlines(std::vector<SearchOp>& ops) {
  std::unordered_map<int, std::int64_t> seen_by;  // value -> first return of an op seeing it
  const auto see = [&](int value, std::int64_t when) {
    auto [it, fresh] = seen_by.emplace(value, when);
    if (!fresh && when < it->second) it->second = when;
    return fresh || it->second == when;
  };
  for (const SearchOp& op : ops) {
    if (op.landing != Landing::Known) continue;
    if (op.effect == Effect::Read && op.value >= 0) see(op.value, op.return_us);
    if (op.effect == Effect::CasSwap) see(op.expected, op.return_us);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (SearchOp& op : ops) {
      if (op.landing != Landing::Required) continue;
      const auto it = seen_by.find(op.value);
      const std::int64_t due =
          it == seen_by.end() ? kNoReturn : std::max(it->second, op.call_us + 1);
      if (due >= op.return_us) continue;
      op.return_us = due;
      if (op.effect == Effect::CasSwap && see(op.expected, due)) changed = true;
    }
  }
}

SearchOp stand_in(Pool pool) {
  SearchOp s;
  s.landing = Landing::Optional;
  s.pool = pool;
  s.effect = pool == Pool::Writes ? Effect::Write : Effect::Delete;
  s.value = pool == Pool::Writes ? kJunk : kAbsent;
  s.call_us = kLongAgo;
  return s;
}

}  // namespace

std::vector<SearchOp> span_ops(const KeySplit& split, std::size_t first, std::size_t last,
                               const Carry& carry) {
  std::vector<SearchOp> out;
  std::size_t write_beneficiaries = 0, delete_beneficiaries = 0;
  std::vector<int> optional;
  for (std::size_t p = first; p <= last; ++p) {
    const PiecePlan& piece = split.pieces[p];
    for (int k : piece.known) out.push_back(known_op(split.ops[k], k));
    for (int k : piece.required) out.push_back(unknown_op(split.ops[k], k, Role::Required));
    write_beneficiaries += piece.write_beneficiaries;
    delete_beneficiaries += piece.delete_beneficiaries;
    optional.insert(optional.end(), piece.optional.begin(), piece.optional.end());
    for (int k : piece.carried) {
      if (!carry.consumed || !(*carry.consumed)[static_cast<std::size_t>(k)]) optional.push_back(k);
    }
  }
  set_deadlines(out);
  // Carried ones that are also at home in the span appear twice.
  std::sort(optional.begin(), optional.end());
  optional.erase(std::unique(optional.begin(), optional.end()), optional.end());
  for (int k : optional) {
    const Role role = split.roles[static_cast<std::size_t>(k)];
    const bool pooled = role == Role::PooledWrite || role == Role::PooledDelete;
    if (!(pooled && carry.unlimited)) out.push_back(unknown_op(split.ops[k], k, role));
  }
  const std::size_t writes = carry.unlimited ? 1 : carry.pooled_writes;
  const std::size_t deletes = carry.unlimited ? 1 : carry.pooled_deletes;
  for (std::size_t i = 0; i < std::min(writes, write_beneficiaries); ++i)
    out.push_back(stand_in(Pool::Writes));
  for (std::size_t i = 0; i < std::min(deletes, delete_beneficiaries); ++i)
    out.push_back(stand_in(Pool::Deletes));
  return out;
}

}  // namespace raft::chaos::detail
