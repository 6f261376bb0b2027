// Linked only against the core that changes the configuration before it has
// committed an entry of its own term: the deterministic replay of Ongaro's
// 2015 counterexample must expose it.
#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

#include "ongaro2015_scenario.hpp"
#include "scenario_support.hpp"

namespace raft::sim {
namespace {

TEST(SimSelfCheck, Ongaro2015CounterexampleExposesSkippingTheNewTermEntry) {
  ClusterOptions o = ongaro2015_options();
  o.echo_trace = std::getenv("RAFT_SIM_VERBOSE") != nullptr;
  SimCluster c(o);
  const Ongaro2015Outcome out = run_ongaro2015(c);
  EXPECT_TRUE(out.early_removal.ok()) << "the broken core takes the change at once";
  ASSERT_FALSE(c.checker().ok()) << "setup: " << out.setup_failure << "\n" << failure_report(c);
  EXPECT_EQ(c.checker().violations().front().invariant, "Leader Completeness") << failure_report(c);
  std::printf("sim self-check: Ongaro 2015 caught: %s: %s\n",
              c.checker().violations().front().invariant.c_str(),
              c.checker().violations().front().details.c_str());
}

}  // namespace
}  // namespace raft::sim
