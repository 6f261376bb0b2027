// The stale-read promise (see stale_reads.hpp), checked node by node in
// time order: what each node has shown it applied is evidence against the
// stale reads it answers later in the same run.
#include "chaos/stale_reads.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <unordered_map>

namespace raft::chaos {

namespace {

constexpr std::int64_t kLongAgo = std::numeric_limits<std::int64_t>::min();

/// A change of a key's value at a known log index.
struct Change {
  std::uint64_t index = 0;
  const Operation* op = nullptr;
};

/// What one key's history says about its writes and deletes.
struct KeyFacts {
  std::unordered_map<std::string, const Operation*> writers;  ///< value -> who may have written it
  std::vector<Change> changes;                                ///< by index
  bool unknown_delete = false;  ///< a delete of unknown outcome: it may be anywhere after its call
  std::int64_t latest_unindexed_delete = kLongAgo;  ///< return of the last ok delete without index
  std::uint64_t latest_delete_index = 0;
};

bool changes_value(const Operation& op) {
  return op.outcome == Outcome::Ok && (op.kind == OpKind::Write || op.kind == OpKind::Delete ||
                                       (op.kind == OpKind::Cas && op.cas_swapped));
}

std::unordered_map<std::string, KeyFacts> gather(const std::vector<Operation>& history) {
  std::unordered_map<std::string, KeyFacts> facts;
  for (const Operation& op : history) {
    KeyFacts& f = facts[op.key];
    const bool may_write =
        op.outcome != Outcome::Fail &&
        (op.kind == OpKind::Write ||
         (op.kind == OpKind::Cas && !(op.outcome == Outcome::Ok && !op.cas_swapped)));
    if (may_write) f.writers.emplace(op.value, &op);
    if (changes_value(op) && op.log_index > 0) f.changes.push_back({op.log_index, &op});
    if (op.kind != OpKind::Delete) continue;
    if (op.outcome == Outcome::Unknown) f.unknown_delete = true;
    if (op.outcome == Outcome::Ok && op.log_index == 0)
      f.latest_unindexed_delete = std::max(f.latest_unindexed_delete, op.complete_us);
    if (op.outcome == Outcome::Ok)
      f.latest_delete_index = std::max(f.latest_delete_index, op.log_index);
  }
  for (auto& [key, f] : facts) {
    std::sort(f.changes.begin(), f.changes.end(),
              [](const Change& a, const Change& b) { return a.index < b.index; });
  }
  return facts;
}

/// Whether a delete may have taken effect after `w` (a write whose entry is
/// at `index`, 0 if not known).
bool delete_may_follow(const KeyFacts& f, const Operation& w, std::uint64_t index) {
  return f.unknown_delete || f.latest_unindexed_delete >= w.invoke_us ||
         (index > 0 && f.latest_delete_index > index) || (index == 0 && f.latest_delete_index > 0);
}

/// The runs of one node between restarts: reads whose interval touches a
/// restart belong to none (-1).
class Runs {
 public:
  Runs(const std::vector<RestartWindow>& restarts, int node) {
    for (const RestartWindow& w : restarts) {
      if (w.node != node) continue;
      ends_.push_back(w.end_us);
      starts_.push_back({w.start_us, w.end_us});
    }
    std::sort(ends_.begin(), ends_.end());
    std::sort(starts_.begin(), starts_.end());
    for (std::size_t i = 1; i < starts_.size(); ++i)
      starts_[i].second = std::max(starts_[i].second, starts_[i - 1].second);
  }
  int of(const Operation& op) const {
    // Windows starting before the op ended: does the latest-ending reach it?
    const auto it = std::upper_bound(
        starts_.begin(), starts_.end(), std::make_pair(op.complete_us, std::int64_t{0}),
        [](const auto& a, const auto& b) { return a.first < b.first; });
    if (it != starts_.begin() && std::prev(it)->second >= op.invoke_us) return -1;
    return static_cast<int>(std::lower_bound(ends_.begin(), ends_.end(), op.invoke_us) -
                            ends_.begin());
  }

