#pragma once
/// UTF-8 helpers for putting arbitrary bytes (log entries, keys, values, log
/// lines) into JSON, which must be valid UTF-8. Pure functions, thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

namespace raft::http {

/// Whether `text` is well-formed UTF-8 (Unicode table 3-7: no overlong forms,
/// no surrogates, nothing above U+10FFFF) — the same rule nlohmann::json
/// applies when it serialises strings.
bool is_valid_utf8(std::string_view text);

/// Valid UTF-8 is copied unchanged; every byte that is not part of a valid
/// sequence becomes the four characters `\xNN` (lower-case hex). The result is
/// always valid UTF-8. Callers that need the exact bytes also get base64.
std::string escape_invalid_utf8(std::string_view bytes);

/// The longest prefix of `text` of at most `max_bytes` bytes that does not cut
/// a valid multi-byte sequence in half.
std::string_view truncate_utf8(std::string_view text, std::size_t max_bytes);

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

}  // namespace raft::http
