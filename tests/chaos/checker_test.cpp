// The linearizability checker must be able to fail: known bad histories are
// reported, and good ones (concurrency, unknown outcomes) pass quickly.
#include "chaos/checker.hpp"

#include <chrono>
#include <random>

#include <gtest/gtest.h>

#include "chaos/fault_plant.hpp"
#include "history_builder.hpp"

namespace raft::chaos {
namespace {

using test::H;

TEST(Checker, EmptyHistoryIsLinearizable) { EXPECT_TRUE(H().check().linearizable); }

TEST(Checker, SequentialHistoryIsLinearizable) {
  H h;
  h.read(0, std::nullopt, 0, 1)
      .write(0, "a", 2, 3)
      .read(1, "a", 4, 5)
      .cas(1, "a", "b", true, 6, 7)
      .cas(0, "a", "c", false, 8, 9)
      .read(0, "b", 10, 11);
  EXPECT_TRUE(h.check().linearizable);
}

TEST(Checker, StaleReadAfterAcknowledgedWriteIsReported) {
  // w(a) completes, w(b) completes, then a read returns a: the classic stale read.
  H h;
  h.write(0, "a", 0, 10).write(0, "b", 20, 30).read(1, "a", 40, 50);
  const KeyVerdict v = h.check();
  EXPECT_FALSE(v.linearizable);
  EXPECT_FALSE(v.gave_up);
  EXPECT_EQ(v.stuck_op, 2);
  EXPECT_NE(v.explanation.find("op #2"), std::string::npos) << v.explanation;
}

TEST(Checker, ReadsThatGoBackInTimeAreReported) {
  // Two writes are concurrent, but two later sequential reads see b then a:
  // no single order of the writes explains both.
  H h;
  h.write(0, "a", 0, 100).write(1, "b", 0, 100).read(2, "b", 110, 120).read(2, "a", 130, 140);
  EXPECT_FALSE(h.check().linearizable);
}

TEST(Checker, SwappedCasContradictingTheValueIsReported) {
  H h;
  h.write(0, "a", 0, 1).cas(1, "x", "y", true, 2, 3);
  EXPECT_FALSE(h.check().linearizable);
  H refused;  // a 409 while the value did match is just as wrong
  refused.write(0, "a", 0, 1).cas(1, "a", "y", false, 2, 3);
  EXPECT_FALSE(refused.check().linearizable);
}

TEST(Checker, ConcurrentOpsMayTakeEffectInEitherOrder) {
  H h;
  // The read overlaps both writes and sees the second one to start; the final
  // read pins the order b then a... then c by cas.
  h.write(0, "a", 0, 50)
      .write(1, "b", 10, 60)
      .read(2, "a", 20, 70)
      .read(2, "a", 80, 90)
      .cas(3, "a", "c", true, 85, 95)
      .read(0, "c", 100, 110);
  EXPECT_TRUE(h.check().linearizable);
}

TEST(Checker, UnknownWriteMayTakeEffectLateOrNever) {
  H late;  // the unknown write shows up long after its client gave up
  late.write(0, "a", 0, 10)
      .write(1, "u", 20, 30, Outcome::Unknown)
      .read(2, "a", 40, 50)
      .read(2, "u", 60, 70);
  EXPECT_TRUE(late.check().linearizable);
  H never;
  never.write(0, "a", 0, 10).write(1, "u", 20, 30, Outcome::Unknown).read(2, "a", 40, 50);
  EXPECT_TRUE(never.check().linearizable);
  H before;  // but never before it was invoked
  before.write(0, "a", 0, 10).read(2, "u", 12, 15).write(1, "u", 20, 30, Outcome::Unknown);
  EXPECT_FALSE(before.check().linearizable);
}

TEST(Checker, UnknownCasOnlyTakesEffectWhenItMatches) {
  H h;
  h.write(0, "a", 0, 10).cas(1, "a", "b", false, 20, 30, Outcome::Unknown).read(2, "b", 40, 50);
  EXPECT_TRUE(h.check().linearizable);
  H wrong;
  wrong.write(0, "z", 0, 10).cas(1, "a", "b", false, 20, 30, Outcome::Unknown).read(2, "b", 40, 50);
  EXPECT_FALSE(wrong.check().linearizable);
}

TEST(Checker, FailedOpsAreIgnored) {
  H h;
  h.write(0, "a", 0, 10).write(1, "f", 20, 30, Outcome::Fail).read(2, "a", 40, 50);
  EXPECT_TRUE(h.check().linearizable);
}

TEST(Checker, HistoryIsPartitionedByKey) {
  std::vector<Operation> ops = H().write(0, "a", 0, 10).read(1, "a", 20, 30).ops;
  Operation other = ops[1];
  other.id = 2;
  other.key = "other";
  other.read_value = std::nullopt;  // another key, still absent: fine
  ops.push_back(other);
  const std::vector<KeyVerdict> verdicts = check_history(ops);
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_TRUE(verdicts[0].linearizable);
  EXPECT_TRUE(verdicts[1].linearizable);
  ops[2].read_value = "a";  // a value written on key k only
  EXPECT_FALSE(check_history(ops)[1].linearizable);
}

TEST(LostWrites, AcknowledgedWriteMissingAfterHealIsReported) {
  // b is acknowledged after a completed, yet the key ends up holding a.
  H h;
  h.write(0, "a", 0, 10).write(1, "b", 20, 30);
  const auto lost = find_lost_writes(h.ops, {{"k", FinalRead{"a", 100}}});
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].op_id, 1);
  // The linearizability checker agrees once the final read is in the history.
  h.read(2, "a", 100, 110);
  EXPECT_FALSE(h.check().linearizable);
}

