// Wing-Gong-Lowe linearizability search over one key's register history.
#include "chaos/checker.hpp"

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

namespace raft::chaos {

namespace {

constexpr int kAbsent = -1;  ///< register value id of "no such key"
constexpr int kNil = -1;     ///< end of the event list

/// An op as the search sees it: values interned to small integers.
struct SearchOp {
  int id = 0;  ///< the history's op id
  OpKind kind = OpKind::Read;
  bool unknown = false;
  int value = kAbsent;     ///< write/cas: new value; read: the value returned
  int expected = kAbsent;  ///< cas
  bool swapped = false;
  int found = -1;  ///< delete: 1 the key existed, 0 it did not, -1 not known
};

/// One call or return event in a doubly linked list (Lowe's "dancing links":
/// removals are undone in reverse order, so relinking is O(1)).
struct Event {
  int op = 0;
  bool is_call = true;
  int match = kNil;  ///< call: its return event, kNil for unknown ops
  int prev = kNil;
  int next = kNil;
};

/// Applies `op` to register value `state`. Returns false if the op cannot
/// take effect in that state (its result contradicts it).
bool step(const SearchOp& op, int state, int* next) {
  *next = state;
  switch (op.kind) {
    case OpKind::Read: return state == op.value;
    case OpKind::Write: *next = op.value; return true;
    case OpKind::Cas:
      if (op.unknown || op.swapped) {
        // An unknown cas that would not swap is indistinguishable from one
        // that never happened, so only its swapping effect is explored.
        if (state != op.expected) return false;
        *next = op.value;
        return true;
      }
      return state != op.expected;  // answered 409: the value differed
    case OpKind::Delete:
      // Its answer says whether the key existed when it took effect.
      if (!op.unknown && op.found >= 0 && (state != kAbsent) != (op.found == 1)) return false;
      *next = kAbsent;
      return true;
  }
  return false;
}

/// A configuration of the search: which ops are linearized and the register
/// value. The set is kept as a 128-bit Zobrist hash (the XOR of two random
/// words per linearized op), updated in O(1) as ops are linearized and undone,
/// so memory stays ~40 bytes per configuration however long the history is.
/// Two different sets collide with probability ~2^-128 per pair; a collision
/// could only hide a valid order (a false alarm), never hide a violation.
struct Configuration {
  std::uint64_t a = 0, b = 0;
  bool operator==(const Configuration&) const = default;
};

struct ConfigurationHash {
  std::size_t operator()(const Configuration& c) const { return static_cast<std::size_t>(c.a); }
};

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// The configuration of linearized set (hashes a, b) with register `state`.
Configuration with_state(std::uint64_t a, std::uint64_t b, int state) {
  const auto s = static_cast<std::uint64_t>(static_cast<std::int64_t>(state) + 2);
  return {a ^ splitmix64(s * 2 + 0x5151), b ^ splitmix64(s * 2 + 0x7373)};
}

std::string describe(const Operation& op) {
  std::string s = "op #" + std::to_string(op.id) + " (client " + std::to_string(op.client) + ", " +
                  std::string(kind_name(op.kind));
  switch (op.kind) {
    case OpKind::Read:
      s += " returned " + (op.read_value ? "'" + *op.read_value + "'" : std::string("absent"));
      break;
    case OpKind::Write: s += " '" + op.value + "'"; break;
    case OpKind::Cas:
      s += " '" + op.expected + "' -> '" + op.value + "'" +
           (op.outcome == Outcome::Unknown ? std::string(", outcome unknown")
            : op.cas_swapped               ? ", swapped"
                                           : ", refused (409)");
      break;
    case OpKind::Delete:
      if (op.outcome == Outcome::Unknown) {
        s += ", outcome unknown";
      } else if (op.delete_found) {
        s += *op.delete_found ? ", found the key" : ", found no key";
      }
      break;
  }
  return s + ", " + std::to_string(op.invoke_us) + "-" + std::to_string(op.complete_us) + " us)";
}

/// What the history shows the register held: values reads returned and cas
/// ops expected, and whether the key was ever seen absent.
struct Observed {
  std::unordered_set<std::string> values;
  bool absence = false;  ///< what an unknown delete could explain
};

Observed observe(const std::vector<Operation>& history) {
  Observed seen;
  for (const Operation& op : history) {
    if (op.kind == OpKind::Read && op.outcome == Outcome::Ok && op.read_value) {
      seen.values.insert(*op.read_value);
    }
    if (op.kind == OpKind::Read && op.outcome == Outcome::Ok && !op.read_value) {
      seen.absence = true;
    }
    if (op.kind == OpKind::Delete && op.outcome == Outcome::Ok && op.delete_found == false) {
      seen.absence = true;
    }
    if (op.kind == OpKind::Cas && op.outcome != Outcome::Fail) seen.values.insert(op.expected);
  }
  return seen;
}

/// An unknown op whose effect nobody observed (see check_key).
bool unobserved(const Operation& op, const Observed& seen) {
  if (op.outcome != Outcome::Unknown) return false;
  return op.kind == OpKind::Delete ? !seen.absence : !seen.values.count(op.value);
}

/// The ops that constrain the register, values interned; source[i] is the
/// Operation behind ops[i].
struct SearchInput {
  std::vector<SearchOp> ops;
  std::vector<const Operation*> source;
};

SearchInput search_input(const std::vector<Operation>& history, bool prune_unobserved) {
  const Observed seen = observe(history);
  std::unordered_map<std::string, int> value_ids;
  const auto intern = [&](const std::string& v) {
    return value_ids.emplace(v, static_cast<int>(value_ids.size())).first->second;
  };
  SearchInput in;
  for (const Operation& op : history) {
    if (op.outcome == Outcome::Fail) continue;
    if (op.outcome == Outcome::Unknown && op.kind == OpKind::Read) continue;
    if (prune_unobserved && unobserved(op, seen)) continue;
    SearchOp s;
    s.id = op.id;
    s.kind = op.kind;
    s.unknown = op.outcome == Outcome::Unknown;
    if (op.kind == OpKind::Read) {
      s.value = op.read_value ? intern(*op.read_value) : kAbsent;
    } else if (op.kind == OpKind::Delete) {
      s.value = kAbsent;
      if (op.delete_found) s.found = *op.delete_found ? 1 : 0;
    } else {
      s.value = intern(op.value);
    }
    if (op.kind == OpKind::Cas) s.expected = intern(op.expected);
    s.swapped = op.cas_swapped;
    in.ops.push_back(s);
    in.source.push_back(&op);
  }
  return in;
}

/// The call and return events in time order, linked; events[0] is the list
/// head (a sentinel).
struct EventList {
  std::vector<Event> events;

