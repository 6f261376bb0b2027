// The membership nemesis: one change at a time through the leader (remove a
// voter, the leader a third of the time, or add a rank outside the
// configuration back as a voter), never below min(3, initial voters), a
// third of them with another voter paused meanwhile; then a wait until the
// change is done: committed, and a removed node STANDBY.
#include <algorithm>
#include <optional>
#include <thread>

#include "nemesis.hpp"

namespace raft::chaos {

namespace {

using namespace std::chrono_literals;

std::vector<int> ids_of(const nlohmann::json& list) {
  std::vector<int> out;
  if (!list.is_array()) return out;
  for (const nlohmann::json& id : list) {
    if (id.is_string()) out.push_back(std::stoi(id.get<std::string>()));
  }
  return out;
}

bool has(const std::vector<int>& ids, int id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string join(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

/// The configuration as leader `rank` has it.
struct LeaderView {
  std::vector<int> voters, learners;
  bool committed = false;  ///< its commit index has reached the configuration's entry
  std::string text() const { return "voters=" + join(voters) + " learners=" + join(learners); }
};

std::optional<LeaderView> leader_view(const launcher::Cluster& cluster, int rank) {
  if (rank < 0) return std::nullopt;
  const launcher::HttpReply a = cluster.get(rank, "/status", 500ms);
  if (a.status != 200 || !a.body.is_object() || a.body.value("state", "") != "LEADER") {
    return std::nullopt;
  }
  LeaderView v{ids_of(a.body.value("voters", nlohmann::json())),
               ids_of(a.body.value("learners", nlohmann::json())), false};
  v.committed = a.body.value("commit_index", std::uint64_t{0}) >=
                a.body.value("config_index", std::uint64_t{0});
  return v;
}

std::string state_of(const launcher::Cluster& cluster, int rank) {
  const launcher::HttpReply a = cluster.get(rank, "/status", 500ms);
  return a.status == 200 && a.body.is_object() ? a.body.value("state", "") : "";
}

}  // namespace

/// The change to make: (target, add). Nullopt when none keeps the bounds.
std::optional<std::pair<int, bool>> Nemesis::choose_change(const std::vector<int>& voters,
                                                           const std::vector<int>& learners,
                                                           int leader) {
  if (!learners.empty()) return std::pair{learners.front(), false};  // an add not promoted in time
  const int initial = options_.voters > 0 ? options_.voters : cluster_.size();
  std::vector<int> outside;
  for (int r = 0; r < cluster_.size(); ++r) {
    if (!has(voters, r)) outside.push_back(r);
  }
  const bool can_add = !outside.empty();
  const bool can_remove = voters.size() > static_cast<std::size_t>(std::min(3, initial));
  if (!can_add && !can_remove) return std::nullopt;
  if (can_add && (!can_remove || rng_() % 2 == 0)) {
    return std::pair{outside[rng_() % outside.size()], true};
  }
  return std::pair{rng_() % 3 == 0 ? leader : voters[rng_() % voters.size()], false};
}

void Nemesis::membership_fault(std::int64_t start, const std::atomic<bool>& stop) {
  const int leader = current_leader();
  const std::optional<LeaderView> view = leader_view(cluster_, leader);
  if (!view) return record(start, "membership", "no leader to ask");
  auto change = choose_change(view->voters, view->learners, leader);
  if (!change) return;
  auto& [target, add] = *change;
  std::string detail = "with " + view->text() + ": ";
  // A third of the changes are made while a voter other than the leader is
  // paused: the replacement of a failed node (half the removals take the
  // paused one), and the refusals of changes that would leave no quorum.
  int paused = -1;
  if (rng_() % 3 == 0 && view->voters.size() > 1) {
    do paused = view->voters[rng_() % view->voters.size()];
    while (paused == leader);
    detail += command(paused, "pause") + "; ";
    if (!add && rng_() % 2 == 0) target = paused;
    // Long enough for the leader to count it unreachable (past the minimum
    // election timeout), so the no-quorum rule is exercised too.
    sleep_for(std::chrono::milliseconds(200 + rng_() % 800), stop);
  }
  bool accepted = false, done = false;
  detail +=
      command(leader, (add ? "add_node " : "remove_node ") + std::to_string(target), &accepted);
  // A paused node removed hears of it once resumed: wait after the resume.
  if (accepted && target != paused) detail += "; " + await_change(target, add, stop, &done);
  if (paused >= 0) detail += "; " + command(paused, "resume");
  if (accepted && target == paused) detail += "; " + await_change(target, add, stop, &done);
  {
    std::lock_guard lock(mutex_);
    ++membership_.asked;
    if (!accepted) ++membership_.refused;
    if (accepted) ++(done ? membership_.done : membership_.not_done);
    if (accepted) ++(add ? membership_.adds : membership_.removes);
    if (accepted && !add && target == leader) ++membership_.leader_removes;
    if (paused >= 0) ++membership_.with_paused;
  }
  record(start, "membership", detail);
}

std::string Nemesis::await_change(int rank, bool add, const std::atomic<bool>& stop, bool* done) {
  const auto begin = Clock::now();
  const auto ms = [&] {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin).count());
  };
  std::string seen = "no leader";
  *done = false;
  while (Clock::now() - begin < 15s) {
    const int leader = current_leader();
    if (const std::optional<LeaderView> v = leader_view(cluster_, leader); v && v->committed) {
      seen = "leader " + std::to_string(leader) + " committed " + v->text();
      const bool member = has(v->voters, rank) || has(v->learners, rank);
      if (add ? has(v->voters, rank) : !member && state_of(cluster_, rank) == "STANDBY") {
        *done = true;
        return "done in " + ms() + " ms (" + seen + ")";
      }
    }
    if (!sleep_for(50ms, stop)) break;
  }
  return std::string(stop.load() ? "run ended" : "NOT done") + " after " + ms() +
         " ms; last seen: " + seen + ", node " + std::to_string(rank) + " " +
         state_of(cluster_, rank);
}

void Nemesis::readmit_strays(std::string& detail) {
  std::optional<LeaderView> view;
  const auto deadline = Clock::now() + 20s;
  while (!(view = leader_view(cluster_, current_leader())) || !view->committed) {
    if (Clock::now() > deadline) return;
    std::this_thread::sleep_for(50ms);
  }
  const std::atomic<bool> never{false};
  for (int r = 0; r < cluster_.size(); ++r) {
    if (has(view->voters, r) || has(view->learners, r)) continue;
    const std::string state = state_of(cluster_, r);
    if (state.empty() || state == "STANDBY") continue;
    const int leader = current_leader();
    if (leader < 0) return;
    bool accepted = false, done = false;
    detail += "; node " + std::to_string(r) + " is " + state + " outside " + view->text() + ": " +
              command(leader, "add_node " + std::to_string(r), &accepted);
    if (accepted) detail += "; " + await_change(r, true, never, &done);
  }
}

}  // namespace raft::chaos
