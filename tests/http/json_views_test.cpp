// JSON views: SPEC shapes exactly, extras documented, any bytes rendered safely.
#include "http/json_views.hpp"

#include <string>

#include <gtest/gtest.h>

#include "http/utf8.hpp"
#include "runtime/kv_command.hpp"

namespace raft::http {
namespace {

/// A view of a whole entry, as the loop copies one that fits its budget.
runtime::EntryView whole(Index index, Term term, EntryType type, std::string data) {
  const std::size_t bytes = data.size();
  return {index, term, type, std::move(data), bytes};
}

using nlohmann::json;
using namespace std::string_literals;

runtime::NodeStatus leader_status() {
  runtime::NodeStatus s;
  s.rank = 0;
  s.cluster_size = 3;
  s.role = Role::Leader;
  s.term = 3;
  s.leader_id = 0;
  s.voted_for = 0;
  s.log_length = 12;
  s.commit_index = 12;
  s.last_applied = 12;
  s.election_timeout_ms = 3000;
  s.election_elapsed_ms = 100;
  s.heartbeat_interval_ms = 750;
  s.published_at_ms = 1000;
  s.peers = {{1, 12, 13, "replicate", false, true, false}, {2, 5, 6, "probe", true, false, false}};
  s.partitioned = {2};
  s.dropping_from = {1};
  return s;
}

TEST(StatusJson, HasExactlyTheSpecFieldsWithSpecTypes) {
  const json j = status_json(leader_status(), 1000, "http://127.0.0.1:7000");
  // The example of SPEC.md, field for field.
  const json spec = json::parse(
      R"({"node_id":"0","rank":0,"state":"LEADER","term":3,"leader_id":"0","log_length":12,)"
      R"("commit_index":12,"last_applied":12,"voted_for":"0","paused":false,"crashed":false})");
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    ASSERT_TRUE(j.contains(it.key())) << it.key();
    EXPECT_EQ(j.at(it.key()), it.value()) << it.key();
  }
}

TEST(StatusJson, UnknownLeaderAndVoteAreNull) {
  runtime::NodeStatus s;
  s.rank = 4;
  s.role = Role::Initial;
  const json j = status_json(s, 0, std::nullopt);
  EXPECT_EQ(j["node_id"], "4");
  EXPECT_EQ(j["rank"], 4);
  EXPECT_EQ(j["state"], "INITIAL");
  EXPECT_TRUE(j["leader_id"].is_null());
  EXPECT_TRUE(j["voted_for"].is_null());
  EXPECT_TRUE(j["leader_url"].is_null());
  EXPECT_TRUE(j["storage_error"].is_null());
  EXPECT_TRUE(j["timers"]["since_leader_contact_ms"].is_null());
}

TEST(StatusJson, StatesAreUpperCase) {
  runtime::NodeStatus s;
  for (auto [role, name] : {std::pair{Role::Initial, "INITIAL"},
                            {Role::Follower, "FOLLOWER"},
                            {Role::Candidate, "CANDIDATE"},
                            {Role::Leader, "LEADER"}}) {
    s.role = role;
    EXPECT_EQ(status_json(s, 0, std::nullopt)["state"], name);
  }
}

TEST(StatusJson, ExtrasDescribePeersPartitionsAndTimers) {
  const json j = status_json(leader_status(), 1000, "http://127.0.0.1:7000");
  EXPECT_EQ(j["cluster_size"], 3);
  EXPECT_EQ(j["partitioned"], json::array({2}));
  ASSERT_EQ(j["peers"].size(), 2u);
  EXPECT_EQ(j["peers"][0]["id"], "1");
  EXPECT_EQ(j["peers"][0]["match_index"], 12);
  EXPECT_EQ(j["peers"][1]["progress_state"], "probe");
  EXPECT_EQ(j["peers"][1]["partitioned"], true);
  EXPECT_EQ(j["leader_url"], "http://127.0.0.1:7000");
  EXPECT_EQ(j["timers"]["election_timeout_ms"], 3000);
  EXPECT_EQ(j["timers"]["heartbeat_interval_ms"], 750);
  EXPECT_EQ(j["timers"]["running"], true);
}

TEST(StatusJson, OneWayCutsAreListedBesideThePartition) {
  runtime::NodeStatus s = leader_status();
  s.dropping_to = {1, 2};
  const json j = status_json(s, 1000, std::nullopt);
  EXPECT_EQ(j["partitioned"], json::array({2})) << "the two-way set is unchanged";
  EXPECT_EQ(j["dropping_from"], json::array({1}));
  EXPECT_EQ(j["dropping_to"], json::array({1, 2}));
  EXPECT_EQ(j["peers"][0]["dropping_from"], true);
  EXPECT_EQ(j["peers"][0]["dropping_to"], false);
  EXPECT_EQ(j["peers"][1]["dropping_from"], false);
  const json none = status_json(runtime::NodeStatus{}, 0, std::nullopt);
  EXPECT_EQ(none["dropping_from"], json::array()) << "an empty set is [], never null";
  EXPECT_EQ(none["dropping_to"], json::array());
}

TEST(StatusJson, TimersAgeSincePublicationUnlessTheClockStandsStill) {
  runtime::NodeStatus s = leader_status();
  s.heard_from_leader = true;
  s.since_leader_contact_ms = 40;
  s.initial_remaining_ms = 100;
  json j = status_json(s, 1250, std::nullopt);
  EXPECT_EQ(j["timers"]["election_elapsed_ms"], 350);
  EXPECT_EQ(j["timers"]["since_leader_contact_ms"], 290);
  EXPECT_EQ(j["timers"]["initial_remaining_ms"], 0);  // saturates, never wraps

  s.paused = true;
  j = status_json(s, 1250, std::nullopt);
  EXPECT_EQ(j["timers"]["election_elapsed_ms"], 100);
  EXPECT_EQ(j["timers"]["running"], false);
  EXPECT_EQ(j["paused"], true);

  s.paused = false;
  s.crashed = true;
  EXPECT_EQ(status_json(s, 1250, std::nullopt)["timers"]["election_elapsed_ms"], 100);

  // A clock that seems to go backwards does not age anything.
  s.crashed = false;
  EXPECT_EQ(status_json(s, 10, std::nullopt)["timers"]["election_elapsed_ms"], 100);
}

TEST(StatusJson, StorageErrorWithBadBytesStillSerialises) {
  runtime::NodeStatus s;
  s.storage_error = "cannot write /data/\xff.log";
  const json j = status_json(s, 0, std::nullopt);
  EXPECT_EQ(j["storage_error"], "cannot write /data/\\xff.log");
  EXPECT_NO_THROW((void)j.dump());
}

TEST(EntryJson, TextEntryAsIs) {
  const json j = entry_json(whole(7, 2, EntryType::Command, "set x = 1"), kDefaultEntryDataBytes);
  EXPECT_EQ(j, json::parse(R"({"index":7,"term":2,"type":"command","data":"set x = 1",)"
                           R"("data_bytes":9})"));
}

TEST(EntryJson, NoopAndConfigTypes) {
  EXPECT_EQ(entry_json(whole(1, 1, EntryType::Noop, ""), 10)["type"], "noop");
  EXPECT_EQ(entry_json(whole(1, 1, EntryType::Config, ""), 10)["type"], "config");
}

TEST(EntryJson, InvalidUtf8IsEscapedAndGivenExactlyInBase64) {
  const json j = entry_json(whole(1, 1, EntryType::Command, "a\xff\0b"s), kDefaultEntryDataBytes);
  EXPECT_EQ(j["data"], "a\\xff\0b"s);
  EXPECT_EQ(j["data_base64"], base64_encode("a\xff\0b"s));
  EXPECT_NO_THROW((void)j.dump());
}

TEST(EntryJson, LongDataIsTruncatedAndSaysSo) {
  const std::string data(10'000, 'd');
  const json j = entry_json(whole(1, 1, EntryType::Command, data), 100);
  EXPECT_EQ(j["data"].get<std::string>().size(), 100u);
  EXPECT_EQ(j["data_bytes"], 10'000);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_FALSE(
      entry_json(whole(1, 1, EntryType::Command, data), std::string::npos).contains("truncated"));
}

TEST(EntryJson, KvCommandIsDecoded) {
  runtime::KvCommand put;
  put.op = runtime::KvOp::Put;
  put.key = "users/42";
  put.value = std::string(5000, '\xff');  // binary value
  put.client_id = "cli-1";
  put.seq = 9;
  const json j = entry_json(whole(3, 1, EntryType::Command, runtime::encode_kv_command(put)),
                            kDefaultEntryDataBytes);
  ASSERT_TRUE(j.contains("kv"));
  EXPECT_EQ(j["kv"]["op"], "put");
  EXPECT_EQ(j["kv"]["key"], "users/42");
  EXPECT_EQ(j["kv"]["value_bytes"], 5000);
  EXPECT_EQ(j["kv"]["client_id"], "cli-1");
  EXPECT_EQ(j["kv"]["seq"], 9);
  EXPECT_TRUE(j.contains("data_base64"));
  EXPECT_EQ(j["truncated"], true);
  EXPECT_NO_THROW((void)j.dump());

  // Only the start copied off the loop: the summary still reads whole.
  const std::string encoded = runtime::encode_kv_command(put);
  const json head = entry_json({3, 1, EntryType::Command, encoded.substr(0, 100), encoded.size()},
                               std::string::npos);
  EXPECT_EQ(head["kv"]["key"], "users/42");
  EXPECT_EQ(head["kv"]["value_bytes"], 5000);
  EXPECT_EQ(head["data_bytes"], encoded.size());
  EXPECT_EQ(head["truncated"], true);

  runtime::KvCommand cas;
  cas.op = runtime::KvOp::Cas;
  cas.key = "\xfe";
  cas.expected = "old";
  cas.value = "new";
  const json c = entry_json(whole(4, 1, EntryType::Command, runtime::encode_kv_command(cas)), 4096);
  EXPECT_EQ(c["kv"]["op"], "cas");
  EXPECT_EQ(c["kv"]["key"], "\\xfe");
  EXPECT_EQ(c["kv"]["key_base64"], base64_encode("\xfe"));
  EXPECT_EQ(c["kv"]["expected_bytes"], 3);
  EXPECT_TRUE(c["kv"]["client_id"].is_null());
}

TEST(EntriesAnswer, ShapeAndErrors) {
  runtime::EntriesReply r;
  r.entries = {{1, 1, EntryType::Noop, "", 0}, {2, 1, EntryType::Command, "x", 1}};
  r.first_index = 1;
  r.last_index = 2;
  r.commit_index = 1;
  const JsonAnswer a = entries_answer(r, 4096);
  EXPECT_EQ(a.http_status, 200);
  EXPECT_EQ(a.body["entries"].size(), 2u);
  EXPECT_EQ(a.body["commit_index"], 1);
  EXPECT_EQ(a.body["first_index"], 1);
  EXPECT_EQ(a.body["last_index"], 2);

  r.http_status = 400;
  r.error = "from is beyond the log";
  const JsonAnswer e = entries_answer(r, 4096);
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.body, json::parse(R"({"ok":false,"error":"from is beyond the log"})"));
}

TEST(CommandAnswer, OkCarriesResultAndFields) {
  runtime::CommandReply r;
  r.result = "election started";
  r.fields = {{"term", 4}, {"ok", false}, {"result", "overridden?"}};
  const JsonAnswer a = command_answer(r);
  EXPECT_EQ(a.http_status, 200);
  EXPECT_EQ(a.body["ok"], true);
  EXPECT_EQ(a.body["result"], "election started");  // fields never override it
  EXPECT_EQ(a.body["term"], 4);
}

TEST(CommandAnswer, RefusalIs400WithOneSentence) {
  runtime::CommandReply r;
  r.http_status = 400;
  r.ok = false;
  r.error = "trigger_election is refused in INITIAL";
  const JsonAnswer a = command_answer(r);
  EXPECT_EQ(a.http_status, 400);
  EXPECT_EQ(a.body,
            json::parse(R"({"ok":false,"error":"trigger_election is refused in INITIAL"})"));
}

TEST(CommandAnswer, NonsenseStatusBecomesSane) {
  runtime::CommandReply r;
  r.http_status = 0;
  EXPECT_EQ(command_answer(r).http_status, 200);
  r.ok = false;
  r.http_status = 1000;
  EXPECT_EQ(command_answer(r).http_status, 500);
}

TEST(NodeUrl, PrefersDiscoveryThenBasePort) {
  const std::map<NodeId, std::string> known = {{1, "10.0.0.5:7001"}, {2, "evil\r\nX: y"}};
  EXPECT_EQ(node_url(1, known, "127.0.0.1", 7000), "http://10.0.0.5:7001");
  EXPECT_EQ(node_url(2, known, "127.0.0.1", 7000), "http://127.0.0.1:7002");  // implausible
  EXPECT_EQ(node_url(3, known, "192.168.1.2", 8000), "http://192.168.1.2:8003");
  EXPECT_EQ(node_url(0, {}, "0.0.0.0", 7000), "http://127.0.0.1:7000");
  EXPECT_EQ(node_url(0, {}, "::1", 7000), "http://[::1]:7000");
}

TEST(KvAnswer, WriteSuccess) {
  runtime::KvReply r;
  r.index = 14;
  r.term = 3;
  r.found = true;
  const JsonAnswer a = kv_answer(r, KvRequestKind::Write, "k", "");
  EXPECT_EQ(a.http_status, 200);
  EXPECT_EQ(a.body,
            json::parse(R"({"ok":true,"index":14,"term":3,"found":true,"duplicate":false})"));
}

TEST(KvAnswer, ReadSuccessGivesBase64ForBinaryValues) {
  runtime::KvReply r;
  r.value = "hello";
  r.index = 7;
  JsonAnswer a = kv_answer(r, KvRequestKind::Read, "k", "");
  EXPECT_EQ(a.body, json::parse(R"({"ok":true,"key":"k","value":"hello","index":7})"));
  r.value = "\x00\xff"s;
  a = kv_answer(r, KvRequestKind::Read, "k", "");
  EXPECT_EQ(a.body["value"], "\0\\xff"s);
  EXPECT_EQ(a.body["value_base64"], "AP8=");
}

TEST(KvAnswer, NotFoundIs404) {
  runtime::KvReply r;
  r.http_status = 404;
  r.ok = false;
  const JsonAnswer a = kv_answer(r, KvRequestKind::Read, "missing", "");
  EXPECT_EQ(a.http_status, 404);
  EXPECT_EQ(a.body["ok"], false);
  EXPECT_EQ(a.body["error"], "key not found");
}

TEST(KvAnswer, NotLeaderIs307WithTheLeader) {
  runtime::KvReply r;
  r.http_status = 307;
  r.ok = false;
  r.leader_id = 2;
  const JsonAnswer a = kv_answer(r, KvRequestKind::Write, "k", "http://127.0.0.1:7002");
  EXPECT_EQ(a.http_status, 307);
  EXPECT_EQ(a.body, json::parse(R"({"ok":false,"error":"not leader","leader_id":"2",)"
                                R"("leader_url":"http://127.0.0.1:7002"})"));
}

TEST(KvAnswer, NoLeaderIs503WithNulls) {
  runtime::KvReply r;
  r.http_status = 503;
  r.ok = false;
  const JsonAnswer a = kv_answer(r, KvRequestKind::Write, "k", "");
  EXPECT_EQ(a.http_status, 503);
  EXPECT_EQ(a.body, json::parse(R"({"ok":false,"error":"no leader known","leader_id":null,)"
                                R"("leader_url":null})"));
  // A 307 without a leader to send to is the same.
  r.http_status = 307;
  EXPECT_EQ(kv_answer(r, KvRequestKind::Write, "k", "").http_status, 503);
  // Another reason to be unavailable is said as it is.
  r.http_status = 503;
  r.error = "the node is paused; resume it first";
  EXPECT_EQ(kv_answer(r, KvRequestKind::Read, "k", "").body["error"], r.error);
}

TEST(KvAnswer, FailedCasIs409) {
  runtime::KvReply r;
  r.http_status = 409;
  r.ok = false;
  r.error = "the current value does not match the expected one";
  r.index = 20;
  r.term = 4;
  r.found = true;
  const JsonAnswer a = kv_answer(r, KvRequestKind::Write, "k", "");
  EXPECT_EQ(a.http_status, 409);
  EXPECT_EQ(a.body["error"], "the current value does not match the expected one");
  EXPECT_EQ(a.body["index"], 20);
}

TEST(KvAnswer, OtherErrorsKeepTheirStatus) {
  runtime::KvReply r;
  r.http_status = 400;
  r.ok = false;
  r.error = "the key is empty";
  EXPECT_EQ(kv_answer(r, KvRequestKind::Write, "", "").http_status, 400);
  r.http_status = 42;
  EXPECT_EQ(kv_answer(r, KvRequestKind::Write, "", "").http_status, 500);
}

TEST(TimeoutAnswer, SaysTheWriteMayStillApply) {
  const JsonAnswer a = timeout_answer(KvRequestKind::Write);
  EXPECT_EQ(a.http_status, 504);
  EXPECT_EQ(a.body["error"], "timed out waiting for the cluster; the write may still be applied");
}

TEST(DumpJson, NeverThrowsOnBadUtf8) {
  const json j = {{"x", "\xff\xfe"}};
  EXPECT_THROW((void)j.dump(), json::type_error);
  EXPECT_NO_THROW((void)dump_json(j));
  EXPECT_TRUE(is_valid_utf8(dump_json(j)));
}

TEST(MergeCommandHistory, InterleavesByTimeAndKeepsTheLast) {
  const std::vector<std::string> loop = {"10:00:01 - pause", "10:00:05 - resume"};
  const std::vector<std::string> local = {"10:00:03 - show_known_nodes",
                                          "10:00:05 - sync_known_nodes"};
  EXPECT_EQ(merge_command_history(loop, local, 100),
            (std::vector<std::string>{"10:00:01 - pause", "10:00:03 - show_known_nodes",
                                      "10:00:05 - resume", "10:00:05 - sync_known_nodes"}));
  EXPECT_EQ(merge_command_history(loop, local, 2),
            (std::vector<std::string>{"10:00:05 - resume", "10:00:05 - sync_known_nodes"}));
  EXPECT_EQ(merge_command_history({}, local, 100), local);
  EXPECT_EQ(merge_command_history(loop, {}, 100), loop);
}

TEST(KnownNodesJson, RanksAsStringKeys) {
  EXPECT_EQ(known_nodes_json({{0, "127.0.0.1:7000"}, {1, "127.0.0.1:7001"}}),
            json::parse(R"({"0":"127.0.0.1:7000","1":"127.0.0.1:7001"})"));
}

}  // namespace
}  // namespace raft::http