  void unlink(int e) {
    events[events[e].prev].next = events[e].next;
    if (events[e].next != kNil) events[events[e].next].prev = events[e].prev;
  }
  void relink(int e) {
    events[events[e].prev].next = e;
    if (events[e].next != kNil) events[events[e].next].prev = e;
  }
};

/// At equal times calls go first (the more permissive reading: the two ops
/// are taken as concurrent). Unknown ops have no return.
EventList event_list(const SearchInput& in) {
  struct Stamp {
    std::int64_t time;
    bool is_return;
    int op;
  };
  std::vector<Stamp> stamps;
  for (std::size_t i = 0; i < in.ops.size(); ++i) {
    stamps.push_back({in.source[i]->invoke_us, false, static_cast<int>(i)});
    if (!in.ops[i].unknown)
      stamps.push_back({in.source[i]->complete_us, true, static_cast<int>(i)});
  }
  std::sort(stamps.begin(), stamps.end(), [](const Stamp& a, const Stamp& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_return != b.is_return) return !a.is_return;
    return a.op < b.op;
  });
  EventList list;
  list.events.resize(stamps.size() + 1);
  std::vector<Event>& events = list.events;
  std::vector<int> call_of(in.ops.size(), kNil);
  std::vector<int> return_of(in.ops.size(), kNil);
  for (std::size_t i = 0; i < stamps.size(); ++i) {
    const int e = static_cast<int>(i) + 1;
    events[e].op = stamps[i].op;
    events[e].is_call = !stamps[i].is_return;
    events[e].prev = e - 1;
    events[e].next = i + 1 < stamps.size() ? e + 1 : kNil;
    (stamps[i].is_return ? return_of : call_of)[stamps[i].op] = e;
  }
  events[0].next = stamps.empty() ? kNil : 1;
  for (std::size_t i = 0; i < in.ops.size(); ++i) events[call_of[i]].match = return_of[i];
  return list;
}

/// Wing and Gong's depth-first search with Lowe's memo of configurations:
/// linearize the first call that fits, start over from the list's head;
/// at a return whose call is not linearized, undo the last choice.
class Search {
 public:
  Search(const SearchInput& in, EventList& list, const CheckOptions& options,
         std::chrono::steady_clock::time_point started, KeyVerdict& verdict)
      : in_(in), list_(list), options_(options), started_(started), verdict_(verdict) {
    zobrist_a_.resize(in.ops.size());
    zobrist_b_.resize(in.ops.size());
    for (std::size_t i = 0; i < in.ops.size(); ++i) {
      zobrist_a_[i] = splitmix64(2 * i + 1);
      zobrist_b_[i] = splitmix64(2 * i + 2 + (std::uint64_t{1} << 62));
    }
    constexpr std::size_t kBytesPerConfiguration = 48;  // node, key, bucket
    max_configurations_ =
        std::min(options.max_configurations, options.max_bytes / kBytesPerConfiguration);
  }