 private:
  std::vector<std::int64_t> ends_;
  std::vector<std::pair<std::int64_t, std::int64_t>> starts_;  ///< (start, latest end so far)
};

/// What a node has shown in one run: an applied index and, per key, the
/// latest-invoked write whose effect it showed.
struct Shown {
  std::uint64_t applied = 0;
  int applied_by = -1;  ///< the op that showed it
  std::unordered_map<std::string, const Operation*> writer;
};

std::string ref(const Operation& op) { return "op #" + std::to_string(op.id); }

std::string value_text(const Operation& read) {
  return read.read_value ? "'" + *read.read_value + "'" : std::string("absent");
}

/// Checks a read against a bound on its node's applied index: `exact` when
/// the node named it in the answer, else a lower bound the node had shown.
std::optional<std::string> against_index(const Operation& r, const Operation* w, const KeyFacts& f,
                                         std::uint64_t bound, bool exact, const std::string& how) {
  if (w && w->outcome == Outcome::Ok && w->log_index > 0) {
    if (exact && w->log_index > bound) {
      return "from the future of its own log: " + ref(*w) + " wrote " + value_text(r) +
             " at index " + std::to_string(w->log_index) + ", above the applied index " +
             std::to_string(bound) + " the node named";
    }
    const auto next =
        std::upper_bound(f.changes.begin(), f.changes.end(), w->log_index,
                         [](std::uint64_t i, const Change& c) { return i < c.index; });
    if (next != f.changes.end() && next->index <= bound) {
      return how + ", yet it returned " + value_text(r) + " (" + ref(*w) + ", index " +
             std::to_string(w->log_index) + "), which " + ref(*next->op) +
             " had replaced at index " + std::to_string(next->index);
    }
  }
  if (!r.read_value) {
    const auto after =
        std::upper_bound(f.changes.begin(), f.changes.end(), bound,
                         [](std::uint64_t i, const Change& c) { return i < c.index; });
    if (after == f.changes.begin()) return std::nullopt;
    const Change& last = *std::prev(after);
    if (last.op->kind != OpKind::Delete && !delete_may_follow(f, *last.op, last.index)) {
      return how + ", yet it returned absent though " + ref(*last.op) + " wrote the key at index " +
             std::to_string(last.index) + " and no delete may have followed";
    }
  }
  return std::nullopt;
}

/// Checks a read against the writes its node had shown, by real time.
std::optional<std::string> against_shown_writes(const Operation& r, const Operation* w,
                                                const KeyFacts& f, const Shown& shown, int node) {
  const auto it = shown.writer.find(r.key);
  if (it == shown.writer.end()) return std::nullopt;
  const Operation& earlier = *it->second;
  const std::string had = "node " + std::to_string(node) + " had shown the value '" +
                          earlier.value + "' of " + ref(earlier);
  if (w && w != &earlier && w->outcome == Outcome::Ok && w->complete_us < earlier.invoke_us) {
    return "went back: " + had + ", yet returned " + value_text(r) + " of " + ref(*w) +
           ", which completed before " + ref(earlier) + " was invoked";
  }
  const std::uint64_t index = earlier.outcome == Outcome::Ok ? earlier.log_index : 0;
  if (!r.read_value && !delete_may_follow(f, earlier, index))
    return "went back: " + had + ", yet returned absent, and no delete may have followed it";
  return std::nullopt;
}

/// One stale read against the promise; `shown` is what its node had shown
/// before it in the same run (nullptr: nothing, or the read touched a restart).
std::optional<std::string> judge(const Operation& r, const KeyFacts& f, const Shown* shown) {
  const Operation* w = nullptr;
  if (r.read_value) {
    const auto it = f.writers.find(*r.read_value);
    if (it == f.writers.end())
      return "returned " + value_text(r) + ", which no write that may have taken effect wrote";
    w = it->second;
    if (w->invoke_us > r.complete_us) {
      return "returned " + value_text(r) + " from the future: " + ref(*w) +
             " was invoked after the read completed";
    }
  }
  if (r.applied_index > 0) {
    if (shown && shown->applied > r.applied_index) {
      return "named applied index " + std::to_string(r.applied_index) + ", below index " +
             std::to_string(shown->applied) + " it had shown (op #" +
             std::to_string(shown->applied_by) + ")";
    }
    if (auto p = against_index(r, w, f, r.applied_index, true,
                               "it named applied index " + std::to_string(r.applied_index)))
      return p;
  }
  if (!shown) return std::nullopt;
  if (shown->applied > 0) {
    const std::string how = "node " + std::to_string(r.node) + " had applied index " +
                            std::to_string(shown->applied) + " (shown by op #" +
                            std::to_string(shown->applied_by) + ")";
    if (auto p = against_index(r, w, f, shown->applied, false, how)) return p;
  }
  return against_shown_writes(r, w, f, *shown, r.node);
}

/// Records what a completed op shows about the node that answered it.
void show(Shown& s, const Operation& e, const KeyFacts& f) {
  std::uint64_t index = 0;
  const Operation* writer = nullptr;
  if (e.kind == OpKind::Read) {
    if (e.read_value) {
      const auto it = f.writers.find(*e.read_value);
      if (it != f.writers.end()) writer = it->second;
      if (writer && writer->outcome == Outcome::Ok) index = writer->log_index;
    }
    index = std::max(index, e.applied_index);
  } else if (changes_value(e)) {
    index = e.log_index;
    if (e.kind != OpKind::Delete) writer = &e;
  }
  if (index > s.applied) {
    s.applied = index;
    s.applied_by = e.id;
  }
  if (!writer) return;
  const Operation*& slot = s.writer[e.key];
  if (!slot || writer->invoke_us > slot->invoke_us) slot = writer;
}

/// Walks one node's ops by call time; an op becomes evidence once it has
/// completed before the next one's call.
void check_node(int node, std::vector<const Operation*>& ops,
                const std::unordered_map<std::string, KeyFacts>& facts, const Runs& runs,
                std::vector<StaleReadProblem>& problems) {
  std::sort(ops.begin(), ops.end(), [](const Operation* a, const Operation* b) {
    return a->invoke_us != b->invoke_us ? a->invoke_us < b->invoke_us : a->id < b->id;
  });
  using Pending = std::pair<std::int64_t, const Operation*>;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending;
  std::map<int, Shown> shown;  // per run of the node
  for (const Operation* op : ops) {
    while (!pending.empty() && pending.top().first < op->invoke_us) {
      const Operation& e = *pending.top().second;
      pending.pop();
      if (const int run = runs.of(e); run >= 0) show(shown[run], e, facts.at(e.key));
    }
    if (op->kind == OpKind::Read && op->stale) {
      const int run = runs.of(*op);
      const auto s = run >= 0 ? shown.find(run) : shown.end();
      const Shown* before = s == shown.end() ? nullptr : &s->second;
      if (auto p = judge(*op, facts.at(op->key), before)) {
        problems.push_back({op->id, op->key, node,
                            "stale read " + ref(*op) + " of " + op->key + " on node " +
                                std::to_string(node) + " " + *p});
      }
    }
    pending.push({op->complete_us, op});
  }
}

}  // namespace

std::vector<StaleReadProblem> check_stale_reads(const std::vector<Operation>& history,
                                                const std::vector<RestartWindow>& restarts) {
  const bool any = std::any_of(history.begin(), history.end(), [](const Operation& op) {
    return op.stale && op.outcome == Outcome::Ok;
  });
  if (!any) return {};
  const std::unordered_map<std::string, KeyFacts> facts = gather(history);
  std::map<int, std::vector<const Operation*>> by_node;
  for (const Operation& op : history) {
    if (op.outcome == Outcome::Ok && op.node >= 0) by_node[op.node].push_back(&op);
  }
  std::vector<StaleReadProblem> problems;
  for (auto& [node, ops] : by_node) check_node(node, ops, facts, Runs(restarts, node), problems);
  std::sort(problems.begin(), problems.end(),
            [](const StaleReadProblem& a, const StaleReadProblem& b) { return a.op_id < b.op_id; });
  return problems;
}

}  // namespace raft::chaos
