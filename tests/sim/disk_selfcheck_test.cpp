// The disk-backed schedules can fail: with disks that lose synced bytes in a
// crash (a disk lying about fdatasync), the same schedules that pass on the
// real FileStore must report a durability violation.
#include <cstdint>

#include <gtest/gtest.h>

#include "schedule.hpp"
#include "schedule_driver.hpp"

namespace raft::sim {
namespace {

TEST(SimSelfCheck, DiskThatLosesSyncedWritesIsCaught) {
  std::uint64_t caught = 0;
  std::uint64_t first_caught = 0;
  for (std::uint64_t seed = kDiskScheduleEvery; seed <= 40 * kDiskScheduleEvery;
       seed += kDiskScheduleEvery) {
    ScheduleParams params = make_schedule(seed);
    ASSERT_TRUE(params.on_disk);
    params.cluster.disks_lose_synced_tail = true;
    const ScheduleResult r = run_schedule(params);
    if (r.violation && caught++ == 0) first_caught = seed;
  }
  std::printf("sim: lying disks caught in %llu of 40 disk schedules (first: seed %llu)\n",
              static_cast<unsigned long long>(caught),
              static_cast<unsigned long long>(first_caught));
  EXPECT_GT(caught, 0u) << "the disk-backed simulation cannot see lost synced writes";
}

}  // namespace
}  // namespace raft::sim
