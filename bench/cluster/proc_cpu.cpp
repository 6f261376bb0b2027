#include "proc_cpu.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace raft::bench {

namespace {

/// Fields after the command name, which may itself hold spaces and ')'.
std::istringstream stat_fields(pid_t pid, bool* ok) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), {});
  const auto close = stat.rfind(')');
  *ok = close != std::string::npos && close + 2 < stat.size();
  return std::istringstream(*ok ? stat.substr(close + 2) : std::string());
}

}  // namespace

double cpu_seconds(pid_t pid) {
  bool ok = false;
  std::istringstream rest = stat_fields(pid, &ok);
  if (!ok) return 0;
  std::string skip;
  for (int i = 0; i < 11; ++i) rest >> skip;  // fields 3..13: state .. cmajflt
  long utime = 0, stime = 0;
  rest >> utime >> stime;  // fields 14 and 15
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double cpu_seconds(const std::vector<pid_t>& pids) {
  double total = 0;
  for (pid_t p : pids) total += cpu_seconds(p);
  return total;
}

}  // namespace raft::bench
