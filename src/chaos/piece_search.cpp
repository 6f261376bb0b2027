// Wing-Gong-Lowe search over one piece of a key's register history.
#include "piece_search.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

namespace raft::chaos::detail {

namespace {

constexpr int kNil = -1;  ///< end of the event list

/// One call or return event in a doubly linked list (Lowe's "dancing links":
/// removals are undone in reverse order, so relinking is O(1)).
struct Event {
  int op = 0;
  bool is_call = true;
  int match = kNil;  ///< call: its return event
  int prev = kNil;
  int next = kNil;
  std::int64_t time = 0;
};

/// The events in time order, linked; events[0] is the list head (a sentinel).
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

/// Calls and returns of the Known and Required ops in time order (at equal
/// times calls first: the ops are taken as concurrent, the more permissive
/// reading). After them come the returns of Required ops due by the end, then
/// the final check, op `ops.size()`, whose call is reached only once every op
/// with a return has been taken. Optional ops are not in the list: they never
/// have to be taken, and scanning past the ones not taken at every step would
/// make long pieces slow.
EventList build_events(const std::vector<SearchOp>& ops) {
  struct Stamp {
    std::int64_t time;
    bool is_return;
    int op;
  };
  std::vector<Stamp> stamps;
  stamps.reserve(2 * ops.size() + 2);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].landing == Landing::Optional) continue;
    stamps.push_back({ops[i].call_us, false, static_cast<int>(i)});
    if (ops[i].return_us != kNoReturn)
      stamps.push_back({ops[i].return_us, true, static_cast<int>(i)});
  }
  std::sort(stamps.begin(), stamps.end(), [](const Stamp& a, const Stamp& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_return != b.is_return) return !a.is_return;
    return a.op < b.op;
  });
  constexpr std::int64_t kEnd = std::numeric_limits<std::int64_t>::max();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].landing == Landing::Required && ops[i].return_us == kNoReturn)
      stamps.push_back({kEnd, true, static_cast<int>(i)});
  }
  const int final_op = static_cast<int>(ops.size());
  stamps.push_back({kEnd, false, final_op});
  stamps.push_back({kEnd, true, final_op});

  EventList list;
  list.events.resize(stamps.size() + 1);
  std::vector<int> call_of(ops.size() + 1, kNil), return_of(ops.size() + 1, kNil);
  for (std::size_t i = 0; i < stamps.size(); ++i) {
    const int e = static_cast<int>(i) + 1;
    Event& ev = list.events[e];
    ev.op = stamps[i].op;
    ev.is_call = !stamps[i].is_return;
    ev.prev = e - 1;
    ev.next = i + 1 < stamps.size() ? e + 1 : kNil;
    ev.time = stamps[i].time;
    (stamps[i].is_return ? return_of : call_of)[stamps[i].op] = e;
  }
  list.events[0].next = 1;
  for (std::size_t i = 0; i <= ops.size(); ++i) {
    if (call_of[i] != kNil) list.events[call_of[i]].match = return_of[i];
  }
  return list;
}

