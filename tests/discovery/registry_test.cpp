// The discovery registry without sockets: registration, heartbeat and the
// alive timeout (with an injected clock), the leader term rule, reset, request
// validation, persistence and its failure modes.

#include "discovery/registry.hpp"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace raft::discovery {
namespace {

using testing::TempDir;

constexpr TimeMs kTimeoutMs = 3000;

Registry in_memory() { return Registry(Registry::Options{{}, kTimeoutMs, nullptr}); }

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string reg(const std::string& id, const std::string& address) {
  return R"({"node_id":")" + id + R"(","address":")" + address + R"("})";
}

TEST(Registry, RegisteredNodeIsListedAlive) {
  Registry registry = in_memory();
  Reply reply = registry.handle_register(reg("0", "127.0.0.1:7000"), 1000);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["ok"], true);
  EXPECT_EQ(reply.body["result"], "registered");

  Json state = registry.state_json(1120);
  EXPECT_EQ(state["nodes"]["0"], "127.0.0.1:7000");
  EXPECT_EQ(state["leader"], nullptr);
  EXPECT_EQ(state["leader_term"], 0);
  EXPECT_EQ(state["members"]["0"]["address"], "127.0.0.1:7000");
  EXPECT_EQ(state["members"]["0"]["alive"], true);
  EXPECT_EQ(state["members"]["0"]["last_seen_ms_ago"], 120);
}

TEST(Registry, NodeIdMayBeAJsonInteger) {
  Registry registry = in_memory();
  Reply reply = registry.handle_register(R"({"node_id":3,"address":"127.0.0.1:7003"})", 0);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["node_id"], "3");
  EXPECT_EQ(registry.members().at(3).address, "127.0.0.1:7003");
}

TEST(Registry, ReRegisteringIsTheHeartbeat) {
  Registry registry = in_memory();
  EXPECT_EQ(registry.register_node(1, "127.0.0.1:7001", 1000), Registry::RegisterOutcome::Added);
  EXPECT_EQ(registry.register_node(1, "127.0.0.1:7001", 2500),
            Registry::RegisterOutcome::Heartbeat);
  EXPECT_EQ(registry.members().at(1).last_seen_ms, 2500u);
  EXPECT_EQ(registry.state_json(2600)["members"]["1"]["last_seen_ms_ago"], 100);
}

TEST(Registry, ANodeNotHeardFromIsShownNotAliveButKept) {
  Registry registry = in_memory();
  registry.register_node(0, "127.0.0.1:7000", 1000);
  EXPECT_TRUE(registry.alive(0, 1000 + kTimeoutMs - 1));
  EXPECT_FALSE(registry.alive(0, 1000 + kTimeoutMs));
  Json state = registry.state_json(1000 + kTimeoutMs + 500);
  EXPECT_EQ(state["nodes"]["0"], "127.0.0.1:7000");
  EXPECT_EQ(state["members"]["0"]["alive"], false);
  EXPECT_EQ(state["members"]["0"]["last_seen_ms_ago"], kTimeoutMs + 500);

  registry.register_node(0, "127.0.0.1:7000", 9000);  // it comes back
  EXPECT_TRUE(registry.alive(0, 9000));
}

TEST(Registry, SweepReportsEachSilenceOnce) {
  Registry registry = in_memory();
  registry.register_node(0, "127.0.0.1:7000", 0);
  registry.register_node(1, "127.0.0.1:7001", 2000);
  EXPECT_TRUE(registry.sweep(2000).empty());
  EXPECT_EQ(registry.sweep(kTimeoutMs), std::vector<NodeId>{0});
  EXPECT_TRUE(registry.sweep(kTimeoutMs + 100).empty());
  registry.register_node(0, "127.0.0.1:7000", 10000);  // back, then silent again
  EXPECT_EQ(registry.sweep(20000), (std::vector<NodeId>{0, 1}));
}

TEST(Registry, NewAddressReplacesTheOldOne) {
  Registry registry = in_memory();
  registry.register_node(2, "127.0.0.1:7002", 0);
  EXPECT_EQ(registry.register_node(2, "10.0.0.2:7002", 10), Registry::RegisterOutcome::Moved);
  EXPECT_EQ(registry.members().at(2).address, "10.0.0.2:7002");
}

TEST(Registry, NullAddressDeregisters) {
  Registry registry = in_memory();
  registry.register_node(0, "127.0.0.1:7000", 0);
  Reply reply = registry.handle_register(R"({"node_id":"0","address":null})", 10);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["result"], "deregistered");
  EXPECT_TRUE(registry.members().empty());
  EXPECT_EQ(registry.state_json(10)["nodes"], Json::object());

  reply = registry.handle_register(R"({"node_id":"0","address":null})", 20);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["result"], "not registered");
}

