// Planting faults in the middle of a real history (see fault_plant.hpp).
// Each planting relies only on real-time order and unique values, so the
// result is certainly not linearizable, wherever the checker cuts it.
#include "chaos/fault_plant.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace raft::chaos {

namespace {

bool acknowledged(const Operation& op) {
  return op.outcome == Outcome::Ok &&
         (op.kind == OpKind::Write || (op.kind == OpKind::Cas && op.cas_swapped));
}

bool plain_read(const Operation& op) {
  return op.kind == OpKind::Read && op.outcome == Outcome::Ok && !op.stale;
}

/// What planting needs to know about one key's history.
struct Facts {
  std::vector<int> middle;                       ///< ops whose call lies in the middle 60 %
  std::vector<int> by_return;                    ///< acknowledged writes, by return time
  std::vector<int> by_call;                      ///< acknowledged writes, by call time
  std::unordered_map<std::string, int> writers;  ///< value -> ops that may have written it
  std::unordered_map<std::string, int> acked;    ///< value -> the acknowledged write of it
  std::unordered_set<std::string> seen;          ///< values completed ops saw
};

Facts facts_of(const std::vector<Operation>& ops) {
  Facts f;
  std::vector<int> all(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) all[i] = static_cast<int>(i);
  std::sort(all.begin(), all.end(),
            [&](int a, int b) { return ops[a].invoke_us < ops[b].invoke_us; });
  f.middle.assign(all.begin() + static_cast<std::ptrdiff_t>(all.size() / 5),
                  all.begin() + static_cast<std::ptrdiff_t>(all.size() - all.size() / 5));
  for (int i : all) {
    const Operation& op = ops[i];
    if (op.outcome != Outcome::Fail && (op.kind == OpKind::Write || op.kind == OpKind::Cas) &&
        !(op.kind == OpKind::Cas && op.outcome == Outcome::Ok && !op.cas_swapped))
      ++f.writers[op.value];
    if (acknowledged(op)) {
      f.by_call.push_back(i);
      f.acked.emplace(op.value, i);
    }
    if (plain_read(op) && op.read_value) f.seen.insert(*op.read_value);
    if (op.kind == OpKind::Cas && op.outcome == Outcome::Ok && op.cas_swapped)
      f.seen.insert(op.expected);
  }
  f.by_return = f.by_call;
  std::sort(f.by_return.begin(), f.by_return.end(),
            [&](int a, int b) { return ops[a].complete_us < ops[b].complete_us; });
  return f;
}

bool unique(const Facts& f, const std::string& value) {
  const auto it = f.writers.find(value);
  return it != f.writers.end() && it->second == 1;
}

/// The acknowledged writes that returned before `t`: [begin, end) of by_return.
std::size_t returned_before(const std::vector<Operation>& ops, const Facts& f, std::int64_t t) {
  return static_cast<std::size_t>(
      std::lower_bound(f.by_return.begin(), f.by_return.end(), t,
                       [&](int i, std::int64_t x) { return ops[i].complete_us < x; }) -
      f.by_return.begin());
}

/// Read `r` returns the value of a write W1 that another acknowledged write
/// W2 replaced: W1 returned before W2 was called, W2 before `r` was.
std::optional<std::string> stale_read(std::vector<Operation>& ops, const Facts& f, int r) {
  Operation& read = ops[r];
  const std::size_t n2 = returned_before(ops, f, read.invoke_us);
  if (n2 == 0) return std::nullopt;
  const Operation& w2 = ops[f.by_return[n2 - 1]];
  const std::size_t n1 = returned_before(ops, f, w2.invoke_us);
  for (std::size_t i = n1; i > 0 && i + 8 > n1; --i) {
    const Operation& w1 = ops[f.by_return[i - 1]];
    if (!unique(f, w1.value) || read.read_value == w1.value) continue;
    read.read_value = w1.value;
    return "read #" + std::to_string(read.id) + " returns '" + w1.value + "' of op #" +
           std::to_string(w1.id) + ", replaced by op #" + std::to_string(w2.id) +
           " before the read began";
  }
  return std::nullopt;
}

/// Read `r` returns the value of an acknowledged write called after it returned.
std::optional<std::string> future_read(std::vector<Operation>& ops, const Facts& f, int r) {
  Operation& read = ops[r];
  auto it = std::upper_bound(f.by_call.begin(), f.by_call.end(), read.complete_us,
                             [&](std::int64_t x, int i) { return x < ops[i].invoke_us; });
  for (int tries = 0; it != f.by_call.end() && tries < 8; ++it, ++tries) {
    const Operation& w = ops[*it];
    if (!unique(f, w.value) || read.read_value == w.value) continue;
    read.read_value = w.value;
    return "read #" + std::to_string(read.id) + " returns '" + w.value + "' of op #" +
           std::to_string(w.id) + ", called after the read returned";
  }
  return std::nullopt;
}

/// An acknowledged write X, added between the acknowledged write W of the
/// value read `r` returns and `r`: X returned before `r` was called and was
/// called after W returned, yet `r` still sees W's value.
std::optional<std::string> lost_write(std::vector<Operation>& ops, const Facts& f, int r) {
  const Operation read = ops[r];
  if (!read.read_value || !unique(f, *read.read_value)) return std::nullopt;
  const auto w = f.acked.find(*read.read_value);
  if (w == f.acked.end()) return std::nullopt;
  const Operation before = ops[w->second];  // a copy: the push_back below may move ops
  if (before.complete_us + 2 >= read.invoke_us) return std::nullopt;
  int next_id = 0;
  for (const Operation& op : ops) next_id = std::max(next_id, op.id + 1);
  Operation x;
  x.id = next_id;
  x.client = read.client;
  x.key = read.key;
  x.kind = OpKind::Write;
  x.value = "planted-lost-" + std::to_string(next_id);
  x.outcome = Outcome::Ok;
  x.invoke_us = std::max(before.complete_us + 1, read.invoke_us - 1000);
  x.complete_us = read.invoke_us - 1;
  x.attempts = 1;
  x.node = read.node;
  ops.push_back(x);
  return "write #" + std::to_string(x.id) + " of '" + x.value + "' acknowledged after op #" +
         std::to_string(before.id) + " and before read #" + std::to_string(read.id) +
         ", which still returns '" + *read.read_value + "'";
}

/// Compare-and-set `c` swapped and its value was read; it is answered 409
/// instead, so no op ever wrote the value that was read.
std::optional<std::string> flipped_cas(std::vector<Operation>& ops, const Facts& f, int c) {
  Operation& cas = ops[c];
  if (!unique(f, cas.value) || !f.seen.count(cas.value)) return std::nullopt;
  cas.cas_swapped = false;
  return "cas #" + std::to_string(cas.id) + " '" + cas.expected + "' -> '" + cas.value +
         "' answered 409, though '" + cas.value + "' was read";
}

}  // namespace

