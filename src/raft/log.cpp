#include "raft/log.hpp"

#include <algorithm>
#include <utility>

#include "raft/assert.hpp"

namespace raft {

RaftLog::RaftLog(SnapshotMeta snapshot, std::vector<Entry> entries)
    : snapshot_(snapshot),
      entries_(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end())) {
  RAFT_ASSERT(entries_.empty() || (entries_.front().index == first_index() &&
                                   entries_.back().index == snapshot_.last_index + entries_.size()),
              "the log starts right after the snapshot and has no gaps");
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    RAFT_DEBUG_ASSERT(entries_[i].index == snapshot_.last_index + 1 + i,
                      "log indexes are consecutive");
  }
}

Term RaftLog::last_term() const {
  return entries_.empty() ? snapshot_.last_term : entries_.back().term;
}

std::optional<Term> RaftLog::term_at(Index index) const {
  if (index == snapshot_.last_index) return snapshot_.last_term;  // also covers 0
  if (index < first_index() || index > last_index()) return std::nullopt;
  return entries_[index - first_index()].term;
}

bool RaftLog::matches(Index index, Term term) const {
  const std::optional<Term> t = term_at(index);
  return t && *t == term;
}

const Entry& RaftLog::at(Index index) const {
  RAFT_ASSERT(index >= first_index() && index <= last_index(), "at() reads a kept entry");
  return entries_[index - first_index()];
}

std::vector<Entry> RaftLog::slice(Index from, std::size_t count_max, std::size_t bytes_max) const {
  RAFT_ASSERT(from >= first_index(), "slice() starts after the snapshot");
  std::vector<Entry> out;
  if (from <= last_index()) {
    out.reserve(static_cast<std::size_t>(std::min<Index>(count_max, last_index() - from + 1)));
  }
  std::size_t bytes = 0;
  for (Index i = from; i <= last_index() && out.size() < count_max; ++i) {
    const Entry& e = entries_[i - first_index()];
    // Always send at least one entry, however large, so progress is possible.
    if (!out.empty() && bytes + e.data.size() > bytes_max) break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

void RaftLog::append(Entry entry) {
  RAFT_ASSERT(entry.index == last_index() + 1, "log indexes are consecutive");
  entries_.push_back(std::move(entry));
}

void RaftLog::truncate_from(Index index) {
  RAFT_ASSERT(index > snapshot_.last_index, "the snapshot is never truncated");
  if (index > last_index()) return;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(index - first_index()),
                 entries_.end());
}

void RaftLog::compact_to(SnapshotMeta meta) {
  RAFT_ASSERT(meta.last_index >= snapshot_.last_index, "the snapshot never goes back");
  if (matches(meta.last_index, meta.last_term) && meta.last_index >= first_index()) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(
                                                            meta.last_index - first_index() + 1));
  } else if (!(meta.last_index == snapshot_.last_index && meta.last_term == snapshot_.last_term)) {
    entries_.clear();
  }
  snapshot_ = meta;
}

Index RaftLog::first_index_of_term_at(Index index) const {
  const std::optional<Term> term = term_at(index);
  RAFT_ASSERT(term.has_value(), "first_index_of_term_at() needs a known term");
  Index i = index;
  while (i > first_index() && entries_[i - 1 - first_index()].term == *term) --i;
  return i;
}

Index RaftLog::last_index_of_term(Term term) const {
  for (Index i = last_index(); i >= first_index() && i > 0; --i) {
    const Term t = entries_[i - first_index()].term;
    if (t == term) return i;
    if (t < term) return 0;  // terms only grow along the log
  }
  return snapshot_.last_term == term ? snapshot_.last_index : 0;
}

bool RaftLog::candidate_is_up_to_date(Index last_log_index, Term last_log_term) const {
  return last_log_term > last_term() ||
         (last_log_term == last_term() && last_log_index >= last_index());
}

}  // namespace raft
