// launch_cluster inside a Slurm allocation, without Slurm: reading the
// allocation from the environment (launcher/slurm_allocation.hpp) and the
// commands it runs there (launcher/slurm_command.hpp, mpi_command.hpp).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "launcher/mpi_command.hpp"
#include "launcher/slurm_allocation.hpp"
#include "launcher/slurm_command.hpp"

namespace raft::launcher {
namespace {

using Names = std::vector<std::string>;

Names expand(const std::string& list) {
  std::string error;
  const auto hosts = expand_hostlist(list, &error);
  EXPECT_TRUE(hosts.has_value()) << list << ": " << error;
  return hosts.value_or(Names{});
}

std::string expand_error(const std::string& list) {
  std::string error;
  EXPECT_FALSE(expand_hostlist(list, &error).has_value()) << list;
  return error;
}

/// True if `args` holds `seq` as consecutive elements.
bool has_run(const Names& args, const Names& seq) {
  return std::search(args.begin(), args.end(), seq.begin(), seq.end()) != args.end();
}

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

/// The variables of an sbatch script's environment for `sbatch -N3 -n5`.
std::map<std::string, std::string> batch_env() {
  return {{"SLURM_JOB_ID", "42"},
          {"SLURM_JOB_NODELIST", "node[0-2]"},
          {"SLURM_TASKS_PER_NODE", "2(x2),1"},
          {"SLURMD_NODENAME", "node0"}};
}

TEST(SlurmHostlist, ExpandsRangesListsAndPadding) {
  EXPECT_EQ(expand("node[0-2]"), (Names{"node0", "node1", "node2"}));
  EXPECT_EQ(expand("n[01-03,7],login"), (Names{"n01", "n02", "n03", "n7", "login"}));
  EXPECT_EQ(expand("n[8-10]"), (Names{"n8", "n9", "n10"}));
  EXPECT_EQ(expand("a,b-2"), (Names{"a", "b-2"}));
  EXPECT_EQ(expand("r[1-2]n[1-2]"), (Names{"r1n1", "r1n2", "r2n1", "r2n2"}));
  EXPECT_EQ(expand("gpu[3]-ib"), (Names{"gpu3-ib"}));
}

TEST(SlurmHostlist, RefusesMalformedLists) {
  EXPECT_NE(expand_error("n[1-").find("not closed"), std::string::npos);
  EXPECT_NE(expand_error("n]1").find("no '['"), std::string::npos);
  EXPECT_NE(expand_error("n[3-1]").find("backwards"), std::string::npos);
  EXPECT_NE(expand_error("n[x]").find("not a number"), std::string::npos);
  EXPECT_NE(expand_error("a,,b").find("empty name"), std::string::npos);
  EXPECT_NE(expand_error("").find("empty name"), std::string::npos);
  EXPECT_NE(expand_error("n[1-99999999]").find("more than"), std::string::npos);
  EXPECT_NE(expand_error("a[1-300]b[1-300]").find("more than"), std::string::npos);
}

TEST(SlurmTasks, CountsTasksPerNode) {
  std::string error;
  EXPECT_EQ(count_tasks("2(x3),1", &error), 7);
  EXPECT_EQ(count_tasks("1", &error), 1);
  EXPECT_EQ(count_tasks("4(x2)", &error), 8);
  EXPECT_EQ(count_tasks("3,1,1", &error), 5);
  for (const char* bad : {"", "x", "0", "2(x3", "2(x)", "2(xa),1", "1,", "9999999(x9999)"}) {
    EXPECT_FALSE(count_tasks(bad, &error).has_value()) << bad;
    EXPECT_NE(error.find("tasks per node"), std::string::npos) << bad;
  }
}

TEST(SlurmAllocationEnv, NoJobIsNoAllocation) {
  const SlurmAllocationRead read = read_allocation(env_of({}));
  EXPECT_FALSE(read.allocation.has_value());
  EXPECT_TRUE(read.error.empty());
}

TEST(SlurmAllocationEnv, ReadsABatchScriptsEnvironment) {
  const SlurmAllocationRead read = read_allocation(env_of(batch_env()));
  ASSERT_TRUE(read.allocation.has_value()) << read.error;
  const SlurmAllocation& a = *read.allocation;
  EXPECT_EQ(a.job_id, "42");
  EXPECT_EQ(a.nodes, (Names{"node0", "node1", "node2"}));
  EXPECT_EQ(a.tasks, 5);
  EXPECT_EQ(a.tasks_per_node, "2(x2),1");
  EXPECT_EQ(a.this_node, "node0");
  EXPECT_TRUE(a.on_allocated_node());
  EXPECT_FALSE(a.in_step);
}

TEST(SlurmAllocationEnv, ASallocShellOnALoginNodeIsOutsideTheAllocation) {
  auto vars = batch_env();
  vars.erase("SLURMD_NODENAME");
  const SlurmAllocationRead read = read_allocation(env_of(vars));
  ASSERT_TRUE(read.allocation.has_value());
  EXPECT_FALSE(read.allocation->on_allocated_node());
}

TEST(SlurmAllocationEnv, InItsOwnStepTakesTheJobsTasksNotTheSteps) {
  auto vars = batch_env();
  vars["SLURM_STEP_ID"] = "0";
  vars["SLURM_TASKS_PER_NODE"] = "1";  // the one-task step's
  vars[kJobTasksPerNodeEnv] = "2(x2),1";
  vars[kJobTasksJobIdEnv] = "42";
  SlurmAllocationRead read = read_allocation(env_of(vars));
  ASSERT_TRUE(read.allocation.has_value());
  EXPECT_TRUE(read.allocation->in_step);
  EXPECT_EQ(read.allocation->tasks, 5);
  EXPECT_EQ(read.allocation->tasks_per_node, "2(x2),1");
  // A value left from another job is not this job's.
  vars[kJobTasksJobIdEnv] = "41";
  read = read_allocation(env_of(vars));
  ASSERT_TRUE(read.allocation.has_value());
  EXPECT_EQ(read.allocation->tasks, 1);
}

TEST(SlurmAllocationEnv, ABrokenJobEnvironmentIsAnError) {
  auto vars = batch_env();
  vars.erase("SLURM_JOB_NODELIST");
  EXPECT_NE(read_allocation(env_of(vars)).error.find("SLURM_JOB_NODELIST"), std::string::npos);
  vars = batch_env();
  vars.erase("SLURM_TASKS_PER_NODE");
  EXPECT_NE(read_allocation(env_of(vars)).error.find("SLURM_TASKS_PER_NODE"), std::string::npos);
  vars = batch_env();
  vars["SLURM_JOB_NODELIST"] = "node[0-";
  EXPECT_NE(read_allocation(env_of(vars)).error.find("malformed"), std::string::npos);
}

TEST(SlurmNodeAddress, SkipsLoopbackAndPrefersIpv4) {
  const auto fixed = [](Names addresses) {
    return [addresses](const std::string&) { return addresses; };
  };
  std::string error;
  EXPECT_EQ(node_address("n0", fixed({"127.0.1.1", "10.0.0.5"}), &error), "10.0.0.5");
  EXPECT_EQ(node_address("n0", fixed({"2001:db8::5", "10.0.0.5"}), &error), "10.0.0.5");
  EXPECT_EQ(node_address("n0", fixed({"::1", "fe80::1", "2001:db8::5"}), &error), "2001:db8::5");
  EXPECT_FALSE(node_address("n0", fixed({"127.0.1.1"}), &error).has_value());
  EXPECT_NE(error.find("only to loopback"), std::string::npos);
  EXPECT_FALSE(node_address("n0", fixed({}), &error).has_value());
  EXPECT_NE(error.find("does not resolve"), std::string::npos);
}

TEST(SlurmNodeAddress, ResolvesThroughTheSystem) {
  const Names addresses = resolve_host("127.0.0.1");
  ASSERT_EQ(addresses, Names{"127.0.0.1"});
  EXPECT_TRUE(resolve_host("no-such-host.invalid").empty());
}

TEST(SlurmPlan, FollowsTheSlurmFlag) {
  EXPECT_FALSE(plan_slurm(SlurmUse::kOff, env_of(batch_env())).allocation.has_value());
  EXPECT_TRUE(plan_slurm(SlurmUse::kAuto, env_of(batch_env())).allocation.has_value());
  EXPECT_TRUE(plan_slurm(SlurmUse::kAuto, env_of({})).error.empty());
  EXPECT_FALSE(plan_slurm(SlurmUse::kAuto, env_of({})).allocation.has_value());
  EXPECT_NE(plan_slurm(SlurmUse::kOn, env_of({})).error.find("SLURM_JOB_ID is not set"),
            std::string::npos);
  auto broken = batch_env();
  broken.erase("SLURM_TASKS_PER_NODE");
  EXPECT_NE(plan_slurm(SlurmUse::kAuto, env_of(broken)).error.find("--slurm off"),
            std::string::npos);
  EXPECT_EQ(parse_slurm_use("on"), SlurmUse::kOn);
  EXPECT_FALSE(parse_slurm_use("yes").has_value());
  EXPECT_EQ(parse_slurm_launch("auto"), SlurmLaunch::kAuto);
  EXPECT_EQ(parse_slurm_launch("srun"), SlurmLaunch::kSrun);
  EXPECT_FALSE(parse_slurm_launch("orterun").has_value());
}

TEST(SlurmCommand, MovesToTheFirstNodeAsAWholeNodeStep) {
  const SlurmAllocation a = *read_allocation(env_of(batch_env())).allocation;
  const Names argv = first_node_step_argv("/usr/bin/srun", a, {"/opt/launch_cluster", "--fresh"});
  EXPECT_EQ(argv.front(), "/usr/bin/srun");
  EXPECT_TRUE(has_run(argv, {"--nodes=1", "--ntasks=1", "--nodelist=node0"}));
  EXPECT_TRUE(has_run(argv, {"--whole", "--overlap", "--quit-on-interrupt"}));
  EXPECT_TRUE(has_run(argv, {"/opt/launch_cluster", "--fresh"}));
  EXPECT_EQ(argv.back(), "--fresh");
  const auto env = first_node_step_env(a);
  EXPECT_EQ(env.at(kJobTasksPerNodeEnv), "2(x2),1");
  EXPECT_EQ(env.at(kJobTasksJobIdEnv), "42");
}

MpiCommandOptions slurm_job(int ranks, int nodes) {
  MpiCommandOptions o;
  o.mpirun = "/usr/bin/mpirun";
  o.ranks = ranks;
  o.cores = 2;
  o.slurm_nodes = nodes;
  o.forwarded_env = {"SERVICE_DISCOVERY_URL"};
  o.program = {"/opt/raft_node", "--bind", "0.0.0.0"};
  return o;
}

TEST(SlurmCommand, MpirunTakesTheHostsFromSlurm) {
  const Names argv = job_argv(slurm_job(5, 3));
  EXPECT_EQ(argv.front(), "/usr/bin/mpirun");
  EXPECT_FALSE(has_run(argv, {"--oversubscribe"}));  // Slurm's slots are its tasks
  EXPECT_FALSE(has_run(argv, {"--hostfile"}));
  EXPECT_FALSE(has_run(argv, {"--host"}));
  EXPECT_TRUE(has_run(argv, {"--map-by", "node"}));
  EXPECT_TRUE(has_run(argv, {"--mca", "btl", "self,tcp"}));
  EXPECT_TRUE(has_run(argv, {"-n", "5"}));
  EXPECT_TRUE(has_run(argv, {"/opt/raft_node", "--bind", "0.0.0.0"}));
}

TEST(SlurmCommand, SrunStartsTheRanksWithPmix) {
  MpiCommandOptions o = slurm_job(5, 3);
  o.srun = "/usr/bin/srun";
  o.mpi_if = "10.0.0.0/24";
  o.extra_mca = {{"btl_tcp_links", "2"}};
  const Names argv = job_argv(o);
  EXPECT_EQ(argv.front(), "/usr/bin/env");
  EXPECT_TRUE(has_run(argv, {"OMPI_MCA_btl=self,tcp"}));
  EXPECT_TRUE(has_run(argv, {"OMPI_MCA_btl_tcp_if_include=10.0.0.0/24"}));
  EXPECT_TRUE(has_run(argv, {"OMPI_MCA_btl_tcp_links=2"}));
  EXPECT_TRUE(has_run(argv, {"/usr/bin/srun", "--mpi=pmix", "--ntasks=5", "--nodes=3"}));
  EXPECT_TRUE(has_run(argv, {"--overlap", "--kill-on-bad-exit=1"}));
  EXPECT_FALSE(has_run(argv, {"/usr/bin/mpirun"}));
  EXPECT_EQ(std::vector<std::string>(argv.end() - 3, argv.end()),
            (Names{"/opt/raft_node", "--bind", "0.0.0.0"}));
  // Fewer ranks than nodes: one node each, no empty nodes asked for.
  o.ranks = 2;
  EXPECT_TRUE(has_run(job_argv(o), {"--ntasks=2", "--nodes=2"}));
}

TEST(SlurmCommand, FindsPmixInSrunsList) {
  EXPECT_TRUE(
      lists_pmix("MPI plugin types are...\n\tpmix\n\tnone\n\tcray_shasta\n\tpmi2\n"
                 "specific pmix plugin versions available: pmix_v4\n"));
  EXPECT_TRUE(lists_pmix("MPI plugin types are...\n  none\n  pmix_v3\n"));
  EXPECT_FALSE(lists_pmix("MPI plugin types are...\n\tnone\n\tpmi2\n"));
  EXPECT_FALSE(lists_pmix("srun: error: Unable to process configuration file\n"));
  EXPECT_FALSE(lists_pmix(""));
}

TEST(SlurmCommand, NoSrunMeansNoPmix) {
  EXPECT_FALSE(slurm_has_pmix("/nonexistent/srun", std::chrono::seconds(5)));
  EXPECT_EQ(resolve_slurm_launch(SlurmLaunch::kAuto, "/nonexistent/srun"), SlurmLaunch::kMpirun);
  EXPECT_EQ(resolve_slurm_launch(SlurmLaunch::kSrun, "/nonexistent/srun"), SlurmLaunch::kSrun);
}

}  // namespace
}  // namespace raft::launcher
