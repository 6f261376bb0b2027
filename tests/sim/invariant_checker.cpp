#include "invariant_checker.hpp"

#include <algorithm>
#include <utility>

#include "raft/membership.hpp"

namespace raft::sim {

namespace {

std::string at(Index index, Term term) {
  return "(" + std::to_string(index) + "," + std::to_string(term) + ")";
}

std::string node_name(NodeId id) { return "n" + std::to_string(id); }

std::string quote(const std::string& data) {
  // Payloads are short simulator strings; cap them anyway so a report stays one line.
  constexpr std::size_t kMaxShown = 40;
  if (data.size() <= kMaxShown) return "\"" + data + "\"";
  return "\"" + data.substr(0, kMaxShown) + "...\"";
}

}  // namespace

InvariantChecker::InvariantChecker(std::size_t node_count) : nodes_(node_count) {}

void InvariantChecker::report(std::string invariant, std::string details) {
  fail(std::move(invariant), std::move(details));
}

void InvariantChecker::fail(std::string invariant, std::string details) {
  // The simulator halts at the first violation; a few more from the same step
  // are kept because they often explain it.
  constexpr std::size_t kMaxKept = 8;
  if (violations_.size() < kMaxKept) {
    violations_.push_back({std::move(invariant), std::move(details), now_ms_});
  }
}

void InvariantChecker::check_entry(NodeId id, const Entry& e, std::optional<Term> prev_term) {
  auto [it, inserted] = log_records_.try_emplace({e.index, e.term});
  LogRecord& r = it->second;
  if (inserted) {
    r.type = e.type;
    r.data = e.data;
    r.prev_term = prev_term;
    r.seen_on = id;
    return;
  }
  if (r.type != e.type || r.data != e.data) {
    fail("Log Matching", "entry " + at(e.index, e.term) + " holds " + quote(e.data) + " on " +
                             node_name(id) + " but " + quote(r.data) + " on " +
                             node_name(r.seen_on));
    return;
  }
  if (prev_term && r.prev_term && *prev_term != *r.prev_term) {
    fail("Log Matching", "entry " + at(e.index, e.term) + " follows an entry of term " +
                             std::to_string(*prev_term) + " on " + node_name(id) + " but of term " +
                             std::to_string(*r.prev_term) + " on " + node_name(r.seen_on) +
                             ": the logs differ before it");
    return;
  }
  if (!r.prev_term) r.prev_term = prev_term;
}

void InvariantChecker::on_entries(NodeId id, const Node& node, const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  std::optional<Term> prev = node.log().term_at(entries.front().index - 1);
  Index expected_index = entries.front().index;
  for (const Entry& e : entries) {
    if (e.index != expected_index) {
      fail("Log Matching", node_name(id) + " handed out entry " + std::to_string(e.index) +
                               " where " + std::to_string(expected_index) +
                               " was expected: entries to persist must be consecutive");
      return;
    }
    if (e.term > node.term()) {
      fail("Log Matching", node_name(id) + " in term " + std::to_string(node.term()) +
                               " holds entry " + at(e.index, e.term) + " from a later term");
      return;
    }
    if (prev && e.term < *prev) {
      fail("Log Matching", node_name(id) + " holds entry " + at(e.index, e.term) +
                               " after an entry of the later term " + std::to_string(*prev));
      return;
    }
    check_entry(id, e, prev);
    prev = e.term;
    ++expected_index;
  }
}

void InvariantChecker::check_log(NodeId id, const Node& node) {
  const RaftLog& log = node.log();
  std::optional<Term> prev = log.term_at(log.first_index() - 1);
  for (Index i = log.first_index(); i <= log.last_index(); ++i) {
    const Entry& e = log.at(i);
    if (prev && e.term < *prev) {
      fail("Log Matching", node_name(id) + " holds entry " + at(e.index, e.term) +
                               " after an entry of the later term " + std::to_string(*prev));
      return;
    }
    check_entry(id, e, prev);
    prev = e.term;
  }
}

void InvariantChecker::on_synced(NodeId id, Term term) {
  nodes_.at(static_cast<std::size_t>(id)).synced_term = term;
}

void InvariantChecker::record_commit(NodeId id, Term node_term, Index index, Term term,
                                     const Entry* entry, const char* how) {
  if (index == 0) return;
  auto [it, inserted] = committed_.try_emplace(index);
  CommitRecord& r = it->second;
  r.seen_in_term = inserted ? node_term : std::min(r.seen_in_term, node_term);
  const auto note_write = [this](Index i, const Entry& e) {
    if (e.type != EntryType::Command) return;
    std::optional<KvWrite> w = parse_write(e.data);
    if (!w) return;
    Index& latest = key_commit_index_[w->key];
    latest = std::max(latest, i);
  };
  if (inserted) {
    r.term = term;
    r.node = id;
    r.how = how;
    if (entry != nullptr) {
      r.has_entry = true;
      r.type = entry->type;
      r.data = entry->data;
      note_write(index, *entry);
    }
    return;
  }
  if (r.term != term) {
    fail("State Machine Safety", "index " + std::to_string(index) + " was " + r.how +
                                     " with term " + std::to_string(r.term) + " on " +
                                     node_name(r.node) + " but " + how + " with term " +
                                     std::to_string(term) + " on " + node_name(id));
    return;
  }
  if (entry == nullptr) return;
  if (!r.has_entry) {
    r.has_entry = true;
    r.type = entry->type;
    r.data = entry->data;
    note_write(index, *entry);
    return;
  }
  if (r.type != entry->type || r.data != entry->data) {
    fail("State Machine Safety", "index " + std::to_string(index) + " was " + r.how + " as " +
                                     quote(r.data) + " on " + node_name(r.node) + " but " + how +
                                     " as " + quote(entry->data) + " on " + node_name(id));
  }
}

void InvariantChecker::on_applied(NodeId id, Term node_term, const Entry& entry,
                                  Index applied_before) {
  if (entry.index != applied_before + 1) {
    fail("State Machine Safety", node_name(id) + " applied index " + std::to_string(entry.index) +
                                     " right after index " + std::to_string(applied_before) +
                                     ": entries must be applied in order, each once");
    return;
  }
  record_commit(id, node_term, entry.index, entry.term, &entry, "applied");
}

void InvariantChecker::on_snapshot_restored(NodeId id, Term node_term, const SnapshotMeta& meta,
                                            const KvModel& state) {
  if (state.applied_index() != meta.last_index) {
    fail("State Machine Safety",
         node_name(id) + " restored a snapshot for index " + std::to_string(meta.last_index) +
             " whose data is the state at index " + std::to_string(state.applied_index()));
    return;
  }
  record_commit(id, node_term, meta.last_index, meta.last_term, nullptr,
                "restored from a snapshot");
  // Rebuild the state the committed entries produce and compare. Skipped when
  // some entry below the snapshot was never seen (only possible if no node
  // ever applied it one by one, which the simulator does not do).
  KvModel expected;
  Index next = 1;
  for (auto it = committed_.begin(); it != committed_.end() && it->first <= meta.last_index; ++it) {
    if (it->first != next || !it->second.has_entry) return;
    expected.apply(Entry{it->second.term, it->first, it->second.type, it->second.data});
    ++next;
  }
  if (next != meta.last_index + 1) return;
  if (!(expected == state)) {
    fail("State Machine Safety",
         node_name(id) + " restored a snapshot at index " + std::to_string(meta.last_index) +
             " that differs from the state the committed entries give: " +
             quote(state.serialize()) + " vs " + quote(expected.serialize()));
  }
}

void InvariantChecker::check_leader_completeness(NodeId id, const Node& node) {
  const RaftLog& log = node.log();
  const Index snapshot_index = log.snapshot().last_index;
  for (auto it = committed_.lower_bound(snapshot_index); it != committed_.end(); ++it) {
    // Only leaders of later terms must hold it (§5.4): a leader of an older
    // term can still be elected, late, by votes cast long ago.
    if (it->second.seen_in_term >= node.term()) continue;
    const Index index = it->first;
    const Term term = it->second.term;
    const std::optional<Term> have = log.term_at(index);
    if (!have || *have != term) {
      fail("Leader Completeness",
           node_name(id) + " became leader of term " + std::to_string(node.term()) +
               " without entry " + at(index, term) + ", committed by term " +
               std::to_string(it->second.seen_in_term) + " (" + it->second.how + " on " +
               node_name(it->second.node) + "); its log has " +
               (have ? "term " + std::to_string(*have) : std::string("nothing")) +
               " there and ends at " + at(log.last_index(), log.last_term()));
      return;
    }
  }
}

void InvariantChecker::on_vote(NodeId voter, Term term, NodeId candidate) {
  const auto [it, inserted] = votes_.emplace(std::pair{term, voter}, candidate);
  if (inserted || it->second == candidate) return;
  fail("Election Safety", node_name(voter) + " voted for " + node_name(it->second) + " and for " +
                              node_name(candidate) + " in term " + std::to_string(term));
}

void InvariantChecker::check_election_quorum(NodeId id, const Node& node) {
  // The configuration it campaigned with: its log's just before the first
  // entry of its term (a new leader appends one at once). Unknown only if
  // that entry is already folded into a snapshot: skipped.
  const RaftLog& log = node.log();
  const Index last_of_term = log.last_index_of_term(node.term());
  if (last_of_term <= log.snapshot().last_index) return;
  const Index first_of_term = log.first_index_of_term_at(last_of_term);
  if (first_of_term == log.first_index() && log.snapshot().last_index != 0 &&
      log.snapshot().last_term == node.term()) {
    return;  // the term's first entries are in the snapshot
  }
  const ConfState& conf = node.conf_at(first_of_term - 1);
  std::vector<NodeId> electors;
  for (NodeId v : conf.voters) {
    const auto it = votes_.find({node.term(), v});
    const bool voted = v == id ? node.voted_for() == id : it != votes_.end() && it->second == id;
    if (voted) electors.push_back(v);
  }
  if (electors.size() >= conf_quorum(conf)) return;
  fail("Election Quorum", node_name(id) + " leads term " + std::to_string(node.term()) +
                              " with the votes of {" + join_ids(electors) + "}" +
                              " only: not a majority of its voters {" + join_ids(conf.voters) +
                              "}");
}

void InvariantChecker::after_step(NodeId id, const Node& node) {
  NodeTrack& t = nodes_.at(static_cast<std::size_t>(id));
  const Term term = node.term();
  const Index commit = node.commit_index();
  const RaftLog& log = node.log();
  if (term < t.term) {
    fail("Term monotonic", node_name(id) + " went from term " + std::to_string(t.term) + " to " +
                               std::to_string(term));
  }
  if (commit < t.commit) {
    fail("Commit monotonic", node_name(id) + " moved its commit index back from " +
                                 std::to_string(t.commit) + " to " + std::to_string(commit));
  }
  if (commit > log.last_index()) {
    fail("Commit monotonic", node_name(id) + " has commit index " + std::to_string(commit) +
                                 " beyond its last entry " + std::to_string(log.last_index()));
  }
  if (commit > t.commit) {
    const Index snapshot_index = log.snapshot().last_index;
    for (Index i = std::max(t.commit + 1, snapshot_index); i <= commit; ++i) {
      if (i == snapshot_index) {
        record_commit(id, term, i, log.snapshot().last_term, nullptr, "committed");
      } else if (i <= log.last_index()) {
        const Entry& e = log.at(i);
        record_commit(id, term, i, e.term, &e, "committed");
      }
    }
  }

  if (node.role() == Role::Leader) {
    const auto [it, inserted] = leader_of_term_.emplace(term, id);
    if (!inserted && it->second != id) {
      fail("Election Safety", "two leaders in term " + std::to_string(term) + ": " +
                                  node_name(it->second) + " and " + node_name(id));
    }
    if (!t.leader || t.leader_term != term) {
      check_leader_completeness(id, node);
      check_election_quorum(id, node);
    } else if (log.last_index() < t.leader_last_index) {
      fail("Leader Append-Only",
           node_name(id) + ", leader of term " + std::to_string(term) + ", shrank its log from " +
               std::to_string(t.leader_last_index) + " to " + std::to_string(log.last_index()));
    }
    t.leader = true;
    t.leader_term = term;
    t.leader_last_index = log.last_index();
  } else {
    t.leader = false;
  }
  t.term = term;
  t.commit = commit;
}

void InvariantChecker::on_crash(NodeId id) {
  nodes_.at(static_cast<std::size_t>(id)).leader = false;
}

void InvariantChecker::on_restart(NodeId id, const Node& node, const RecoveredState& recovered) {
  NodeTrack& t = nodes_.at(static_cast<std::size_t>(id));
  if (node.term() < t.synced_term) {
    fail("Term monotonic", node_name(id) + " restarted in term " + std::to_string(node.term()) +
                               " below its durable term " + std::to_string(t.synced_term) +
                               " (stored hard state says " +
                               std::to_string(recovered.hard_state.term) + ")");
  }
  // Volatile state is gone: commit may restart from the persisted one.
  t.term = node.term();
  t.commit = node.commit_index();
  t.leader = false;
}

Index InvariantChecker::committed_write_index(std::string_view key) const {
  const auto it = key_commit_index_.find(key);
  return it == key_commit_index_.end() ? 0 : it->second;
}

void InvariantChecker::on_read(NodeId id, std::string_view key, Index required_index,
                               const KvValue* value, Index read_index) {
  const Index seen = value != nullptr ? value->index : 0;
  if (seen >= required_index) return;
  fail("Linearizable Read",
       node_name(id) + " answered a read of " + std::string(key) + " (read index " +
           std::to_string(read_index) + ") with " +
           (value != nullptr ? quote(value->value) + " written at index " + std::to_string(seen)
                             : std::string("nothing")) +
           ", but the write at index " + std::to_string(required_index) +
           " was committed before the read was issued");
}

std::optional<Term> InvariantChecker::committed_term(Index index) const {
  const auto it = committed_.find(index);
  if (it == committed_.end()) return std::nullopt;
  return it->second.term;
}

Index InvariantChecker::highest_committed_index() const {
  return committed_.empty() ? 0 : committed_.rbegin()->first;
}

}  // namespace raft::sim
