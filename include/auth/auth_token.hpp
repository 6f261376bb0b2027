#pragma once
/// The shared secret that guards every mutating HTTP endpoint (node
/// /command and /kv writes, discovery /register, /set_leader and /reset, the
/// monitor's command and key-value forwarding) once a cluster listens on a
/// network rather than on loopback.
///
/// Clients send `Authorization: Bearer <token>`. With no token configured
/// every request passes (loopback demo). Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace raft::auth {

/// The environment variable every program reads when --auth_token is not
/// given (an environment is not visible to other users in `ps`, argv is).
inline constexpr const char* kTokenEnv = "RAFT_AUTH_TOKEN";
inline constexpr std::size_t kTokenLengthMin = 16;
inline constexpr std::size_t kTokenLengthMax = 256;

/// nullopt when `token` may be used: 16..256 visible ASCII characters, no
/// spaces (it travels in an HTTP header). Else one sentence.
std::optional<std::string> token_error(std::string_view token);

/// Compares in time that depends only on expected.size(), so a client cannot
/// find the token byte by byte from answer times.
bool equal_constant_time(std::string_view expected, std::string_view given);

/// Checks the Authorization header of a mutating request. `expected` empty:
/// always nullopt (no token configured). Else nullopt when `header` is
/// "Bearer <expected>", otherwise one sentence for the 401 answer.
std::optional<std::string> check_authorization(std::string_view expected,
                                               std::optional<std::string_view> header);

/// "Bearer <token>", the header value clients send.
std::string bearer(std::string_view token);

/// The token to use: `flag` when given, else $RAFT_AUTH_TOKEN, else "".
/// Sets *error (and returns "") when the chosen one fails token_error().
std::string resolve_token(const std::string& flag, std::string* error);

/// 32 hex digits (128 bits) from the kernel's random source. Throws
/// std::runtime_error if there is none.
std::string generate_token();

}  // namespace raft::auth
