// UTF-8 helpers: what may go into JSON as is, and how everything else is shown.
#include "http/utf8.hpp"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace raft::http {
namespace {

using namespace std::string_literals;

TEST(Utf8, AsciiAndWellFormedMultiByteSequencesAreValid) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("hello world"));
  EXPECT_TRUE(is_valid_utf8("h\xc3\xa9llo"));      // é
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));  // 😀
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("nul\0inside"s));      // NUL is a character
  EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf"));      // U+D7FF, just below surrogates
}

TEST(Utf8, MalformedSequencesAreInvalid) {
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation byte
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong 3-byte
  EXPECT_FALSE(is_valid_utf8("\xf0\x80\x80\xaf"));  // overlong 4-byte
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));      // truncated at the end
  EXPECT_FALSE(is_valid_utf8("\xe2\x28\xa1"));  // bad continuation
}

TEST(Utf8, EscapeKeepsValidTextAndEscapesEachBadByte) {
  EXPECT_EQ(escape_invalid_utf8("h\xc3\xa9llo"), "h\xc3\xa9llo");
  EXPECT_EQ(escape_invalid_utf8("a\xff"
                                "b"),
            "a\\xffb");
  EXPECT_EQ(escape_invalid_utf8("\xc3"), "\\xc3");
  EXPECT_EQ(escape_invalid_utf8("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  // A valid character right after a bad byte survives.
  EXPECT_EQ(escape_invalid_utf8("\xc3\xc3\xa9"), "\\xc3\xc3\xa9");
}

TEST(Utf8, EscapedTextIsAlwaysValidAndSerialisesStrictly) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  all += "\xf0\x9f\x98";  // truncated emoji at the end
  const std::string escaped = escape_invalid_utf8(all);
  EXPECT_TRUE(is_valid_utf8(escaped));
  // nlohmann's strict dump (the default, which throws on bad UTF-8) accepts it.
  EXPECT_NO_THROW((void)nlohmann::json(escaped).dump());
}

TEST(Utf8, TruncateNeverCutsACharacterInHalf) {
  const std::string text =
      "ab\xe2\x82\xac"
      "cd";  // a b € c d
  EXPECT_EQ(truncate_utf8(text, 100), text);
  EXPECT_EQ(truncate_utf8(text, 2), "ab");
  EXPECT_EQ(truncate_utf8(text, 3), "ab");
  EXPECT_EQ(truncate_utf8(text, 4), "ab");
  EXPECT_EQ(truncate_utf8(text, 5), "ab\xe2\x82\xac");
  EXPECT_EQ(truncate_utf8(text, 0), "");
  // Invalid bytes count one each.
  EXPECT_EQ(truncate_utf8("\xff\xff\xff", 2), "\xff\xff");
}

TEST(Utf8, Base64MatchesRfc4648TestVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("\xff\xfe\x00"s), "//4A");
}

}  // namespace
}  // namespace raft::http
