#include "launcher/process_tree.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace raft::launcher {

namespace {

/// The fields of /proc/<pid>/stat after the command name: state, ppid.
bool read_stat(pid_t pid, char* state, pid_t* ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  return static_cast<bool>(rest >> *state >> *ppid);
}

}  // namespace

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    char state = 0;
    pid_t ppid = 0;
    if (read_stat(pid, &state, &ppid) && ppid == parent) out.push_back(pid);
  }
  return out;
}

bool is_gone(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  return !read_stat(pid, &state, &ppid) || state == 'Z' || state == 'X';
}

}  // namespace raft::launcher
