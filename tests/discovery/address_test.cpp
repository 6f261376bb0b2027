// Node ids, host:port addresses and discovery URLs: what is accepted, and
// that every refusal says why.

#include "discovery/address.hpp"

#include <string>

#include <gtest/gtest.h>

namespace raft::discovery {
namespace {

TEST(ParseNodeId, AcceptsCanonicalNonNegativeIntegers) {
  EXPECT_EQ(parse_node_id("0"), 0);
  EXPECT_EQ(parse_node_id("7"), 7);
  EXPECT_EQ(parse_node_id("2147483647"), 2147483647);
}

TEST(ParseNodeId, RefusesEverythingElse) {
  for (const char* text :
       {"", "-1", "+1", "01", " 1", "1 ", "1.0", "abc", "2147483648", "99999999999", "0x1"}) {
    EXPECT_FALSE(parse_node_id(text)) << text;
  }
}

TEST(AddressIsFrom, SameIpOrBothLoopback) {
  EXPECT_TRUE(address_is_from("127.0.0.1:7000", "127.0.0.1"));
  EXPECT_TRUE(address_is_from("127.0.0.1:7000", "::1"));
  EXPECT_TRUE(address_is_from("localhost:7000", "127.0.0.5"));
  EXPECT_TRUE(address_is_from("[::1]:7000", "::ffff:127.0.0.1"));
  EXPECT_FALSE(address_is_from("127.0.0.1:7000", "10.0.0.2"));
  EXPECT_TRUE(address_is_from("10.0.0.2:7000", "10.0.0.2"));
  EXPECT_TRUE(address_is_from("10.0.0.2:7000", "::ffff:10.0.0.2"));
  EXPECT_FALSE(address_is_from("10.0.0.2:7000", "10.0.0.3"));
  EXPECT_FALSE(address_is_from("10.0.0.2:7000", "127.0.0.1"));
  EXPECT_TRUE(address_is_from("[fd00::2]:7000", "fd00:0::2"));
  EXPECT_FALSE(address_is_from("[fd00::2]:7000", "fd00::3"));
  EXPECT_TRUE(address_is_from("node-a.example:7000", "10.9.9.9"));  // names: unchecked
  EXPECT_FALSE(address_is_from("garbage", "127.0.0.1"));
}

TEST(AddressError, AcceptsNamesIpv4AndBracketedIpv6) {
  for (const char* address : {"127.0.0.1:7000", "localhost:1", "node-3.example.org:65535",
                              "[::1]:7000", "[fe80::1]:80", "[::ffff:10.0.0.1]:7001"}) {
    EXPECT_EQ(address_error(address), std::nullopt) << address;
  }
  EXPECT_EQ(address_error(std::string(kHostLengthMax, 'a') + ":1"), std::nullopt);
}

TEST(AddressError, RefusesMalformedAddressesWithAReason) {
  struct Case {
    std::string address;
    std::string reason;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"127.0.0.1", "host:port"},
           {":7000", "host is empty"},
           {"127.0.0.1:", "port"},
           {"127.0.0.1:0", "port"},
           {"127.0.0.1:65536", "port"},
           {"127.0.0.1:07000", "port"},
           {"127.0.0.1:70a0", "port"},
           {"::1:7000", "brackets"},
           {"[::1:7000", "[::1]"},
           {"[]:7000", "[::1]"},
           {"[1.2.3.4]:7000", "[::1]"},
           {"a b:7000", "letters, digits"},
           {"<script>:7000", "letters, digits"},
           {std::string(kHostLengthMax + 1, 'a') + ":1", "longer than 253"},
       }) {
    auto error = address_error(c.address);
    ASSERT_TRUE(error.has_value()) << c.address;
    EXPECT_NE(error->find(c.reason), std::string::npos) << c.address << ": " << *error;
  }
}

TEST(ParseHttpUrl, AcceptsHostPortWithOptionalSlash) {
  auto url = parse_http_url("http://127.0.0.1:5000", nullptr);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 5000);
  url = parse_http_url("http://localhost:5001/", nullptr);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, 5001);
  url = parse_http_url("http://[::1]:5002", nullptr);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 5002);
  url = parse_http_url("http://discovery", nullptr);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 80);
}

TEST(ParseHttpUrl, RefusesOtherUrlsNamingTheUrl) {
  for (const char* text :
       {"", "127.0.0.1:5000", "https://127.0.0.1:5000", "http://", "http://host:5000/api",
        "http://host:5000?x=1", "http://u@host:5000", "http://host:", "http://host:0",
        "http://host:99999", "http://[::1", "http://[::1]x", "http://::1:5000", "ftp://host:21"}) {
    std::string error;
    EXPECT_FALSE(parse_http_url(text, &error)) << text;
    EXPECT_NE(error.find("bad discovery URL '" + std::string(text) + "'"), std::string::npos)
        << error;
  }
}

TEST(ParseBindHost, TakesNamesIpv4AndIpv6WithOrWithoutBrackets) {
  EXPECT_EQ(parse_bind_host("127.0.0.1", nullptr), "127.0.0.1");
  EXPECT_EQ(parse_bind_host("0.0.0.0", nullptr), "0.0.0.0");
  EXPECT_EQ(parse_bind_host("node-1.example", nullptr), "node-1.example");
  EXPECT_EQ(parse_bind_host("::1", nullptr), "::1");
  EXPECT_EQ(parse_bind_host("[::1]", nullptr), "::1");
  EXPECT_EQ(parse_bind_host("[::]", nullptr), "::");
}

TEST(ParseBindHost, RefusesWhatIsNotAHostWithAReason) {
  for (const char* text : {"", "host name", "a/b", "[::1", "[]", "127.0.0.1:80x", "h\xc3\xa9"}) {
    std::string error;
    EXPECT_FALSE(parse_bind_host(text, &error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  EXPECT_FALSE(parse_bind_host(std::string(300, 'a'), nullptr));
}

}  // namespace
}  // namespace raft::discovery
