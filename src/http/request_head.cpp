#include "http/request_head.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace raft::http {

namespace {

constexpr std::array<std::string_view, 7> kMethods = {"GET",    "HEAD",  "POST",   "PUT",
                                                      "DELETE", "PATCH", "OPTIONS"};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// RFC 9110 tchar: the characters of a method or a field name.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

/// Field values: visible ASCII, spaces, tabs and bytes above 0x7F.
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7F);
  });
}

/// A request target: visible ASCII only (clients percent-encode the rest).
bool is_target(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F;
  });
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_length(std::string_view s) {
  if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), is_digit)) return {};
  std::uint64_t n = 0;
  for (char c : s) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

/// "bytes=A-B", "bytes=A-" or "bytes=-B" with digits only: one plain range.
bool is_single_range(std::string_view s) {
  constexpr std::string_view kUnit = "bytes=";
  if (s.size() <= kUnit.size() || !iequals(s.substr(0, kUnit.size()), kUnit)) return false;
  s.remove_prefix(kUnit.size());
  const std::size_t dash = s.find('-');
  if (dash == std::string_view::npos || s.size() > 40) return false;
  const std::string_view first = s.substr(0, dash);
  const std::string_view last = s.substr(dash + 1);
  const auto digits = [](std::string_view d) { return std::all_of(d.begin(), d.end(), is_digit); };
  return digits(first) && digits(last) && !(first.empty() && last.empty());
}

Refusal refusal(int status, std::string message) { return Refusal{status, std::move(message)}; }

std::optional<Refusal> parse_request_line(std::string_view line, RequestHead& head) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return refusal(400, "the request line is not METHOD TARGET HTTP/VERSION");
  }
  head.method = std::string(line.substr(0, sp1));
  head.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  head.version = std::string(line.substr(sp2 + 1));
  if (!is_token(head.method)) return refusal(400, "the request method is not a token");
  if (!is_target(head.target) || head.target.front() != '/') {
    return refusal(400, "the request target must be a path starting with '/' (visible ASCII)");
  }
  if (head.version != "HTTP/1.1" && head.version != "HTTP/1.0") {
    const std::string_view v = head.version;
    const bool well_formed = v.size() == 8 && v.substr(0, 5) == "HTTP/" && is_digit(v[5]) &&
                             v[6] == '.' && is_digit(v[7]);
    if (well_formed) return refusal(505, "only HTTP/1.1 and HTTP/1.0 are served");
    return refusal(400, "the request line does not end in HTTP/1.1 or HTTP/1.0");
  }
  if (std::find(kMethods.begin(), kMethods.end(), head.method) == kMethods.end()) {
    return refusal(501, "method " + quote_ascii(head.method) +
                            " is not served (GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS are)");
  }
  return std::nullopt;
}

