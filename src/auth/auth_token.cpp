#include "auth/auth_token.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace raft::auth {

std::optional<std::string> token_error(std::string_view token) {
  if (token.size() < kTokenLengthMin || token.size() > kTokenLengthMax) {
    return "the auth token must be " + std::to_string(kTokenLengthMin) + " to " +
           std::to_string(kTokenLengthMax) + " characters long (got " +
           std::to_string(token.size()) + ")";
  }
  for (char c : token) {
    if (c <= ' ' || c > '~') {
      return "the auth token may hold only visible ASCII characters (no spaces)";
    }
  }
  return std::nullopt;
}

bool equal_constant_time(std::string_view expected, std::string_view given) {
  // Every byte of `expected` is visited whatever `given` holds; a length
  // mismatch is folded into the same accumulator rather than returned early.
  unsigned diff = expected.size() == given.size() ? 0u : 1u;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0u;
    diff |= static_cast<unsigned char>(expected[i]) ^ g;
  }
  // volatile: keep the compiler from turning the loop into an early exit.
  volatile unsigned result = diff;
  return result == 0;
}

std::optional<std::string> check_authorization(std::string_view expected,
                                               std::optional<std::string_view> header) {
  if (expected.empty()) return std::nullopt;
  static constexpr std::string_view kHint = "send the header 'Authorization: Bearer <token>'";
  if (!header) return "this endpoint needs the cluster's auth token: " + std::string(kHint);
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view value = *header;
  // The scheme is case-insensitive (RFC 7235); the token is not.
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  bool scheme_ok = value.size() >= kScheme.size();
  for (std::size_t i = 0; scheme_ok && i < kScheme.size(); ++i) {
    scheme_ok = lower(value[i]) == lower(kScheme[i]);
  }
  if (!scheme_ok) {
    return "the Authorization header must use the Bearer scheme: " + std::string(kHint);
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (!equal_constant_time(expected, value)) return std::string("the auth token is wrong");
  return std::nullopt;
}

std::string bearer(std::string_view token) { return "Bearer " + std::string(token); }

std::string resolve_token(const std::string& flag, std::string* error) {
  std::string token = flag;
  std::string source = "--auth_token";
  if (token.empty()) {
    if (const char* env = std::getenv(kTokenEnv); env != nullptr) token = env;
    source = std::string("$") + kTokenEnv;
  }
  if (token.empty()) return {};
  if (auto why = token_error(token)) {
    if (error != nullptr) *error = source + ": " + *why;
    return {};
  }
  return token;
}

std::string generate_token() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof bytes);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

}  // namespace raft::auth
