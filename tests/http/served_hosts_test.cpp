// ServedHosts and refuse_foreign: the Host a server answers to (DNS
// rebinding) and the Origin it takes writes from (cross-site forms).
#include "http/served_hosts.hpp"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

namespace raft::http {
namespace {

TEST(ServedHosts, MatchesHostAndPortWhateverTheSpelling) {
  const ServedHosts served(7001, {"127.0.0.1", "LocalHost", "::1", "node-3.example:8443"});
  EXPECT_TRUE(served.serves_host("127.0.0.1:7001"));
  EXPECT_TRUE(served.serves_host("localhost:7001"));
  EXPECT_TRUE(served.serves_host("localhost.:7001"));
  EXPECT_TRUE(served.serves_host("[::1]:7001"));
  EXPECT_TRUE(served.serves_host("NODE-3.example:8443"));
  EXPECT_FALSE(served.serves_host("node-3.example:7001"));
  EXPECT_FALSE(served.serves_host("127.0.0.1:7002"));
  EXPECT_FALSE(served.serves_host("127.0.0.1"));  // port 80
  EXPECT_FALSE(served.serves_host("evil.example:7001"));
  EXPECT_FALSE(served.serves_host("127.0.0.1:7001@evil"));
  EXPECT_FALSE(served.serves_host(""));
  EXPECT_EQ(served.describe(), "127.0.0.1:7001, localhost:7001, [::1]:7001, ...");
  EXPECT_TRUE(ServedHosts(1, {"*"}).serves_host("anything:9"));
}

TEST(ServedHosts, OriginsAreHttpPagesOfAServedHost) {
  const ServedHosts served(8080, {"127.0.0.1", "monitor.example:80"});
  EXPECT_TRUE(served.serves_origin("http://127.0.0.1:8080"));
  EXPECT_TRUE(served.serves_origin("http://monitor.example"));
  EXPECT_TRUE(served.serves_origin("https://monitor.example:80"));  // behind a TLS proxy
  EXPECT_FALSE(served.serves_origin("https://127.0.0.1"));          // port 443
  EXPECT_FALSE(served.serves_origin("http://evil.example"));
  EXPECT_FALSE(served.serves_origin("http://127.0.0.1:8081"));
  EXPECT_FALSE(served.serves_origin("null"));
  EXPECT_FALSE(served.serves_origin("file://"));
  EXPECT_FALSE(served.serves_origin("http://127.0.0.1:8080/path"));
}

RequestHead head(std::string method, std::vector<HeaderField> fields) {
  RequestHead h;
  h.method = std::move(method);
  h.target = "/";
  h.version = "HTTP/1.1";
  h.fields = std::move(fields);
  return h;
}

TEST(RefuseForeign, HostForEveryRequestOriginForWrites) {
  const ServedHosts served(7000, {"127.0.0.1"});
  const HeaderField host{"Host", "127.0.0.1:7000"};
  EXPECT_FALSE(refuse_foreign(head("GET", {host}), served));
  EXPECT_FALSE(refuse_foreign(head("POST", {host}), served));  // curl: no Origin
  EXPECT_FALSE(refuse_foreign(head("POST", {host, {"Origin", "http://127.0.0.1:7000"}}), served));
  // A foreign page may read nothing (no CORS) but its GET is still served.
  EXPECT_FALSE(refuse_foreign(head("GET", {host, {"Origin", "http://evil.example"}}), served));

  const auto rebinding = refuse_foreign(head("GET", {{"Host", "evil.example"}}), served);
  ASSERT_TRUE(rebinding);
  EXPECT_EQ(rebinding->status, 421);
  EXPECT_EQ(rebinding->message,
            "this server does not answer to host 'evil.example'; it serves 127.0.0.1:7000");
  for (const char* origin : {"http://evil.example", "null"}) {
    const auto csrf = refuse_foreign(head("POST", {host, {"Origin", origin}}), served);
    ASSERT_TRUE(csrf) << origin;
    EXPECT_EQ(csrf->status, 403);
  }
  const auto fetch =
      refuse_foreign(head("DELETE", {host, {"Sec-Fetch-Site", "cross-site"}}), served);
  ASSERT_TRUE(fetch);
  EXPECT_EQ(fetch->message, "cross-site request refused (Sec-Fetch-Site: cross-site)");
}

TEST(DefaultServedNames, LoopbackNamesTheBindAddressAndTheMachine) {
  const std::vector<std::string> names = default_served_names("10.1.2.3");
  for (const char* name : {"localhost", "127.0.0.1", "[::1]", "10.1.2.3"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  // A wildcard bind serves the interfaces' addresses (loopback among them).
  const std::vector<std::string> any = default_served_names("0.0.0.0");
  EXPECT_EQ(std::find(any.begin(), any.end(), "0.0.0.0"), any.end());
  EXPECT_GE(std::count(any.begin(), any.end(), "127.0.0.1"), 2);
}

}  // namespace
}  // namespace raft::http
