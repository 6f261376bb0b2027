#pragma once
/// Basic vocabulary of the Raft core: ids, terms, indexes, log entries and the
/// persistent hard state. Plain value types; no behaviour beyond formatting.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace raft {

/// A node is identified by its MPI rank (0..N-1).
using NodeId = std::int32_t;
using Term = std::uint64_t;
using Index = std::uint64_t;
/// Milliseconds on a monotonic clock supplied by the caller (real or virtual).
using TimeMs = std::uint64_t;

inline constexpr NodeId kNoNode = -1;

/// The four states of a node. INITIAL is the original demo's start-up state:
/// the node neither votes nor stands for election until it leaves it.
enum class Role : std::uint8_t { Initial, Follower, Candidate, Leader };

/// "INITIAL", "FOLLOWER", "CANDIDATE" or "LEADER" (the JSON spelling of SPEC.md).
std::string_view role_name(Role role);

enum class EntryType : std::uint8_t {
  Noop = 0,     ///< appended by every new leader at the start of its term
  Command = 1,  ///< opaque client payload, applied by the state machine
  Config = 2,   ///< reserved for membership changes (voters are fixed today)
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

/// What must survive a crash besides the log. `commit` may lag behind the
/// real commit index (any index once committed stays committed), so storage
/// is free to write it lazily; term and vote must be durable before any
/// message that depends on them leaves the node.
struct HardState {
  Term term = 0;
  NodeId voted_for = kNoNode;
  Index commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

/// The position a snapshot covers: every entry up to and including
/// (last_index, last_term) is folded into the snapshot's data.
struct SnapshotMeta {
  Index last_index = 0;
  Term last_term = 0;

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
