#include "kv_requests.hpp"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace raft::bench {

namespace {

const std::string& value_100_bytes() {
  static const std::string value(100, 'v');
  return value;
}

std::string key_of(int client, int i) {
  return "bench-" + std::to_string(client) + "-" + std::to_string(i % 64);
}

}  // namespace

WriteRequest raft_kv_put(int client, int i) {
  WriteRequest w{"PUT", "/kv/" + key_of(client, i), value_100_bytes(), "text/plain", {}};
  if (const char* token = std::getenv("RAFT_AUTH_TOKEN"); token && *token) {
    w.headers.emplace("Authorization", std::string("Bearer ") + token);
  }
  return w;
}

WriteSpeller etcd_kv_put(std::string prefix) {
  return [prefix = std::move(prefix)](int client, int i) {
    const nlohmann::json body = {{"key", base64(key_of(client, i))},
                                 {"value", base64(value_100_bytes())}};
    return WriteRequest{"POST", prefix + "/kv/put", body.dump(), "application/json", {}};
  };
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    unsigned triple = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      triple = triple << 8 | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0U);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out += k <= n ? kAlphabet[(triple >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

}  // namespace raft::bench
