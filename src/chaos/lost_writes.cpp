// Lost writes: what the final read of each key says about the acknowledged
// writes and deletes before it. One pass to gather, one to judge.
#include <limits>
#include <unordered_map>

#include "chaos/checker.hpp"

namespace raft::chaos {

namespace {

/// True if `later` (not failed) may have taken effect after `op`: it did not
/// certainly complete before `op` was invoked.
bool may_follow(const Operation& later, const Operation& op) {
  return later.outcome != Outcome::Fail &&
         !(later.outcome == Outcome::Ok && later.complete_us < op.invoke_us);
}

/// What one key's history holds for the check.
struct KeyFacts {
  /// value -> the first op that may have written it (values are unique).
  std::unordered_map<std::string, const Operation*> writers;
  bool unknown_delete = false;
  std::int64_t latest_delete_return = std::numeric_limits<std::int64_t>::min();  ///< of ok ones
};

bool may_write(const Operation& op) {
  return op.outcome != Outcome::Fail &&
         (op.kind == OpKind::Write ||
          (op.kind == OpKind::Cas && !(op.outcome == Outcome::Ok && !op.cas_swapped)));
}

std::unordered_map<std::string, KeyFacts> gather(
    const std::vector<Operation>& history, const std::map<std::string, FinalRead>& final_reads) {
  std::unordered_map<std::string, KeyFacts> facts;
  for (const auto& [key, read] : final_reads) facts[key];
  for (const Operation& op : history) {
    auto f = facts.find(op.key);
    if (f == facts.end()) continue;
    if (may_write(op)) f->second.writers.emplace(op.value, &op);
    if (op.kind == OpKind::Delete && op.outcome == Outcome::Unknown)
      f->second.unknown_delete = true;
    if (op.kind == OpKind::Delete && op.outcome == Outcome::Ok) {
      f->second.latest_delete_return = std::max(f->second.latest_delete_return, op.complete_us);
    }
  }
  return facts;
}

std::string op_ref(const Operation& op) { return "op #" + std::to_string(op.id); }

/// An acknowledged delete is lost if the final value was written by an op
/// that completed before the delete was invoked.
std::optional<LostWrite> judge_delete(const Operation& d, const std::string& final_value,
                                      const KeyFacts& f) {
  const auto writer = f.writers.find(final_value);
  if (writer == f.writers.end() || may_follow(*writer->second, d)) return std::nullopt;
  return LostWrite{d.id,
                   d.key,
                   {},
                   "acknowledged delete (" + op_ref(d) + ") is lost: the final value '" +
                       final_value + "' comes from " + op_ref(*writer->second) +
                       ", which completed before it was invoked"};
}

/// An acknowledged write is lost unless it is the final value or something
/// that may have followed it explains the final state.
std::optional<LostWrite> judge_write(const Operation& w, const FinalRead& final_read,
                                     const KeyFacts& f) {
  if (!final_read.value) {
    if (f.unknown_delete || f.latest_delete_return >= w.invoke_us) return std::nullopt;
    return LostWrite{w.id, w.key, w.value,
                     "acknowledged write of '" + w.value + "' (" + op_ref(w) +
                         ") but the key is absent after the final heal, and no delete may have "
                         "followed it"};
  }
  if (*final_read.value == w.value) return std::nullopt;
  const auto writer = f.writers.find(*final_read.value);
  if (writer == f.writers.end()) {
    return LostWrite{w.id, w.key, w.value,
                     "the final value '" + *final_read.value +
                         "' was written by no operation that may have taken effect"};
  }
  if (may_follow(*writer->second, w)) return std::nullopt;
  return LostWrite{w.id, w.key, w.value,
                   "acknowledged write of '" + w.value + "' (" + op_ref(w) +
                       ") is lost: the final value '" + *final_read.value + "' comes from " +
                       op_ref(*writer->second) + ", which completed before it was invoked"};
}

}  // namespace

std::vector<LostWrite> find_lost_writes(const std::vector<Operation>& history,
                                        const std::map<std::string, FinalRead>& final_reads) {
  const std::unordered_map<std::string, KeyFacts> facts = gather(history, final_reads);
  std::vector<LostWrite> lost;
  for (const Operation& op : history) {
    if (op.outcome != Outcome::Ok) continue;
    const auto final_read = final_reads.find(op.key);
    if (final_read == final_reads.end()) continue;
    const KeyFacts& f = facts.at(op.key);
    std::optional<LostWrite> l;
    if (op.kind == OpKind::Delete && final_read->second.value) {
      l = judge_delete(op, *final_read->second.value, f);
    } else if (op.kind == OpKind::Write || (op.kind == OpKind::Cas && op.cas_swapped)) {
      l = judge_write(op, final_read->second, f);
    }
    if (l) lost.push_back(std::move(*l));
  }
  return lost;
}

}  // namespace raft::chaos