TEST(Registry, DeregisteringTheLeaderForgetsItButKeepsTheTerm) {
  Registry registry = in_memory();
  registry.register_node(0, "127.0.0.1:7000", 0);
  registry.set_leader(0, 4);
  registry.deregister_node(0);
  EXPECT_EQ(registry.leader(), std::nullopt);
  EXPECT_EQ(registry.leader_term(), 4u);
  EXPECT_EQ(registry.set_leader(1, 3), Registry::LeaderOutcome::Ignored);
}

TEST(Registry, NodesAreListedInNumericOrder) {
  Registry registry = in_memory();
  registry.register_node(10, "127.0.0.1:7010", 0);
  registry.register_node(2, "127.0.0.1:7002", 0);
  Json nodes = registry.state_json(0)["nodes"];
  std::vector<std::string> keys;
  for (const auto& [key, value] : nodes.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"2", "10"}));
}

TEST(Registry, RegistryIsFullAtTheLimit) {
  Registry registry = in_memory();
  for (std::size_t i = 0; i < kMembersMax; ++i) {
    registry.register_node(static_cast<NodeId>(i), "127.0.0.1:7000", 0);
  }
  Reply reply = registry.handle_register(reg("99999", "127.0.0.1:7000"), 0);
  EXPECT_EQ(reply.status, 409);
  EXPECT_EQ(reply.body["ok"], false);
  // Known nodes still heartbeat.
  EXPECT_EQ(registry.handle_register(reg("0", "127.0.0.1:7000"), 5).status, 200);
}

// Leader term rule --------------------------------------------------------

TEST(LeaderTermRule, ALowerTermIsIgnoredTheSameOrAHigherReplaces) {
  Registry registry = in_memory();
  EXPECT_EQ(registry.set_leader(0, 3), Registry::LeaderOutcome::Changed);
  EXPECT_EQ(registry.set_leader(0, 3), Registry::LeaderOutcome::Unchanged);
  EXPECT_EQ(registry.set_leader(1, 2), Registry::LeaderOutcome::Ignored);
  EXPECT_EQ(registry.leader(), 0);
  EXPECT_EQ(registry.leader_term(), 3u);
  EXPECT_EQ(registry.set_leader(1, 3), Registry::LeaderOutcome::Changed);
  EXPECT_EQ(registry.leader(), 1);
  EXPECT_EQ(registry.set_leader(2, 7), Registry::LeaderOutcome::Changed);
  EXPECT_EQ(registry.leader(), 2);
  EXPECT_EQ(registry.leader_term(), 7u);
}

// What a client that is not the node cannot do (issue #14: a fake node
// registered with term 999999999 took over the monitor and the 307s).
TEST(Admission, OnlyRanksOfTheJobRegister) {
  Registry registry(Registry::Options{{}, kTimeoutMs, nullptr, 3});
  EXPECT_EQ(registry.handle_register(reg("2", "127.0.0.1:7002"), 0).status, 200);
  Reply reply = registry.handle_register(reg("9", "127.0.0.1:7009"), 0);
  EXPECT_EQ(reply.status, 403);
  EXPECT_NE(reply.body["error"].get<std::string>().find("not a rank of this job (ranks 0..2)"),
            std::string::npos);
  EXPECT_EQ(registry.members().count(9), 0u);
}

TEST(Admission, ALeaderClaimComesFromTheRegisteredNodeWithAPlausibleTerm) {
  Registry registry = in_memory();
  Reply reply = registry.handle_set_leader(R"({"node_id":"0","term":3})", "127.0.0.1");
  EXPECT_EQ(reply.status, 403);
  EXPECT_NE(reply.body["error"].get<std::string>().find("not registered"), std::string::npos);

  registry.register_node(0, "10.0.0.1:7000", 0);
  reply = registry.handle_set_leader(R"({"node_id":"0","term":3})", "10.0.0.7");
  EXPECT_EQ(reply.status, 403);
  EXPECT_NE(reply.body["error"].get<std::string>().find("registered at 10.0.0.1:7000"),
            std::string::npos);
  EXPECT_EQ(registry.handle_set_leader(R"({"node_id":"0","term":3})", "10.0.0.1").status, 200);

  reply = registry.handle_set_leader(R"({"node_id":"0","term":9223372036854775807})", "10.0.0.1");
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body["error"].get<std::string>().find("implausible"), std::string::npos);
  EXPECT_EQ(registry.leader_term(), 3u);
  EXPECT_EQ(registry.handle_set_leader(R"({"node_id":"0","term":1000003})", "10.0.0.1").status,
            200);
}

