// The request head as the gate reads it: HeadScanner refuses a line or a
// head over its limit as soon as the bytes show it, whatever the pieces;
// parse_request_head() checks the whole head and decides the framing;
// rewrite_head() gives httplib a head with the gate's framing.
#include "http/request_head.hpp"

#include <string>

#include <gtest/gtest.h>

namespace raft::http {
namespace {

HeadLimits small_limits() {
  HeadLimits limits;
  limits.request_line_bytes_max = 64;
  limits.header_line_bytes_max = 32;
  limits.head_bytes_max = 256;
  limits.header_count_max = 4;
  limits.body_bytes_max = 1000;
  return limits;
}

/// Feeds `bytes` to a scanner `step` bytes at a time.
HeadScan scan_in_steps(const std::string& bytes, std::size_t step,
                       const HeadLimits& limits = small_limits()) {
  HeadScanner scanner(limits);
  HeadScan scan;
  for (std::size_t end = step; scan.kind == HeadScan::Kind::Incomplete; end += step) {
    scan = scanner.scan(std::string_view(bytes).substr(0, std::min(end, bytes.size())));
    if (end >= bytes.size()) break;
  }
  return scan;
}

TEST(HeadScanner, FindsTheEndOfAHeadWhateverThePieces) {
  const std::string head = "GET /x HTTP/1.1\r\nHost: a\r\n\r\nBODY";
  for (std::size_t step : {1u, 2u, 7u, 100u}) {
    const HeadScan scan = scan_in_steps(head, step);
    ASSERT_EQ(scan.kind, HeadScan::Kind::Complete) << step;
    EXPECT_EQ(scan.head_bytes, head.size() - 4) << step;
  }
  EXPECT_EQ(scan_in_steps("GET /x HTTP/1.1\r\nHost: a\r\n", 1).kind, HeadScan::Kind::Incomplete);
}

TEST(HeadScanner, RefusesALongLineBeforeItsEnd) {
  // 65 bytes of request line and no CRLF yet: already too long.
  const HeadScan line = scan_in_steps("GET /" + std::string(70, 'a'), 1);
  ASSERT_EQ(line.kind, HeadScan::Kind::Refused);
  EXPECT_EQ(line.refusal.status, 414);
  EXPECT_EQ(line.refusal.message, "the request line is longer than 64 bytes");

  const HeadScan field = scan_in_steps("GET / HTTP/1.1\r\nX: " + std::string(40, 'b'), 3);
  ASSERT_EQ(field.kind, HeadScan::Kind::Refused);
  EXPECT_EQ(field.refusal.status, 431);
  EXPECT_EQ(field.refusal.message, "a header line is longer than 32 bytes");
}

TEST(HeadScanner, RefusesTooManyFieldsAndTooLongAHead) {
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 5; ++i) many += "A: b\r\n";
  const HeadScan count = scan_in_steps(many, 1);
  ASSERT_EQ(count.kind, HeadScan::Kind::Refused);
  EXPECT_EQ(count.refusal.status, 431);
  EXPECT_EQ(count.refusal.message, "the request has more than 4 header fields");

