#pragma once
/// Cluster membership: configurations (ConfState, in types.hpp), the single
/// changes that move between them, and the payload of EntryType::Config log
/// entries. Pure functions; thread-safe.
///
/// The rules (Raft dissertation §4.1-4.4, with Ongaro's 2015 fix) are
/// enforced by raft::Node; this file only knows what a configuration and a
/// change are:
///   add_learner R  R (a standby node) becomes a learner: it receives the log
///                  but is never counted in any quorum;
///   add_node R     the same, and the leader promotes R to voter by itself
///                  once R has caught up (R is listed in `promoting`);
///   promote R      learner R becomes a voter;
///   remove_node R  voter or learner R leaves the configuration (STANDBY).
/// Each changes one server, so any majority of the configuration before it
/// and any majority of the one after it share a voter.
///
/// Entry payload (shown as is in /entries), one line of space-separated
/// fields, lists comma-separated and possibly empty:
///   "<change> <node> voters=<ids> learners=<ids> promoting=<ids>"
///   e.g. "add_node 3 voters=0,1,2 learners=3 promoting=3"
/// It carries the whole resulting configuration, so the newest Config entry
/// of a log is the configuration without replaying older ones.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raft/types.hpp"

namespace raft {

enum class ConfChangeType : std::uint8_t { AddLearner, AddNode, Promote, Remove };

/// "add_learner", "add_node", "promote" or "remove_node" (the command names
/// of SPEC.md).
std::string_view conf_change_type_name(ConfChangeType type);
std::optional<ConfChangeType> parse_conf_change_type(std::string_view name);

struct ConfChange {
  ConfChangeType type = ConfChangeType::AddLearner;
  NodeId node = kNoNode;

  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

/// A Config entry decoded: the change and the configuration it makes.
struct ConfEntry {
  ConfChange change;
  ConfState conf;
};

/// At most this many ids in one configuration (the codec and the store cap
/// what they read at it).
inline constexpr std::size_t kConfNodesMax = 4096;

bool conf_has_voter(const ConfState& conf, NodeId id);
bool conf_has_learner(const ConfState& conf, NodeId id);
/// A voter or a learner.
bool conf_has_member(const ConfState& conf, NodeId id);
bool conf_is_promoting(const ConfState& conf, NodeId id);
/// Votes or acknowledgements that make a majority of the voters.
std::size_t conf_quorum(const ConfState& conf);

/// Empty if `conf` is well-formed (at least one voter, ids >= 0, each list
/// sorted without duplicates, voters and learners disjoint, promoting within
/// learners, at most kConfNodesMax ids), else one sentence saying why not.
/// Configurations from messages and from disk are untrusted until checked.
std::string validate_conf_state(const ConfState& conf);

/// Applies `change` to `conf` (index untouched). Returns empty on success,
/// else one sentence why the change does not apply ("node 3 is already a
/// voter") and leaves `conf` as it was. Quorum and catch-up rules are the
/// leader's (Node::change_membership), not checked here.
std::string apply_conf_change(ConfState& conf, const ConfChange& change);

/// "voters=0,1,2 learners=3 promoting=3"
std::string describe_conf(const ConfState& conf);
/// "0,1,2" (empty for no ids).
std::string join_ids(const std::vector<NodeId>& ids);

/// The payload of a Config entry (format above).
std::string encode_conf_entry(const ConfChange& change, const ConfState& conf);
/// Parses a payload; nullopt unless it is exactly the format above and the
/// configuration is valid. `index` becomes the decoded ConfState::index.
std::optional<ConfEntry> decode_conf_entry(std::string_view data, Index index);

}  // namespace raft
