#pragma once
/// One benchmark write spelled for each store's HTTP API, so one load
/// generator drives both: our node's `PUT /kv/{key}` (docs/API.md) and etcd's
/// JSON gateway `POST /v3/kv/put` (base64 key and value). Client `c`'s i-th
/// write puts a 100-byte value under key "bench-<c>-<i mod 64>" in both.
/// Thread-safe (no state).

#include <functional>
#include <string>

#include <httplib.h>

namespace raft::bench {

struct WriteRequest {
  std::string method;  ///< "PUT" or "POST"
  std::string path;
  std::string body;
  std::string content_type;
  httplib::Headers headers;
};

/// Spells client `client`'s `i`-th write.
using WriteSpeller = std::function<WriteRequest(int client, int i)>;

/// Our node's PUT, with $RAFT_AUTH_TOKEN as a bearer token when it is set.
WriteRequest raft_kv_put(int client, int i);

/// etcd's gateway put under `prefix` ("/v3" since etcd 3.4, "/v3beta" before).
WriteSpeller etcd_kv_put(std::string prefix);

}  // namespace raft::bench
