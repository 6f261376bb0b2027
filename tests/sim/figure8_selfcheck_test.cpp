// Linked only against the core that commits earlier-term entries by counting
// replicas: the deterministic Figure 8 scenario must expose it.
#include <cstdio>

#include <gtest/gtest.h>

#include "figure8_scenario.hpp"
#include "scenario_support.hpp"

namespace raft::sim {
namespace {

TEST(SimSelfCheck, Figure8ExposesCommittingAnOldTermEntry) {
  SimCluster c(figure8_options());
  const Figure8Outcome out = run_figure8(c);
  ASSERT_FALSE(c.checker().ok()) << "setup: " << out.setup_failure << "\n" << failure_report(c);
  EXPECT_EQ(c.checker().violations().front().invariant, "Leader Completeness") << failure_report(c);
  std::printf("sim self-check: Figure 8 caught: %s: %s\n",
              c.checker().violations().front().invariant.c_str(),
              c.checker().violations().front().details.c_str());
}

}  // namespace
}  // namespace raft::sim