TEST(LostWrites, AbsentKeyAndPhantomValueAreReported) {
  H h;
  h.write(0, "a", 0, 10);
  EXPECT_EQ(find_lost_writes(h.ops, {{"k", FinalRead{std::nullopt, 100}}}).size(), 1u);
  EXPECT_EQ(find_lost_writes(h.ops, {{"k", FinalRead{"never-written", 100}}}).size(), 1u);
}

TEST(LostWrites, SupersededWritesAreFine) {
  H h;  // a concurrent write (acknowledged or unknown) may come last
  h.write(0, "a", 0, 10)
      .write(1, "b", 5, 15)
      .write(2, "u", 20, 30, Outcome::Unknown)
      .write(0, "c", 40, 50);
  EXPECT_TRUE(find_lost_writes(h.ops, {{"k", FinalRead{"c", 100}}}).empty());
  // An unknown write may take effect after everything, even after c.
  EXPECT_TRUE(find_lost_writes(h.ops, {{"k", FinalRead{"u", 100}}}).empty());
  H concurrent;
  concurrent.write(0, "a", 0, 10).write(1, "b", 5, 15);
  EXPECT_TRUE(find_lost_writes(concurrent.ops, {{"k", FinalRead{"a", 100}}}).empty());
}

TEST(CheckerDeletes, DeleteMakesTheKeyAbsent) {
  H h;
  h.write(0, "a", 0, 10)
      .read(1, "a", 11, 12)
      .del(0, 20, 30, Outcome::Ok, true)
      .read(1, std::nullopt, 40, 50)  // a 404 after the delete
      .del(1, 51, 52, Outcome::Ok, false)
      .write(0, "b", 60, 70)
      .read(1, "b", 80, 90);
  const KeyVerdict v = h.check();
  EXPECT_TRUE(v.linearizable) << v.explanation;
}

TEST(CheckerDeletes, ConcurrentDeleteMayComeBeforeOrAfterARead) {
  H h;  // the read overlaps the delete: it may see the value or its absence
  h.write(0, "a", 0, 10).del(0, 20, 40).read(1, "a", 25, 35);
  EXPECT_TRUE(h.check().linearizable);
  H absent;
  absent.write(0, "a", 0, 10).del(0, 20, 40).read(1, std::nullopt, 25, 35);
  EXPECT_TRUE(absent.check().linearizable);
}

TEST(CheckerDeletes, ReadOfTheValueAfterAnAcknowledgedDeleteIsReported) {
  // The delete completed and no write followed, yet a read returns a.
  H h;
  h.write(0, "a", 0, 10).del(0, 20, 30).read(1, "a", 40, 50);
  const KeyVerdict v = h.check();
  EXPECT_FALSE(v.linearizable);
  EXPECT_FALSE(v.gave_up);
  EXPECT_EQ(v.stuck_op, 2);
  EXPECT_NE(v.explanation.find("read returned 'a'"), std::string::npos) << v.explanation;
}