  HeadLimits limits = small_limits();
  limits.header_count_max = 100;
  std::string big = "GET / HTTP/1.1\r\n";
  while (big.size() < 300) big += "Field: " + std::string(20, 'v') + "\r\n";
  const HeadScan head = scan_in_steps(big, 5, limits);
  ASSERT_EQ(head.kind, HeadScan::Kind::Refused);
  EXPECT_EQ(head.refusal.status, 431);
  EXPECT_EQ(head.refusal.message, "the request head is longer than 256 bytes");
}

TEST(HeadScanner, WantsCrlfAndNoLeadingBlankLine) {
  EXPECT_EQ(scan_in_steps("GET / HTTP/1.1\nHost: a\n\n", 1).refusal.message,
            "request lines must end with CRLF");
  EXPECT_EQ(scan_in_steps("\r\nGET / HTTP/1.1\r\n\r\n", 1).refusal.message,
            "the request starts with an empty line");
}

HeadParse parse(const std::string& head) { return parse_request_head(head, small_limits()); }

TEST(ParseRequestHead, ReadsTheLineFieldsAndFraming) {
  const HeadParse p = parse("PUT /kv/a?x=1 HTTP/1.1\r\nHost: h:1\r\nContent-Length:  12 \r\n\r\n");
  ASSERT_TRUE(p.head) << p.refusal.message;
  EXPECT_EQ(p.head->method, "PUT");
  EXPECT_EQ(p.head->target, "/kv/a?x=1");
  EXPECT_EQ(p.head->version, "HTTP/1.1");
  EXPECT_EQ(p.head->framing, BodyFraming::Length);
  EXPECT_EQ(p.head->content_length, 12u);
  EXPECT_EQ(p.head->field("content-length"), "12");
  EXPECT_TRUE(p.head->keep_alive);

  const HeadParse chunked =
      parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
  ASSERT_TRUE(chunked.head);
  EXPECT_EQ(chunked.head->framing, BodyFraming::Chunked);
  const HeadParse none = parse("POST / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(none.head);
  EXPECT_EQ(none.head->framing, BodyFraming::None);
  EXPECT_FALSE(none.head->keep_alive);
  const HeadParse old = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  ASSERT_TRUE(old.head);  // HTTP/1.0 may omit Host
  EXPECT_TRUE(old.head->keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").head->keep_alive);
}

/// The refusal's status and message for `head`.
std::pair<int, std::string> refused(const std::string& head) {
  const HeadParse p = parse(head);
  EXPECT_FALSE(p.head) << head;
  return {p.refusal.status, p.refusal.message};
}

TEST(ParseRequestHead, RefusesWhatItCannotServeWithOneSentence) {
  using R = std::pair<int, std::string>;
  EXPECT_EQ(refused("PUT / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\n\r\n"),
            R(415, "Content-Encoding 'gzip' is not accepted; send the body uncompressed"));
  EXPECT_EQ(refused("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n"),
            R(413, "the request body is larger than 1000 bytes (it is 1001)"));
  EXPECT_EQ(refused("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"),
            R(501, "Transfer-Encoding 'gzip' is not supported (only chunked)"));
  EXPECT_EQ(refused("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Length: 3\r\n\r\n"),
            R(400, "a request may not have both Content-Length and Transfer-Encoding"));
  EXPECT_EQ(refused("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
            R(400, "the Content-Length fields disagree"));
  EXPECT_EQ(refused("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: -3\r\n\r\n"),
            R(400, "Content-Length '-3' is not a number"));
  EXPECT_EQ(refused("GET / HTTP/1.1\r\n\r\n"), R(400, "an HTTP/1.1 request needs a Host header"));
  EXPECT_EQ(refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            R(400, "a request may have only one Host header"));
  EXPECT_EQ(refused("BREW / HTTP/1.1\r\nHost: h\r\n\r\n").first, 501);
  EXPECT_EQ(refused("GET / HTTP/2.0\r\nHost: h\r\n\r\n"),
            R(505, "only HTTP/1.1 and HTTP/1.0 are served"));
  EXPECT_EQ(refused("GET  / HTTP/1.1\r\nHost: h\r\n\r\n").first, 400);
  EXPECT_EQ(refused("GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n").first, 400);
  EXPECT_EQ(refused("GET / HTTP/1.1\r\nHost : h\r\n\r\n").first, 400);
  EXPECT_EQ(refused("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"),
            R(400, "folded header lines are not accepted"));
  EXPECT_EQ(refused(std::string("GET / HTTP/1.1\r\nHost: h\0i\r\n\r\n", 29)),
            R(400, "header 'Host' has a control character in its value"));
  EXPECT_EQ(refused("PUT / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n"),
            R(417, "Expect 'magic' is not supported"));
  EXPECT_EQ(refused("GET / HTTP/1.1\r\nHost: h\r\n").first, 400);  // no blank line
}

TEST(ParseRequestHead, KeepsOnePlainRangeAndDropsTheRest) {
  const auto drop = [](const std::string& range) {
    return parse("GET /a.js HTTP/1.1\r\nHost: h\r\nRange: " + range + "\r\n\r\n").head->drop_range;
  };
  EXPECT_FALSE(drop("bytes=0-99"));
  EXPECT_FALSE(drop("bytes=-5"));
  EXPECT_TRUE(drop("bytes=0-,0-,0-"));
  EXPECT_TRUE(drop("bytes=0-%2C0-"));  // httplib decodes header values
  EXPECT_TRUE(drop("lines=1-2"));
}

TEST(RewriteHead, GivesTheGatesFramingAndDropsWhatItHandled) {
  HeadLimits limits = small_limits();
  limits.header_count_max = 10;
  const HeadParse p = parse_request_head(
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
      "Content-Encoding: identity\r\nRange: bytes=0-,1-\r\nX-A:  b \r\n\r\n",
      limits);
  ASSERT_TRUE(p.head) << p.refusal.message;
  EXPECT_TRUE(p.head->expects_continue);
  EXPECT_EQ(rewrite_head(*p.head, 5),
            "POST /c HTTP/1.1\r\nHost: h\r\nX-A: b\r\nContent-Length: 5\r\n\r\n");
  // A bodiless POST has a body of zero bytes, not one that lasts until EOF.
  const HeadParse bodiless = parse("POST /reset HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(rewrite_head(*bodiless.head, 0),
            "POST /reset HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  const HeadParse get = parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(rewrite_head(*get.head, 0), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  // The rewritten head parses to the same request.
  const HeadParse again = parse(rewrite_head(*p.head, 5));
  ASSERT_TRUE(again.head);
  EXPECT_EQ(again.head->target, "/c");
  EXPECT_EQ(again.head->content_length, 5u);
}

}  // namespace
}  // namespace raft::http
