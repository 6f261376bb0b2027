// The pure part of the monitor: discovery's /state, the list of nodes to poll,
// offline entries and the choice of leader.

#include "monitor/cluster_view.hpp"

#include <gtest/gtest.h>

namespace raft::monitor {
namespace {

using nlohmann::json;

NodeProbe reachable(json status) {
  NodeProbe probe;
  probe.reachable = true;
  probe.status = std::move(status);
  return probe;
}

NodeProbe unreachable(std::string error) {
  NodeProbe probe;
  probe.error = std::move(error);
  return probe;
}

json status(NodeId id, const char* state, Term term) {
  return json{
      {"node_id", std::to_string(id)}, {"rank", id},      {"state", state},    {"term", term},
      {"leader_id", nullptr},          {"log_length", 3}, {"commit_index", 3}, {"last_applied", 3},
      {"voted_for", nullptr},          {"paused", false}, {"crashed", false}};
}

TEST(ParseDiscoveryState, ReadsNodesMembersAndLeader) {
  const DiscoveryState d = parse_discovery_state(R"({
    "nodes": {"0": "127.0.0.1:7000", "1": "10.0.0.2:7001"},
    "leader": "1", "leader_term": 4,
    "members": {"0": {"address": "127.0.0.1:7000", "alive": true, "last_seen_ms_ago": 120},
                "1": {"address": "10.0.0.2:7001", "alive": false, "last_seen_ms_ago": null}}})");
  ASSERT_TRUE(d.ok);
  ASSERT_EQ(d.members.size(), 2u);
  EXPECT_EQ(d.members.at(0).address, "127.0.0.1:7000");
  EXPECT_EQ(d.members.at(0).alive, true);
  EXPECT_EQ(d.members.at(0).last_seen_ms_ago, 120u);
  EXPECT_EQ(d.members.at(1).address, "10.0.0.2:7001");
  EXPECT_EQ(d.members.at(1).alive, false);
  EXPECT_FALSE(d.members.at(1).last_seen_ms_ago.has_value());
  EXPECT_EQ(d.leader, 1);
  EXPECT_EQ(d.leader_term, 4u);
  EXPECT_EQ(d.skipped, 0u);
}

TEST(ParseDiscoveryState, TheOriginalShapeWithoutMembersIsEnough) {
  const DiscoveryState d = parse_discovery_state(R"({"nodes":{"2":"[::1]:7002"},"leader":null})");
  ASSERT_TRUE(d.ok);
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members.at(2).address, "[::1]:7002");
  EXPECT_FALSE(d.members.at(2).alive.has_value());
  EXPECT_EQ(d.leader, kNoNode);
  EXPECT_FALSE(d.leader_term.has_value());
}

TEST(ParseDiscoveryState, SkipsMalformedEntriesAndKeepsTheRest) {
  const DiscoveryState d = parse_discovery_state(R"({
    "nodes": {"0": "127.0.0.1:7000", "01": "127.0.0.1:7001", "x": "127.0.0.1:7002",
              "3": "not an address", "4": 12, "5": "127.0.0.1:99999"},
    "members": {"6": "nonsense", "7": {"alive": true}},
    "leader": {"id": 1}, "leader_term": -3})");
  ASSERT_TRUE(d.ok);
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members.count(0), 1u);
  EXPECT_EQ(d.skipped, 7u);
  EXPECT_EQ(d.leader, kNoNode);
  EXPECT_FALSE(d.leader_term.has_value());
}

TEST(ParseDiscoveryState, NonObjectsFail) {
  for (const char* body : {"", "[]", "null", "{", "\"nodes\"", "42"}) {
    const DiscoveryState d = parse_discovery_state(body);
    EXPECT_FALSE(d.ok) << body;
    EXPECT_FALSE(d.error.empty()) << body;
  }
}

TEST(ParseDiscoveryState, ALeaderMayBeANumber) {
  EXPECT_EQ(parse_discovery_state(R"({"leader":2})").leader, 2);
  EXPECT_EQ(parse_discovery_state(R"({"leader":-1})").leader, kNoNode);
  EXPECT_EQ(parse_discovery_state(R"({"leader":"-1"})").leader, kNoNode);
}

