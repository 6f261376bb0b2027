#include "runtime/kv_state_machine.hpp"

#include <gtest/gtest.h>

#include "raft/rng.hpp"

namespace raft::runtime {
namespace {

Entry command_entry(Index index, const KvCommand& c) {
  return {1, index, EntryType::Command, encode_kv_command(c)};
}

KvCommand put(std::string key, std::string value, std::string client = {}, std::uint64_t seq = 0) {
  KvCommand c;
  c.op = KvOp::Put;
  c.key = std::move(key);
  c.value = std::move(value);
  c.client_id = std::move(client);
  c.seq = seq;
  return c;
}

TEST(KvCommand, RoundTripsAnyBytes) {
  KvCommand c = put(std::string("k\0\n y", 5), std::string("\xff\n\0v", 4), "client-7", 42);
  c.op = KvOp::Cas;
  c.expected = "old\n";
  std::optional<KvCommand> back = decode_kv_command(encode_kv_command(c));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, c);
}

TEST(KvCommand, RejectsMalformedData) {
  const std::string good = encode_kv_command(put("k", "v", "c", 1));
  EXPECT_FALSE(decode_kv_command("submit hello").has_value());
  EXPECT_FALSE(decode_kv_command(good.substr(0, good.size() - 1)).has_value());
  EXPECT_FALSE(decode_kv_command(good + "x").has_value());
  EXPECT_FALSE(decode_kv_command("kv1 put c 1 99999999999999999999 0 0\n").has_value());
  EXPECT_FALSE(decode_kv_command("kv1 put c 1 18446744073709551615 2 0\nab").has_value());
  EXPECT_FALSE(decode_kv_command("kv1 zap c 1 1 0 0\nk").has_value());
  // Every truncation of a valid command is rejected, never misread.
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode_kv_command(good.substr(0, n)).has_value()) << n;
  }
}

TEST(KvCommand, ValidationNamesTheProblem) {
  EXPECT_EQ(validate_kv_command(put("k", "v")), "");
  EXPECT_NE(validate_kv_command(put("", "v")), "");
  EXPECT_NE(validate_kv_command(put(std::string(1025, 'k'), "v")).find("1 KiB"), std::string::npos);
  EXPECT_NE(validate_kv_command(put("k", std::string((1 << 20) + 1, 'v'))).find("1 MiB"),
            std::string::npos);
  EXPECT_NE(validate_kv_command(put("k", "v", "has space", 1)), "");
}

TEST(KvStateMachine, PutGetDeleteCas) {
  KvStateMachine sm;
  Index i = 0;
  EXPECT_FALSE(sm.apply(command_entry(++i, put("a", "1")))->found);
  EXPECT_EQ(sm.get("a"), "1");
  EXPECT_TRUE(sm.apply(command_entry(++i, put("a", "2")))->found);
  KvCommand cas = put("a", "3");
  cas.op = KvOp::Cas;
  cas.expected = "wrong";
  EXPECT_FALSE(sm.apply(command_entry(++i, cas))->ok);
  EXPECT_EQ(sm.get("a"), "2");
  cas.expected = "2";
  EXPECT_TRUE(sm.apply(command_entry(++i, cas))->ok);
  EXPECT_EQ(sm.get("a"), "3");
  KvCommand del = put("a", "");
  del.op = KvOp::Delete;
  EXPECT_TRUE(sm.apply(command_entry(++i, del))->found);
  EXPECT_FALSE(sm.get("a").has_value());
  EXPECT_EQ(sm.applied_index(), i);
}

TEST(KvStateMachine, CountsTheBytesItHolds) {
  KvStateMachine sm;
  Index i = 0;
  sm.apply(command_entry(++i, put("ab", "12345")));
  EXPECT_EQ(sm.bytes(), 7u);
  sm.apply(command_entry(++i, put("ab", "1")));
  EXPECT_EQ(sm.bytes(), 3u);
  sm.apply(command_entry(++i, put("c", "xy")));
  KvCommand cas = put("c", "xyz");
  cas.op = KvOp::Cas;
  cas.expected = "xy";
  sm.apply(command_entry(++i, cas));
  EXPECT_EQ(sm.bytes(), 7u);
  KvCommand del = put("ab", "");
  del.op = KvOp::Delete;
  sm.apply(command_entry(++i, del));
  EXPECT_EQ(sm.bytes(), 4u);
  KvStateMachine copy;
  copy.restore(sm.snapshot(), sm.applied_index());
  EXPECT_EQ(copy.bytes(), 4u);
}

TEST(KvStateMachine, NonKvEntriesLeaveTheStoreAlone) {
  KvStateMachine sm;
  EXPECT_FALSE(sm.apply({1, 1, EntryType::Noop, ""}).has_value());
  EXPECT_FALSE(sm.apply({1, 2, EntryType::Command, "submit hello"}).has_value());
  EXPECT_EQ(sm.size(), 0u);
  EXPECT_EQ(sm.applied_index(), 2u);
}

TEST(KvStateMachine, ARetriedWriteAppliesOnce) {
  KvStateMachine sm;
  KvCommand c = put("counter", "1", "client-a", 5);
  EXPECT_FALSE(sm.apply(command_entry(1, c))->duplicate);
  sm.apply(command_entry(2, put("counter", "2", "client-b", 1)));
  // The same request again (say, retried after a leader change): not re-applied.
  std::optional<KvApplyResult> again = sm.apply(command_entry(3, c));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(sm.get("counter"), "2");
  // An older sequence number is a duplicate too; a newer one applies.
  c.seq = 4;
  EXPECT_TRUE(sm.apply(command_entry(4, c))->duplicate);
  c.seq = 6;
  c.value = "6";
  EXPECT_FALSE(sm.apply(command_entry(5, c))->duplicate);
  EXPECT_EQ(sm.get("counter"), "6");
}

TEST(KvStateMachine, SnapshotRestoresTheSameStateIncludingSessions) {
  KvStateMachine sm;
  Rng rng(7);
  for (Index i = 1; i <= 500; ++i) {
    KvCommand c = put("k" + std::to_string(rng.uniform(0, 40)), std::to_string(rng.next()),
                      "c" + std::to_string(rng.uniform(0, 9)), i);
    if (rng.chance(1, 5)) c.op = KvOp::Delete;
    sm.apply(command_entry(i, c));
  }
  KvStateMachine copy;
  copy.restore(sm.snapshot(), sm.applied_index());
  EXPECT_EQ(copy.snapshot(), sm.snapshot());
  EXPECT_EQ(copy.size(), sm.size());
  // The sessions came along: a retry of an old request is still caught.
  KvCommand retry = put("k1", "x", "c3", 3);
  EXPECT_TRUE(copy.apply(command_entry(501, retry))->duplicate);
}

TEST(KvStateMachine, RestoreRejectsDamagedSnapshots) {
  KvStateMachine sm;
  sm.apply(command_entry(1, put("a", "1", "c", 1)));
  const std::string snap = sm.snapshot();
  KvStateMachine other;
  EXPECT_THROW(other.restore("garbage", 1), std::runtime_error);
  EXPECT_THROW(other.restore(snap, 2), std::runtime_error) << "index mismatch";
  for (std::size_t n = 0; n < snap.size(); ++n) {
    EXPECT_THROW(other.restore(snap.substr(0, n), 1), std::runtime_error) << n;
  }
  EXPECT_THROW(other.restore(snap + "x", 1), std::runtime_error);
}

}  // namespace
}  // namespace raft::runtime
