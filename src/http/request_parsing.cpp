#include "http/request_parsing.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "http/utf8.hpp"
#include "runtime/kv_command.hpp"
#include "util/strict_json.hpp"

namespace raft::http {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

ParsedCommand command_error(std::string message) {
  ParsedCommand parsed;
  parsed.error = std::move(message);
  return parsed;
}

}  // namespace

std::optional<std::string> value_too_large(std::size_t bytes) {
  if (bytes <= runtime::kMaxValueBytes) return std::nullopt;
  return "the value is " + std::to_string(bytes) + " bytes; the limit is " +
         std::to_string(runtime::kMaxValueBytes);
}

std::string quote_for_error(std::string_view text, std::size_t max_bytes) {
  const std::string_view cut = truncate_utf8(text, max_bytes);
  std::string out = escape_invalid_utf8(cut);
  if (cut.size() < text.size()) out += "...";
  return out;
}

ParsedCommand parse_command_line(std::string_view line) {
  line = trim(line);
  if (line.empty()) {
    return command_error("the command is empty: send {\"cmd\":\"NAME ARG ...\"}");
  }
  std::size_t name_end = 0;
  while (name_end < line.size() && !is_space(line[name_end])) ++name_end;
  ParsedCommand parsed;
  parsed.name = std::string(line.substr(0, name_end));
  std::string_view rest = trim(line.substr(name_end));
  if (parsed.name == kSubmitCommand) {
    if (rest.empty()) {
      return command_error("submit needs the text to append, e.g. {\"cmd\":\"submit hello\"}");
    }
    parsed.args.emplace_back(rest);
    return parsed;
  }
  while (!rest.empty()) {
    std::size_t end = 0;
    while (end < rest.size() && !is_space(rest[end])) ++end;
    parsed.args.emplace_back(rest.substr(0, end));
    rest = trim(rest.substr(end));
  }
  return parsed;
}

ParsedCommand parse_command_body(std::string_view body) {
  std::string problem;
  const std::optional<nlohmann::json> parsed = util::parse_strict(body, &problem);
  if (!parsed) return command_error(problem + "; send {\"cmd\":\"NAME ARG ...\"}");
  const nlohmann::json& doc = *parsed;
  if (!doc.is_object()) {
    return command_error("the request body must be a JSON object like {\"cmd\":\"NAME\"}");
  }
  const auto it = doc.find("cmd");
  if (it == doc.end()) {
    return command_error("the field \"cmd\" is missing; send {\"cmd\":\"NAME ARG ...\"}");
  }
  if (!it->is_string()) {
    return command_error("the field \"cmd\" must be a string like \"trigger_election\"");
  }
  return parse_command_line(it->get_ref<const std::string&>());
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (text.size() - i < 3) return std::nullopt;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

namespace {
std::optional<std::string> decode_query_part(std::string_view part) {
  std::string spaced(part);
  for (char& c : spaced) {
    if (c == '+') c = ' ';
  }
  return percent_decode(spaced);
}
}  // namespace

std::optional<std::string> target_query_param(std::string_view target, std::string_view name) {
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(question + 1);
  rest = rest.substr(0, rest.find('#'));
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (decode_query_part(pair.substr(0, eq)) != name) continue;
    if (eq == std::string_view::npos) return std::string{};
    return decode_query_part(pair.substr(eq + 1));
  }
  return std::nullopt;
}

KvKey parse_kv_key(std::string_view target) {
  KvKey result;
  constexpr std::string_view kPrefix = "/kv/";
  const std::string_view path = target.substr(0, target.find('?'));
  if (path.substr(0, kPrefix.size()) != kPrefix) {
    result.http_status = 400;
    result.error = "the path must be /kv/{key}";
    return result;
  }
  std::optional<std::string> key = percent_decode(path.substr(kPrefix.size()));
  if (!key) {
    result.http_status = 400;
    result.error =
        "the key is not validly percent-encoded (a '%' must be followed by two hex digits)";
    return result;
  }
  if (key->empty()) {
    result.http_status = 400;
    result.error = "the key is empty: use /kv/{key}";
    return result;
  }
  if (key->size() > runtime::kMaxKeyBytes) {
    result.http_status = 413;
    result.error = "the key is " + std::to_string(key->size()) + " bytes; the limit is " +
                   std::to_string(runtime::kMaxKeyBytes);
    return result;
  }
  result.key = std::move(*key);
  return result;
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> parse_flag(std::string_view text) {
  if (text.size() > 8) return std::nullopt;
  const std::string v = lower_ascii(text);
  if (v.empty() || v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return std::nullopt;
}

CasBody parse_cas_body(std::string_view body) {
  CasBody result;
  const auto fail = [&](int status, std::string message) {
    result.http_status = status;
    result.error = std::move(message);
    return result;
  };
  std::string problem;
  const std::optional<nlohmann::json> parsed = util::parse_strict(body, &problem);
  if (!parsed) return fail(400, problem);
  const nlohmann::json& doc = *parsed;
  if (!doc.is_object()) {
    return fail(
        400,
        "a compare-and-set body must be a JSON object {\"expected\":\"old\",\"value\":\"new\"}");
  }
  const auto expected = doc.find("expected");
  const auto value = doc.find("value");
  if (expected == doc.end() || !expected->is_string()) {
    return fail(400, "the field \"expected\" must be a string (the value the key holds now)");
  }
  if (value == doc.end() || !value->is_string()) {
    return fail(400, "the field \"value\" must be a string (the new value)");
  }
  result.expected = expected->get<std::string>();
  result.value = value->get<std::string>();
  if (result.expected.size() > runtime::kMaxValueBytes ||
      result.value.size() > runtime::kMaxValueBytes) {
    return fail(413, "a value is larger than 1 MiB");
  }
  return result;
}

EntriesQuery parse_entries_query(const std::optional<std::string>& from,
                                 const std::optional<std::string>& limit) {
  EntriesQuery query;
  if (from) {
    query.from = parse_u64(*from);
    if (!query.from) {
      query.error =
          "from must be a non-negative integer (a log index), not '" + quote_for_error(*from) + "'";
      return query;
    }
  }
  if (limit) {
    const std::optional<std::uint64_t> n = parse_u64(*limit);
    if (!n || *n == 0) {
      query.error = "limit must be a positive integer, not '" + quote_for_error(*limit) + "'";
      return query;
    }
    query.limit = static_cast<std::size_t>(std::min<std::uint64_t>(*n, kMaxEntriesLimit));
  }
  return query;
}

std::optional<std::size_t> parse_log_limit(const std::optional<std::string>& limit) {
  if (!limit) return kDefaultLogLines;
  const std::optional<std::uint64_t> n = parse_u64(*limit);
  if (!n || *n == 0) return std::nullopt;
  return static_cast<std::size_t>(std::min<std::uint64_t>(*n, kMaxLogLines));
}

}  // namespace raft::http
