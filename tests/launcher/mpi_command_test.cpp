// The mpirun command line of launch_cluster (launcher/mpi_command.hpp).
#include "launcher/mpi_command.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace raft::launcher {
namespace {

/// True if `args` holds `seq` as consecutive elements.
bool has_run(const std::vector<std::string>& args, const std::vector<std::string>& seq) {
  return std::search(args.begin(), args.end(), seq.begin(), seq.end()) != args.end();
}

MpiCommandOptions base() {
  MpiCommandOptions o;
  o.mpirun = "/usr/bin/mpirun";
  o.ranks = 3;
  o.cores = 8;
  o.forwarded_env = {"SERVICE_DISCOVERY_URL"};
  o.program = {"/bin/raft_node", "--bind", "127.0.0.1"};
  return o;
}

TEST(MpiCommand, OneHostUsesOpenMpiDefaults) {
  const std::vector<std::string> argv = mpirun_argv(base());
  EXPECT_EQ(argv.front(), "/usr/bin/mpirun");
  EXPECT_TRUE(has_run(argv, {"-n", "3", "--bind-to", "none"}));
  EXPECT_TRUE(has_run(argv, {"-x", "SERVICE_DISCOVERY_URL", "/bin/raft_node", "--bind"}));
  EXPECT_FALSE(has_run(argv, {"--mca", "btl", "self,tcp"}));
  // Shared memory only: no rank listens on the network.
  EXPECT_TRUE(has_run(argv, {"--mca", "btl", "self,vader"}));
  EXPECT_TRUE(has_run(argv, {"--mca", "btl_vader_single_copy_mechanism", "none"}));
  EXPECT_FALSE(has_run(argv, {"--oversubscribe"}));
  EXPECT_FALSE(has_run(argv, {"--allow-run-as-root"}));
}

TEST(MpiCommand, RootAndMoreRanksThanCores) {
  MpiCommandOptions o = base();
  o.as_root = true;
  o.cores = 2;
  const std::vector<std::string> argv = mpirun_argv(o);
  EXPECT_TRUE(has_run(argv, {"--allow-run-as-root"}));
  EXPECT_TRUE(has_run(argv, {"--oversubscribe"}));
}

TEST(MpiCommand, SeveralHostsTalkTcpOnTheChosenNetwork) {
  MpiCommandOptions o = base();
  o.hostfile = "/tmp/hosts";
  o.mpi_if = "10.199.3.0/24";
  o.extra_mca = {{"plm_rsh_agent", "/tmp/agent.sh"}};
  o.forwarded_env.push_back("RAFT_AUTH_TOKEN");
  const std::vector<std::string> argv = mpirun_argv(o);
  EXPECT_TRUE(has_run(argv, {"--hostfile", "/tmp/hosts"}));
  EXPECT_TRUE(has_run(argv, {"--oversubscribe"}));
  EXPECT_TRUE(has_run(argv, {"--mca", "btl", "self,tcp"}));
  EXPECT_TRUE(has_run(argv, {"--mca", "btl_tcp_if_include", "10.199.3.0/24"}));
  EXPECT_TRUE(has_run(argv, {"--mca", "oob_tcp_if_include", "10.199.3.0/24"}));
  EXPECT_TRUE(has_run(argv, {"--mca", "plm_rsh_agent", "/tmp/agent.sh"}));
  EXPECT_TRUE(has_run(argv, {"-x", "RAFT_AUTH_TOKEN"}));
  // mpirun's options all come before the program.
  const auto program = std::find(argv.begin(), argv.end(), "/bin/raft_node");
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--mca") < program, true);
  EXPECT_EQ(std::vector<std::string>(program, argv.end()), o.program);
}

TEST(MpiCommand, AHostListIsPassedOn) {
  MpiCommandOptions o = base();
  o.hosts = "a,b,c";
  const std::vector<std::string> argv = mpirun_argv(o);
  EXPECT_TRUE(has_run(argv, {"--host", "a,b,c"}));
  EXPECT_TRUE(has_run(argv, {"--mca", "btl", "self,tcp"}));
  EXPECT_FALSE(has_run(argv, {"--mca", "btl_vader_single_copy_mechanism", "none"}));
}

TEST(MpiCommand, RaftNodeFlagsGiveOnlyWhatIsSet) {
  RaftNodeFlags f;
  f.binary = "/bin/raft_node";
  EXPECT_EQ(raft_node_argv(f), std::vector<std::string>{"/bin/raft_node"});
  f.min_election_timeout_ms = 150;
  f.initial_delay_ms = 0;  // zero is a value, not "unset"
  f.data_dir = "/tmp/d";
  f.log_level = "warn";
  EXPECT_EQ(raft_node_argv(f),
            (std::vector<std::string>{"/bin/raft_node", "--min_election_timeout", "150",
                                      "--initial_delay_ms", "0", "--data_dir", "/tmp/d",
                                      "--log_level", "warn"}));
}

TEST(MpiCommand, McaParsing) {
  std::string error;
  EXPECT_EQ(parse_mca("plm_rsh_agent=/x/agent.sh", &error),
            McaParam("plm_rsh_agent", "/x/agent.sh"));
  EXPECT_EQ(parse_mca("plm_rsh_args=-p 2222", &error), McaParam("plm_rsh_args", "-p 2222"));
  for (const char* bad : {"", "name", "=value", "name=", "bad name=1", "a;b=1"}) {
    error.clear();
    EXPECT_FALSE(parse_mca(bad, &error)) << bad;
    EXPECT_NE(error.find("--mca"), std::string::npos) << error;
  }
}

TEST(MpiCommand, InterfaceListParsing) {
  for (const char* good : {"eth1", "10.199.0.0/24", "eth0,10.0.0.0/8", "br-raft.1", "0.0.0.0/0"}) {
    EXPECT_FALSE(mpi_if_error(good)) << good;
  }
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0/24", "300.0.0.0/8", "eth0,", "a b",
                          "averyveryverylongname", "10.0.0.0/"}) {
    const std::optional<std::string> why = mpi_if_error(bad);
    ASSERT_TRUE(why) << bad;
    EXPECT_NE(why->find("--mpi_if"), std::string::npos) << *why;
  }
}

}  // namespace
}  // namespace raft::launcher