  /// True if every op was linearized (false also when it gave up).
  bool run() {
    cursor_ = list_.events[0].next;
    while (cursor_ != kNil) {
      const Event& ev = list_.events[cursor_];
      if (ev.is_call) {
        if (linearize(ev)) continue;
        if (verdict_.gave_up) break;
        cursor_ = ev.next;
        continue;
      }
      // A return whose op is not linearized yet: this prefix cannot be extended.
      note_stuck();
      if (stack_.empty()) break;
      backtrack();
    }
    return cursor_ == kNil && !verdict_.gave_up;
  }
  std::size_t configurations() const { return seen_.size(); }
  /// The return event the deepest prefix could not get past, or kNil.
  int stuck_event() const { return stuck_event_; }

 private:
  struct Frame {
    int call_event;
    int state_before;
  };

  bool over_budget() const {
    return seen_.size() > max_configurations_ ||
           ((seen_.size() & 0xffff) == 0 &&
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count() >
                options_.max_seconds);
  }

  /// Takes the call at the cursor into the order if its result fits the
  /// register and the configuration it leads to is new; sets gave_up when
  /// the budget runs out.
  bool linearize(const Event& ev) {
    int next_state = state_;
    if (!step(in_.ops[ev.op], state_, &next_state)) return false;
    const Configuration c =
        with_state(set_a_ ^ zobrist_a_[ev.op], set_b_ ^ zobrist_b_[ev.op], next_state);
    if (!seen_.insert(c).second) return false;
    if (over_budget()) {
      verdict_.gave_up = true;
      return false;
    }
    stack_.push_back({cursor_, state_});
    state_ = next_state;
    set_a_ ^= zobrist_a_[ev.op];
    set_b_ ^= zobrist_b_[ev.op];
    list_.unlink(cursor_);
    if (ev.match != kNil) list_.unlink(ev.match);
    if (stack_.size() > verdict_.deepest_prefix) {
      verdict_.deepest_prefix = stack_.size();
      stuck_event_ = kNil;
    }
    cursor_ = list_.events[0].next;
    return true;
  }

  /// Remembers where the deepest prefix first got stuck. The last ops of the
  /// order are what a reader needs (and copying the whole stack at every new
  /// depth would make long histories quadratic).
  void note_stuck() {
    if (stack_.size() != verdict_.deepest_prefix || stuck_event_ != kNil) return;
    stuck_event_ = cursor_;
    verdict_.deepest_order.clear();
    const std::size_t tail = std::min<std::size_t>(stack_.size(), 20);
    for (std::size_t i = stack_.size() - tail; i < stack_.size(); ++i)
      verdict_.deepest_order.push_back(in_.ops[list_.events[stack_[i].call_event].op].id);
  }

  /// Undoes the last op taken and moves on to the call after it.
  void backtrack() {
    const Frame frame = stack_.back();
    stack_.pop_back();
    const Event& call = list_.events[frame.call_event];
    if (call.match != kNil) list_.relink(call.match);
    list_.relink(frame.call_event);
    state_ = frame.state_before;
    set_a_ ^= zobrist_a_[call.op];
    set_b_ ^= zobrist_b_[call.op];
    cursor_ = call.next;
  }

