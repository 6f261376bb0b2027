#include "nemesis.hpp"

#include <algorithm>
#include <thread>

namespace raft::chaos {

Nemesis::Nemesis(NemesisOptions options, launcher::Cluster& cluster)
    : options_(std::move(options)), cluster_(cluster), rng_(options_.seed) {}

std::int64_t Nemesis::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - options_.epoch)
      .count();
}

int Nemesis::random_rank() { return static_cast<int>(rng_() % cluster_.size()); }

int Nemesis::current_leader() const {
  int leader = -1;
  std::uint64_t best_term = 0;
  for (int r = 0; r < cluster_.size(); ++r) {
    const launcher::HttpReply a = cluster_.get(r, "/status", std::chrono::milliseconds(500));
    if (a.status != 200 || !a.body.is_object()) continue;
    if (a.body.value("state", "") == "LEADER" && !a.body.value("paused", false) &&
        a.body.value("term", std::uint64_t{0}) >= best_term) {
      best_term = a.body.value("term", std::uint64_t{0});
      leader = r;
    }
  }
  return leader;
}

bool Nemesis::sleep_for(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto end = Clock::now() + d;
  while (Clock::now() < end) {
    if (stop.load()) return false;
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(20), end - Clock::now()));
  }
  return !stop.load();
}

std::string Nemesis::command(int rank, const std::string& cmd, bool* ok) {
  const launcher::HttpReply a = cluster_.command(rank, cmd, std::chrono::seconds(6));
  if (ok) *ok = a.status == 200 && a.body.is_object() && a.body.value("ok", false);
  std::string answer = std::to_string(rank) + " " + cmd + ": ";
  if (a.status == 0) return answer + "no answer (" + a.error + ")";
  if (a.body.is_object() && a.body.contains("result") && a.body["result"].is_string())
    return answer + a.body["result"].get<std::string>();
  if (a.body.is_object() && a.body.contains("error") && a.body["error"].is_string())
    return answer + "refused: " + a.body["error"].get<std::string>();
  return answer + "HTTP " + std::to_string(a.status);
}

void Nemesis::record(std::int64_t start, std::string kind, std::string detail,
                     std::vector<int> restarted) {
  std::lock_guard lock(mutex_);
  events_.push_back({start, now_us(), std::move(kind), std::move(detail), std::move(restarted)});
}

std::vector<int> Nemesis::all_ranks() const {
  std::vector<int> ranks(static_cast<std::size_t>(cluster_.size()));
  for (int r = 0; r < cluster_.size(); ++r) ranks[static_cast<std::size_t>(r)] = r;
  return ranks;
}

std::vector<NemesisEvent> Nemesis::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

MembershipTally Nemesis::membership_tally() const {
  std::lock_guard lock(mutex_);
  return membership_;
}

std::vector<std::string> Nemesis::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

void Nemesis::run(const std::atomic<bool>& stop) {
  const auto between = [this](std::chrono::milliseconds lo, std::chrono::milliseconds hi) {
    return lo +
           std::chrono::milliseconds(
               rng_() % static_cast<std::uint64_t>(std::max<std::int64_t>(1, (hi - lo).count())));
  };
  while (sleep_for(between(options_.min_gap, options_.max_gap), stop)) {
    if (std::optional<std::string> died = cluster_.job_exit()) {
      {
        std::lock_guard lock(mutex_);
        errors_.push_back("the MPI job exited on its own: " + *died);
      }
      const std::int64_t t = now_us();
      std::string error;
      cluster_.kill_job();
      if (!relaunch(&error)) {
        std::lock_guard lock(mutex_);
        errors_.push_back("relaunch after the job died failed: " + error);
        return;
      }
      record(t, "relaunch", "relaunched after the job died on its own", all_ranks());
      continue;
    }
    one_fault(stop);
  }
}

