#include "launcher/slurm_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "launcher/child_process.hpp"
#include "launcher/poll.hpp"

namespace raft::launcher {

std::optional<SlurmUse> parse_slurm_use(std::string_view text) {
  if (text == "auto") return SlurmUse::kAuto;
  if (text == "on") return SlurmUse::kOn;
  if (text == "off") return SlurmUse::kOff;
  return std::nullopt;
}

std::optional<SlurmLaunch> parse_slurm_launch(std::string_view text) {
  if (text == "auto") return SlurmLaunch::kAuto;
  if (text == "mpirun") return SlurmLaunch::kMpirun;
  if (text == "srun") return SlurmLaunch::kSrun;
  return std::nullopt;
}

bool lists_pmix(std::string_view output) {
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(start, end - start);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) {
      line.remove_prefix(1);
    }
    // "pmix", "pmix_v4", or "srun: mpi/pmix" in some versions' listing.
    if (line.rfind("pmix", 0) == 0 || line.rfind("srun: mpi/pmix", 0) == 0) return true;
    start = end + 1;
  }
  return false;
}

bool slurm_has_pmix(const std::string& srun, std::chrono::milliseconds limit) {
  namespace fs = std::filesystem;
  const fs::path out =
      fs::temp_directory_path() / ("raft_srun_mpi_list_" + std::to_string(::getpid()));
  bool finished = false;
  try {
    // Through a shell that sends both streams to the file and then becomes
    // srun (versions differ in which stream the list goes to).
    ChildProcess child("srun --mpi=list", {"/bin/sh", "-c", "exec \"$0\" --mpi=list >\"$1\" 2>&1",
                                           srun, out.string()});
    finished = poll_until([&] { return child.poll_exit().has_value(); }, limit);
    if (!finished) child.stop(std::chrono::milliseconds(0));
  } catch (const std::exception&) {
    finished = false;
  }
  std::ostringstream text;
  text << std::ifstream(out).rdbuf();
  std::error_code ec;
  fs::remove(out, ec);
  return finished && lists_pmix(text.str());
}

SlurmLaunch resolve_slurm_launch(SlurmLaunch launch, const std::string& srun) {
  if (launch != SlurmLaunch::kAuto) return launch;
  return slurm_has_pmix(srun, std::chrono::seconds(15)) ? SlurmLaunch::kSrun : SlurmLaunch::kMpirun;
}

SlurmPlan plan_slurm(SlurmUse use, const EnvLookup& env) {
  SlurmPlan plan;
  if (use == SlurmUse::kOff) return plan;
  SlurmAllocationRead read = read_allocation(env);
  if (!read.error.empty()) {
    plan.error = read.error + " (give --slurm off to ignore Slurm)";
  } else if (!read.allocation && use == SlurmUse::kOn) {
    plan.error = "--slurm on: not inside a Slurm allocation (SLURM_JOB_ID is not set)";
  } else {
    plan.allocation = std::move(read.allocation);
  }
  return plan;
}

std::vector<std::string> first_node_step_argv(const std::string& srun,
                                              const SlurmAllocation& allocation,
                                              const std::vector<std::string>& self_argv) {
  std::vector<std::string> argv = {srun,
                                   "--nodes=1",
                                   "--ntasks=1",
                                   "--nodelist=" + allocation.nodes.front(),
                                   "--whole",
                                   "--overlap",
                                   "--quit-on-interrupt",
                                   "--kill-on-bad-exit=1",
                                   "--job-name=launch_cluster"};
  argv.insert(argv.end(), self_argv.begin(), self_argv.end());
  return argv;
}

std::map<std::string, std::string> first_node_step_env(const SlurmAllocation& allocation) {
  return {{kJobTasksPerNodeEnv, allocation.tasks_per_node}, {kJobTasksJobIdEnv, allocation.job_id}};
}

std::string exec_first_node_step(const std::string& srun, const SlurmAllocation& allocation,
                                 const std::vector<std::string>& self_argv) {
  for (const auto& [name, value] : first_node_step_env(allocation)) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  const std::vector<std::string> argv = first_node_step_argv(srun, allocation, self_argv);
  std::vector<char*> raw;
  for (const std::string& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);
  ::execv(raw[0], raw.data());
  return "cannot run " + srun + ": " + std::strerror(errno);
}

std::vector<std::string> srun_argv(const MpiCommandOptions& o) {
  std::vector<std::string> argv = {"/usr/bin/env"};
  for (const auto& [name, value] : mca_params(o)) argv.push_back("OMPI_MCA_" + name + "=" + value);
  const int nodes = std::max(1, std::min(o.ranks, o.slurm_nodes));
  // Explicit counts: inside launch_cluster's own step, SLURM_NNODES and
  // SLURM_NTASKS describe that one-task step, and srun would take them.
  argv.insert(argv.end(),
              {o.srun, "--mpi=pmix", "--ntasks=" + std::to_string(o.ranks),
               "--nodes=" + std::to_string(nodes), "--distribution=cyclic", "--cpu-bind=none",
               "--overlap", "--kill-on-bad-exit=1", "--job-name=raft_node"});
  argv.insert(argv.end(), o.program.begin(), o.program.end());
  return argv;
}

}  // namespace raft::launcher
