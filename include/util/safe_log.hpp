#pragma once
/// Log lines no client can forge or blow up. Every logger of the project
/// formats its message through `%q` instead of spdlog's `%v`: control
/// characters are escaped (a "\n" in a command argument can no longer start a
/// line of its own that reads "critical ...") and the message is cut at
/// kLogMessageBytesMax (a 1 MB argument echoed in a refusal no longer grows
/// the log by a megabyte per request). Header-only so that every program's
/// logger uses it; thread-safe (the flag is cloned per sink).

#include <cstddef>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/pattern_formatter.h>

namespace raft::util {

inline constexpr std::size_t kLogMessageBytesMax = 2048;

/// Appends `message` to `out`, control characters escaped (\n, \r, \t,
/// \xNN), cut after `max_bytes` bytes of input with a note of how many were
/// left out.
template <typename Out>
void append_safe_log_text(std::string_view message, std::size_t max_bytes, Out& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string_view kept = message.substr(0, max_bytes);
  for (const char c : kept) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out.push_back(c);
      continue;
    }
    const char* escaped = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : nullptr;
    if (escaped != nullptr) {
      out.append(escaped, escaped + 2);
    } else {
      const char hex[4] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 15]};
      out.append(hex, hex + 4);
    }
  }
  if (kept.size() < message.size()) {
    const std::string note = "... (" + std::to_string(message.size() - kept.size()) + " bytes cut)";
    out.append(note.data(), note.data() + note.size());
  }
}

inline std::string safe_log_text(std::string_view message,
                                 std::size_t max_bytes = kLogMessageBytesMax) {
  std::string out;
  append_safe_log_text(message, max_bytes, out);
  return out;
}

/// The `%q` flag: the message, made safe.
class SafeMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    append_safe_log_text(std::string_view(msg.payload.data(), msg.payload.size()),
                         kLogMessageBytesMax, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SafeMessageFlag>();
  }
};

/// A formatter for `pattern`, which writes the message as `%q`.
inline std::unique_ptr<spdlog::formatter> safe_formatter(std::string pattern) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<SafeMessageFlag>('q').set_pattern(std::move(pattern));
  return formatter;
}

}  // namespace raft::util
