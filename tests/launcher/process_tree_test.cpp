// children_of and is_gone: how the launcher finds mpirun's ranks and knows
// when they are gone.
#include "launcher/process_tree.hpp"

#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "launcher/child_process.hpp"
#include "launcher/poll.hpp"

namespace raft::launcher {
namespace {

using namespace std::chrono_literals;

TEST(ProcessTree, FindsAChildAndSeesItGo) {
  // A shell that starts one sleeper and waits for it, as mpirun waits for
  // its ranks.
  ChildProcess parent("sh", {"/bin/sh", "-c", "sleep 30 & wait"});
  std::vector<pid_t> children;
  ASSERT_TRUE(poll_until([&] { return !(children = children_of(parent.pid())).empty(); }, 10s));
  ASSERT_EQ(children.size(), 1u);
  EXPECT_FALSE(is_gone(children[0]));
  parent.stop(2s);
  EXPECT_TRUE(poll_until([&] { return is_gone(children[0]); }, 10s));
}

TEST(ProcessTree, AProcessThatNeverWasIsGone) {
  EXPECT_TRUE(is_gone(0x7ffffff0));
  EXPECT_TRUE(children_of(0x7ffffff0).empty());
}

}  // namespace
}  // namespace raft::launcher
