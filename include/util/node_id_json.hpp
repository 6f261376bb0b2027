#pragma once
/// Node ids in JSON as SPEC.md spells them: a rank is a string ("3"), no node
/// (kNoNode) is null. One definition for everything that writes ids (the
/// runtime's command replies and Raft events, the HTTP views, the monitor's
/// view), so that no two of them can drift apart. Header-only, like the rest
/// of util/, because the runtime must not link the HTTP layer. Pure;
/// thread-safe.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "raft/types.hpp"

namespace raft::util {

/// "3" for a rank, null for kNoNode.
inline nlohmann::json node_id_json(NodeId id) {
  return id == kNoNode ? nlohmann::json(nullptr) : nlohmann::json(std::to_string(id));
}

/// Node ids as a JSON array of strings (["0","1"]).
inline nlohmann::json id_list_json(const std::vector<NodeId>& ids) {
  nlohmann::json out = nlohmann::json::array();
  for (const NodeId id : ids) out.push_back(std::to_string(id));
  return out;
}

}  // namespace raft::util