// A registration from elsewhere would point the monitor and the followers'
// 307s at an address of the sender's choosing.
TEST(Admission, ANodeRegistersOnlyItself) {
  Registry registry = in_memory();
  Reply reply = registry.handle_register(reg("0", "10.0.0.9:7000"), 0, "127.0.0.1");
  EXPECT_EQ(reply.status, 403);
  EXPECT_NE(reply.body["error"].get<std::string>().find("a node registers itself"),
            std::string::npos)
      << reply.body.dump();
  EXPECT_EQ(registry.members().count(0), 0u);
  reply = registry.handle_register(reg("0", "10.0.0.1:7000"), 0, "10.0.0.7");
  EXPECT_EQ(reply.status, 403);

  EXPECT_EQ(registry.handle_register(reg("0", "10.0.0.1:7000"), 0, "10.0.0.1").status, 200);
  EXPECT_EQ(registry.handle_register(reg("0", "10.0.0.1:7000"), 0, "::ffff:10.0.0.1").status, 200);
  EXPECT_EQ(registry.handle_register(reg("1", "127.0.0.1:7001"), 0, "127.0.0.5").status, 200);
  // A name cannot be checked without a lookup (the monitor never dials one).
  EXPECT_EQ(registry.handle_register(reg("2", "node-2.example:7002"), 0, "10.0.0.8").status, 200);

  // Nor can another address take a node out.
  reply = registry.handle_register(R"({"node_id":"0","address":null})", 0, "127.0.0.1");
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(registry.members().count(0), 1u);
  EXPECT_EQ(registry.handle_register(R"({"node_id":"0","address":null})", 0, "10.0.0.1").status,
            200);
  EXPECT_EQ(registry.members().count(0), 0u);
}

TEST(Admission, NumbersOutOfRangeAndDuplicateKeysAre400) {
  Registry registry = in_memory();
  Reply reply = registry.handle_register(R"({"node_id":1e400,"address":"127.0.0.1:7000"})", 0);
  EXPECT_EQ(reply.status, 400) << reply.body.dump();
  reply = registry.handle_register(
      R"({"node_id":"0","address":"127.0.0.1:7000","address":"10.0.0.9:7000"})", 0);
  EXPECT_EQ(reply.status, 400) << reply.body.dump();
  EXPECT_NE(reply.body["error"].get<std::string>().find("appears twice"), std::string::npos);
  EXPECT_TRUE(registry.members().empty());
}

TEST(LeaderTermRule, TheAnswerSaysWhenAReportWasIgnored) {
  Registry registry = in_memory();
  registry.register_node(0, "127.0.0.1:7000", 0);
  registry.register_node(1, "127.0.0.1:7001", 0);
  Reply reply = registry.handle_set_leader(R"({"node_id":"0","term":3})");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["ignored"], false);
  EXPECT_EQ(reply.body["leader"], "0");
  EXPECT_EQ(reply.body["leader_term"], 3);

  reply = registry.handle_set_leader(R"({"node_id":1,"term":2})");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["ok"], true);
  EXPECT_EQ(reply.body["ignored"], true);
  EXPECT_NE(reply.body["result"].get<std::string>().find("ignored"), std::string::npos);
  EXPECT_EQ(reply.body["leader"], "0");

  Json state = registry.state_json(0);
  EXPECT_EQ(state["leader"], "0");
  EXPECT_EQ(state["leader_term"], 3);
}

TEST(Reset, ForgetsNodesLeaderAndTerm) {
  Registry registry = in_memory();
  registry.register_node(0, "127.0.0.1:7000", 0);
  registry.set_leader(0, 9);
  Reply reply = registry.handle_reset();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["ok"], true);
  EXPECT_TRUE(registry.members().empty());
  EXPECT_EQ(registry.leader(), std::nullopt);
  EXPECT_EQ(registry.leader_term(), 0u);
  EXPECT_EQ(registry.set_leader(1, 1), Registry::LeaderOutcome::Changed);
}

// Validation ----------------------------------------------------------------

struct BadRequest {
  std::string body;
  std::string reason;  ///< a piece of the expected error sentence
};

