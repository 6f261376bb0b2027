#pragma once
/// The head of an HTTP/1.1 request (request line and header fields), read
/// the way a server that must bound every request reads it: a HeadScanner
/// watches the bytes as they arrive and refuses a line or a head over its
/// limit at once (never reading a 200 MB line to find it too long); once the
/// blank line came, parse_request_head() checks the whole head strictly and
/// says how the body is framed; rewrite_head() gives the head again with the
/// framing the server decided on, for cpp-httplib to parse.
///
/// What is refused, each with its status and one sentence: a request line
/// over its limit (414), a header line or a head over theirs or too many
/// fields (431), lines not ending in CRLF, folded lines, bytes that are not
/// allowed, a malformed request line, Content-Length and Transfer-Encoding
/// together, Content-Lengths that disagree (400), a body over the limit
/// (413), a Content-Encoding other than identity (415: the project's
/// clients never compress, and a 1 MB gzip body can hold 1 GB), a transfer
/// coding other than chunked (501), a method outside the seven served
/// (501), a version other than 1.0 and 1.1 (505), an Expect other than
/// 100-continue (417).
///
/// Pure functions over bytes; no allocation grows with anything but the
/// bytes given, which the limits bound.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raft::http {

struct HeadLimits {
  /// cpp-httplib's own limits, 8,192 bytes with the CRLF, less one for a
  /// header line, which rewrite_head() may give a space after the colon.
  std::size_t request_line_bytes_max = 8190;
  std::size_t header_line_bytes_max = 8189;
  /// The whole head: request line, fields and the blank line.
  std::size_t head_bytes_max = 16 * 1024;
  std::size_t header_count_max = 100;
  /// A larger Content-Length is refused (413) before any of the body is read.
  std::size_t body_bytes_max = 64 * 1024;
};

/// Why a request is refused, as the answer says it.
struct Refusal {
  int status = 400;
  std::string message;
};

/// What a HeadScanner saw so far.
struct HeadScan {
  enum class Kind { Incomplete, Complete, Refused };
  Kind kind = Kind::Incomplete;
  std::size_t head_bytes = 0;  ///< Complete: the head's length, its blank line included
  Refusal refusal;             ///< Refused
};

/// Finds the end of a head in bytes that arrive piece by piece, enforcing
/// the line, field-count and head limits on the way. Each byte is looked at
/// once, however small the pieces.
class HeadScanner {
 public:
  explicit HeadScanner(const HeadLimits& limits) : limits_(limits) {}
  /// `received` is every byte of this request so far (what an earlier call
  /// saw, and more). Once Complete or Refused the answer stays.
  HeadScan scan(std::string_view received);
  /// Ready for the next request on the connection.
  void reset() { *this = HeadScanner(limits_); }

 private:
  HeadScan refuse(int status, std::string message);
  HeadScan too_long(std::size_t limit);
  HeadLimits limits_;
  HeadScan result_;
  std::size_t scanned_ = 0;     ///< bytes looked at
  std::size_t line_start_ = 0;  ///< where the current line starts
  std::size_t lines_ = 0;       ///< complete lines so far, the request line included
};

enum class BodyFraming { None, Length, Chunked };

struct HeaderField {
  std::string name;   ///< as sent
  std::string value;  ///< without the spaces around it
};

struct RequestHead {
  std::string method;
  std::string target;   ///< as sent: path and query, still percent-encoded
  std::string version;  ///< "HTTP/1.1" or "HTTP/1.0"
  std::vector<HeaderField> fields;
  BodyFraming framing = BodyFraming::None;
  std::uint64_t content_length = 0;  ///< with BodyFraming::Length
  /// HTTP/1.1 without "Connection: close", or 1.0 with "keep-alive".
  bool keep_alive = true;
  bool expects_continue = false;  ///< "Expect: 100-continue"
  /// A Range header asking for more than one range, or one that is not a
  /// plain "bytes=A-B": the rewritten head drops it (RFC 9110 lets a server
  /// ignore Range), since a few KiB asked for 2,700 times is an answer of
  /// 65 MB.
  bool drop_range = false;

  /// The value of the first field called `name` (any case); nullopt if none.
  std::optional<std::string_view> field(std::string_view name) const;
  /// How many fields are called `name`.
  std::size_t count(std::string_view name) const;
};

/// Either a head or why it is refused.
struct HeadParse {
  std::optional<RequestHead> head;
  Refusal refusal;  ///< when !head
};

/// Parses a complete head (as HeadScanner delimited it: the request line,
/// the fields and the blank line) against `limits`.
HeadParse parse_request_head(std::string_view head, const HeadLimits& limits);

/// The head as cpp-httplib is to see it: the request line and fields as
/// sent, without the framing fields (Content-Length, Transfer-Encoding),
/// Expect, Content-Encoding and a dropped Range, and with
/// "Content-Length: body_bytes" when there is a body or the method is one
/// that carries one (POST, PUT, PATCH, DELETE).
std::string rewrite_head(const RequestHead& head, std::uint64_t body_bytes);

/// Client input quoted for a message: 'text', at most 64 bytes, anything
/// unprintable as '?'.
std::string quote_ascii(std::string_view text);

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace raft::http
