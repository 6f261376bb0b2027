#pragma once
// Small helpers for driving single raft::Nodes by hand in unit tests.

#include <vector>

#include "raft/node.hpp"

namespace raft::test {

inline Config small_config(NodeId id, int size, TimeMs initial_delay_ms = 0) {
  Config c;
  c.id = id;
  for (int i = 0; i < size; ++i) c.voters.push_back(i);
  c.election_timeout_min_ms = 150;
  c.election_timeout_max_ms = 300;
  c.heartbeat_interval_ms = 50;
  c.initial_delay_ms = initial_delay_ms;
  c.seed = 42;
  return c;
}

/// Everything the node wants sent right now; its entries count as durable
/// (as a host's sync would make them).
inline std::vector<Message> take_messages(Node& n) {
  if (!n.has_ready()) return {};
  Ready rd = n.ready();
  if (!rd.entries.empty()) n.persisted(rd.entries.back().index);
  return std::move(rd.messages);
}

inline std::vector<Message> of_type(const std::vector<Message>& all, MessageType type) {
  std::vector<Message> out;
  for (const Message& m : all) {
    if (m.type == type) out.push_back(m);
  }
  return out;
}

inline Message make(MessageType type, NodeId from, NodeId to, Term term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

inline Message vote_request(NodeId from, NodeId to, Term term, Index last_index, Term last_term,
                            bool pre = false, bool force = false) {
  Message m = make(pre ? MessageType::PreVoteRequest : MessageType::VoteRequest, from, to, term);
  m.last_log_index = last_index;
  m.last_log_term = last_term;
  m.force = force;
  return m;
}

inline Message append(NodeId from, NodeId to, Term term, Index prev_index, Term prev_term,
                      std::vector<Entry> entries = {}, Index commit = 0) {
  Message m = make(MessageType::AppendEntries, from, to, term);
  m.prev_log_index = prev_index;
  m.prev_log_term = prev_term;
  m.entries = std::move(entries);
  m.commit = commit;
  return m;
}

inline std::vector<Entry> entries_of_terms(Index first, std::initializer_list<Term> terms) {
  std::vector<Entry> out;
  Index i = first;
  for (Term t : terms) out.push_back({t, i++, EntryType::Command, "v"});
  return out;
}

}  // namespace raft::test
