#include "runtime/kv_state_machine.hpp"

#include <cstring>

namespace raft::runtime {

namespace {

constexpr std::string_view kSnapshotMagic = "kvsnap1\n";

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_u64(out, bytes.size());
  out += bytes;
}

/// Reads a snapshot back; every read checks the remaining length first.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::uint64_t u64() {
    need(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    in_.remove_prefix(8);
    return v;
  }
  std::string bytes() {
    const std::uint64_t n = u64();
    need(n);
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  bool boolean() {
    const std::uint64_t v = u64();
    if (v > 1) throw std::runtime_error("kv snapshot: bad boolean");
    return v == 1;
  }
  bool done() const { return in_.empty(); }

 private:
  void need(std::uint64_t n) const {
    if (n > in_.size()) throw std::runtime_error("kv snapshot: truncated");
  }
  std::string_view in_;
};

}  // namespace

std::optional<KvApplyResult> KvStateMachine::apply(const Entry& entry) {
  applied_index_ = entry.index;
  if (entry.type != EntryType::Command) return std::nullopt;
  std::optional<KvCommand> cmd = decode_kv_command(entry.data);
  if (!cmd) return std::nullopt;

  if (!cmd->client_id.empty()) {
    auto it = sessions_.find(cmd->client_id);
    if (it != sessions_.end() && cmd->seq <= it->second.seq) {
      KvApplyResult again = it->second.result;
      again.duplicate = true;
      return again;
    }
  }

  KvApplyResult result;
  auto it = data_.find(cmd->key);
  result.found = it != data_.end();
  switch (cmd->op) {
    case KvOp::Put:
      if (result.found) {
        bytes_ = bytes_ - it->second.size() + cmd->value.size();
        it->second = std::move(cmd->value);
      } else {
        bytes_ += cmd->key.size() + cmd->value.size();
        data_.emplace(cmd->key, std::move(cmd->value));
      }
      break;
    case KvOp::Delete:
      if (result.found) {
        bytes_ -= it->first.size() + it->second.size();
        data_.erase(it);
      }
      break;
    case KvOp::Cas:
      if (!result.found || it->second != cmd->expected) {
        result.ok = false;
        result.error = result.found ? "the current value does not match the expected one"
                                    : "the key does not exist";
      } else {
        bytes_ = bytes_ - it->second.size() + cmd->value.size();
        it->second = std::move(cmd->value);
      }
      break;
  }
  if (!cmd->client_id.empty()) remember(cmd->client_id, cmd->seq, result, entry.index);
  return result;
}

void KvStateMachine::remember(const std::string& client_id, std::uint64_t seq,
                              const KvApplyResult& result, Index index) {
  sessions_[client_id] = Session{seq, result, index};
  if (sessions_.size() <= kMaxSessions) return;
  // Forget the client that wrote least recently. Deterministic (log order),
  // so every node forgets the same one.
  auto oldest = sessions_.begin();
  for (auto s = sessions_.begin(); s != sessions_.end(); ++s) {
    if (s->second.last_index < oldest->second.last_index) oldest = s;
  }
  sessions_.erase(oldest);
}

std::optional<std::string> KvStateMachine::get(std::string_view key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::string KvStateMachine::snapshot() const {
  std::string out(kSnapshotMagic);
  put_u64(out, applied_index_);
  put_u64(out, data_.size());
  for (const auto& [k, v] : data_) {
    put_bytes(out, k);
    put_bytes(out, v);
  }
  put_u64(out, sessions_.size());
  for (const auto& [client, s] : sessions_) {
    put_bytes(out, client);
    put_u64(out, s.seq);
    put_u64(out, s.last_index);
    put_u64(out, s.result.ok ? 1 : 0);
    put_u64(out, s.result.found ? 1 : 0);
    put_bytes(out, s.result.error);
  }
  return out;
}

void KvStateMachine::restore(std::string_view bytes, Index index) {
  if (bytes.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) {
    throw std::runtime_error("kv snapshot: unknown format");
  }
  Reader r(bytes.substr(kSnapshotMagic.size()));
  std::map<std::string, std::string, std::less<>> data;
  std::map<std::string, Session, std::less<>> sessions;
  const Index stored_index = r.u64();
  if (stored_index != index) throw std::runtime_error("kv snapshot: index does not match");
  for (std::uint64_t n = r.u64(); n > 0; --n) {
    std::string k = r.bytes();
    data.emplace(std::move(k), r.bytes());
  }
  for (std::uint64_t n = r.u64(); n > 0; --n) {
    std::string client = r.bytes();
    Session s;
    s.seq = r.u64();
    s.last_index = r.u64();
    s.result.ok = r.boolean();
    s.result.found = r.boolean();
    s.result.error = r.bytes();
    sessions.emplace(std::move(client), std::move(s));
  }
  if (!r.done()) throw std::runtime_error("kv snapshot: trailing bytes");
  bytes_ = 0;
  for (const auto& [key, value] : data) bytes_ += key.size() + value.size();
  data_ = std::move(data);
  sessions_ = std::move(sessions);
  applied_index_ = index;
}

}  // namespace raft::runtime