void Nemesis::one_fault(const std::atomic<bool>& stop) {
  if (options_.kinds.empty()) return;
  const std::string kind = options_.kinds[rng_() % options_.kinds.size()];
  const auto hold =
      options_.min_hold +
      std::chrono::milliseconds(rng_() % static_cast<std::uint64_t>(std::max<std::int64_t>(
                                             1, (options_.max_hold - options_.min_hold).count())));
  const std::int64_t start = now_us();
  const int n = cluster_.size();
  if (kind == "pause" || kind == "crash") {
    node_fault(kind, start, hold, stop);
  } else if (kind == "partition") {
    partition_fault(start, hold, stop);
  } else if (kind == "oneway") {
    oneway_fault(start, hold, stop);
  } else if (kind == "transfer") {
    const int leader = current_leader();
    if (leader < 0) return;
    int target = random_rank();
    if (target == leader) target = (target + 1) % n;
    record(start, "transfer", command(leader, "transfer_leadership " + std::to_string(target)));
  } else if (kind == "elect") {
    // A forced election (no PreVote, no lease) from a node that does not lead:
    // terms move on while writes and reads are in flight.
    const int leader = current_leader();
    int r = random_rank();
    if (r == leader) r = (r + 1) % n;
    record(start, "elect", command(r, "trigger_election"));
  } else if (kind == "snapshot") {
    const int r = random_rank();
    record(start, "snapshot", command(r, "snapshot"));
  } else if (kind == "kill9") {
    kill9_fault(start, hold, stop);
  } else if (kind == "delay") {
    delay_fault(start, hold, stop);
  } else if (kind == "membership") {
    membership_fault(start, stop);
  }
}

void Nemesis::delay_fault(std::int64_t start, std::chrono::milliseconds hold,
                          const std::atomic<bool>& stop) {
  // A slow network: up to 300 ms per message, beyond the election timeouts
  // a run uses (150-300 ms), so a delayed leader may be voted out.
  const int leader = current_leader();
  const int r = leader >= 0 && rng_() % 2 == 0 ? leader : random_rank();
  std::string targets = "all";
  if (rng_() % 2 == 0) {
    const int other = random_rank();
    targets = std::to_string(other == r ? (other + 1) % cluster_.size() : other);
  }
  const int ms = 20 + static_cast<int>(rng_() % 281);
  std::string detail = command(r, "delay " + targets + " " + std::to_string(ms));
  sleep_for(hold, stop);
  detail += "; " + command(r, "heal");
  record(start, "delay", detail);
}

void Nemesis::node_fault(const std::string& kind, std::int64_t start,
                         std::chrono::milliseconds hold, const std::atomic<bool>& stop) {
  // Half of the node faults hit the leader: that is where the interesting
  // races are (writes in flight, ReadIndex rounds, leases).
  const int leader = rng_() % 2 == 0 ? current_leader() : -1;
  const int r = leader >= 0 ? leader : random_rank();
  std::string detail = command(r, kind);
  sleep_for(hold, stop);
  detail += "; " + command(r, kind == "pause" ? "resume" : "restart");
  record(start, kind, detail, kind == "crash" ? std::vector<int>{r} : std::vector<int>{});
}

std::string Nemesis::split_sides(std::vector<int> ranks, int shape) {
  const int n = cluster_.size();
  if (shape == 2 && n >= 3) {
    const int a = ranks[0], b = ranks[1];
    return "bridge " + std::to_string(a) + " x " + std::to_string(b) + ": " +
           command(a, "partition " + std::to_string(b)) + "; " +
           command(b, "partition " + std::to_string(a));
  }
  if (shape == 0) {
    const int leader = current_leader();
    if (leader >= 0) std::iter_swap(ranks.begin(), std::find(ranks.begin(), ranks.end(), leader));
  }
  const int small = shape == 0 ? 1 : std::max(1, static_cast<int>(rng_() % ((n - 1) / 2)) + 1);
  std::vector<int> side(ranks.begin(), ranks.begin() + small);
  std::vector<int> rest(ranks.begin() + small, ranks.end());
  const auto list = [](const std::vector<int>& v) {
    std::string s;
    for (int x : v) s += (s.empty() ? "" : " ") + std::to_string(x);
    return s;
  };
  std::string detail = "{" + list(side) + "} | {" + list(rest) + "}";
  for (int x : side) detail += "; " + command(x, "partition " + list(rest));
  for (int x : rest) detail += "; " + command(x, "partition " + list(side));
  return detail;
}

