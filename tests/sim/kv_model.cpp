#include "kv_model.hpp"

#include <charconv>
#include <cstdint>

namespace raft::sim {

namespace {

/// Reads one space- or newline-terminated token and moves past the terminator.
std::optional<std::string_view> take_token(std::string_view& in, char terminator) {
  const std::size_t end = in.find(terminator);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view token = in.substr(0, end);
  in.remove_prefix(end + 1);
  return token;
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::string format_write(std::string_view key, std::string_view value) {
  std::string out;
  out.reserve(key.size() + value.size() + 1);
  out.append(key).append("=").append(value);
  return out;
}

std::optional<KvWrite> parse_write(std::string_view data) {
  const std::size_t eq = data.find('=');
  if (eq == std::string_view::npos || eq == 0) return std::nullopt;
  return KvWrite{std::string(data.substr(0, eq)), std::string(data.substr(eq + 1))};
}

void KvModel::apply(const Entry& entry) {
  applied_index_ = entry.index;
  if (entry.type != EntryType::Command) return;
  std::optional<KvWrite> write = parse_write(entry.data);
  if (!write) return;
  data_[write->key] = KvValue{std::move(write->value), entry.index};
}

const KvValue* KvModel::get(std::string_view key) const {
  const auto it = data_.find(key);
  return it == data_.end() ? nullptr : &it->second;
}

std::string KvModel::serialize() const {
  // "kv <applied>\n" then "<key> <value> <index>\n" per key.
  std::string out = "kv " + std::to_string(applied_index_) + "\n";
  for (const auto& [key, v] : data_) {
    out.append(key).append(" ").append(v.value).append(" ").append(std::to_string(v.index));
    out.append("\n");
  }
  return out;
}

std::optional<KvModel> KvModel::deserialize(std::string_view in) {
  KvModel model;
  const auto magic = take_token(in, ' ');
  if (!magic || *magic != "kv") return std::nullopt;
  const auto applied_text = take_token(in, '\n');
  const auto applied = applied_text ? parse_u64(*applied_text) : std::nullopt;
  if (!applied) return std::nullopt;
  model.applied_index_ = *applied;
  while (!in.empty()) {
    const auto key = take_token(in, ' ');
    const auto value = key ? take_token(in, ' ') : std::nullopt;
    const auto index_text = value ? take_token(in, '\n') : std::nullopt;
    const auto index = index_text ? parse_u64(*index_text) : std::nullopt;
    if (!index || key->empty()) return std::nullopt;
    model.data_[std::string(*key)] = KvValue{std::string(*value), *index};
  }
  return model;
}

}  // namespace raft::sim