/// Applies `op` to register value `state`. False if its result contradicts it.
bool step(const SearchOp& op, int state, int* next) {
  *next = state;
  switch (op.effect) {
    case Effect::Read: return state == op.value;
    case Effect::Write: *next = op.value; return true;
    case Effect::CasSwap:
      if (state != op.expected) return false;
      *next = op.value;
      return true;
    case Effect::CasRefused: return state != op.expected;
    case Effect::Delete:
      if (op.found >= 0 && (state != kAbsent) != (op.found == 1)) return false;
      *next = kAbsent;
      return true;
  }
  return false;
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// A configuration of the search: which ops are in the order and the register
/// value. The set is kept as a 128-bit Zobrist hash (the XOR of two random
/// words per op taken), updated in O(1), so memory stays small per
/// configuration however long the piece. Two different sets collide with
/// probability ~2^-128 per pair; a collision could only hide a valid order
/// (a false alarm), never a violation. Pooled ops are not in the set but
/// counted beside it: having used fewer of a pool is never worse, so a
/// configuration reached again with no fewer used of each pool is pruned.
struct Configuration {
  std::uint64_t a = 0, b = 0;
  bool operator==(const Configuration&) const = default;
};

/// How many of each pool a configuration used, at the fewest seen.
struct PoolUse {
  std::uint32_t writes = 0;
  std::uint32_t deletes = 0;
};

/// The configurations seen: open addressing with linear probing, 24 bytes a
/// slot, so a search of millions of configurations fits in a few hundred MB
/// (a node-based map takes ~3 times that). The all-zero key marks a free
/// slot; a configuration that hashes to it is stored as (0, 1).
class SeenTable {
 public:
  SeenTable() : slots_(1u << 10) {}

  /// The slot of `c`, inserted with `use` if absent; `fresh` says which.
  PoolUse& find_or_add(Configuration c, PoolUse use, bool* fresh) {
    if (c.a == 0 && c.b == 0) c.b = 1;
    if (4 * (size_ + 1) > 3 * slots_.size()) grow();
    Slot& slot = probe(slots_, c);
    *fresh = slot.key.a == 0 && slot.key.b == 0;
    if (*fresh) {
      slot = {c, use};
      ++size_;
    }
    return slot.use;
  }

 private:
  struct Slot {
    Configuration key;
    PoolUse use;
  };

  static Slot& probe(std::vector<Slot>& slots, const Configuration& c) {
    const std::size_t mask = slots.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(c.a) & mask;; i = (i + 1) & mask) {
      Slot& s = slots[i];
      if (s.key == c || (s.key.a == 0 && s.key.b == 0)) return s;
    }
  }

  void grow() {
    std::vector<Slot> bigger(slots_.size() * 2);
    for (const Slot& s : slots_) {
      if (s.key.a != 0 || s.key.b != 0) probe(bigger, s.key) = s;
    }
    slots_.swap(bigger);
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

Configuration with_state(std::uint64_t a, std::uint64_t b, int state) {
  const auto s = static_cast<std::uint64_t>(static_cast<std::int64_t>(state) + 8);
  return {a ^ splitmix64(s * 2 + 0x5151), b ^ splitmix64(s * 2 + 0x7373)};
}

/// Walks the list. At each configuration the candidates are the calls before
/// the first return whose op is not taken yet, and the optional ops called
/// before that return (a pool offers only its next op). It takes the first
/// candidate that fits and starts over from the head; when none fits, it
/// undoes the last choice and tries the candidate after it. Completed ops
/// are tried first, then Required ones, then optional ones, so an op of
/// unknown outcome is taken where it is needed rather than as early as it
/// may be. The order of the candidates changes how soon an order is found,
/// not which configurations exist.
class Search {
 public:
  Search(const std::vector<SearchOp>& ops, int initial, int final_value, const SearchBudget& budget,
         Pools pools)
      : ops_(ops),
        unlimited_(pools == Pools::Unlimited),
        final_op_(static_cast<int>(ops.size())),
        final_value_(final_value),
        list_(build_events(ops)),
        budget_(budget),
        started_(std::chrono::steady_clock::now()),
        state_(initial) {
    zobrist_a_.resize(ops.size() + 1);
    zobrist_b_.resize(ops.size() + 1);
    for (std::size_t i = 0; i <= ops.size(); ++i) {
      zobrist_a_[i] = splitmix64(2 * i + 1);
      zobrist_b_[i] = splitmix64(2 * i + 2 + (std::uint64_t{1} << 62));
    }
    for (int i = 0; i < final_op_; ++i) {
      if (ops[i].landing != Landing::Optional) continue;
      const int pool = pool_index(i);
      (pool >= 0 ? pool_order_[pool] : loose_).push_back(i);
    }
    const auto by_call = [&](int a, int b) {
      return ops[a].call_us != ops[b].call_us ? ops[a].call_us < ops[b].call_us : a < b;
    };
    for (auto* v : {&pool_order_[0], &pool_order_[1], &loose_})
      std::sort(v->begin(), v->end(), by_call);
    taken_.assign(ops.size(), false);
  }

  SearchOutcome run() {
    cursor_ = list_.events[0].next;
    while (!done_ && !gave_up_) {
      if (pass_ == Pass::Optional) {
        if (slot_ < 2 + loose_.size()) {
          if (!take_slot(slot_)) ++slot_;
          continue;
        }
        note_stuck();
        if (stack_.empty()) break;
        backtrack();
        continue;
      }
      const Event& ev = list_.events[cursor_];
      if (!ev.is_call) {
        pass_ = pass_ == Pass::Known ? Pass::Required : Pass::Optional;
        if (pass_ == Pass::Required) cursor_ = list_.events[0].next;
        slot_ = 0;
        frontier_ = ev.time;
        continue;
      }
      const bool required = ev.op != final_op_ && ops_[ev.op].landing == Landing::Required;
      if (required == (pass_ == Pass::Required) && take_event(cursor_)) continue;
      cursor_ = ev.next;
    }
    return finish();
  }

 private:
  enum class Pass : std::uint8_t { Known, Required, Optional };

  struct Frame {
    int op;
    int event;  ///< its call event, or for an optional op the return that bounded it
    int slot;   ///< -1: taken from the list; 0, 1: a pool; 2+: a loose optional op
    int state_before;
    Pass pass;
    std::int64_t frontier;
  };

  int pool_index(int op) const {
    if (op == final_op_ || ops_[op].landing != Landing::Optional) return -1;
    return ops_[op].pool == Pool::Writes ? 0 : ops_[op].pool == Pool::Deletes ? 1 : -1;
  }

  bool over_budget() const {
    return visits_ > budget_.max_configurations ||
           ((visits_ & 0x3fff) == 0 &&
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count() >
                budget_.max_seconds);
  }

  /// Records the configuration that taking `op` (of `pool`, -1: none) leads
  /// to; false if it was seen before with no more of each pool used.
  bool remember(int op, int pool, int next) {
    const Configuration c =
        pool >= 0 ? with_state(set_a_, set_b_, next)
                  : with_state(set_a_ ^ zobrist_a_[op], set_b_ ^ zobrist_b_[op], next);
    const PoolUse use = unlimited_
                            ? PoolUse{}
                            : PoolUse{static_cast<std::uint32_t>(next_pooled_[0] + (pool == 0)),
                                      static_cast<std::uint32_t>(next_pooled_[1] + (pool == 1))};
    bool fresh = false;
    PoolUse& best = seen_.find_or_add(c, use, &fresh);
    if (!fresh) {
      if (use.writes >= best.writes && use.deletes >= best.deletes) return false;
      if (use.writes + use.deletes < best.writes + best.deletes) best = use;
    }
    ++visits_;
    if (over_budget()) {
      gave_up_ = true;
      return false;
    }
    return true;
  }

  /// Takes the op of call event `e` if it fits and leads somewhere new.
  bool take_event(int e) {
    const Event& ev = list_.events[e];
    int next = state_;
    if (ev.op == final_op_) {
      if (final_value_ != kAnyValue && state_ != final_value_) return false;
    } else if (!step(ops_[ev.op], state_, &next)) {
      return false;
    }
    if (!remember(ev.op, -1, next)) return false;
    stack_.push_back({ev.op, e, -1, state_, pass_, frontier_});
    state_ = next;
    set_a_ ^= zobrist_a_[ev.op];
    set_b_ ^= zobrist_b_[ev.op];
    list_.unlink(e);
    if (ev.match != kNil) list_.unlink(ev.match);
    after_take(ev.op);
    return true;
  }

  /// Whether a pooled op leaving `value` can help here. Only an op that does
  /// not fit now but would after it: a refused cas that expected what the
  /// register holds, a delete that found the key where it is absent, or (for
  /// a delete) a read of an absent key or a delete that found none. If a
  /// valid order takes a pooled op anywhere else, one exists that takes it
  /// just before the op it helps instead (nothing between can depend on a
  /// value no one reads), so the search loses nothing.
  bool pool_helps(int value) const {
    if (state_ == value) return false;
    for (int e = list_.events[0].next; e != cursor_; e = list_.events[e].next) {
      const Event& ev = list_.events[e];
      if (!ev.is_call) continue;
      if (ev.op == final_op_) return value == kAbsent && final_value_ == kAbsent;
      const SearchOp& op = ops_[ev.op];
      int next = 0;
      if (!step(op, state_, &next) && step(op, value, &next)) return true;
    }
    return false;
  }

  /// Takes the optional op of `slot` if it is callable by now, fits and leads
  /// somewhere new; a pooled one only where it helps (see pool_helps).
  bool take_slot(std::size_t slot) {
    int op = -1;
    if (slot < 2) {
      const std::vector<int>& order = pool_order_[slot];
      const std::size_t next = unlimited_ ? 0 : next_pooled_[slot];
      if (next >= order.size()) return false;
      op = order[next];
      if (!pool_helps(slot == 0 ? kJunk : kAbsent)) return false;
    } else {
      op = loose_[slot - 2];
      if (taken_[op]) return false;
    }
    int next = state_;
    if (ops_[op].call_us > frontier_ || !step(ops_[op], state_, &next)) return false;
    const int pool = slot < 2 ? static_cast<int>(slot) : -1;
    if (!remember(op, pool, next)) return false;
    stack_.push_back({op, cursor_, static_cast<int>(slot), state_, Pass::Optional, frontier_});
    state_ = next;
    if (pool >= 0) {
      ++next_pooled_[pool];
    } else {
      taken_[op] = true;
      set_a_ ^= zobrist_a_[op];
      set_b_ ^= zobrist_b_[op];
    }
    after_take(op);
    return true;
  }

  void after_take(int op) {
    if (stack_.size() > out_.deepest) {
      out_.deepest = stack_.size();
      stuck_noted_ = false;
    }
    if (op == final_op_) {
      done_ = true;
      return;
    }
    cursor_ = list_.events[0].next;
    pass_ = Pass::Known;
  }

  /// Remembers where the deepest order first got stuck. Only its last ops
  /// are kept: copying the whole stack at every new depth would make long
  /// pieces quadratic.
  void note_stuck() {
    if (stack_.size() != out_.deepest || stuck_noted_) return;
    stuck_noted_ = true;
    const int op = list_.events[cursor_].op;
    out_.stuck = op == final_op_ ? -1 : op;
    out_.deepest_tail.clear();
    const std::size_t tail = std::min<std::size_t>(stack_.size(), 20);
    for (std::size_t i = stack_.size() - tail; i < stack_.size(); ++i)
      out_.deepest_tail.push_back(stack_[i].op);
  }

  /// Undoes the last op taken and moves on to the candidate after it.
  void backtrack() {
    const Frame f = stack_.back();
    stack_.pop_back();
    state_ = f.state_before;
    frontier_ = f.frontier;
    if (f.slot < 0) {
      const Event& call = list_.events[f.event];
      if (call.match != kNil) list_.relink(call.match);
      list_.relink(f.event);
      set_a_ ^= zobrist_a_[f.op];
      set_b_ ^= zobrist_b_[f.op];
      cursor_ = call.next;
      pass_ = f.pass;
      return;
    }
    if (f.slot < 2) {
      assert(next_pooled_[f.slot] > 0);
      --next_pooled_[f.slot];
    } else {
      taken_[f.op] = false;
      set_a_ ^= zobrist_a_[f.op];
      set_b_ ^= zobrist_b_[f.op];
    }
    cursor_ = f.event;
    pass_ = Pass::Optional;
    slot_ = static_cast<std::size_t>(f.slot) + 1;
  }

  SearchOutcome finish() {
    out_.configurations = visits_;
    if (done_) {
      out_.decision = Decision::Linearizable;
      for (const Frame& f : stack_) {
        if (f.op != final_op_ && ops_[f.op].landing == Landing::Optional)
          out_.optional_used.push_back(f.op);
        if (f.slot == 0 || f.slot == 1) out_.pooled_frontiers[f.slot].push_back(f.frontier);
      }
      out_.pooled_writes_used = next_pooled_[0];
      out_.pooled_deletes_used = next_pooled_[1];
    } else if (!gave_up_) {
      out_.decision = Decision::Violation;
    }
    return std::move(out_);
  }

  const std::vector<SearchOp>& ops_;
  const bool unlimited_;  ///< Pools::Unlimited
  const int final_op_;
  const int final_value_;
  EventList list_;
  const SearchBudget budget_;
  const std::chrono::steady_clock::time_point started_;
  std::vector<std::uint64_t> zobrist_a_, zobrist_b_;
  std::vector<int> pool_order_[2];       ///< each pool's ops, earliest call first
  std::size_t next_pooled_[2] = {0, 0};  ///< pooled ops taken (the next to take, when counted)
  std::vector<int> loose_;               ///< optional ops in no pool, earliest call first
  std::vector<bool> taken_;              ///< per op: a loose optional op in the order
  std::uint64_t set_a_ = 0, set_b_ = 0;
  SeenTable seen_;
  std::size_t visits_ = 0;  ///< configurations explored (a revisit using fewer pooled ops counts)
  std::vector<Frame> stack_;
  int state_;
  int cursor_ = kNil;
  Pass pass_ = Pass::Known;
  std::size_t slot_ = 0;
  std::int64_t frontier_ = 0;  ///< the time of the return that bounds the candidates
  bool done_ = false;
  bool gave_up_ = false;
  bool stuck_noted_ = false;
  SearchOutcome out_;
};

}  // namespace

SearchOutcome search_piece(const std::vector<SearchOp>& ops, int initial, int final_value,
                           const SearchBudget& budget, Pools pools) {
  return Search(ops, initial, final_value, budget, pools).run();
}

}  // namespace raft::chaos::detail