TEST(Validation, BadRegistrationsGet400WithOneClearSentence) {
  Registry registry = in_memory();
  for (const BadRequest& bad : std::initializer_list<BadRequest>{
           {"", "not valid JSON"},
           {"{", "not valid JSON"},
           {"not json", "not valid JSON"},
           {"[1,2]", "JSON object"},
           {"\"0\"", "JSON object"},
           {R"({"address":"127.0.0.1:7000"})", "missing field \"node_id\""},
           {R"({"node_id":-1,"address":"127.0.0.1:7000"})", "non-negative integer"},
           {R"({"node_id":"-1","address":"127.0.0.1:7000"})", "non-negative integer"},
           {R"({"node_id":"01","address":"127.0.0.1:7000"})", "non-negative integer"},
           {R"({"node_id":1.5,"address":"127.0.0.1:7000"})", "non-negative integer"},
           {R"({"node_id":"x","address":"127.0.0.1:7000"})", "non-negative integer"},
           {R"({"node_id":true,"address":"127.0.0.1:7000"})", "non-negative integer"},
           {R"({"node_id":null,"address":"127.0.0.1:7000"})", "non-negative integer"},
           {R"({"node_id":"0"})", "missing field \"address\""},
           {R"({"node_id":"0","address":7000})", "host:port"},
           {R"({"node_id":"0","address":"127.0.0.1"})", "host:port"},
           {R"({"node_id":"0","address":"127.0.0.1:0"})", "port"},
           {R"({"node_id":"0","address":"127.0.0.1:65536"})", "port"},
           {R"({"node_id":"0","address":"<b>:1"})", "letters, digits"},
       }) {
    Reply reply = registry.handle_register(bad.body, 0);
    EXPECT_EQ(reply.status, 400) << bad.body;
    EXPECT_EQ(reply.body["ok"], false) << bad.body;
    std::string error = reply.body.value("error", "");
    EXPECT_NE(error.find(bad.reason), std::string::npos) << bad.body << " -> " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  EXPECT_TRUE(registry.members().empty());
}

TEST(Validation, BadLeaderReportsGet400) {
  Registry registry = in_memory();
  for (const BadRequest& bad : std::initializer_list<BadRequest>{
           {"{}", "missing field \"node_id\""},
           {R"({"node_id":"0"})", "missing field \"term\""},
           {R"({"node_id":"0","term":0})", "positive integer"},
           {R"({"node_id":"0","term":-3})", "positive integer"},
           {R"({"node_id":"0","term":"3"})", "positive integer"},
           {R"({"node_id":"0","term":2.5})", "positive integer"},
           {R"({"node_id":"a","term":2})", "non-negative integer"},
       }) {
    Reply reply = registry.handle_set_leader(bad.body);
    EXPECT_EQ(reply.status, 400) << bad.body;
    std::string error = reply.body.value("error", "");
    EXPECT_NE(error.find(bad.reason), std::string::npos) << bad.body << " -> " << error;
  }
  EXPECT_EQ(registry.leader_term(), 0u);
}

// Persistence -------------------------------------------------------------

TEST(Persistence, ARestartedRegistryLosesNothing) {
  TempDir dir;
  auto file = dir.path() / "discovery_state.json";
  {
    Registry registry(Registry::Options{file, kTimeoutMs, nullptr});
    registry.load();
    registry.register_node(0, "127.0.0.1:7000", 100);
    registry.register_node(1, "127.0.0.1:7001", 100);
    registry.register_node(12, "[::1]:7012", 100);
    registry.deregister_node(1);
    registry.set_leader(12, 5);
  }
  Registry reloaded(Registry::Options{file, kTimeoutMs, nullptr});
  reloaded.load();
  auto members = reloaded.members();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members.at(0).address, "127.0.0.1:7000");
  EXPECT_EQ(members.at(12).address, "[::1]:7012");
  EXPECT_EQ(reloaded.leader(), 12);
  EXPECT_EQ(reloaded.leader_term(), 5u);
  EXPECT_EQ(reloaded.set_leader(0, 4), Registry::LeaderOutcome::Ignored);

  // Liveness is not persisted: not heard from until the next heartbeat.
  Json state = reloaded.state_json(50);
  EXPECT_EQ(state["members"]["0"]["alive"], false);
  EXPECT_EQ(state["members"]["0"]["last_seen_ms_ago"], nullptr);
  reloaded.register_node(0, "127.0.0.1:7000", 60);
  EXPECT_TRUE(reloaded.alive(0, 70));
}

TEST(Persistence, AnAbsentFileIsAnEmptyRegistry) {
  TempDir dir;
  Registry registry(Registry::Options{dir.path() / "none.json", kTimeoutMs, nullptr});
  registry.load();
  EXPECT_TRUE(registry.members().empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "none.json"));
}

