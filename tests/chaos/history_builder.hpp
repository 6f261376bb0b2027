#pragma once
// Histories for the checker's tests: a terse builder for hand-made ones, and
// a generator of long ones that a real register produced, so they are
// linearizable by construction.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "chaos/checker.hpp"
#include "chaos/history.hpp"

namespace raft::chaos::test {

/// Builds one key's history tersely; times are in arbitrary units.
class H {
 public:
  H& write(int client, std::string v, std::int64_t a, std::int64_t b, Outcome o = Outcome::Ok) {
    Operation& op = add(client, OpKind::Write, a, b, o);
    op.value = std::move(v);
    return *this;
  }
  H& read(int client, std::optional<std::string> v, std::int64_t a, std::int64_t b) {
    Operation& op = add(client, OpKind::Read, a, b, Outcome::Ok);
    op.read_value = std::move(v);
    return *this;
  }
  H& cas(int client, std::string expected, std::string v, bool swapped, std::int64_t a,
         std::int64_t b, Outcome o = Outcome::Ok) {
    Operation& op = add(client, OpKind::Cas, a, b, o);
    op.expected = std::move(expected);
    op.value = std::move(v);
    op.cas_swapped = swapped;
    return *this;
  }
  /// `found`: the answer's "found" (nullopt: not recorded).
  H& del(int client, std::int64_t a, std::int64_t b, Outcome o = Outcome::Ok,
         std::optional<bool> found = std::nullopt) {
    Operation& op = add(client, OpKind::Delete, a, b, o);
    op.delete_found = found;
    return *this;
  }
  /// A stale read answered by `node`.
  H& stale(int node, std::optional<std::string> v, std::int64_t a, std::int64_t b,
           std::uint64_t applied = 0) {
    read(node, std::move(v), a, b);
    ops.back().stale = true;
    ops.back().node = node;
    ops.back().applied_index = applied;
    return *this;
  }
  /// The last op was answered by `node` at log index `index`.
  H& at(int node, std::uint64_t index) {
    ops.back().node = node;
    ops.back().log_index = index;
    return *this;
  }
  KeyVerdict check(const CheckOptions& options = {}) const { return check_key("k", ops, options); }
  std::vector<Operation> ops;

 private:
  Operation& add(int client, OpKind kind, std::int64_t a, std::int64_t b, Outcome o) {
    Operation op;
    op.id = static_cast<int>(ops.size());
    op.client = client;
    op.key = "k";
    op.kind = kind;
    op.outcome = o;
    op.invoke_us = a;
    op.complete_us = b;
    ops.push_back(op);
    return ops.back();
  }
};

struct GeneratorOptions {
  int ops = 1000;
  int clients = 4;
  int unknown_percent = 5;  ///< of writes, cas and deletes; half of them take effect
  std::uint64_t seed = 1;
  std::int64_t max_duration = 30;  ///< of one op, in time units
  std::int64_t max_pause = 5;      ///< between two ops of a client
  bool unknown_deletes = true;     ///< false: only writes and cas may be unknown
};

/// One key's history as a real register would produce it: every client runs
/// one op at a time; each op takes effect at a point inside its interval (an
/// unknown one possibly much later, or never) and its result is what the
/// register held there. Values are unique.
inline std::vector<Operation> linearizable_history(const GeneratorOptions& g) {
  std::mt19937_64 rng(g.seed);
  std::vector<std::int64_t> free_at(static_cast<std::size_t>(g.clients), 0);
  std::vector<std::pair<std::int64_t, int>> effects;  // (when, op), -1: never
  H h;
  for (int i = 0; i < g.ops; ++i) {
    const int c = static_cast<int>(rng() % static_cast<std::uint64_t>(g.clients));
    const std::int64_t a =
        free_at[c] + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(g.max_pause));
    const std::int64_t b = a + 2 + static_cast<std::int64_t>(rng() % g.max_duration);
    free_at[c] = b + 1;
    const int dice = static_cast<int>(rng() % 10);
    const bool unknown = dice >= 4 && (dice < 9 || g.unknown_deletes) &&
                         static_cast<int>(rng() % 100) < g.unknown_percent;
    const Outcome o = unknown ? Outcome::Unknown : Outcome::Ok;
    if (dice < 4) {
      h.read(c, std::nullopt, a, b);
    } else if (dice < 7) {
      h.write(c, "v" + std::to_string(i), a, b, o);
    } else if (dice < 9) {
      h.cas(c, "", "v" + std::to_string(i), false, a, b, o);
    } else {
      h.del(c, a, b, o);
    }
    std::int64_t when =
        a + 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(b - a - 1));
    if (unknown) when = rng() % 2 == 0 ? -1 : a + 1 + static_cast<std::int64_t>(rng() % 200);
    effects.push_back({when, i});
  }
  std::sort(effects.begin(), effects.end());
  std::optional<std::string> state;
  for (const auto& [when, i] : effects) {
    Operation& op = h.ops[static_cast<std::size_t>(i)];
    if (when < 0) {
      if (op.kind == OpKind::Cas) op.expected = "never-" + std::to_string(i);
      continue;
    }
    switch (op.kind) {
      case OpKind::Read: op.read_value = state; break;
      case OpKind::Write: state = op.value; break;
      case OpKind::Cas:
        // Half the time it expects what is there, and swaps.
        op.cas_swapped = state && rng() % 2 == 0;
        op.expected = op.cas_swapped ? *state : "stale-" + std::to_string(i);
        if (op.cas_swapped) state = op.value;
        if (op.outcome == Outcome::Unknown) op.cas_swapped = false;
        break;
      case OpKind::Delete:
        op.delete_found = state.has_value();
        if (op.outcome == Outcome::Unknown) op.delete_found.reset();
        state.reset();
        break;
    }
  }
  return h.ops;
}

}  // namespace raft::chaos::test
