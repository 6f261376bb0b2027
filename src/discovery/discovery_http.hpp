#pragma once
/// The discovery server's HTTP binding: routes, limits and JSON error pages
/// around a Registry. Thin on purpose: all logic lives in the Registry.

#include <cstddef>
#include <functional>
#include <string>

#include "discovery/registry.hpp"

namespace httplib {
class Server;
}

namespace raft::discovery {

/// Request bodies above this size are refused with 413 before they are read
/// into memory (a registration is well under 200 bytes).
inline constexpr std::size_t kBodyBytesMax = 64 * 1024;

/// Installs the discovery API on `server`: GET /state, GET /healthz,
/// POST /register, POST /set_leader, POST /reset; 405 (with Allow) for another
/// method on those paths, 404 for any other path, 413 for an oversized body,
/// every failure as {"ok":false,"error":"..."}. Also sets the payload limit,
/// short socket timeouts, and SO_REUSEADDR without SO_REUSEPORT. `registry`
/// and `now_ms` must outlive the server; `now_ms` reads a monotonic
/// millisecond clock and must be thread-safe. With `auth_token` not empty,
/// the mutating routes (/register, /set_leader, /reset) answer 401 unless the
/// request carries `Authorization: Bearer <auth_token>`; reads stay open.
void install_routes(httplib::Server& server, Registry& registry, std::function<TimeMs()> now_ms,
                    std::string auth_token = {});

}  // namespace raft::discovery