TEST(Persistence, HeartbeatsDoNotRewriteTheFile) {
  TempDir dir;
  auto file = dir.path() / "state.json";
  Registry registry(Registry::Options{file, kTimeoutMs, nullptr});
  registry.register_node(0, "127.0.0.1:7000", 0);
  ASSERT_TRUE(std::filesystem::exists(file));
  std::filesystem::remove(file);
  registry.register_node(0, "127.0.0.1:7000", 1000);
  registry.set_leader(0, 0 + 1);
  EXPECT_TRUE(std::filesystem::exists(file)) << "a leader change is saved";
  std::filesystem::remove(file);
  registry.register_node(0, "127.0.0.1:7000", 2000);
  registry.set_leader(0, 1);  // unchanged
  EXPECT_FALSE(std::filesystem::exists(file)) << "heartbeats and repeated reports are not saved";
}

TEST(Persistence, SavingLeavesNoTemporaryFile) {
  TempDir dir;
  auto file = dir.path() / "state.json";
  Registry registry(Registry::Options{file, kTimeoutMs, nullptr});
  registry.register_node(0, "127.0.0.1:7000", 0);
  registry.set_leader(0, 2);
  registry.reset();
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"state.json"});
  auto doc = nlohmann::json::parse(read_text(file));
  EXPECT_EQ(doc["nodes"], nlohmann::json::object());
  EXPECT_EQ(doc["leader"], nullptr);
}

TEST(Persistence, ALeftoverTemporaryFileIsRemovedOnLoad) {
  TempDir dir;
  auto file = dir.path() / "state.json";
  write_text(dir.path() / "state.json.tmp", "{half a write");
  Registry registry(Registry::Options{file, kTimeoutMs, nullptr});
  registry.load();
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "state.json.tmp"));
}

TEST(Persistence, ACorruptFileIsRefusedNamingTheFile) {
  TempDir dir;
  auto file = dir.path() / "state.json";
  const std::string valid_head = R"({"format":"raft_discovery_state","version":1,)";
  for (const std::string& text : {
           std::string(""),
           std::string("{\"format\":\"raft_discovery_state\",\"version\":1,\"nodes\":{"),
           std::string("[]"),
           std::string(R"({"nodes":{},"leader":null,"leader_term":0})"),
           std::string(R"({"format":"raft_discovery_state","version":2,"nodes":{},)"
                       R"("leader":null,"leader_term":0})"),
           valid_head + R"("nodes":{"x":"127.0.0.1:7000"},"leader":null,"leader_term":0})",
           valid_head + R"("nodes":{"0":"nowhere"},"leader":null,"leader_term":0})",
           valid_head + R"("nodes":{"0":7000},"leader":null,"leader_term":0})",
           valid_head + R"("nodes":{},"leader":"-2","leader_term":0})",
           valid_head + R"("nodes":{},"leader":null,"leader_term":-1})",
           valid_head + R"("nodes":{},"leader":null})",
       }) {
    write_text(file, text);
    Registry registry(Registry::Options{file, kTimeoutMs, nullptr});
    try {
      registry.load();
      ADD_FAILURE() << "loaded: " << text;
    } catch (const RegistryError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(file.string()), std::string::npos) << what;
      EXPECT_NE(what.find("corrupt"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

TEST(Persistence, ResetReplacesACorruptFile) {
  TempDir dir;
  auto file = dir.path() / "state.json";
  write_text(file, "garbage");
  Registry registry(Registry::Options{file, kTimeoutMs, nullptr});
  registry.reset();
  Registry reloaded(Registry::Options{file, kTimeoutMs, nullptr});
  EXPECT_NO_THROW(reloaded.load());
  EXPECT_TRUE(reloaded.members().empty());
}

TEST(Persistence, AFailedSaveChangesNothingAndAnswers500) {
  TempDir dir;
  auto file = dir.path() / "missing-dir" / "state.json";
  Registry registry(Registry::Options{file, kTimeoutMs, nullptr});
  EXPECT_THROW(registry.register_node(0, "127.0.0.1:7000", 0), RegistryError);
  EXPECT_TRUE(registry.members().empty());
  Reply reply = registry.handle_register(reg("0", "127.0.0.1:7000"), 0);
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body["ok"], false);
  EXPECT_NE(reply.body["error"].get<std::string>().find(file.parent_path().string()),
            std::string::npos);
  EXPECT_EQ(registry.handle_set_leader(R"({"node_id":"0","term":1})").status, 403);  // unregistered
  EXPECT_EQ(registry.leader_term(), 0u);
}

}  // namespace
}  // namespace raft::discovery