  const SearchInput& in_;
  EventList& list_;
  const CheckOptions& options_;
  std::chrono::steady_clock::time_point started_;
  KeyVerdict& verdict_;
  std::vector<std::uint64_t> zobrist_a_, zobrist_b_;
  std::size_t max_configurations_ = 0;
  std::uint64_t set_a_ = 0, set_b_ = 0;  // the linearized set
  std::unordered_set<Configuration, ConfigurationHash> seen_;
  std::vector<Frame> stack_;
  int state_ = kAbsent;
  int cursor_ = kNil;
  int stuck_event_ = kNil;
};

/// The verdict's sentence.
void explain(KeyVerdict& verdict, const SearchInput& in, const EventList& list, int stuck_event) {
  if (!verdict.linearizable && !verdict.gave_up) {
    if (stuck_event != kNil) {
      const Operation& stuck = *in.source[list.events[stuck_event].op];
      verdict.stuck_op = stuck.id;
      verdict.explanation = "not linearizable: the longest valid order covers " +
                            std::to_string(verdict.deepest_prefix) + " of " +
                            std::to_string(in.ops.size()) + " ops, and then " + describe(stuck) +
                            " completed but cannot take effect in any order consistent with it";
    } else {
      verdict.explanation = "not linearizable";
    }
  } else if (verdict.gave_up) {
    verdict.explanation = "gave up after " + std::to_string(verdict.configurations) +
                          " configurations: neither proven nor refuted";
  }
}

/// One search over `history`; with `prune_unobserved`, unknown writes and cas
/// whose value nobody ever observed are left out (see check_key).
KeyVerdict search(const std::string& key, const std::vector<Operation>& history,
                  const CheckOptions& options, bool prune_unobserved) {
  const auto started = std::chrono::steady_clock::now();
  KeyVerdict verdict;
  verdict.key = key;
  const SearchInput in = search_input(history, prune_unobserved);
  verdict.ops_checked = in.ops.size();
  EventList list = event_list(in);
  Search search(in, list, options, started, verdict);
  verdict.linearizable = search.run();
  verdict.configurations = search.configurations();
  explain(verdict, in, list, search.stuck_event());
  return verdict;
}

}  // namespace

KeyVerdict check_key(const std::string& key, const std::vector<Operation>& history,
                     const CheckOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  // Unknown ops make the search exponential: each may or may not have taken
  // effect before every later op. But one whose value no read returned and no
  // cas expected can only matter by hiding the previous value from a refused
  // cas. So first search without them: a linearization found is valid for the
  // full history too (those ops "never happened"). Only if none exists is the
  // full history searched, which decides either way.
  KeyVerdict verdict = search(key, history, options, /*prune_unobserved=*/true);
  if (!verdict.linearizable) {
    const std::size_t pruned_configurations = verdict.configurations;
    verdict = search(key, history, options, /*prune_unobserved=*/false);
    verdict.configurations += pruned_configurations;
  }
  verdict.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return verdict;
}

std::vector<KeyVerdict> check_history(const std::vector<Operation>& history,
                                      const CheckOptions& options) {
  std::map<std::string, std::vector<Operation>> by_key;
  for (const Operation& op : history) by_key[op.key].push_back(op);
  std::vector<KeyVerdict> out;
  for (const auto& [key, ops] : by_key) out.push_back(check_key(key, ops, options));
  return out;
}

namespace {

/// True if `later` (not failed) may have taken effect after `op`: it did not
/// certainly complete before `op` was invoked.
bool may_follow(const Operation& later, const Operation& op) {
  return later.outcome != Outcome::Fail &&
         !(later.outcome == Outcome::Ok && later.complete_us < op.invoke_us);
}

/// An acknowledged write whose key is absent at the end is lost unless a
/// delete may have taken effect after it.
std::optional<LostWrite> check_absent(const Operation& w, const std::vector<Operation>& history) {
  for (const Operation& d : history) {
    if (d.kind == OpKind::Delete && d.key == w.key && may_follow(d, w)) return std::nullopt;
  }
  return LostWrite{w.id, w.key, w.value,
                   "acknowledged write of '" + w.value + "' (op #" + std::to_string(w.id) +
                       ") but the key is absent after the final heal, and no delete may have "
                       "followed it"};
}

/// An acknowledged delete is lost if the final value was written by an op
/// that completed before the delete was invoked (values are unique per write).
std::optional<LostWrite> check_delete(const Operation& d, const std::string& final_value,
                                      const Operation* writer) {
  if (writer == nullptr || may_follow(*writer, d)) return std::nullopt;
  return LostWrite{d.id,
                   d.key,
                   {},
                   "acknowledged delete (op #" + std::to_string(d.id) +
                       ") is lost: the final value '" + final_value + "' comes from op #" +
                       std::to_string(writer->id) + ", which completed before it was invoked"};
}

}  // namespace

