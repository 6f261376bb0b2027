// launcher::Cluster without a real cluster: how a local spec becomes
// options, and that a cluster that cannot start says why, throws nothing
// and leaves no temporary folder behind.
#include "launcher/cluster.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace raft::launcher {
namespace {

namespace fs = std::filesystem;

TEST(LocalClusterOptions, CarryTheSpecAndTheSharedMachineSettings) {
  const LocalClusterSpec spec = {.nodes = 5,
                                 .min_election_timeout_ms = 150,
                                 .max_election_timeout_ms = 300,
                                 .heartbeat_interval_ms = 30,
                                 .initial_delay_ms = 100,
                                 .fsync = "always"};
  const ClusterOptions o = local_cluster_options(spec, "/opt/raft/bin", "/usr/bin/mpirun");
  EXPECT_EQ(o.nodes, 5);
  EXPECT_EQ(o.bin_dir, fs::path("/opt/raft/bin"));
  EXPECT_EQ(o.mpi.mpirun, "/usr/bin/mpirun");
  EXPECT_EQ(o.mpi.cores, 1u) << "always oversubscribed: the machine is shared";
  EXPECT_EQ(o.node.min_election_timeout_ms, 150);
  EXPECT_EQ(o.node.max_election_timeout_ms, 300);
  EXPECT_EQ(o.node.heartbeat_interval_ms, 30);
  EXPECT_EQ(o.node.initial_delay_ms, 100);
  EXPECT_EQ(o.node.fsync, "always");
  EXPECT_EQ(o.node.log_level, "warn");
  EXPECT_EQ(o.discovery_port, 0) << "free ports";
  EXPECT_EQ(o.base_port, 0);
  EXPECT_EQ(o.monitor_port, -1) << "no monitor";
  EXPECT_TRUE(o.node_data_dir.empty()) << "a temporary folder";
}

TEST(Cluster, WithoutItsProgramsItSaysWhyAndCleansUp) {
  const fs::path empty = fs::temp_directory_path() / "raft_cluster_test_no_programs";
  fs::create_directories(empty);
  Cluster cluster(local_cluster_options({}, empty, "/usr/bin/mpirun"));
  std::string error;
  EXPECT_FALSE(cluster.start(&error));
  EXPECT_NE(error.find("discovery_server"), std::string::npos) << error;
  const fs::path data = cluster.node_data_dir();
  ASSERT_FALSE(data.empty());
  EXPECT_TRUE(fs::exists(data)) << "the temporary folder exists until stop";
  EXPECT_GT(cluster.discovery_port(), 0);
  EXPECT_GT(cluster.base_port(), 0);
  EXPECT_EQ(cluster.discovery_url(),
            "http://127.0.0.1:" + std::to_string(cluster.discovery_port()));
  cluster.stop();
  EXPECT_FALSE(fs::exists(data.parent_path())) << "stop removes the folder it made";
  EXPECT_FALSE(cluster.job_exit().has_value()) << "no job was started";
  fs::remove_all(empty);
}

TEST(Cluster, GivenFoldersAreTheCallersAndStay) {
  const fs::path dir = fs::temp_directory_path() / "raft_cluster_test_given";
  fs::remove_all(dir);
  ClusterOptions o = local_cluster_options({}, dir / "no-bin", "/usr/bin/mpirun");
  o.node_data_dir = dir / "data";
  o.discovery_state_file = dir / "discovery.json";
  o.bind = "0.0.0.0";
  o.advertise_host = "10.0.0.7";
  Cluster cluster(o);
  std::string error;
  EXPECT_FALSE(cluster.start(&error));
  EXPECT_EQ(cluster.local_host(), "127.0.0.1") << "a wildcard bind is dialled on loopback";
  EXPECT_EQ(cluster.discovery_url().rfind("http://10.0.0.7:", 0), 0u) << cluster.discovery_url();
  cluster.stop();
  EXPECT_TRUE(fs::exists(dir / "data"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace raft::launcher
