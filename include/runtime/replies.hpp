#pragma once
/// What the node's loop answers to requests from HTTP threads. Each carries
/// the HTTP status it should be served with, so the HTTP layer stays a thin
/// translation to JSON.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "raft/types.hpp"

namespace raft::runtime {

/// Answer to POST /command.
struct CommandReply {
  int http_status = 200;
  bool ok = true;
  std::string result;                                ///< one line for people
  std::string error;                                 ///< one sentence when !ok
  nlohmann::json fields = nlohmann::json::object();  ///< command-specific extras
};

/// Answer to the /kv endpoints.
struct KvReply {
  int http_status = 200;  ///< 200, 307 (not leader), 400, 404, 409 (cas), 503, 504
  bool ok = true;
  std::string error;
  Index index = 0;
  Term term = 0;
  std::optional<std::string> value;  ///< GET: the value
  bool found = false;                ///< write: the key existed before
  bool duplicate = false;            ///< write: a retry, answered from the first apply
  NodeId leader_id = kNoNode;        ///< on 307/503: who to ask
};

struct EntryView {
  Index index = 0;
  Term term = 0;
  EntryType type = EntryType::Command;
  /// The entry's bytes, or only their start (see NodeDriver::entries).
  std::string data;
  /// The size of the whole entry.
  std::size_t data_bytes = 0;
};

/// Answer to GET /entries.
struct EntriesReply {
  int http_status = 200;
  std::string error;
  std::vector<EntryView> entries;
  Index first_index = 1;  ///< entries before it are compacted into the snapshot
  Index last_index = 0;
  Index commit_index = 0;
};

}  // namespace raft::runtime