TEST(FallbackHost, WildcardsBecomeLoopbackAndIpv6GetsBrackets) {
  EXPECT_EQ(fallback_host("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(fallback_host("0.0.0.0"), "127.0.0.1");
  EXPECT_EQ(fallback_host(""), "127.0.0.1");
  EXPECT_EQ(fallback_host("::"), "127.0.0.1");
  EXPECT_EQ(fallback_host("::1"), "[::1]");
  EXPECT_EQ(fallback_host("[::1]"), "[::1]");
  EXPECT_EQ(fallback_host("node-a.local"), "node-a.local");
}

TEST(MergeTargets, DiscoveryAddressesWinOverPortArithmetic) {
  DiscoveryState d;
  d.ok = true;
  d.members[1] = DiscoveryMember{"10.0.0.5:9001", true, 10};
  d.members[7] = DiscoveryMember{"10.0.0.9:7007", false, std::nullopt};
  const std::vector<NodeTarget> targets = merge_targets(d, "127.0.0.1", 7000, 3);
  ASSERT_EQ(targets.size(), 4u);
  EXPECT_EQ(targets[0].id, 0);
  EXPECT_EQ(targets[0].address, "127.0.0.1:7000");
  EXPECT_EQ(targets[0].api_url, "http://127.0.0.1:7000");
  EXPECT_FALSE(targets[0].registered);
  EXPECT_FALSE(targets[0].alive.has_value());
  EXPECT_EQ(targets[1].id, 1);
  EXPECT_EQ(targets[1].address, "10.0.0.5:9001");  // not 127.0.0.1:7001
  EXPECT_TRUE(targets[1].registered);
  EXPECT_EQ(targets[1].alive, true);
  EXPECT_EQ(targets[2].address, "127.0.0.1:7002");
  EXPECT_EQ(targets[3].id, 7);  // known to discovery, beyond --nodes
  EXPECT_EQ(targets[3].alive, false);
}

TEST(MergeTargets, NodesZeroMeansOnlyWhatDiscoveryKnows) {
  DiscoveryState d;
  d.ok = true;
  EXPECT_TRUE(merge_targets(d, "127.0.0.1", 7000, 0).empty());
  d.members[2] = DiscoveryMember{"127.0.0.1:7002", true, 0};
  const auto targets = merge_targets(d, "127.0.0.1", 7000, 0);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].id, 2);
}

TEST(MergeTargets, PortsPast65535AreNotInvented) {
  const auto targets = merge_targets(DiscoveryState{}, "127.0.0.1", 65534, 4);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[1].address, "127.0.0.1:65535");
}

TEST(MergeTargets, CappedAtMaxNodes) {
  DiscoveryState d;
  for (NodeId id = 0; id < static_cast<NodeId>(kMaxNodes) + 50; ++id) {
    d.members[id + 1000] = DiscoveryMember{"127.0.0.1:7000", true, 0};
  }
  EXPECT_EQ(merge_targets(d, "127.0.0.1", 7000, 10).size(), kMaxNodes);
}

TEST(ProbeFromAnswer, OnlyA200WithAStateIsReachable) {
  EXPECT_TRUE(probe_from_answer(200, status(0, "FOLLOWER", 1).dump()).reachable);
  const NodeProbe starting =
      probe_from_answer(503, R"({"ok":false,"error":"the node is starting"})");
  EXPECT_FALSE(starting.reachable);
  EXPECT_EQ(starting.error, "HTTP 503: the node is starting");
  EXPECT_FALSE(probe_from_answer(200, "not json").reachable);
  EXPECT_FALSE(probe_from_answer(200, "[1,2]").reachable);
  EXPECT_FALSE(probe_from_answer(200, R"({"term":3})").reachable);
  EXPECT_FALSE(probe_from_answer(200, R"({"state":3})").reachable);
}

TEST(ChooseLeader, TheReachableLeaderWithTheHighestTermWins) {
  std::vector<NodeTarget> targets = merge_targets(DiscoveryState{}, "127.0.0.1", 7000, 4);
  DiscoveryState d;
  d.leader = 0;
  d.leader_term = 9;  // discovery may lag or be wrong: the nodes come first
  const std::vector<NodeProbe> probes = {
      reachable(status(0, "LEADER", 4)), reachable(status(1, "LEADER", 5)),
      reachable(status(2, "FOLLOWER", 5)), unreachable("connection refused")};
  const LeaderChoice choice = choose_leader(targets, probes, d);
  EXPECT_EQ(choice.leader, 1);
  EXPECT_EQ(choice.term, 5u);
  EXPECT_EQ(choice.source, "nodes");
  EXPECT_FALSE(choice.conflict);
}

TEST(ChooseLeader, PausedAndCrashedLeadersLeadNobody) {
  std::vector<NodeTarget> targets = merge_targets(DiscoveryState{}, "127.0.0.1", 7000, 3);
  json paused = status(0, "LEADER", 7);
  paused["paused"] = true;
  json crashed = status(1, "LEADER", 8);
  crashed["crashed"] = true;
  const std::vector<NodeProbe> probes = {reachable(paused), reachable(crashed),
                                         reachable(status(2, "LEADER", 6))};
  EXPECT_EQ(choose_leader(targets, probes, DiscoveryState{}).leader, 2);
}

