// ChunkedDecoder: a chunked body decoded piece by piece, refused (413) from
// the size line of the chunk that would pass the limit, before its data.
#include "http/chunked_body.hpp"

#include <string>

#include <gtest/gtest.h>

namespace raft::http {
namespace {

struct Decoded {
  ChunkedDecoder::State state;
  std::string body;
  std::size_t used = 0;  ///< bytes of the input taken
  Refusal refusal;
};

Decoded decode(const std::string& in, std::size_t step, std::size_t limit = 100) {
  ChunkedDecoder decoder(limit);
  Decoded out{ChunkedDecoder::State::NeedMore, {}, 0, {}};
  for (std::size_t at = 0; at < in.size() && decoder.state() == ChunkedDecoder::State::NeedMore;
       at += step) {
    out.used += decoder.feed(std::string_view(in).substr(at, step), &out.body);
  }
  out.state = decoder.state();
  out.refusal = decoder.refusal();
  return out;
}

TEST(ChunkedDecoder, DecodesInAnyPiecesAndStopsAtTheEnd) {
  const std::string body = "5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nTrailer: x\r\n\r\n";
  for (std::size_t step : {1u, 3u, 1000u}) {
    const Decoded d = decode(body + "GET /next", step);
    EXPECT_EQ(d.state, ChunkedDecoder::State::Done) << step;
    EXPECT_EQ(d.body, "hello world!") << step;
    if (step == 1000) {
      EXPECT_EQ(d.used, body.size());  // the next request stays
    }
  }
  EXPECT_EQ(decode("5\r\nhel", 1).state, ChunkedDecoder::State::NeedMore);
}

TEST(ChunkedDecoder, RefusesAChunkPastTheLimitFromItsSizeLine) {
  const Decoded d = decode("40\r\n" + std::string(64, 'a') + "\r\n40\r\n", 1000);
  EXPECT_EQ(d.state, ChunkedDecoder::State::Refused);
  EXPECT_EQ(d.refusal.status, 413);
  EXPECT_EQ(d.refusal.message, "the chunked request body is larger than 100 bytes");
  EXPECT_EQ(d.body.size(), 64u);  // the second chunk's data was never taken
  EXPECT_EQ(decode("ffffffffffffffffff\r\n", 1).refusal.status, 413);
}

TEST(ChunkedDecoder, RefusesMalformedFraming) {
  EXPECT_EQ(decode("zz\r\n", 1).refusal.message, "a chunk size line is not hexadecimal digits");
  EXPECT_EQ(decode("5 x\r\n", 1).refusal.message, "a chunk size line is not hexadecimal digits");
  EXPECT_EQ(decode("5\nhello", 1).refusal.message, "chunked body lines must end with CRLF");
  EXPECT_EQ(decode("2\r\nhello\r\n", 1).refusal.message,
            "a chunk is longer than its size line says");
  EXPECT_EQ(decode("1;" + std::string(5000, 'e'), 100).refusal.status, 400);
  std::string trailer = "0\r\n";
  for (int i = 0; i < 1000; ++i) trailer += "T: vvvvvvvv\r\n";
  EXPECT_EQ(decode(trailer, 64).refusal.status, 431);
}

}  // namespace
}  // namespace raft::http