std::optional<Refusal> parse_field(std::string_view line, RequestHead& head) {
  if (line.front() == ' ' || line.front() == '\t') {
    return refusal(400, "folded header lines are not accepted");
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return refusal(400, "a header line has no ':'");
  const std::string_view name = line.substr(0, colon);
  if (!is_token(name)) {
    return refusal(400,
                   "header name " + quote_ascii(name) + " is not a token (no spaces before ':')");
  }
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (!is_field_value(value)) {
    return refusal(400, "header " + quote_ascii(name) + " has a control character in its value");
  }
  head.fields.push_back(HeaderField{std::string(name), std::string(value)});
  return std::nullopt;
}

std::optional<Refusal> decide_length(RequestHead& head, const HeadLimits& limits) {
  std::optional<std::uint64_t> length;
  for (const HeaderField& f : head.fields) {
    if (!iequals(f.name, "Content-Length")) continue;
    const std::optional<std::uint64_t> n = parse_length(f.value);
    if (!n) return refusal(400, "Content-Length " + quote_ascii(f.value) + " is not a number");
    if (length && *length != *n) return refusal(400, "the Content-Length fields disagree");
    length = n;
  }
  if (!length) return std::nullopt;
  if (*length > limits.body_bytes_max) {
    return refusal(413, "the request body is larger than " + std::to_string(limits.body_bytes_max) +
                            " bytes (it is " + std::to_string(*length) + ")");
  }
  head.framing = BodyFraming::Length;
  head.content_length = *length;
  return std::nullopt;
}

/// Content-Length, Transfer-Encoding and Content-Encoding: how the body
/// comes, and whether it is one this server reads.
std::optional<Refusal> decide_framing(RequestHead& head, const HeadLimits& limits) {
  for (const HeaderField& f : head.fields) {
    if (iequals(f.name, "Content-Encoding") && !iequals(f.value, "identity")) {
      return refusal(415, "Content-Encoding " + quote_ascii(f.value) +
                              " is not accepted; send the body uncompressed");
    }
  }
  const std::size_t codings = head.count("Transfer-Encoding");
  if (codings == 0) return decide_length(head, limits);
  if (head.count("Content-Length") > 0) {
    return refusal(400, "a request may not have both Content-Length and Transfer-Encoding");
  }
  if (head.version == "HTTP/1.0") return refusal(400, "HTTP/1.0 has no Transfer-Encoding");
  if (codings > 1 || !iequals(*head.field("Transfer-Encoding"), "chunked")) {
    return refusal(501, "Transfer-Encoding " + quote_ascii(*head.field("Transfer-Encoding")) +
                            " is not supported (only chunked)");
  }
  head.framing = BodyFraming::Chunked;
  return std::nullopt;
}

/// Host, Connection, Expect and Range.
std::optional<Refusal> decide_semantics(RequestHead& head) {
  const std::size_t hosts = head.count("Host");
  if (hosts > 1) return refusal(400, "a request may have only one Host header");
  if (hosts == 0 && head.version == "HTTP/1.1") {
    return refusal(400, "an HTTP/1.1 request needs a Host header");
  }
  bool close = false;
  bool keep = false;
  for (const HeaderField& f : head.fields) {
    if (iequals(f.name, "Connection")) {
      std::string_view rest = f.value;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string_view option = trim_ows(rest.substr(0, comma));
        close = close || iequals(option, "close");
        keep = keep || iequals(option, "keep-alive");
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else if (iequals(f.name, "Expect")) {
      if (!iequals(f.value, "100-continue")) {
        return refusal(417, "Expect " + quote_ascii(f.value) + " is not supported");
      }
      head.expects_continue = true;
    } else if (iequals(f.name, "Range")) {
      head.drop_range = head.drop_range || !is_single_range(f.value);
    }
  }
  head.drop_range = head.drop_range || head.count("Range") > 1;
  head.keep_alive = !close && (head.version == "HTTP/1.1" || keep);
  return std::nullopt;
}

bool method_has_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

}  // namespace

std::string quote_ascii(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, 64)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  return out + (text.size() > 64 ? "...'" : "'");
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

HeadScan HeadScanner::refuse(int status, std::string message) {
  result_.kind = HeadScan::Kind::Refused;
  result_.refusal = Refusal{status, std::move(message)};
  return result_;
}

HeadScan HeadScanner::too_long(std::size_t limit) {
  if (lines_ == 0) {
    return refuse(414, "the request line is longer than " + std::to_string(limit) + " bytes");
  }
  return refuse(431, "a header line is longer than " + std::to_string(limit) + " bytes");
}

HeadScan HeadScanner::scan(std::string_view received) {
  while (result_.kind == HeadScan::Kind::Incomplete && scanned_ < received.size()) {
    const void* nl = std::memchr(received.data() + scanned_, '\n', received.size() - scanned_);
    const std::size_t end =
        nl == nullptr ? received.size() : static_cast<const char*>(nl) - received.data();
    // The line so far, its CR included if it came.
    const std::size_t partial = end - line_start_;
    const std::size_t limit =
        lines_ == 0 ? limits_.request_line_bytes_max : limits_.header_line_bytes_max;
    if (partial > limit + 1) return too_long(limit);
    if (end + (nl != nullptr ? 1 : 0) > limits_.head_bytes_max) {
      return refuse(431, "the request head is longer than " +
                             std::to_string(limits_.head_bytes_max) + " bytes");
    }
    if (nl == nullptr) {
      scanned_ = received.size();
      break;
    }
    if (partial == 0 || received[end - 1] != '\r') {
      return refuse(400, "request lines must end with CRLF");
    }
    if (partial - 1 > limit) return too_long(limit);
    scanned_ = line_start_ = end + 1;
    if (partial == 1) {  // only the CR: the blank line
      if (lines_ == 0) return refuse(400, "the request starts with an empty line");
      result_.kind = HeadScan::Kind::Complete;
      result_.head_bytes = end + 1;
      break;
    }
    if (++lines_ > limits_.header_count_max + 1) {
      return refuse(431, "the request has more than " + std::to_string(limits_.header_count_max) +
                             " header fields");
    }
  }
  return result_;
}

std::optional<std::string_view> RequestHead::field(std::string_view name) const {
  for (const HeaderField& f : fields) {
    if (iequals(f.name, name)) return std::string_view(f.value);
  }
  return std::nullopt;
}

std::size_t RequestHead::count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(fields.begin(), fields.end(),
                    [name](const HeaderField& f) { return iequals(f.name, name); }));
}

HeadParse parse_request_head(std::string_view bytes, const HeadLimits& limits) {
  HeadParse out;
  HeadScanner scanner(limits);
  const HeadScan scan = scanner.scan(bytes);
  if (scan.kind == HeadScan::Kind::Refused) {
    out.refusal = scan.refusal;
    return out;
  }
  if (scan.kind != HeadScan::Kind::Complete || scan.head_bytes != bytes.size()) {
    out.refusal = refusal(400, "the request head is incomplete");
    return out;
  }
  RequestHead head;
  std::string_view rest = bytes.substr(0, bytes.size() - 2);  // without the blank line
  const std::size_t first_end = rest.find("\r\n");
  std::optional<Refusal> problem = parse_request_line(rest.substr(0, first_end), head);
  rest.remove_prefix(first_end + 2);
  while (!problem && !rest.empty()) {
    const std::size_t end = rest.find("\r\n");  // the scanner saw every line end in CRLF
    problem = parse_field(rest.substr(0, end), head);
    rest.remove_prefix(std::min(rest.size(), end + 2));
  }
  if (!problem) problem = decide_semantics(head);
  if (!problem) problem = decide_framing(head, limits);
  if (problem) {
    out.refusal = std::move(*problem);
  } else {
    out.head = std::move(head);
  }
  return out;
}

std::string rewrite_head(const RequestHead& head, std::uint64_t body_bytes) {
  std::string out = head.method + " " + head.target + " " + head.version + "\r\n";
  for (const HeaderField& f : head.fields) {
    const bool framing = iequals(f.name, "Content-Length") ||
                         iequals(f.name, "Transfer-Encoding") || iequals(f.name, "Expect") ||
                         iequals(f.name, "Content-Encoding");
    if (framing || (head.drop_range && iequals(f.name, "Range"))) continue;
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
  if (body_bytes > 0 || method_has_body(head.method)) {
    out += "Content-Length: " + std::to_string(body_bytes) + "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace raft::http
