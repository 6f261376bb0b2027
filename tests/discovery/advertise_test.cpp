// Which address a node registers with discovery (discovery/advertise.hpp).
#include "discovery/advertise.hpp"

#include <gtest/gtest.h>

namespace raft::discovery {
namespace {

RouteLookup fixed_route(std::optional<std::string> answer, std::string* asked_host = nullptr) {
  return [answer, asked_host](const std::string& host, int, std::string* error) {
    if (asked_host != nullptr) *asked_host = host;
    if (!answer && error != nullptr) *error = "network is unreachable";
    return answer;
  };
}

TEST(Advertise, AnExplicitHostWins) {
  std::string error;
  EXPECT_EQ(choose_advertise_host("10.0.0.5", "0.0.0.0", "10.0.0.1", 5000, fixed_route("10.9.9.9"),
                                  &error),
            "10.0.0.5");
  EXPECT_EQ(choose_advertise_host("fd00::5", "::", "fd00::1", 5000, fixed_route("x"), &error),
            "[fd00::5]");
}

TEST(Advertise, AConcreteBindIsTheOnlyAddressTheNodeListensOn) {
  std::string error;
  EXPECT_EQ(
      choose_advertise_host("", "127.0.0.1", "127.0.0.1", 5000, fixed_route("10.9.9.9"), &error),
      "127.0.0.1");
  EXPECT_EQ(choose_advertise_host("", "::1", "::1", 5000, fixed_route("x"), &error), "[::1]");
}

TEST(Advertise, AWildcardBindAdvertisesTheInterfaceThatRoutesToDiscovery) {
  std::string error;
  std::string asked;
  EXPECT_EQ(choose_advertise_host("", "0.0.0.0", "10.199.7.1", 5000,
                                  fixed_route("10.199.7.2", &asked), &error),
            "10.199.7.2");
  EXPECT_EQ(asked, "10.199.7.1");
  EXPECT_EQ(choose_advertise_host("", "::", "fd00::1", 5000, fixed_route("fd00::2"), &error),
            "[fd00::2]");
}

TEST(Advertise, NoRouteIsOneSentenceNamingTheFlag) {
  std::string error;
  EXPECT_FALSE(
      choose_advertise_host("", "0.0.0.0", "10.199.7.1", 5000, fixed_route(std::nullopt), &error));
  EXPECT_NE(error.find("--advertise_host"), std::string::npos) << error;
  EXPECT_NE(error.find("unreachable"), std::string::npos) << error;
}

TEST(Advertise, TheRealLookupFindsLoopbackForLoopback) {
  std::string error;
  EXPECT_EQ(local_address_towards("127.0.0.1", 5000, &error), "127.0.0.1") << error;
  EXPECT_FALSE(local_address_towards("no-such-host.invalid", 5000, &error));
  EXPECT_FALSE(error.empty());
}

TEST(Advertise, WildcardAndLoopbackHosts) {
  for (const char* h : {"", "0.0.0.0", "::", "[::]"}) EXPECT_TRUE(is_wildcard_host(h)) << h;
  for (const char* h : {"127.0.0.1", "10.0.0.1", "::1"}) EXPECT_FALSE(is_wildcard_host(h)) << h;
  for (const char* h : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"}) {
    EXPECT_TRUE(is_loopback_host(h)) << h;
  }
  for (const char* h : {"10.199.0.1", "0.0.0.0", "example.org"}) {
    EXPECT_FALSE(is_loopback_host(h)) << h;
  }
}

TEST(ServedNames, AdvertisedFlagAndEnvironmentNamesInThatOrder) {
  std::string error;
  const auto names = served_names("10.0.0.5:7001", {"node-1.example", "[::1]:8080"},
                                  " alias.example , ,10.1.2.3:80,*", &error);
  ASSERT_TRUE(names) << error;
  EXPECT_EQ(*names, (std::vector<std::string>{"10.0.0.5:7001", "node-1.example", "[::1]:8080",
                                              "alias.example", "10.1.2.3:80", "*"}));
  EXPECT_EQ(served_names("", {}, "", &error)->size(), 0u);
  EXPECT_EQ(*served_names("", {"fe80::1"}, "", &error), std::vector<std::string>{"fe80::1"});
}

TEST(ServedNames, ABadNameIsOneSentenceSayingWhere) {
  std::string error;
  EXPECT_FALSE(served_names("", {"evil/.example"}, "", &error));
  EXPECT_NE(error.find("served host 'evil/.example'"), std::string::npos) << error;
  EXPECT_FALSE(served_names("", {}, "ok.example,bad name", &error));
  EXPECT_NE(error.find("RAFT_SERVED_HOSTS entry 'bad name'"), std::string::npos) << error;
  EXPECT_FALSE(served_names("", {"host:99999"}, "", &error));
  EXPECT_FALSE(served_names("", {"[::1"}, "", &error));
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace raft::discovery
