#pragma once
/// The auth check as the three HTTP servers (node, discovery, monitor) make
/// it on a cpp-httplib request. Header-only: raft_auth stays free of httplib.

#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>

#include "auth/auth_token.hpp"

namespace raft::auth {

/// nullopt when `req` may mutate (no token configured, or the right one
/// sent). Otherwise sets WWW-Authenticate on `res` and returns the sentence
/// for the caller's 401 JSON answer.
inline std::optional<std::string> refusal(std::string_view expected, const httplib::Request& req,
                                          httplib::Response& res) {
  if (expected.empty()) return std::nullopt;
  const bool present = req.has_header("Authorization");
  const std::string header = req.get_header_value("Authorization");
  std::optional<std::string> why = check_authorization(
      expected, present ? std::optional<std::string_view>(header) : std::nullopt);
  if (why) res.set_header("WWW-Authenticate", "Bearer realm=\"raft\"");
  return why;
}

}  // namespace raft::auth
