#include "runtime/kv_command.hpp"

#include <charconv>
#include <vector>

namespace raft::runtime {

namespace {

constexpr std::string_view kMagic = "kv1";

bool parse_u64(std::string_view text, std::uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= line.size()) {
    const std::size_t space = line.find(' ', start);
    const std::size_t end = space == std::string_view::npos ? line.size() : space;
    parts.push_back(line.substr(start, end - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return parts;
}

}  // namespace

std::string_view kv_op_name(KvOp op) {
  switch (op) {
    case KvOp::Put: return "put";
    case KvOp::Delete: return "delete";
    case KvOp::Cas: return "cas";
  }
  return "unknown";
}

std::string encode_kv_command(const KvCommand& c) {
  std::string out;
  out.reserve(64 + c.client_id.size() + c.key.size() + c.value.size() + c.expected.size());
  out += kMagic;
  out += ' ';
  out += kv_op_name(c.op);
  out += ' ';
  out += c.client_id.empty() ? "-" : c.client_id;
  out += ' ' + std::to_string(c.seq) + ' ' + std::to_string(c.key.size()) + ' ' +
         std::to_string(c.value.size()) + ' ' + std::to_string(c.expected.size()) + '\n';
  out += c.key;
  out += c.value;
  out += c.expected;
  return out;
}

std::optional<KvHeader> decode_kv_header(std::string_view data, std::size_t total_bytes) {
  const std::size_t newline = data.find('\n');
  if (newline == std::string_view::npos || newline > kKvHeaderBytesMax) return std::nullopt;
  const std::vector<std::string_view> f = split_spaces(data.substr(0, newline));
  if (f.size() != 7 || f[0] != kMagic) return std::nullopt;
  KvHeader h;
  if (f[1] == "put") {
    h.op = KvOp::Put;
  } else if (f[1] == "delete") {
    h.op = KvOp::Delete;
  } else if (f[1] == "cas") {
    h.op = KvOp::Cas;
  } else {
    return std::nullopt;
  }
  if (f[2].empty() || f[2].size() > kMaxClientIdBytes) return std::nullopt;
  h.client_id = f[2] == "-" ? std::string() : std::string(f[2]);
  if (!parse_u64(f[3], &h.seq) || !parse_u64(f[4], &h.key_bytes) ||
      !parse_u64(f[5], &h.value_bytes) || !parse_u64(f[6], &h.expected_bytes)) {
    return std::nullopt;
  }
  h.header_bytes = newline + 1;
  const std::size_t body = total_bytes - h.header_bytes;
  // Compare piecewise so a hostile length cannot overflow the sum.
  if (total_bytes < h.header_bytes || h.key_bytes > body || h.value_bytes > body - h.key_bytes ||
      h.expected_bytes != body - h.key_bytes - h.value_bytes) {
    return std::nullopt;
  }
  return h;
}

std::optional<KvCommand> decode_kv_command(std::string_view data) {
  std::optional<KvHeader> h = decode_kv_header(data, data.size());
  if (!h) return std::nullopt;
  const std::string_view body = data.substr(h->header_bytes);
  KvCommand c;
  c.op = h->op;
  c.client_id = std::move(h->client_id);
  c.seq = h->seq;
  c.key = body.substr(0, h->key_bytes);
  c.value = body.substr(h->key_bytes, h->value_bytes);
  c.expected = body.substr(h->key_bytes + h->value_bytes);
  return c;
}

std::string validate_kv_command(const KvCommand& c) {
  if (c.key.empty()) return "the key is empty";
  if (c.key.size() > kMaxKeyBytes) return "the key is longer than 1 KiB";
  if (c.value.size() > kMaxValueBytes || c.expected.size() > kMaxValueBytes) {
    return "the value is larger than 1 MiB";
  }
  if (c.client_id.size() > kMaxClientIdBytes) return "the client id is longer than 64 bytes";
  for (char ch : c.client_id) {
    if (ch == ' ' || ch == '\n' || static_cast<unsigned char>(ch) < 0x21 ||
        static_cast<unsigned char>(ch) > 0x7e) {
      return "the client id must be printable ASCII without spaces";
    }
  }
  if (c.client_id == "-") return "the client id '-' is reserved";
  return {};
}

}  // namespace raft::runtime
