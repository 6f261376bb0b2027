#pragma once
/// Parsing of what clients send to a node's HTTP API: the /command body, the
/// key in /kv/{key}, numbers and flags in query strings, and the body of a
/// compare-and-set. Pure functions that never throw on any input, so they are
/// unit-tested on their own. Every error is one sentence for the client.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raft::http {

/// Commands whose argument is the rest of the line (inner spaces kept).
inline constexpr std::string_view kSubmitCommand = "submit";

/// A parsed `{"cmd":"NAME ARG ..."}`.
struct ParsedCommand {
  std::string name;
  std::vector<std::string> args;
  std::string error;  ///< empty when parsing succeeded
  bool ok() const { return error.empty(); }
};

/// Splits a command line on ASCII whitespace: the first word is the name, the
/// others its arguments. For `submit`, the whole rest of the line (trimmed at
/// both ends, inner whitespace kept) is one argument, and it must not be empty.
ParsedCommand parse_command_line(std::string_view line);

/// Parses a POST /command body: a JSON object with a string field "cmd".
/// Rejects invalid JSON, non-objects, a missing, non-string or blank "cmd".
ParsedCommand parse_command_body(std::string_view body);

/// Strict percent-decoding of a URL path segment: "%2F" -> "/", "+" stays "+",
/// a "%" not followed by two hex digits is an error (nullopt).
std::optional<std::string> percent_decode(std::string_view text);

/// The value of query parameter `name` in the raw request target ("/p?a=1&b"),
/// from the URL only, never from a form body: `+` is a space, percent-escapes
/// are decoded. The first occurrence wins; a bare `?b` is ""; nullopt when the
/// parameter is absent or not validly encoded.
std::optional<std::string> target_query_param(std::string_view target, std::string_view name);

/// The key of a /kv/{key} request, from the raw request target (path and
/// optional query, still percent-encoded): everything after "/kv/" up to "?",
/// decoded. The key may contain "/" and any byte.
struct KvKey {
  std::string key;
  int http_status = 200;  ///< 400 (malformed, empty) or 413 (longer than 1 KiB)
  std::string error;
  bool ok() const { return http_status == 200; }
};
KvKey parse_kv_key(std::string_view target);

/// A non-negative decimal integer with no sign, spaces or trailing junk.
std::optional<std::uint64_t> parse_u64(std::string_view text);

/// "true"/"1"/"yes"/"on"/"" -> true, "false"/"0"/"no"/"off" -> false (case
/// insensitive); anything else nullopt. The empty string is true so that a
/// bare `?stale` works.
std::optional<bool> parse_flag(std::string_view text);

/// For a key-value value of `bytes` bytes: nullopt within
/// runtime::kMaxValueBytes, else the sentence of the 413 answer.
std::optional<std::string> value_too_large(std::size_t bytes);

/// The body of POST /kv/{key}?cas=1: `{"expected":"old","value":"new"}`, both
/// strings. The key must currently hold `expected`.
struct CasBody {
  std::string expected;
  std::string value;
  int http_status = 200;  ///< 400 (malformed) or 413 (a value longer than 1 MiB)
  std::string error;
  bool ok() const { return http_status == 200; }
};
CasBody parse_cas_body(std::string_view body);

/// `?from=I&limit=L` of GET /entries. Absent values keep the defaults below.
struct EntriesQuery {
  std::optional<std::uint64_t> from;  ///< absent: the first index still in the log
  std::size_t limit = 100;            ///< capped at kMaxEntriesLimit
  std::string error;
  bool ok() const { return error.empty(); }
};
inline constexpr std::size_t kDefaultEntriesLimit = 100;
inline constexpr std::size_t kMaxEntriesLimit = 1000;
/// Each argument is the raw parameter value, or nullopt when it is absent.
EntriesQuery parse_entries_query(const std::optional<std::string>& from,
                                 const std::optional<std::string>& limit);

/// `?limit=N` of GET /log: default 200, at most 1000, at least 1.
inline constexpr std::size_t kDefaultLogLines = 200;
inline constexpr std::size_t kMaxLogLines = 1000;
std::optional<std::size_t> parse_log_limit(const std::optional<std::string>& limit);

/// `text` shortened to at most `max_bytes` bytes (at a UTF-8 boundary) with
/// "..." appended when cut: for quoting client input in error messages.
std::string quote_for_error(std::string_view text, std::size_t max_bytes = 64);

}  // namespace raft::http
