// Parsing of the monitor's request paths and of the URLs it forwards to.

#include "monitor/routing.hpp"

#include <gtest/gtest.h>

namespace raft::monitor {
namespace {

TEST(ParseNodeRoute, ReadsIdAndAction) {
  const NodeRoute r = parse_node_route("/api/nodes/12/command");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.id, 12);
  EXPECT_EQ(r.action, "command");
  for (const char* action : {"status", "log", "entries", "cmd_history"}) {
    EXPECT_TRUE(parse_node_route(std::string("/api/nodes/0/") + action).ok()) << action;
  }
}

TEST(ParseNodeRoute, RejectsEverythingElse) {
  for (const char* path :
       {"/api/nodes/", "/api/nodes/1", "/api/nodes/1/", "/api/nodes//command",
        "/api/nodes/01/command", "/api/nodes/-1/command", "/api/nodes/abc/command",
        "/api/nodes/1/reboot", "/api/nodes/1/command/extra", "/api/nodes/99999999999/command",
        "/api/node/1/command", "/api/nodes/1 /command", "/api/nodes/1/Command"}) {
    const NodeRoute r = parse_node_route(path);
    EXPECT_FALSE(r.ok()) << path;
    EXPECT_FALSE(r.error.empty()) << path;
  }
}

TEST(NodeRouteMethods, CommandsArePostsAndTheRestGets) {
  EXPECT_EQ(node_route_methods("command"), "POST");
  EXPECT_EQ(node_route_methods("log"), "GET, HEAD");
  EXPECT_EQ(node_path_for("entries"), "/entries");
}

TEST(PercentEncode, KeepsOnlyUnreservedBytes) {
  EXPECT_EQ(percent_encode("abc-._~XYZ09"), "abc-._~XYZ09");
  EXPECT_EQ(percent_encode("a b/c?d#e%f"), "a%20b%2Fc%3Fd%23e%25f");
  EXPECT_EQ(percent_encode(std::string("\0\xff\n", 3)), "%00%FF%0A");
  EXPECT_EQ(percent_encode("\xc3\xa9"), "%C3%A9");
}

TEST(ParseKvRoute, DecodesAndReencodesTheKey) {
  const KvRoute r = parse_kv_route("/api/kv/a%2Fb%20c?x=1", std::nullopt);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.key, "a/b c");
  EXPECT_EQ(r.node_path, "/kv/a%2Fb%20c");
  // Slashes in the raw path are part of the key too.
  EXPECT_EQ(parse_kv_route("/api/kv/dir/file", std::nullopt).key, "dir/file");
}

TEST(ParseKvRoute, PassesStaleOnlyWhenTrue) {
  EXPECT_EQ(parse_kv_route("/api/kv/k", std::string("true")).node_path, "/kv/k?stale=true");
  EXPECT_EQ(parse_kv_route("/api/kv/k", std::string("")).node_path, "/kv/k?stale=true");
  EXPECT_EQ(parse_kv_route("/api/kv/k", std::string("0")).node_path, "/kv/k");
  const KvRoute bad = parse_kv_route("/api/kv/k", std::string("maybe"));
  EXPECT_EQ(bad.http_status, 400);
}

TEST(ParseKvRoute, RejectsBadKeys) {
  EXPECT_EQ(parse_kv_route("/api/kv/", std::nullopt).http_status, 400);
  EXPECT_EQ(parse_kv_route("/api/kv/%zz", std::nullopt).http_status, 400);
  EXPECT_EQ(parse_kv_route("/api/kv/%4", std::nullopt).http_status, 400);
  EXPECT_EQ(parse_kv_route("/kv/a", std::nullopt).http_status, 400);
  EXPECT_EQ(parse_kv_route("/api/kv/" + std::string(2000, 'k'), std::nullopt).http_status, 413);
}

