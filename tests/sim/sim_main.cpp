// gtest main for the simulator's binaries: it keeps argv[0] so that a failing
// seed can print the exact command that replays it.
#include <gtest/gtest.h>

#include "sim_runner.hpp"

int main(int argc, char** argv) {
  if (argc > 0) raft::sim::set_program_path(argv[0]);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
