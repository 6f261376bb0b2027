#pragma once
/// The history a chaos run records: one Operation per client request on the
/// key-value store, with the time it was invoked and the time its outcome was
/// known. Values are plain data; nothing here is thread-safe by itself (the
/// recorder that collects them is, see HistoryRecorder).

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace raft::chaos {

/// Delete makes the key absent (DELETE /kv/{key}).
enum class OpKind : std::uint8_t { Read, Write, Cas, Delete };

/// Ok: the cluster answered definitively. Fail: it certainly did not take
/// effect (refused before it was proposed), so the checker ignores it.
/// Unknown: it may have taken effect at any time after its invocation, or never.
enum class Outcome : std::uint8_t { Ok, Fail, Unknown };

/// Fields are grouped by size so a history of millions costs no padding.
struct Operation {
  int id = 0;
  int client = 0;
  int attempts = 0;
  int node = -1;  ///< the rank that gave the final answer, -1 if none
  std::string key;
  std::string value;     ///< write and cas: the new value (empty for delete)
  std::string expected;  ///< cas: the value the key must hold
  /// Read, ok: what it returned (nullopt: the key did not exist).
  std::optional<std::string> read_value;
  std::int64_t invoke_us = 0;    ///< monotonic, since the run started
  std::int64_t complete_us = 0;  ///< when the outcome was known (or given up)
  /// Ok write, cas or delete: the log index of its entry, from the answer's
  /// "index" (0: not known, e.g. a retry answered as a duplicate, whose index
  /// is the retry's and not where the write took effect).
  std::uint64_t log_index = 0;
  /// Ok read: the node's applied index when the answer carried one (0: not).
  std::uint64_t applied_index = 0;
  std::string note;  ///< why it failed or is unknown, for people
  OpKind kind = OpKind::Read;
  Outcome outcome = Outcome::Unknown;
  /// Cas, ok: true if it swapped, false if the cluster answered 409.
  bool cas_swapped = false;
  /// Delete, ok: whether the key existed when the delete took effect (the
  /// answer's "found"); nullopt when not known, which constrains nothing.
  std::optional<bool> delete_found;
  /// Read: sent with ?stale=true, answered from that node's own copy. Such
  /// reads promise less than linearizability (see stale_reads.hpp) and are
  /// checked apart.
  bool stale = false;
};

std::string_view kind_name(OpKind kind);
std::string_view outcome_name(Outcome outcome);

nlohmann::json to_json(const Operation& op);
/// Throws nlohmann::json::exception (or std::invalid_argument) on bad input.
Operation operation_from_json(const nlohmann::json& j);

/// Collects operations from many client threads. Thread-safe.
class HistoryRecorder {
 public:
  int next_id();
  void add(Operation op);
  std::size_t size() const;
  /// All operations so far, ordered by id.
  std::vector<Operation> snapshot() const;
  /// Moves all operations out, ordered by id (no copy of a long history).
  std::vector<Operation> take();

 private:
  mutable std::mutex mutex_;
  int next_id_ = 0;
  std::vector<Operation> ops_;
};

}  // namespace raft::chaos
