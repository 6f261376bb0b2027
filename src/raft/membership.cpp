// Configurations, single-server changes and the Config entry payload
// (membership.hpp).
#include "raft/membership.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <vector>

namespace raft {

namespace {

bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

void insert_sorted(std::vector<NodeId>& ids, NodeId id) {
  ids.insert(std::lower_bound(ids.begin(), ids.end(), id), id);
}

void erase_id(std::vector<NodeId>& ids, NodeId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

bool sorted_unique(const std::vector<NodeId>& ids) {
  return std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<>()) == ids.end();
}

std::optional<NodeId> parse_id(std::string_view text) {
  NodeId id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id < 0) return std::nullopt;
  // One spelling per id: no leading zeros or signs, so encode(decode(x)) == x.
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  return id;
}

/// "<key>=<id>,<id>,..." -> the ids; nullopt if the key differs or an id is bad.
std::optional<std::vector<NodeId>> parse_list(std::string_view field, std::string_view key) {
  if (field.size() <= key.size() || field.substr(0, key.size()) != key ||
      field[key.size()] != '=') {
    return std::nullopt;
  }
  std::string_view rest = field.substr(key.size() + 1);
  std::vector<NodeId> ids;
  while (!rest.empty()) {
    if (ids.size() >= kConfNodesMax) return std::nullopt;
    const std::size_t comma = rest.find(',');
    const std::optional<NodeId> id = parse_id(rest.substr(0, comma));
    if (!id) return std::nullopt;
    ids.push_back(*id);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    if (rest.empty()) return std::nullopt;  // a trailing comma
  }
  return ids;
}

/// Splits on single spaces; nullopt for empty fields (two spaces, edges).
std::optional<std::vector<std::string_view>> split_fields(std::string_view data) {
  std::vector<std::string_view> fields;
  while (true) {
    const std::size_t space = data.find(' ');
    const std::string_view field = data.substr(0, space);
    if (field.empty()) return std::nullopt;
    fields.push_back(field);
    if (space == std::string_view::npos) return fields;
    data.remove_prefix(space + 1);
  }
}

}  // namespace

std::string_view conf_change_type_name(ConfChangeType type) {
  switch (type) {
    case ConfChangeType::AddLearner: return "add_learner";
    case ConfChangeType::AddNode: return "add_node";
    case ConfChangeType::Promote: return "promote";
    case ConfChangeType::Remove: return "remove_node";
  }
  return "unknown";
}

std::optional<ConfChangeType> parse_conf_change_type(std::string_view name) {
  for (ConfChangeType t : {ConfChangeType::AddLearner, ConfChangeType::AddNode,
                           ConfChangeType::Promote, ConfChangeType::Remove}) {
    if (conf_change_type_name(t) == name) return t;
  }
  return std::nullopt;
}

bool conf_has_voter(const ConfState& conf, NodeId id) { return contains(conf.voters, id); }
bool conf_has_learner(const ConfState& conf, NodeId id) { return contains(conf.learners, id); }
bool conf_has_member(const ConfState& conf, NodeId id) {
  return conf_has_voter(conf, id) || conf_has_learner(conf, id);
}
bool conf_is_promoting(const ConfState& conf, NodeId id) { return contains(conf.promoting, id); }
std::size_t conf_quorum(const ConfState& conf) { return conf.voters.size() / 2 + 1; }

std::string validate_conf_state(const ConfState& conf) {
  if (conf.voters.empty()) return "a configuration needs at least one voter";
  if (conf.voters.size() + conf.learners.size() > kConfNodesMax) {
    return "a configuration holds at most " + std::to_string(kConfNodesMax) + " nodes";
  }
  for (const std::vector<NodeId>* ids : {&conf.voters, &conf.learners, &conf.promoting}) {
    if (!ids->empty() && ids->front() < 0) return "node ids must be ranks (>= 0)";
    if (!sorted_unique(*ids)) return "node ids must be listed in ascending order, once each";
  }
  for (NodeId id : conf.learners) {
    if (contains(conf.voters, id)) {
      return "node " + std::to_string(id) + " is both a voter and a learner";
    }
  }
  for (NodeId id : conf.promoting) {
    if (!contains(conf.learners, id)) {
      return "node " + std::to_string(id) + " is being promoted but is not a learner";
    }
  }
  return {};
}

std::string apply_conf_change(ConfState& conf, const ConfChange& change) {
  const NodeId id = change.node;
  const std::string who = "node " + std::to_string(id);
  if (id < 0) return "node ids must be ranks (>= 0)";
  switch (change.type) {
    case ConfChangeType::AddLearner:
    case ConfChangeType::AddNode:
      if (conf_has_voter(conf, id)) return who + " is already a voter";
      if (conf_has_learner(conf, id)) return who + " is already a learner";
      insert_sorted(conf.learners, id);
      if (change.type == ConfChangeType::AddNode) insert_sorted(conf.promoting, id);
      return {};
    case ConfChangeType::Promote:
      if (conf_has_voter(conf, id)) return who + " is already a voter";
      if (!conf_has_learner(conf, id)) return who + " is not a learner (add it first)";
      erase_id(conf.learners, id);
      erase_id(conf.promoting, id);
      insert_sorted(conf.voters, id);
      return {};
    case ConfChangeType::Remove:
      if (!conf_has_member(conf, id)) return who + " is not a member of the configuration";
      erase_id(conf.voters, id);
      erase_id(conf.learners, id);
      erase_id(conf.promoting, id);
      return {};
  }
  return "unknown configuration change";
}

std::string join_ids(const std::vector<NodeId>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out;
}

std::string describe_conf(const ConfState& conf) {
  return "voters=" + join_ids(conf.voters) + " learners=" + join_ids(conf.learners) +
         " promoting=" + join_ids(conf.promoting);
}

std::string encode_conf_entry(const ConfChange& change, const ConfState& conf) {
  return std::string(conf_change_type_name(change.type)) + " " + std::to_string(change.node) + " " +
         describe_conf(conf);
}

std::optional<ConfEntry> decode_conf_entry(std::string_view data, Index index) {
  const std::optional<std::vector<std::string_view>> fields = split_fields(data);
  if (!fields || fields->size() != 5) return std::nullopt;
  const std::optional<ConfChangeType> type = parse_conf_change_type((*fields)[0]);
  const std::optional<NodeId> node = parse_id((*fields)[1]);
  auto voters = parse_list((*fields)[2], "voters");
  auto learners = parse_list((*fields)[3], "learners");
  auto promoting = parse_list((*fields)[4], "promoting");
  if (!type || !node || !voters || !learners || !promoting) return std::nullopt;
  ConfEntry out;
  out.change = {*type, *node};
  out.conf.voters = std::move(*voters);
  out.conf.learners = std::move(*learners);
  out.conf.promoting = std::move(*promoting);
  out.conf.index = index;
  if (!validate_conf_state(out.conf).empty()) return std::nullopt;
  return out;
}

}  // namespace raft
