#pragma once
/// Basic vocabulary of the Raft core: ids, terms, indexes, log entries and the
/// persistent hard state. Plain value types; no behaviour beyond formatting.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace raft {

/// A node is identified by its MPI rank (0..N-1).
using NodeId = std::int32_t;
using Term = std::uint64_t;
using Index = std::uint64_t;
/// Milliseconds on a monotonic clock supplied by the caller (real or virtual).
using TimeMs = std::uint64_t;

inline constexpr NodeId kNoNode = -1;

/// The states of a node. INITIAL is the original demo's start-up state:
/// the node neither votes nor stands for election until it leaves it.
/// STANDBY is a node that is not a member of its latest configuration
/// (neither voter nor learner): a spare rank not yet added, or a removed one.
/// It has no election timer and never campaigns; a leader's appends still
/// reach it (that is how it learns it was added). A learner is a FOLLOWER
/// whose id is in ConfState::learners.
enum class Role : std::uint8_t { Initial, Follower, Candidate, Leader, Standby };

/// "INITIAL", "FOLLOWER", "CANDIDATE", "LEADER" or "STANDBY" (the JSON
/// spelling of SPEC.md).
std::string_view role_name(Role role);

enum class EntryType : std::uint8_t {
  Noop = 0,     ///< appended by every new leader at the start of its term
  Command = 1,  ///< opaque client payload, applied by the state machine
  Config = 2,   ///< one membership change and the configuration it makes (membership.hpp)
};

/// "noop", "command" or "config".
std::string_view entry_type_name(EntryType type);

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::Command;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

/// A cluster configuration (Raft dissertation, chapter 4): who votes, who
/// only replicates. Ids are sorted ascending; voters, learners are disjoint;
/// `promoting` is a subset of `learners` (added by add_node: the leader
/// promotes each to voter once it has caught up). `index` is the log index
/// of the Config entry that made it, 0 for the initial configuration.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  std::vector<NodeId> promoting;
  Index index = 0;

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

/// What must survive a crash besides the log. `commit` may lag behind the
/// real commit index (any index once committed stays committed), so storage
/// is free to write it lazily; term and vote must be durable before any
/// message that depends on them leaves the node.
///
/// `conf` is the committed configuration (the newest one at or below
/// `commit`; empty in a store written before configurations were stored).
/// Recovery takes the newest configuration the node still holds (its log's
/// last Config entry, else its snapshot's), so `conf` matters when neither
/// has one: it pins the initial voters, and a restart with other flags
/// cannot silently change who votes.
struct HardState {
  Term term = 0;
  NodeId voted_for = kNoNode;
  Index commit = 0;
  ConfState conf{};

  friend bool operator==(const HardState&, const HardState&) = default;
};

/// The position a snapshot covers: every entry up to and including
/// (last_index, last_term) is folded into the snapshot's data. `conf` is the
/// configuration in effect at last_index (empty only in snapshots stored
/// before configurations were), so a restart or an InstallSnapshot recovers
/// membership along with the state machine.
struct SnapshotMeta {
  Index last_index = 0;
  Term last_term = 0;
  ConfState conf{};

  /// Same position (index and term), whatever the configuration says.
  bool same_point(const SnapshotMeta& other) const {
    return last_index == other.last_index && last_term == other.last_term;
  }

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

/// Snapshot bytes are shared, never copied, between the core, storage and the
/// messages that carry chunks of them.
using SharedBytes = std::shared_ptr<const std::string>;

struct Snapshot {
  SnapshotMeta meta;
  SharedBytes data;  ///< never null once constructed by the core or storage
};

}  // namespace raft
