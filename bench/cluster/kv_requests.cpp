#include "kv_requests.hpp"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "http/utf8.hpp"

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
    const nlohmann::json body = {{"key", http::base64_encode(key_of(client, i))},
                                 {"value", http::base64_encode(value_100_bytes())}};
    return WriteRequest{"POST", prefix + "/kv/put", body.dump(), "application/json", {}};
  };
}

}  // namespace raft::bench
