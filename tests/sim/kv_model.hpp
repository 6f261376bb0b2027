#pragma once
/// KvModel: the simulator's replicated state machine, a key-value register
/// map. Command entries "key=value" set a key; every other entry only moves
/// the applied index. Each value remembers the log index that wrote it, which
/// is what the linearizability check compares. Not thread-safe.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "raft/types.hpp"

namespace raft::sim {

struct KvValue {
  std::string value;
  Index index = 0;  ///< the log index of the write that set it

  friend bool operator==(const KvValue&, const KvValue&) = default;
};

struct KvWrite {
  std::string key;
  std::string value;
};

/// "key=value". Keys and values are simulator-made: no '=', ' ' or '\n'.
std::string format_write(std::string_view key, std::string_view value);
/// nullopt for data that is not a write.
std::optional<KvWrite> parse_write(std::string_view data);

class KvModel {
 public:
  /// Applies one committed entry. Order is the caller's (and the checker's) business.
  void apply(const Entry& entry);

  Index applied_index() const { return applied_index_; }
  /// nullptr if the key was never written.
  const KvValue* get(std::string_view key) const;
  std::size_t size() const { return data_.size(); }

  /// Snapshot bytes: deterministic (ordered keys), so equal states give equal bytes.
  std::string serialize() const;
  /// nullopt if `bytes` are not something serialize() produced.
  static std::optional<KvModel> deserialize(std::string_view bytes);

  friend bool operator==(const KvModel&, const KvModel&) = default;

 private:
  std::map<std::string, KvValue, std::less<>> data_;
  Index applied_index_ = 0;
};

}  // namespace raft::sim