TEST(ParseAddress, SplitsHostAndPort) {
  EXPECT_EQ(parse_address("127.0.0.1:7000"), (Endpoint{"127.0.0.1", 7000}));
  EXPECT_EQ(parse_address("node-1.local:80"), (Endpoint{"node-1.local", 80}));
  EXPECT_EQ(parse_address("[::1]:7001"), (Endpoint{"::1", 7001}));
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":7000", "127.0.0.1:0", "127.0.0.1:65536",
                          "a b:1", "::1:7000", "http://127.0.0.1:7000", "127.0.0.1:7000/x"}) {
    EXPECT_FALSE(parse_address(bad).has_value()) << bad;
  }
}

TEST(HttpOrigin, KeepsSchemeHostAndPort) {
  EXPECT_EQ(http_origin("http://127.0.0.1:7001/kv/x?y=1"), "http://127.0.0.1:7001");
  EXPECT_EQ(http_origin("http://127.0.0.1:7001"), "http://127.0.0.1:7001");
  EXPECT_EQ(http_origin("http://[::1]:7001/kv"), "http://[::1]:7001");
  EXPECT_EQ(http_origin("http://example.org/kv"), "http://example.org:80");
  for (const char* bad : {"", "/kv/x", "https://127.0.0.1:7001/", "http://", "http://u@h:1/",
                          "http://h:x/", "ftp://h:1/", "HTTP//h:1"}) {
    EXPECT_FALSE(http_origin(bad).has_value()) << bad;
  }
}

// Issue #14: a fake registration made the monitor poll any address (names
// too) and forward writes, with their Authorization, to it.
TEST(VetNodeAddress, IpLiteralsOfTheJobsRanksOnly) {
  const NodeAddressRule rule{3, std::nullopt};
  std::string why;
  EXPECT_EQ(vet_node_address(0, "127.0.0.1:7000", rule, &why), (Endpoint{"127.0.0.1", 7000}));
  EXPECT_EQ(vet_node_address(2, "10.199.3.12:9", rule, &why), (Endpoint{"10.199.3.12", 9}));
  EXPECT_EQ(vet_node_address(1, "[::1]:7001", rule, &why), (Endpoint{"::1", 7001}));

  EXPECT_FALSE(vet_node_address(3, "127.0.0.1:7003", rule, &why));
  EXPECT_NE(why.find("node 3 is not a rank of this job (ranks 0..2)"), std::string::npos) << why;
  EXPECT_FALSE(vet_node_address(-1, "127.0.0.1:7003", rule, &why));
  EXPECT_TRUE(vet_node_address(40, "127.0.0.1:7040", NodeAddressRule{}, &why)) << why;

  for (const char* name : {"evil.example:80", "localhost:7000", "127.1:7000", "0x7f.0.0.1:7000"}) {
    EXPECT_FALSE(vet_node_address(0, name, rule, &why)) << name;
  }
  EXPECT_FALSE(vet_node_address(0, "evil.example:80", rule, &why));
  EXPECT_NE(why.find("is a name, not an IP address"), std::string::npos) << why;
  for (const char* bad :
       {"0.0.0.0:7000", "[::]:7000", "224.0.0.1:7000", "[ff02::1]:7000", "255.255.255.255:7000",
        "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1", "", "127.0.0.1:7000/x"}) {
    why.clear();
    EXPECT_FALSE(vet_node_address(0, bad, rule, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
    EXPECT_EQ(why.find('\n'), std::string::npos);
  }
}

TEST(VetNodeAddress, PinnedPortsAreBasePlusRank) {
  const NodeAddressRule rule{3, 7000};
  std::string why;
  EXPECT_TRUE(vet_node_address(2, "10.0.0.3:7002", rule, &why)) << why;
  EXPECT_FALSE(vet_node_address(2, "127.0.0.1:7001", rule, &why));
  EXPECT_NE(why.find("registered port 7001, not 7002"), std::string::npos) << why;
  EXPECT_FALSE(vet_node_address(1, "127.0.0.1:22", rule, &why));
}

}  // namespace
}  // namespace raft::monitor
