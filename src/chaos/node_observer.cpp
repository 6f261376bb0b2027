#include "node_observer.hpp"

#include <thread>

namespace raft::chaos {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::int64_t since(Clock::time_point epoch) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch).count();
}

/// Reads /entries of one node, all of it that is not compacted.
bool fetch_log(const launcher::Cluster& cluster, int rank, std::map<std::uint64_t, json>* entries,
               std::uint64_t* commit, std::string* error) {
  std::uint64_t from = 0;
  for (int page = 0; page < 100000; ++page) {
    const std::string path =
        "/entries?full=true&limit=1000" + (from ? "&from=" + std::to_string(from) : "");
    const launcher::HttpReply a = cluster.get(rank, path, std::chrono::milliseconds(5000));
    if (a.status != 200 || !a.body.is_object()) {
      *error = "node " + std::to_string(rank) +
               " /entries: " + (a.status ? "HTTP " + std::to_string(a.status) : a.error);
      return false;
    }
    *commit = a.body.value("commit_index", std::uint64_t{0});
    const json& list = a.body["entries"];
    if (!list.is_array() || list.empty()) return true;
    for (const json& e : list) {
      const std::uint64_t index = e.value("index", std::uint64_t{0});
      json kept = {{"term", e.value("term", std::uint64_t{0})},
                   {"type", e.value("type", std::string())},
                   {"data", e.value("data", std::string())},
                   {"data_base64", e.value("data_base64", std::string())}};
      (*entries)[index] = std::move(kept);
      from = index + 1;
    }
    if (from > a.body.value("last_index", std::uint64_t{0})) return true;
  }
  return true;
}

}  // namespace

void LeaderSampler::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    int leader = -1;
    std::uint64_t term = 0;
    for (int r = 0; r < cluster_.size(); ++r) {
      const launcher::HttpReply a = cluster_.get(r, "/status", std::chrono::milliseconds(300));
      if (a.status != 200 || !a.body.is_object() || a.body.value("state", "") != "LEADER") continue;
      const std::uint64_t t = a.body.value("term", std::uint64_t{0});
      {
        std::lock_guard lock(mutex_);
        leaders_by_term_[t].insert(r);
        if (leaders_by_term_[t].size() > 1 && !reported_.count(t)) {
          reported_.insert(t);
          std::string who;
          for (int x : leaders_by_term_[t]) who += (who.empty() ? "" : ", ") + std::to_string(x);
          problems_.push_back("Election Safety: nodes " + who + " all led in term " +
                              std::to_string(t));
        }
      }
      if (a.body.value("paused", false) || a.body.value("crashed", false)) continue;
      if (t >= term) {
        term = t;
        leader = r;
      }
    }
    {
      std::lock_guard lock(mutex_);
      if (samples_.empty() || samples_.back().rank != leader || samples_.back().term != term)
        samples_.push_back({since(epoch_), leader, term});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

/// Log Matching on the real nodes: every index committed on two nodes and
/// still in both logs holds the same entry.
std::vector<std::string> compare_logs(const launcher::Cluster& cluster, std::size_t* compared_out) {
  std::vector<std::string> problems;
  // Give followers a moment to catch up on commits, so most of the log is compared.
  std::vector<std::map<std::uint64_t, json>> logs(cluster.size());
  std::vector<std::uint64_t> commits(cluster.size(), 0);
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  for (;;) {
    // Standby ranks are out of the cluster: their commit index stays where
    // it was when they left (their logs are compared all the same).
    std::set<std::uint64_t> member_commits;
    for (int r = 0; r < cluster.size(); ++r) {
      const launcher::HttpReply a = cluster.get(r, "/status");
      commits[r] = a.status == 200 ? a.body.value("commit_index", std::uint64_t{0}) : 0;
      if (a.status != 200 || a.body.value("state", "") != "STANDBY")
        member_commits.insert(commits[r]);
    }
    const bool equal = member_commits.size() <= 1;
    if (equal || Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (int r = 0; r < cluster.size(); ++r) {
    std::string error;
    if (!fetch_log(cluster, r, &logs[r], &commits[r], &error)) problems.push_back(error);
  }
  std::size_t compared = 0;
  for (int a = 0; a < cluster.size(); ++a) {
    for (int b = a + 1; b < cluster.size(); ++b) {
      const std::uint64_t upto = std::min(commits[a], commits[b]);
      for (const auto& [index, entry] : logs[a]) {
        if (index > upto) break;
        auto other = logs[b].find(index);
        if (other == logs[b].end()) continue;
        ++compared;
        if (other->second != entry && problems.size() < 20) {
          problems.push_back("Log Matching: committed index " + std::to_string(index) +
                             " differs: node " + std::to_string(a) + " has " + entry.dump() +
                             ", node " + std::to_string(b) + " has " + other->second.dump());
        }
      }
    }
  }
  // Zero is possible (every node compacted up to its commit index) and not
  // a fault; the count is in the report.
  *compared_out = compared;
  return problems;
}

}  // namespace raft::chaos