TEST(ChooseLeader, FallsBackToDiscovery) {
  std::vector<NodeTarget> targets = merge_targets(DiscoveryState{}, "127.0.0.1", 7000, 2);
  DiscoveryState d;
  d.ok = true;
  d.leader = 1;
  d.leader_term = 3;
  const std::vector<NodeProbe> probes = {reachable(status(0, "FOLLOWER", 3)),
                                         unreachable("connection refused")};
  const LeaderChoice choice = choose_leader(targets, probes, d);
  EXPECT_EQ(choice.leader, 1);
  EXPECT_EQ(choice.term, 3u);
  EXPECT_EQ(choice.source, "discovery");

  const LeaderChoice none = choose_leader(targets, probes, DiscoveryState{});
  EXPECT_EQ(none.leader, kNoNode);
  EXPECT_EQ(none.source, "");
}

TEST(ChooseLeader, DiscoveryIsIgnoredWhereItsLeaderAnswersOtherwise) {
  std::vector<NodeTarget> targets = merge_targets(DiscoveryState{}, "127.0.0.1", 7000, 2);
  DiscoveryState d;
  d.ok = true;
  d.leader = 1;  // reported before node 1 crashed
  d.leader_term = 3;
  json crashed = status(1, "LEADER", 3);
  crashed["crashed"] = true;
  const std::vector<NodeProbe> probes = {reachable(status(0, "CANDIDATE", 4)), reachable(crashed)};
  const LeaderChoice choice = choose_leader(targets, probes, d);
  EXPECT_EQ(choice.leader, kNoNode);
  EXPECT_EQ(choice.source, "");
}

TEST(ChooseLeader, TwoLeadersInOneTermAreAConflict) {
  std::vector<NodeTarget> targets = merge_targets(DiscoveryState{}, "127.0.0.1", 7000, 3);
  const std::vector<NodeProbe> probes = {reachable(status(0, "FOLLOWER", 5)),
                                         reachable(status(1, "LEADER", 5)),
                                         reachable(status(2, "LEADER", 5))};
  const LeaderChoice choice = choose_leader(targets, probes, DiscoveryState{});
  EXPECT_EQ(choice.leader, 1);
  EXPECT_TRUE(choice.conflict);
}

TEST(NodeJson, AReachableNodeKeepsItsFieldsAndGetsOurs) {
  NodeTarget target{2, "127.0.0.1:7002", "http://127.0.0.1:7002", true, true};
  json s = status(2, "FOLLOWER", 3);
  s["timers"] = {{"election_elapsed_ms", 10}};
  const json out = node_json(target, reachable(s));
  EXPECT_EQ(out["node_id"], "2");
  EXPECT_EQ(out["state"], "FOLLOWER");
  EXPECT_EQ(out["term"], 3);
  EXPECT_EQ(out["timers"]["election_elapsed_ms"], 10);
  EXPECT_EQ(out["api_url"], "http://127.0.0.1:7002");
  EXPECT_EQ(out["address"], "127.0.0.1:7002");
  EXPECT_EQ(out["alive"], true);
  EXPECT_EQ(out["reachable"], true);
  EXPECT_FALSE(out.contains("id_mismatch"));
}

TEST(NodeJson, AnUnreachableNodeIsOffline) {
  NodeTarget target{3, "127.0.0.1:7003", "http://127.0.0.1:7003", std::nullopt, false};
  const json out = node_json(target, unreachable("connection refused"));
  EXPECT_EQ(out["node_id"], "3");
  EXPECT_EQ(out["rank"], 3);
  EXPECT_EQ(out["state"], "offline");
  EXPECT_EQ(out["reachable"], false);
  EXPECT_EQ(out["error"], "connection refused");
  EXPECT_EQ(out["api_url"], "http://127.0.0.1:7003");
  EXPECT_FALSE(out.contains("alive"));  // discovery has no opinion
}

TEST(NodeJson, ANodeAnsweringWithAnotherIdIsFlagged) {
  NodeTarget target{1, "127.0.0.1:7001", "http://127.0.0.1:7001", std::nullopt, true};
  const json out = node_json(target, reachable(status(4, "FOLLOWER", 1)));
  EXPECT_EQ(out["node_id"], "1");
  EXPECT_EQ(out["reported_node_id"], "4");
  EXPECT_EQ(out["id_mismatch"], true);
}

json member_status(NodeId id, const char* state, std::uint64_t config_index, json voters,
                   json learners) {
  json s = status(id, state, 2);
  s["voters"] = std::move(voters);
  s["learners"] = std::move(learners);
  s["config_index"] = config_index;
  return s;
}