TEST(CheckerDeletes, DeleteFoundAnswerMustMatchTheState) {
  H missing;  // "found": true, but nothing was ever written
  missing.del(0, 0, 10, Outcome::Ok, true);
  EXPECT_FALSE(missing.check().linearizable);
  H present;  // "found": false right after an acknowledged write
  present.write(0, "a", 0, 10).del(0, 20, 30, Outcome::Ok, false);
  EXPECT_FALSE(present.check().linearizable);
}

TEST(CheckerDeletes, UnknownDeleteMayTakeEffectLateOrNever) {
  H late;  // the unknown delete explains the absence after the read of a
  late.write(0, "a", 0, 10)
      .del(1, 20, 30, Outcome::Unknown)
      .read(0, "a", 40, 50)
      .read(0, std::nullopt, 60, 70);
  EXPECT_TRUE(late.check().linearizable);
  H never;
  never.write(0, "a", 0, 10).del(1, 20, 30, Outcome::Unknown).read(0, "a", 40, 50);
  EXPECT_TRUE(never.check().linearizable);
  H failed;  // a failed delete did not happen: the absence is unexplained
  failed.write(0, "a", 0, 10).del(1, 20, 30, Outcome::Fail).read(0, std::nullopt, 40, 50);
  EXPECT_FALSE(failed.check().linearizable);
}

TEST(LostWrites, AcknowledgedDeleteMeansAbsentUnlessALaterWrite) {
  H h;
  h.write(0, "a", 0, 10).del(1, 20, 30);
  EXPECT_TRUE(find_lost_writes(h.ops, {{"k", FinalRead{std::nullopt, 100}}}).empty())
      << "the delete followed the write";
  const auto resurrected = find_lost_writes(h.ops, {{"k", FinalRead{"a", 100}}});
  ASSERT_EQ(resurrected.size(), 1u);
  EXPECT_EQ(resurrected[0].op_id, 1) << "the delete is the lost op";
  h.write(2, "b", 40, 50);
  EXPECT_TRUE(find_lost_writes(h.ops, {{"k", FinalRead{"b", 100}}}).empty());
  EXPECT_EQ(find_lost_writes(h.ops, {{"k", FinalRead{std::nullopt, 100}}}).size(), 1u)
      << "b was acknowledged after the delete, so absence loses it";
  H concurrent;  // a delete concurrent with the write may come last
  concurrent.write(0, "a", 0, 10).del(1, 5, 15, Outcome::Unknown);
  EXPECT_TRUE(find_lost_writes(concurrent.ops, {{"k", FinalRead{std::nullopt, 100}}}).empty());
  EXPECT_TRUE(find_lost_writes(concurrent.ops, {{"k", FinalRead{"a", 100}}}).empty());
}