std::vector<LostWrite> find_lost_writes(const std::vector<Operation>& history,
                                        const std::map<std::string, FinalRead>& final_reads) {
  std::vector<LostWrite> lost;
  // (key, value) -> the first op that may have written it.
  std::map<std::pair<std::string, std::string>, const Operation*> writers;
  for (const Operation& f : history) {
    const bool writes = f.kind == OpKind::Write || f.kind == OpKind::Cas;
    if (writes && f.outcome != Outcome::Fail &&
        !(f.kind == OpKind::Cas && f.outcome == Outcome::Ok && !f.cas_swapped)) {
      writers.emplace(std::make_pair(f.key, f.value), &f);
    }
  }
  for (const Operation& w : history) {
    auto fr = final_reads.find(w.key);
    if (w.outcome != Outcome::Ok || fr == final_reads.end()) continue;
    const FinalRead& final_read = fr->second;
    if (w.kind == OpKind::Delete) {
      if (!final_read.value) continue;
      auto found = writers.find(std::make_pair(w.key, *final_read.value));
      const Operation* writer = found == writers.end() ? nullptr : found->second;
      if (auto l = check_delete(w, *final_read.value, writer)) lost.push_back(*l);
      continue;
    }
    const bool acknowledged = w.kind == OpKind::Write || (w.kind == OpKind::Cas && w.cas_swapped);
    if (!acknowledged) continue;
    LostWrite l{w.id, w.key, w.value, {}};
    if (!final_read.value) {
      if (auto absent = check_absent(w, history)) lost.push_back(*absent);
      continue;
    }
    if (*final_read.value == w.value) continue;
    // Who wrote the final value, and could that write come after this one?
    auto found = writers.find(std::make_pair(w.key, *final_read.value));
    const Operation* writer = found == writers.end() ? nullptr : found->second;
    if (writer == nullptr) {
      l.explanation = "the final value '" + *final_read.value +
                      "' was written by no operation that may have taken effect";
      lost.push_back(l);
      continue;
    }
    if (!may_follow(*writer, w)) {
      l.explanation = "acknowledged write of '" + w.value + "' (op #" + std::to_string(w.id) +
                      ") is lost: the final value '" + *final_read.value + "' comes from op #" +
                      std::to_string(writer->id) + ", which completed before it was invoked";
      lost.push_back(l);
    }
  }
  return lost;
}

int plant_stale_read(std::vector<Operation>& history, const std::string& key) {
  const auto is_ack_write = [&](const Operation& op) {
    return op.key == key && op.outcome == Outcome::Ok &&
           (op.kind == OpKind::Write || (op.kind == OpKind::Cas && op.cas_swapped));
  };
  for (auto read = history.rbegin(); read != history.rend(); ++read) {
    if (read->key != key || read->kind != OpKind::Read || read->outcome != Outcome::Ok) continue;
    // The latest-finishing write W2 that completed before the read, then a
    // write W that completed before W2 was invoked: W was overwritten.
    const Operation* w2 = nullptr;
    for (const Operation& op : history) {
      if (is_ack_write(op) && op.complete_us < read->invoke_us &&
          (!w2 || op.complete_us > w2->complete_us))
        w2 = &op;
    }
    if (!w2) return -1;
    for (const Operation& op : history) {
      if (is_ack_write(op) && op.complete_us < w2->invoke_us && op.value != read->read_value) {
        read->read_value = op.value;
        return read->id;
      }
    }
    return -1;
  }
  return -1;
}

}  // namespace raft::chaos
