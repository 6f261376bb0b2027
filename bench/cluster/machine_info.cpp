#include "machine_info.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

namespace raft::bench {

namespace {

/// The value after the first "key<spaces>:" line of a /proc file.
std::string proc_field(const char* file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return {};
}

}  // namespace

LoadAverage load_average() {
  LoadAverage l;
  std::ifstream in("/proc/loadavg");
  in >> l.one >> l.five >> l.fifteen;
  return l;
}

nlohmann::json machine_json() {
  utsname u{};
  ::uname(&u);
  char utc[32] = {};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(utc, sizeof utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const LoadAverage l = load_average();
  const std::string mem = proc_field("/proc/meminfo", "MemTotal");
  nlohmann::json out = {{"nproc", std::thread::hardware_concurrency()},
                        {"cpu_model", proc_field("/proc/cpuinfo", "model name")},
                        {"mem_total_kib", mem.empty() ? 0L : std::stol(mem)},
                        {"kernel", std::string(u.sysname) + " " + u.release},
                        {"utc", utc},
                        {"loadavg", {l.one, l.five, l.fifteen}}};
  // The commit measured, when the runner script knows it.
  if (const char* commit = std::getenv("RAFT_BENCH_COMMIT"); commit && *commit) {
    out["commit"] = commit;
  }
  return out;
}

std::string load_note(const nlohmann::json& result) {
  double lo = result["machine"]["loadavg"][0].get<double>();
  double hi = lo;
  if (result.contains("loadavg_at_end")) {
    const double end = result["loadavg_at_end"][0].get<double>();
    lo = std::min(lo, end);
    hi = std::max(hi, end);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "load average %.1f-%.1f", lo, hi);
  return buf;
}

}  // namespace raft::bench
