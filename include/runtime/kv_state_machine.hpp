#pragma once
/// KvStateMachine: the replicated key-value store that committed log entries
/// are applied to. Deterministic: every node that applies the same entries in
/// the same order holds the same bytes, sessions table included. Retried
/// client writes (same client id and sequence number) are applied once and
/// answered with the first answer. Not thread-safe: the node's loop owns it.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "raft/types.hpp"
#include "runtime/kv_command.hpp"

namespace raft::runtime {

struct KvApplyResult {
  bool ok = true;          ///< false: a cas whose expected value did not match
  bool found = false;      ///< the key existed before this command
  bool duplicate = false;  ///< a retry: not applied again, first answer repeated
  std::string error;       ///< why ok is false
};

class KvStateMachine {
 public:
  /// Most clients remembered for duplicate detection; the least recently
  /// writing ones are forgotten first.
  static constexpr std::size_t kMaxSessions = 10'000;

  /// Applies one committed entry (entries must come in index order). Returns a
  /// result for KV commands and nullopt for anything else (no-ops, submit text).
  std::optional<KvApplyResult> apply(const Entry& entry);

  std::optional<std::string> get(std::string_view key) const;
  Index applied_index() const { return applied_index_; }
  std::size_t size() const { return data_.size(); }
  /// Bytes of the keys and values held (what the per-node quota counts).
  std::size_t bytes() const { return bytes_; }
  std::size_t session_count() const { return sessions_.size(); }

  /// The whole state as bytes, for a Raft snapshot at applied_index().
  std::string snapshot() const;
  /// Replaces the state with a snapshot's. Throws std::runtime_error if the
  /// bytes are not a snapshot this version wrote.
  void restore(std::string_view bytes, Index index);

 private:
  struct Session {
    std::uint64_t seq = 0;
    KvApplyResult result;
    Index last_index = 0;
  };
  void remember(const std::string& client_id, std::uint64_t seq, const KvApplyResult& result,
                Index index);

  std::map<std::string, std::string, std::less<>> data_;
  std::map<std::string, Session, std::less<>> sessions_;
  Index applied_index_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace raft::runtime
