// The checker cuts each key's history at quiescent ops and carries ops of
// unknown outcome across the cuts. These tests hold it to an exact answer:
// against a brute-force search on tiny histories, against the uncut search on
// small ones, and on long histories whose fault sits in the middle, where
// only a search of the right piece decides.
#include <chrono>
#include <functional>
#include <random>

#include <gtest/gtest.h>

#include "chaos/checker.hpp"
#include "chaos/fault_plant.hpp"
#include "history_builder.hpp"

namespace raft::chaos {
namespace {

using test::GeneratorOptions;
using test::H;
using test::linearizable_history;

bool violation(const KeyVerdict& v) { return !v.linearizable && !v.gave_up; }

TEST(CheckerPieces, QuiescentOpsCutTheHistory) {
  H h;  // three quiet ops, then two that overlap, then a quiet read
  h.write(0, "a", 0, 10).read(1, "a", 20, 30).write(0, "b", 40, 50);
  h.write(1, "c", 60, 80).read(0, "b", 70, 90).read(1, "c", 100, 110);
  const KeyVerdict v = h.check();
  EXPECT_TRUE(v.linearizable) << v.explanation;
  EXPECT_EQ(v.pieces, 4u);
  EXPECT_EQ(v.largest_piece, 3u);
}

TEST(CheckerPieces, UnknownWriteSeenSeveralPiecesLaterTakesEffectThere) {
  H h;  // u was invoked early; quiet reads of a come first, then u is read
  h.write(0, "a", 0, 10).write(1, "u", 12, 15, Outcome::Unknown);
  h.read(2, "a", 20, 30).read(2, "a", 40, 50).read(2, "a", 60, 70).read(2, "u", 80, 90);
  const KeyVerdict v = h.check();
  EXPECT_TRUE(v.linearizable) << v.explanation;
  EXPECT_EQ(v.pieces, 5u);
}

TEST(CheckerPieces, UnknownWriteCannotTakeEffectTwice) {
  H h;  // u is read, a quiet read fixes b, then u is read again
  h.write(0, "a", 0, 10).write(1, "u", 12, 15, Outcome::Unknown);
  h.read(2, "u", 20, 30).write(0, "b", 40, 50).read(2, "b", 60, 70).read(2, "u", 80, 90);
  const KeyVerdict v = h.check();
  EXPECT_TRUE(violation(v)) << v.explanation;
  EXPECT_EQ(v.stuck_op, 5);
}

TEST(CheckerPieces, UnknownWriteSeenBeforeItWasInvokedAcrossCuts) {
  H h;
  h.write(0, "a", 0, 10).read(2, "u", 20, 30).read(2, "u", 40, 50);
  h.write(1, "u", 60, 70, Outcome::Unknown);
  EXPECT_TRUE(violation(h.check()));
}

TEST(CheckerPieces, UnseenUnknownWriteHidesAValueInALaterPiece) {
  // The refused cas expected a, which only an unknown write landing in
  // between can have hidden; the write was invoked two cuts earlier.
  H h;
  h.write(0, "a", 0, 10).write(1, "u", 12, 15, Outcome::Unknown);
  h.read(2, "a", 20, 30).read(2, "a", 40, 50).cas(0, "a", "x", false, 60, 70);
  h.write(0, "b", 80, 90).read(2, "b", 100, 110);
  const KeyVerdict v = h.check();
  EXPECT_TRUE(v.linearizable) << v.explanation;
  H without = h;  // the same without the unknown write: nothing hides a
  without.ops[1].outcome = Outcome::Fail;
  EXPECT_TRUE(violation(without.check()));
}

/// Two refused compare-and-sets in two pieces, each needing an unknown write
/// to hide the value it expected; `hiders` unknown writes invoked at the start.
H two_pieces_needing_hiders(int hiders) {
  H h;
  h.write(0, "a", 0, 10);
  for (int i = 0; i < hiders; ++i)
    h.write(1 + i, "u" + std::to_string(i), 12, 15, Outcome::Unknown);
  h.read(5, "a", 20, 30).cas(0, "a", "x", false, 40, 50).write(0, "b", 60, 70);
  h.read(5, "b", 80, 90).cas(0, "b", "y", false, 100, 110).write(0, "c", 120, 130);
  h.read(5, "c", 140, 150);
  return h;
}

TEST(CheckerPieces, AnUnknownWriteHidesAValueInOnePieceOnly) {
  const KeyVerdict one = two_pieces_needing_hiders(1).check();
  EXPECT_TRUE(violation(one)) << one.explanation;
  const KeyVerdict two = two_pieces_needing_hiders(2).check();
  EXPECT_TRUE(two.linearizable) << two.explanation;
}

TEST(CheckerPieces, UnknownDeleteExplainsAnAbsenceManyPiecesLater) {
  H h;
  h.write(0, "a", 0, 10).del(1, 12, 15, Outcome::Unknown);
  h.read(2, "a", 20, 30).read(2, "a", 40, 50).read(2, std::nullopt, 60, 70);
  EXPECT_TRUE(h.check().linearizable);
  h.ops[1].outcome = Outcome::Fail;
  EXPECT_TRUE(violation(h.check()));
}

TEST(CheckerPieces, UnknownCasChainTakesEffectWhereItsValueIsSeen) {
  // u (unknown) then cas u -> w (unknown): reading w requires both, in order.
  H h;
  h.write(0, "a", 0, 10).write(1, "u", 12, 15, Outcome::Unknown);
  h.cas(2, "u", "w", false, 16, 18, Outcome::Unknown);
  h.read(3, "a", 20, 30).read(3, "w", 40, 50);
  EXPECT_TRUE(h.check().linearizable);
  H early = h;  // w is read before u was invoked
  early.ops[1].invoke_us = 55;
  early.ops[1].complete_us = 56;
  EXPECT_TRUE(violation(early.check()));
}

// --- an exact answer -------------------------------------------------------

/// Brute force: tries every order of the ops (ok ones all in, unknown ones in
/// or out) that respects real time. Exponential; for a handful of ops.
bool brute_force_linearizable(const std::vector<Operation>& history) {
  std::vector<const Operation*> ops;
  for (const Operation& op : history) {
    if (op.outcome == Outcome::Fail || (op.kind == OpKind::Read && op.outcome != Outcome::Ok))
      continue;
    ops.push_back(&op);
  }
  std::vector<bool> placed(ops.size(), false);
  std::function<bool(std::optional<std::string>, std::size_t)> extend =
      [&](std::optional<std::string> state, std::size_t left_ok) {
        if (left_ok == 0) return true;
        for (std::size_t i = 0; i < ops.size(); ++i) {
          if (placed[i]) continue;
          const Operation& op = *ops[i];
          bool ready = true;  // every op that returned before its call is placed
          for (std::size_t j = 0; j < ops.size() && ready; ++j) {
            ready = placed[j] || j == i || ops[j]->outcome != Outcome::Ok ||
                    ops[j]->complete_us >= op.invoke_us;
          }
          if (!ready) continue;
          std::optional<std::string> next = state;
          bool fits = true;
          switch (op.kind) {
            case OpKind::Read: fits = op.read_value == state; break;
            case OpKind::Write: next = op.value; break;
            case OpKind::Cas:
              if (op.outcome == Outcome::Ok && !op.cas_swapped) {
                fits = state != op.expected;
              } else {
                fits = state == op.expected;
                next = op.value;
              }
              break;
            case OpKind::Delete:
              if (op.outcome == Outcome::Ok && op.delete_found)
                fits = *op.delete_found == state.has_value();
              next.reset();
              break;
          }
          if (!fits) continue;
          placed[i] = true;
          const bool ok = extend(next, left_ok - (op.outcome == Outcome::Ok ? 1 : 0));
          placed[i] = false;
          if (ok) return true;
        }
        return false;
      };
  std::size_t ok_ops = 0;
  for (const Operation* op : ops) ok_ops += op->outcome == Outcome::Ok;
  return extend(std::nullopt, ok_ops);
}

/// A generated history with random damage: reads return other values, cas
/// answers flip, deletes' "found" flips, outcomes become unknown or failed.
std::vector<Operation> damaged(const GeneratorOptions& g, std::mt19937_64& rng, int damage) {
  std::vector<Operation> ops = linearizable_history(g);
  for (int d = 0; d < damage; ++d) {
    Operation& op = ops[rng() % ops.size()];
    const Operation& other = ops[rng() % ops.size()];
    switch (rng() % 4) {
      case 0:
        if (op.kind == OpKind::Read)
          op.read_value = other.kind == OpKind::Read ? other.read_value : other.value;
        break;
      case 1: op.cas_swapped = !op.cas_swapped; break;
      case 2:
        if (op.delete_found) op.delete_found = !*op.delete_found;
        break;
      default:
        if (op.kind != OpKind::Read) op.outcome = rng() % 2 ? Outcome::Unknown : Outcome::Fail;
        break;
    }
  }
  return ops;
}

/// Histories of `ops` to `ops + spread - 1` ops by 1 to `clients` clients,
/// drawn from `rng`.
GeneratorOptions drawn(std::mt19937_64& rng, int ops, int spread, int clients,
                       int unknown_percent) {
  GeneratorOptions g;
  g.ops = ops + static_cast<int>(rng() % static_cast<std::uint64_t>(spread));
  g.clients = 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(clients));
  g.unknown_percent = unknown_percent;
  g.max_duration = 8 + static_cast<std::int64_t>(rng() % 30);
  g.seed = rng();
  return g;
}

TEST(CheckerPieces, AgreesWithBruteForceOnTinyHistories) {
  std::mt19937_64 rng(7);
  int bad = 0;
  for (int i = 0; i < 3000; ++i) {
    const GeneratorOptions g = drawn(rng, 3, 5, 3, 30);
    const std::vector<Operation> ops = damaged(g, rng, static_cast<int>(rng() % 4));
    const bool expected = brute_force_linearizable(ops);
    bad += !expected;
    const KeyVerdict v = check_key("k", ops);
    ASSERT_FALSE(v.gave_up);
    ASSERT_EQ(v.linearizable, expected) << "history " << i << ": " << v.explanation;
  }
  EXPECT_GT(bad, 300) << "the damage must make many histories wrong";
  EXPECT_LT(bad, 2700) << "and leave many right";
}

TEST(CheckerPieces, AgreesWithTheUncutSearch) {
  std::mt19937_64 rng(11);
  CheckOptions whole;
  whole.cut = false;
  int bad = 0;
  for (int i = 0; i < 1500; ++i) {
    const GeneratorOptions g = drawn(rng, 20, 40, 4, 20);
    const std::vector<Operation> ops = damaged(g, rng, static_cast<int>(rng() % 3));
    const KeyVerdict cut = check_key("k", ops);
    const KeyVerdict uncut = check_key("k", ops, whole);
    ASSERT_FALSE(cut.gave_up || uncut.gave_up);
    ASSERT_EQ(cut.linearizable, uncut.linearizable)
        << "history " << i << ": cut: " << cut.explanation << "; uncut: " << uncut.explanation;
    bad += !cut.linearizable;
  }
  EXPECT_GT(bad, 150);
  EXPECT_LT(bad, 1350);
}

// --- long histories, faults in the middle ----------------------------------

/// 60,000 ops of 4 clients with pauses between their ops (as raft_chaos's
/// clients have, on a few keys), one in twenty writes of unknown outcome.
std::vector<Operation> long_history() {
  GeneratorOptions g;
  g.ops = 60000;
  g.clients = 4;
  g.unknown_percent = 5;
  g.max_pause = 40;
  g.seed = 2024;
  return linearizable_history(g);
}

TEST(CheckerPieces, LongHistoryWithManyUnknownOpsIsDecidedQuickly) {
  const std::vector<Operation> ops = long_history();
  const auto started = std::chrono::steady_clock::now();
  const KeyVerdict v = check_key("k", ops);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_TRUE(v.linearizable) << v.explanation;
  EXPECT_GT(v.pieces, 500u);
  EXPECT_LT(seconds, 20.0);  // a fraction of a second when the machine is idle
}

TEST(CheckerPieces, FaultsPlantedInTheMiddleAreViolationsInTheirPiece) {
  const std::vector<Operation> clean = long_history();
  std::mt19937_64 rng(5);
  for (PlantKind kind : kPlantKinds) {
    for (int n = 0; n < 3; ++n) {
      std::vector<Operation> ops = clean;
      const std::optional<Planted> planted = plant_fault(ops, kind, rng);
      ASSERT_TRUE(planted) << plant_name(kind);
      const KeyVerdict v = check_key("k", ops);
      EXPECT_TRUE(violation(v)) << plant_name(kind) << ": " << planted->what << ": "
                                << v.explanation;
      // Named where it is: the piece holds the planted op, far from the end.
      EXPECT_LE(v.piece_first_op, planted->op_id) << v.explanation;
      EXPECT_GE(v.piece_last_op, planted->op_id) << v.explanation;
      EXPECT_LT(v.piece_ops, 2000u) << v.explanation;
    }
  }
}

TEST(CheckerPieces, OnlyTheCutSearchDecidesAMidHistoryFault) {
  std::vector<Operation> ops = long_history();
  std::mt19937_64 rng(9);
  ASSERT_TRUE(plant_fault(ops, PlantKind::StaleRead, rng));
  CheckOptions budget;
  budget.max_configurations = 2'000'000;
  budget.max_seconds = 30;
  EXPECT_TRUE(violation(check_key("k", ops, budget)));
  budget.cut = false;
  const KeyVerdict whole = check_key("k", ops, budget);
  EXPECT_TRUE(whole.gave_up) << "the uncut search decided after all: " << whole.explanation;
  EXPECT_NE(whole.explanation.find("undecided: piece 1 of 1 (ops #0 to #"), std::string::npos)
      << whole.explanation;
}

TEST(CheckerPieces, ThreadsDoNotChangeTheVerdicts) {
  std::vector<Operation> history;
  for (int k = 0; k < 4; ++k) {
    GeneratorOptions g;
    g.ops = 5000;
    g.seed = 100 + static_cast<std::uint64_t>(k);
    for (Operation op : linearizable_history(g)) {
      op.key = "k" + std::to_string(k);
      op.id += k * g.ops;
      history.push_back(op);
    }
  }
  std::size_t damaged = 12345;  // in k2: the first read from there returns the first value
  while (history[damaged].kind != OpKind::Read) ++damaged;
  history[damaged].read_value = "v0";
  CheckOptions one;
  one.threads = 1;
  CheckOptions many;
  many.threads = 8;
  const std::vector<KeyVerdict> a = check_history(history, one);
  const std::vector<KeyVerdict> b = check_history(history, many);
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].linearizable, b[i].linearizable);
    EXPECT_EQ(a[i].explanation, b[i].explanation);
    EXPECT_EQ(a[i].linearizable, i != 2) << a[i].explanation;
  }
}

TEST(CheckerPieces, AStarvedPieceIsNamedUndecided) {
  H h;  // one piece of four overlapping writes and a read
  h.write(0, "a", 0, 100).write(1, "b", 1, 100).write(2, "c", 2, 100).write(3, "d", 3, 100);
  h.read(4, "d", 4, 100);
  CheckOptions tiny;
  tiny.max_configurations = 2;
  const KeyVerdict v = h.check(tiny);
  EXPECT_TRUE(v.gave_up);
  EXPECT_FALSE(v.linearizable);
  EXPECT_EQ(v.piece_first_op, 0);
  EXPECT_EQ(v.piece_last_op, 4);
  EXPECT_NE(v.explanation.find("undecided: piece 1 of 1 (ops #0 to #4, 5 ops)"), std::string::npos)
      << v.explanation;
}

}  // namespace
}  // namespace raft::chaos