std::vector<NodeTarget> targets_0_to(int n) {
  DiscoveryState d;
  d.ok = true;
  return merge_targets(d, "127.0.0.1", 7000, n);
}

TEST(ConfigJson, TheLeadersViewWinsEvenWhenAnotherIsNewer) {
  const auto targets = targets_0_to(3);
  // Node 2 holds an entry the leader has not (a leftover of an old term):
  // the leader decides what is appended next, so its view is the one drawn.
  const std::vector<NodeProbe> probes = {
      reachable(member_status(0, "FOLLOWER", 2, {"0", "1", "2"}, {"3"})),
      reachable(member_status(1, "LEADER", 2, {"0", "1", "2"}, {"3"})),
      reachable(member_status(2, "FOLLOWER", 9, {"0", "2"}, json::array()))};
  const json c = config_json(targets, probes, 1);
  EXPECT_EQ(c["from"], "1");
  EXPECT_EQ(c["voters"], json({"0", "1", "2"}));
  EXPECT_EQ(c["learners"], json({"3"}));
  EXPECT_EQ(c["config_index"], 2);
  EXPECT_EQ(c["committed"], true) << "commit_index 3 >= config_index 2";
}

TEST(ConfigJson, WithoutAReachableLeaderTheNewestViewIsDrawn) {
  const auto targets = targets_0_to(3);
  const std::vector<NodeProbe> probes = {
      reachable(member_status(0, "STANDBY", 4, {"1", "2"}, json::array())),
      unreachable("connection refused"),
      reachable(member_status(2, "FOLLOWER", 5, {"1", "2", "0"}, json::array()))};
  const json c = config_json(targets, probes, 1);  // node 1 leads but does not answer
  EXPECT_EQ(c["from"], "2");
  EXPECT_EQ(c["config_index"], 5);
  EXPECT_EQ(c["committed"], false) << "commit_index 3 < config_index 5: not committed yet";
}

TEST(ConfigJson, NullWhenNoNodeReportsMembershipAndBadIdsAreLeftOut) {
  const auto targets = targets_0_to(2);
  EXPECT_TRUE(config_json(targets,
                          {reachable(status(0, "LEADER", 1)), reachable(status(1, "FOLLOWER", 1))},
                          0)
                  .is_null());
  EXPECT_TRUE(config_json(targets, {}, kNoNode).is_null());
  const json c = config_json(
      targets, {reachable(member_status(0, "LEADER", 1, {"0", "01", 1, "x", "1"}, "3"))}, 0);
  EXPECT_EQ(c["voters"], json({"0", "1"}));
  EXPECT_EQ(c["learners"], json::array());
}

TEST(ClusterJson, HasEveryFieldOfTheContract) {
  DiscoveryState d;
  d.ok = true;
  d.members[0] = DiscoveryMember{"127.0.0.1:7000", true, 5};
  d.leader = 0;
  d.leader_term = 2;
  const auto targets = merge_targets(d, "127.0.0.1", 7000, 2);
  const std::vector<NodeProbe> probes = {reachable(status(0, "LEADER", 3))};  // node 1: missing
  const json out = cluster_json(targets, probes, d, "http://127.0.0.1:5000");
  ASSERT_EQ(out["nodes"].size(), 2u);
  EXPECT_EQ(out["nodes"][0]["state"], "LEADER");
  EXPECT_EQ(out["nodes"][1]["state"], "offline");
  EXPECT_EQ(out["leader"], "0");
  EXPECT_EQ(out["leader_term"], 3);
  EXPECT_EQ(out["leader_source"], "nodes");
  EXPECT_EQ(out["discovery_leader"], "0");
  EXPECT_EQ(out["discovery_leader_term"], 2);
  EXPECT_EQ(out["discovery"]["ok"], true);
  EXPECT_TRUE(out["discovery"]["error"].is_null());
  EXPECT_EQ(out["discovery"]["url"], "http://127.0.0.1:5000");
  EXPECT_TRUE(out["config"].is_null()) << "node 0 reports no membership";

  const json down = cluster_json({}, {}, discovery_failure("discovery is unreachable"), "");
  EXPECT_TRUE(down["leader"].is_null());
  EXPECT_EQ(down["discovery"]["ok"], false);
  EXPECT_EQ(down["discovery"]["error"], "discovery is unreachable");
  EXPECT_TRUE(down["nodes"].empty());

  const std::vector<NodeProbe> members = {
      reachable(member_status(0, "LEADER", 4, {"0", "1"}, json::array()))};
  const json grown = cluster_json(targets, members, d, "");
  EXPECT_EQ(grown["config"]["voters"], json({"0", "1"}));
  EXPECT_EQ(grown["config"]["from"], "0");
}

}  // namespace
}  // namespace raft::monitor
