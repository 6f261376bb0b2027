// The checker's plan: cut every key into pieces, search all pieces on every
// core, then settle per key the pieces that need ops of unknown outcome.
#include "chaos/checker.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "key_pieces.hpp"
#include "parallel.hpp"
#include "piece_search.hpp"

namespace raft::chaos {

namespace {

using namespace detail;
using Clock = std::chrono::steady_clock;

std::string describe(const Operation& op) {
  std::string s = "op #" + std::to_string(op.id) + " (client " + std::to_string(op.client) + ", " +
                  std::string(kind_name(op.kind));
  switch (op.kind) {
    case OpKind::Read:
      s += " returned " + (op.read_value ? "'" + *op.read_value + "'" : std::string("absent"));
      break;
    case OpKind::Write: s += " '" + op.value + "'"; break;
    case OpKind::Cas:
      s += " '" + op.expected + "' -> '" + op.value + "'" +
           (op.outcome == Outcome::Unknown ? std::string(", outcome unknown")
            : op.cas_swapped               ? ", swapped"
                                           : ", refused (409)");
      break;
    case OpKind::Delete:
      if (op.outcome == Outcome::Unknown) {
        s += ", outcome unknown";
      } else if (op.delete_found) {
        s += *op.delete_found ? ", found the key" : ", found no key";
      }
      break;
  }
  return s + ", " + std::to_string(op.invoke_us) + "-" + std::to_string(op.complete_us) + " us)";
}

/// One span of pieces searched, and what came of it.
struct Attempt {
  std::size_t first = 0, last = 0;  ///< pieces
  std::vector<SearchOp> ops;        ///< kept only when there is something to explain
  SearchOutcome outcome;
  double seconds = 0;
  /// Searched with Pools::Unlimited: whether the pooled ops really there
  /// suffice is still to be seen (see affordable).
  bool unlimited = false;
  /// The loose optional ops a valid order took (their indexes in the key).
  std::vector<int> loose_used;
};

Attempt attempt(const KeySplit& split, std::size_t first, std::size_t last, const Carry& carry,
                const CheckOptions& options) {
  const auto started = Clock::now();
  Attempt a;
  a.first = first;
  a.last = last;
  a.ops = span_ops(split, first, last, carry);
  a.outcome = search_piece(a.ops, split.pieces[first].initial, split.pieces[last].final_value,
                           SearchBudget{options.max_configurations, options.max_seconds},
                           carry.unlimited ? Pools::Unlimited : Pools::Counted);
  a.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  a.unlimited = carry.unlimited;
  if (a.outcome.decision != Decision::Linearizable) return a;
  for (int op : a.outcome.optional_used) {
    const SearchOp& s = a.ops[static_cast<std::size_t>(op)];
    if (s.source >= 0 && s.pool == Pool::None) a.loose_used.push_back(s.source);
  }
  a.ops = {};
  return a;
}

/// A key on its way to a verdict.
struct KeyWork {
  KeySplit split;
  /// Per piece, searched alone with every optional op it could reach and
  /// unlimited pools (see settle).
  std::vector<Attempt> first_tries;
  KeyVerdict verdict;
};

/// Names the span of `a` in the verdict: its ops and where it lies.
void name_span(KeyVerdict& v, const KeyWork& w, const Attempt& a) {
  v.piece_first_op = -1;
  v.piece_last_op = -1;
  v.piece_ops = 0;
  for (const SearchOp& op : a.ops) {
    if (op.source < 0) continue;
    const int id = w.split.ops[static_cast<std::size_t>(op.source)].op->id;
    v.piece_first_op = v.piece_first_op < 0 ? id : std::min(v.piece_first_op, id);
    v.piece_last_op = std::max(v.piece_last_op, id);
    ++v.piece_ops;
  }
}

std::string span_name(const KeyVerdict& v, const KeyWork& w, const Attempt& a) {
  std::string s = (a.first == a.last ? "piece " + std::to_string(a.first + 1)
                                     : "pieces " + std::to_string(a.first + 1) + "-" +
                                           std::to_string(a.last + 1)) +
                  " of " + std::to_string(w.split.pieces.size()) + " (ops #" +
                  std::to_string(v.piece_first_op) + " to #" + std::to_string(v.piece_last_op) +
                  ", " + std::to_string(v.piece_ops) + " ops";
  if (a.first > 0) {
    const int closer = w.split.pieces[a.first - 1].known.back();
    s += ", starting from the value op #" +
         std::to_string(w.split.ops[static_cast<std::size_t>(closer)].op->id) + " fixed";
  }
  return s + ")";
}

void explain_violation(KeyWork& w, const Attempt& a) {
  KeyVerdict& v = w.verdict;
  v.linearizable = false;
  v.gave_up = false;
  name_span(v, w, a);
  v.deepest_prefix = a.outcome.deepest;
  v.deepest_order.clear();
  for (int op : a.outcome.deepest_tail) {
    const int source = a.ops[static_cast<std::size_t>(op)].source;
    if (source >= 0)
      v.deepest_order.push_back(w.split.ops[static_cast<std::size_t>(source)].op->id);
  }
  std::string then;
  if (a.outcome.stuck >= 0) {
    const int source = a.ops[static_cast<std::size_t>(a.outcome.stuck)].source;
    const Operation& stuck = *w.split.ops[static_cast<std::size_t>(source)].op;
    v.stuck_op = stuck.id;
    then = describe(stuck) +
           (stuck.outcome == Outcome::Unknown ? " had to take effect" : " completed") +
           " but cannot take effect in any order consistent with it";
  } else {
    const int closer = w.split.pieces[a.last].known.back();
    then = "no order ends with the value " +
           describe(*w.split.ops[static_cast<std::size_t>(closer)].op) + " fixed";
  }
  v.explanation = "not linearizable: " + span_name(v, w, a) + ": the longest valid order covers " +
                  std::to_string(a.outcome.deepest) + " of " + std::to_string(a.ops.size()) +
                  " ops, and then " + then;
}

void explain_undecided(KeyWork& w, const Attempt& a) {
  KeyVerdict& v = w.verdict;
  v.gave_up = true;
  v.linearizable = false;
  name_span(v, w, a);
  v.explanation = "undecided: " + span_name(v, w, a) + " ran out of budget after " +
                  std::to_string(a.outcome.configurations) + " configurations and " +
                  std::to_string(a.seconds) + " s: neither proven nor refuted";
}

/// The optional ops that pieces took so far, so a span can be searched again
/// from where it started.
struct Ledger {
  std::vector<bool> consumed;                                 ///< per op: taken by a piece
  std::vector<std::pair<std::size_t, int>> taken;             ///< (piece, op), in piece order
  std::size_t pooled_writes = 0, pooled_deletes = 0;          ///< left unused by earlier pieces
  std::vector<std::pair<std::size_t, std::size_t>> pools_at;  ///< the pools as each piece began
  int first_taker = -1;  ///< the first piece that took any optional op
};

/// Books what a span's order used; the pooled ops at home in it that the
/// order left out stay available to later pieces.
void book(Ledger& l, const KeyWork& w, const Attempt& a) {
  for (std::size_t p = a.first; p <= a.last; ++p) {
    l.pooled_writes += w.split.pieces[p].pooled_writes;
    l.pooled_deletes += w.split.pieces[p].pooled_deletes;
  }
  l.pooled_writes -= a.outcome.pooled_writes_used;
  l.pooled_deletes -= a.outcome.pooled_deletes_used;
  for (int op : a.loose_used) {
    l.consumed[static_cast<std::size_t>(op)] = true;
    l.taken.emplace_back(a.first, op);
  }
  const bool took =
      a.outcome.pooled_writes_used + a.outcome.pooled_deletes_used + a.loose_used.size() > 0;
  if (took && l.first_taker < 0) l.first_taker = static_cast<int>(a.first);
}

/// Whether the pooled ops really there could have served an unlimited
/// search's order: the k-th time it took one (by then bounded by a return at
/// time f), k of them must have been called by f, counting the ones earlier
/// pieces left (called long ago) and the span's own. That is the test a
/// counted search makes, so the same order passes it.
bool pool_suffices(const KeyWork& w, const Attempt& a, int pool, std::size_t left) {
  const std::vector<std::int64_t>& landings = a.outcome.pooled_frontiers[pool];
  if (landings.size() <= left) return true;
  const Role role = pool == 0 ? Role::PooledWrite : Role::PooledDelete;
  std::vector<std::int64_t> calls;
  for (std::size_t p = a.first; p <= a.last; ++p) {
    for (int k : w.split.pieces[p].optional) {
      if (w.split.roles[static_cast<std::size_t>(k)] == role)
        calls.push_back(w.split.ops[static_cast<std::size_t>(k)].op->invoke_us);
    }
  }
  std::sort(calls.begin(), calls.end());
  for (std::size_t k = left; k < landings.size(); ++k) {
    if (k - left >= calls.size() || calls[k - left] > landings[k]) return false;
  }
  return true;
}

/// Whether what an order took is still there (always, for a counted search
/// that was given what the ledger holds).
bool affordable(const Ledger& l, const KeyWork& w, const Attempt& a) {
  if (!a.unlimited) return true;
  if (!pool_suffices(w, a, 0, l.pooled_writes) || !pool_suffices(w, a, 1, l.pooled_deletes))
    return false;
  return std::none_of(a.loose_used.begin(), a.loose_used.end(),
                      [&](int op) { return l.consumed[static_cast<std::size_t>(op)]; });
}

/// Forgets what pieces from `first` on took.
void rewind(Ledger& l, std::size_t first) {
  std::tie(l.pooled_writes, l.pooled_deletes) = l.pools_at[first];
  while (!l.taken.empty() && l.taken.back().first >= first) {
    l.consumed[static_cast<std::size_t>(l.taken.back().second)] = false;
    l.taken.pop_back();
  }
  l.first_taker = -1;
}

void tally(KeyVerdict& v, const Attempt& a) {
  v.configurations += a.outcome.configurations;
  v.seconds += a.seconds;
}

/// Walks the pieces in order. A piece's first try had every loose optional
/// op it could reach and unlimited pools, more than any earlier pieces could
/// have left it, so its violation is final; its valid order stands if what it
/// took from before is still there. If not, the piece is
/// searched again with what is left; should that fail while earlier pieces
/// took optional ops, those pieces and it are searched as one, which decides
/// exactly.
void settle(KeyWork& w, const CheckOptions& options) {
  Ledger l;
  l.consumed.assign(w.split.ops.size(), false);
  l.pools_at.resize(w.split.pieces.size());
  for (std::size_t p = 0; p < w.split.pieces.size(); ++p) {
    l.pools_at[p] = {l.pooled_writes, l.pooled_deletes};
    const Attempt* a = &w.first_tries[p];
    Attempt again;
    if (a->outcome.decision == Decision::Linearizable && !affordable(l, w, *a)) {
      again = attempt(w.split, p, p, Carry{false, l.pooled_writes, l.pooled_deletes, &l.consumed},
                      options);
      tally(w.verdict, again);
      if (again.outcome.decision == Decision::Violation && l.first_taker >= 0) {
        const auto from = static_cast<std::size_t>(l.first_taker);
        rewind(l, from);
        again = attempt(w.split, from, p,
                        Carry{false, l.pooled_writes, l.pooled_deletes, &l.consumed}, options);
        tally(w.verdict, again);
      }
      a = &again;
    }
    if (a->outcome.decision == Decision::Violation) {
      explain_violation(w, *a);
      return;
    }
    if (a->outcome.decision == Decision::Undecided && !w.verdict.gave_up) explain_undecided(w, *a);
    book(l, w, *a);
  }
  w.verdict.linearizable = !w.verdict.gave_up;
}

std::size_t piece_size(const PiecePlan& p) { return p.known.size() + p.required.size(); }

/// Splits every key, searches all pieces' first tries on every core (biggest
/// first), then settles each key.
std::vector<KeyVerdict> check_keys(
    std::vector<std::pair<std::string, std::vector<const Operation*>>> keys,
    const CheckOptions& options) {
  std::vector<KeyWork> work(keys.size());
  parallel_for(keys.size(), options.threads, [&](std::size_t i) {
    work[i].split = split_key(std::move(keys[i].first), keys[i].second, options.cut);
    work[i].first_tries.resize(work[i].split.pieces.size());
    keys[i].second = {};
  });
  std::vector<std::pair<std::size_t, std::size_t>> tasks;  // (key, piece)
  for (std::size_t k = 0; k < work.size(); ++k) {
    for (std::size_t p = 0; p < work[k].split.pieces.size(); ++p) tasks.emplace_back(k, p);
  }
  std::stable_sort(tasks.begin(), tasks.end(), [&](const auto& a, const auto& b) {
    return piece_size(work[a.first].split.pieces[a.second]) >
           piece_size(work[b.first].split.pieces[b.second]);
  });
  parallel_for(tasks.size(), options.threads, [&](std::size_t t) {
    const auto [k, p] = tasks[t];
    work[k].first_tries[p] = attempt(work[k].split, p, p, Carry{true}, options);
  });
  std::vector<KeyVerdict> out(work.size());
  parallel_for(work.size(), options.threads, [&](std::size_t k) {
    KeyWork& w = work[k];
    w.verdict.key = w.split.key;
    w.verdict.ops_checked = w.split.ops.size();
    w.verdict.pieces = w.split.pieces.size();
    for (const PiecePlan& p : w.split.pieces)
      w.verdict.largest_piece = std::max(w.verdict.largest_piece, piece_size(p));
    for (const Attempt& a : w.first_tries) tally(w.verdict, a);
    settle(w, options);
    out[k] = std::move(w.verdict);
    w = KeyWork{};
  });
  return out;
}

}  // namespace

KeyVerdict check_key(const std::string& key, const std::vector<Operation>& ops,
                     const CheckOptions& options) {
  std::vector<const Operation*> pointers;
  pointers.reserve(ops.size());
  for (const Operation& op : ops) pointers.push_back(&op);
  std::vector<std::pair<std::string, std::vector<const Operation*>>> keys;
  keys.emplace_back(key, std::move(pointers));
  return check_keys(std::move(keys), options).front();
}

std::vector<KeyVerdict> check_history(const std::vector<Operation>& history,
                                      const CheckOptions& options) {
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history) by_key[op.key].push_back(&op);
  std::vector<std::pair<std::string, std::vector<const Operation*>>> keys(
      std::make_move_iterator(by_key.begin()), std::make_move_iterator(by_key.end()));
  return check_keys(std::move(keys), options);
}

}  // namespace raft::chaos
