// The monitor on several machines: nodes are reached at the addresses they
// registered, and a rank discovery does not know is never guessed at
// localhost + port (monitor/cluster_view.hpp, merge_targets with no host).
#include <gtest/gtest.h>

#include "monitor/cluster_view.hpp"

namespace raft::monitor {
namespace {

TEST(MonitorTargets, RegisteredAddressesWinAndUnknownRanksAreNotGuessed) {
  DiscoveryState d;
  d.ok = true;
  d.members[0].address = "10.199.3.10:7000";
  d.members[2].address = "10.199.3.12:7002";
  const std::vector<NodeTarget> targets = merge_targets(d, "", 7000, 3);
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_EQ(targets[0].api_url, "http://10.199.3.10:7000");
  EXPECT_TRUE(targets[0].registered);
  EXPECT_EQ(targets[1].id, 1);
  EXPECT_EQ(targets[1].address, "");
  EXPECT_EQ(targets[1].api_url, "");
  EXPECT_FALSE(targets[1].registered);
  EXPECT_EQ(targets[2].api_url, "http://10.199.3.12:7002");

  const nlohmann::json entry =
      node_json(targets[1], NodeProbe{false, {}, "not registered with discovery yet"});
  EXPECT_EQ(entry.value("state", ""), "offline");
}

TEST(MonitorTargets, WithAHostUnknownRanksStillGetTheOneHostFallback) {
  DiscoveryState d;
  d.ok = true;
  const std::vector<NodeTarget> targets = merge_targets(d, "127.0.0.1", 7000, 2);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[1].address, "127.0.0.1:7001");
}

}  // namespace
}  // namespace raft::monitor