std::string_view plant_name(PlantKind kind) {
  switch (kind) {
    case PlantKind::StaleRead: return "stale read";
    case PlantKind::FutureRead: return "read from the future";
    case PlantKind::LostWrite: return "lost acknowledged write";
    case PlantKind::FlippedCas: return "flipped compare-and-set";
  }
  return "?";
}

std::optional<Planted> plant_fault(std::vector<Operation>& ops, PlantKind kind,
                                   std::mt19937_64& rng) {
  const Facts f = facts_of(ops);
  std::vector<int> places;
  for (int i : f.middle) {
    const Operation& op = ops[i];
    const bool fits =
        kind == PlantKind::FlippedCas ? acknowledged(op) && op.kind == OpKind::Cas : plain_read(op);
    if (fits) places.push_back(i);
  }
  std::shuffle(places.begin(), places.end(), rng);
  for (int i : places) {
    const int id = ops[i].id;
    std::optional<std::string> what;
    switch (kind) {
      case PlantKind::StaleRead: what = stale_read(ops, f, i); break;
      case PlantKind::FutureRead: what = future_read(ops, f, i); break;
      case PlantKind::LostWrite: what = lost_write(ops, f, i); break;
      case PlantKind::FlippedCas: what = flipped_cas(ops, f, i); break;
    }
    if (what) return Planted{kind, kind == PlantKind::LostWrite ? ops.back().id : id, *what};
  }
  return std::nullopt;
}

}  // namespace raft::chaos