TEST(Checker, ThousandsOfConcurrentOpsCheckQuickly) {
  // 4 clients, 5000 ops, overlapping in pairs, plus unknown writes: generated
  // from a real register so the history is linearizable by construction.
  std::mt19937 rng(42);
  H h;
  std::string value;  // absent at first: reads see nullopt
  bool present = false;
  std::int64_t t = 0;
  int unique = 0;
  for (int i = 0; i < 5000; ++i) {
    const int client = i % 4;
    const int choice = static_cast<int>(rng() % 10);
    // Each op's interval overlaps its neighbours'; the effect happens at t+5.
    const std::int64_t a = t, b = t + 15;
    t += 10;
    if (choice < 4) {
      h.read(client, present ? std::optional<std::string>(value) : std::nullopt, a, b);
    } else if (choice < 7) {
      value = "v" + std::to_string(unique++);
      present = true;
      h.write(client, value, a, b);
    } else if (choice < 9) {
      const bool match = present && rng() % 2 == 0;
      const std::string expected = match ? value : "nope";
      const std::string next = "v" + std::to_string(unique++);
      h.cas(client, expected, next, match, a, b);
      if (match) value = next;
    } else {
      // Unknown and never applied.
      h.write(client, "lost" + std::to_string(unique++), a, b, Outcome::Unknown);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const KeyVerdict v = h.check();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(v.linearizable) << v.explanation;
  EXPECT_LT(seconds, 1.0);
  // One stale read late in the history is found. (Without the unknown ops:
  // with 500 of them the full search may run out of budget instead, which is
  // still not a pass.)
  std::vector<Operation> definite;
  for (const Operation& op : h.ops) {
    if (op.outcome == Outcome::Ok) definite.push_back(op);
  }
  std::optional<std::string> previous;
  for (auto it = definite.rbegin() + 100; it != definite.rend(); ++it) {
    if (it->kind == OpKind::Write) {
      previous = it->value;
      break;
    }
  }
  ASSERT_TRUE(previous);
  definite.back().kind = OpKind::Read;
  definite.back().read_value = previous;
  const KeyVerdict stale = check_key("k", definite);
  EXPECT_FALSE(stale.linearizable);
  EXPECT_FALSE(stale.gave_up);
  EXPECT_EQ(stale.stuck_op, definite.back().id);
  CheckOptions small;
  small.max_seconds = 1;
  h.ops.back() = definite.back();
  EXPECT_FALSE(check_key("k", h.ops, small).linearizable);
}

TEST(LostWrites, CheckIsLinearInTheHistory) {
  // 200,000 acknowledged writes and the key absent at the end: each is lost.
  // (Scanning the history for a delete per write took minutes.)
  H h;
  for (int i = 0; i < 200000; ++i) h.write(i % 4, "v" + std::to_string(i), 10 * i, 10 * i + 5);
  const auto started = std::chrono::steady_clock::now();
  const auto lost = find_lost_writes(h.ops, {{"k", FinalRead{std::nullopt, 0}}});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(lost.size(), 200000u);
  EXPECT_LT(seconds, 10.0);                 // ~0.2 s when the machine is idle
  h.del(0, 10, 3000000, Outcome::Unknown);  // a delete that may come after all of them
  EXPECT_TRUE(find_lost_writes(h.ops, {{"k", FinalRead{std::nullopt, 0}}}).empty());
}

TEST(FaultPlant, NoPlaceNoChange) {
  H h;  // no write to go stale, come from the future or be lost, no cas to flip
  h.read(1, std::nullopt, 0, 10).write(0, "a", 5, 15, Outcome::Fail);
  const std::vector<Operation> before = h.ops;
  std::mt19937_64 rng(1);
  for (PlantKind kind : kPlantKinds) {
    EXPECT_FALSE(plant_fault(h.ops, kind, rng)) << plant_name(kind);
    ASSERT_EQ(h.ops.size(), before.size());
    for (std::size_t i = 0; i < before.size(); ++i)
      EXPECT_EQ(to_json(h.ops[i]), to_json(before[i]));
  }
}

TEST(FaultPlant, EachKindChangesOneOpInTheMiddle) {
  // A sequential history: write, read it, cas it, read that; 100 times.
  H h;
  for (int i = 0; i < 100; ++i) {
    const std::string v = "w" + std::to_string(i), c = "c" + std::to_string(i);
    const std::int64_t t = 100 * i;
    h.write(0, v, t, t + 10).read(1, v, t + 20, t + 30).cas(0, v, c, true, t + 40, t + 50);
    h.read(1, c, t + 60, t + 70);
  }
  ASSERT_TRUE(h.check().linearizable);
  std::mt19937_64 rng(2);
  for (PlantKind kind : kPlantKinds) {
    H planted = h;
    planted.ops.shrink_to_fit();  // adding an op must not leave references dangling
    const std::optional<Planted> p = plant_fault(planted.ops, kind, rng);
    ASSERT_TRUE(p) << plant_name(kind);
    std::size_t changed = 0;
    for (std::size_t i = 0; i < h.ops.size(); ++i)
      changed += to_json(planted.ops[i]) != to_json(h.ops[i]);
    EXPECT_EQ(changed + planted.ops.size() - h.ops.size(), 1u) << p->what;
    const Operation& op = planted.ops[static_cast<std::size_t>(p->op_id)];
    EXPECT_GE(op.invoke_us, 100 * 20) << p->what;
    EXPECT_LE(op.invoke_us, 100 * 80) << p->what;
    const KeyVerdict v = planted.check();
    EXPECT_FALSE(v.linearizable) << p->what;
    EXPECT_FALSE(v.gave_up) << p->what;
  }
}

TEST(History, JsonRoundTrip) {
  H h;
  h.cas(3, "a", "b", true, 1, 2).read(1, std::nullopt, 3, 4).write(2, "x", 5, 6, Outcome::Unknown);
  h.del(0, 7, 8, Outcome::Ok, true).at(2, 41).del(1, 9, 10, Outcome::Unknown);
  h.stale(1, "b", 11, 12, 44).stale(2, std::nullopt, 13, 14);
  for (const Operation& op : h.ops) {
    const Operation back = operation_from_json(to_json(op));
    EXPECT_EQ(to_json(back), to_json(op));
  }
}

}  // namespace
}  // namespace raft::chaos