void Nemesis::partition_fault(std::int64_t start, std::chrono::milliseconds hold,
                              const std::atomic<bool>& stop) {
  // Sides: one node alone (often the leader), a minority split off, or a
  // bridge (two nodes lose each other, both still see the rest).
  const int n = cluster_.size();
  std::vector<int> ranks(n);
  for (int i = 0; i < n; ++i) ranks[i] = i;
  std::shuffle(ranks.begin(), ranks.end(), rng_);
  const int shape = static_cast<int>(rng_() % 3);
  std::string detail = split_sides(std::move(ranks), shape);
  std::vector<int> restarted;
  if (rng_() % 3 == 0) {
    // Faults overlap in real life: crash a node inside the partition and
    // restart it before the heal, so it recovers while traffic is cut.
    const int r = random_rank();
    detail += "; and " + command(r, "crash");
    restarted.push_back(r);
    sleep_for(hold / 2, stop);
    detail += "; " + command(r, "restart");
    sleep_for(hold / 2, stop);
  } else {
    sleep_for(hold, stop);
  }
  for (int r = 0; r < n; ++r) detail += "; " + command(r, "heal");
  record(start, "partition", detail, std::move(restarted));
}

void Nemesis::kill9_fault(std::int64_t start, std::chrono::milliseconds hold,
                          const std::atomic<bool>& stop) {
  cluster_.kill_job();
  const std::int64_t killed = now_us();
  sleep_for(std::min(hold, std::chrono::milliseconds(1000)), stop);
  std::string error;
  const bool ok = relaunch(&error);
  record(start, "kill9",
         "SIGKILL to the whole MPI job, relaunched on the same data " +
             std::to_string((now_us() - killed) / 1000) + " ms later" +
             (ok ? std::string() : ": relaunch failed: " + error),
         all_ranks());
  if (!ok) {
    std::lock_guard lock(mutex_);
    errors_.push_back("relaunch after kill -9 failed: " + error);
  }
}

bool Nemesis::relaunch(std::string* error) {
  return cluster_.start_job(error) && cluster_.wait_nodes_healthy(std::chrono::seconds(60), error);
}

void Nemesis::oneway_fault(std::int64_t start, std::chrono::milliseconds hold,
                           const std::atomic<bool>& stop) {
  const int n = cluster_.size();
  if (n < 2) return;
  const int leader = current_leader();
  // Half the time the leader is the node whose link breaks: a leader that
  // cannot be heard must be replaced, one that cannot hear must step down.
  const int x = leader >= 0 && rng_() % 2 == 0 ? leader : random_rank();
  std::string others;
  for (int r = 0; r < n; ++r) {
    if (r != x) others += (others.empty() ? "" : " ") + std::to_string(r);
  }
  std::string detail;
  switch (rng_() % 3) {
    case 0: {
      // One ordered pair x -> y loses its messages; the sender or the
      // receiver does the dropping, which must make no difference.
      int y = random_rank();
      if (y == x) y = (y + 1) % n;
      detail = std::to_string(x) + " -> " + std::to_string(y) + " cut: " +
               (rng_() % 2 == 0 ? command(x, "drop_to " + std::to_string(y))
                                : command(y, "drop_from " + std::to_string(x)));
      break;
    }
    case 1:
      detail = std::to_string(x) +
               " unheard (sends to nobody, hears all): " + command(x, "drop_to " + others);
      break;
    default:
      detail = std::to_string(x) +
               " deaf (hears nobody, sends to all): " + command(x, "drop_from " + others);
      break;
  }
  sleep_for(hold, stop);
  for (int r = 0; r < n; ++r) detail += "; " + command(r, "heal");
  record(start, "oneway", detail);
}

void Nemesis::heal_all() {
  const std::int64_t start = now_us();
  std::string detail;
  if (std::optional<std::string> died = cluster_.job_exit()) {
    {
      std::lock_guard lock(mutex_);
      errors_.push_back("the MPI job exited on its own: " + *died);
    }
    std::string error;
    cluster_.kill_job();
    if (!relaunch(&error)) {
      std::lock_guard lock(mutex_);
      errors_.push_back("final relaunch failed: " + error);
    }
  }
  for (int r = 0; r < cluster_.size(); ++r) {
    for (const char* cmd : {"resume", "restart", "heal"}) {
      detail += (detail.empty() ? "" : "; ") + command(r, cmd);
    }
  }
  if (std::find(options_.kinds.begin(), options_.kinds.end(), "membership") !=
      options_.kinds.end()) {
    readmit_strays(detail);
  }
  record(start, "heal_all", detail, all_ranks());
}

}  // namespace raft::chaos
