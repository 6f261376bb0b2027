// What clients send: command bodies, kv keys, query numbers and flags, cas bodies.
#include "http/request_parsing.hpp"

#include <string>

#include <gtest/gtest.h>

#include "http/utf8.hpp"

namespace raft::http {
namespace {

using namespace std::string_literals;
using Args = std::vector<std::string>;

TEST(ParseCommandLine, NameAloneHasNoArguments) {
  const ParsedCommand c = parse_command_line("trigger_election");
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.name, "trigger_election");
  EXPECT_TRUE(c.args.empty());
}

TEST(ParseCommandLine, ArgumentsAreSplitOnAnyWhitespace) {
  const ParsedCommand c = parse_command_line("  partition\t1   2\n3  ");
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.name, "partition");
  EXPECT_EQ(c.args, (Args{"1", "2", "3"}));
}

TEST(ParseCommandLine, SubmitTakesTheRestOfTheLineAsOneArgumentKeepingInnerSpaces) {
  const ParsedCommand c = parse_command_line("submit   set x =  1\tand more  ");
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.name, "submit");
  EXPECT_EQ(c.args, (Args{"set x =  1\tand more"}));
}

TEST(ParseCommandLine, SubmitWithoutTextIsRefused) {
  EXPECT_FALSE(parse_command_line("submit").ok());
  EXPECT_FALSE(parse_command_line("submit    ").ok());
}

TEST(ParseCommandLine, BlankLineIsRefused) {
  EXPECT_FALSE(parse_command_line("").ok());
  EXPECT_FALSE(parse_command_line(" \t\r\n").ok());
}

TEST(ParseCommandLine, UnicodeArgumentsPassThrough) {
  const ParsedCommand c = parse_command_line("submit h\xc3\xa9llo \xf0\x9f\x98\x80");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.args, (Args{"h\xc3\xa9llo \xf0\x9f\x98\x80"}));
}

TEST(ParseCommandBody, AcceptsTheOriginalsShape) {
  const ParsedCommand c = parse_command_body(R"({"cmd":"transfer_leadership 2"})");
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.name, "transfer_leadership");
  EXPECT_EQ(c.args, (Args{"2"}));
}

TEST(ParseCommandBody, IgnoresOtherFields) {
  const ParsedCommand c = parse_command_body(R"({"cmd":"pause","note":[1,2,{}]})");
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.name, "pause");
}

TEST(ParseCommandBody, DecodesJsonEscapes) {
  const ParsedCommand c = parse_command_body(R"({"cmd":"submit a\tb \u00e9 \"q\""})");
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.args, (Args{"a\tb \xc3\xa9 \"q\""}));
}

TEST(ParseCommandBody, RefusesMalformedBodiesWithOneSentence) {
  for (const std::string& body :
       {""s, "not json"s, "{"s, R"({"cmd":)"s, R"([{"cmd":"pause"}])"s, R"("pause")"s, "42"s,
        "null"s, R"({})"s, R"({"command":"pause"})"s, R"({"cmd":42})"s, R"({"cmd":null})"s,
        R"({"cmd":["pause"]})"s, R"({"cmd":""})"s, R"({"cmd":"   "})"s,
        R"({"cmd":"pause"} trailing)"s, "\xff\xfe"s, "{\"cmd\":\"submit \xff\"}"s}) {
    const ParsedCommand c = parse_command_body(body);
    EXPECT_FALSE(c.ok()) << "accepted: " << escape_invalid_utf8(body);
    EXPECT_EQ(c.error.find('\n'), std::string::npos);
    EXPECT_FALSE(c.error.empty());
  }
}

TEST(ParseCommandBody, SurvivesDeepNesting) {
  // A million nested arrays must not blow the stack, valid or not.
  const std::string open(1'000'000, '[');
  EXPECT_FALSE(parse_command_body(open).ok());
  std::string nested =
      R"({"cmd":"pause","x":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  const ParsedCommand deep = parse_command_body(nested);
  EXPECT_FALSE(deep.ok());
  EXPECT_NE(deep.error.find("nested deeper"), std::string::npos) << deep.error;
  EXPECT_TRUE(parse_command_body(R"({"cmd":"pause","x":[[[{"y":[1]}]]]})").ok());
}

// Two parsers reading one body two ways is how a request smuggles a second
// meaning past a proxy: the same key twice is refused, never "last wins".
TEST(ParseCommandBody, RefusesDuplicateKeysAndNumbersOutOfRange) {
  const ParsedCommand dup = parse_command_body(R"({"cmd":"pause","cmd":"crash"})");
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.error.find("appears twice"), std::string::npos) << dup.error;
  EXPECT_FALSE(parse_command_body(R"({"cmd":"pause","x":{"a":1,"a":2}})").ok());
  EXPECT_TRUE(parse_command_body(R"({"cmd":"pause","x":{"a":1},"y":{"a":2}})").ok());
  const ParsedCommand big = parse_command_body(R"({"cmd":"pause","n":1e400})");
  EXPECT_FALSE(big.ok());
  EXPECT_EQ(parse_cas_body(R"({"expected":"a","value":"b","value":"c"})").http_status, 400);
}

TEST(ParseCommandBody, HugeCommandTextIsParsed) {
  const std::string text(1 << 20, 'x');
  const ParsedCommand c = parse_command_body(R"({"cmd":"submit )" + text + R"("})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.args.at(0).size(), text.size());
}

TEST(PercentDecode, DecodesEscapesStrictly) {
  EXPECT_EQ(percent_decode("a%2Fb"), "a/b");
  EXPECT_EQ(percent_decode("a%2fb"), "a/b");
  EXPECT_EQ(percent_decode("a+b"), "a+b");  // '+' is only a space in forms
  EXPECT_EQ(percent_decode("%00"), "\0"s);
  EXPECT_EQ(percent_decode("%e2%82%ac"), "\xe2\x82\xac");
  EXPECT_EQ(percent_decode("%ff"), "\xff");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("%"), std::nullopt);
  EXPECT_EQ(percent_decode("%2"), std::nullopt);
  EXPECT_EQ(percent_decode("%zz"), std::nullopt);
  EXPECT_EQ(percent_decode("ab%g1"), std::nullopt);
}

TEST(ParseKvKey, KeyIsTheDecodedRestOfThePathAndMayContainSlashes) {
  EXPECT_EQ(parse_kv_key("/kv/x").key, "x");
  EXPECT_EQ(parse_kv_key("/kv/a/b/c").key, "a/b/c");
  EXPECT_EQ(parse_kv_key("/kv/a%2Fb").key, "a/b");
  EXPECT_EQ(parse_kv_key("/kv/with%20space?stale=true").key, "with space");
  EXPECT_EQ(parse_kv_key("/kv/q%3Fmark?x=1").key, "q?mark");
  EXPECT_EQ(parse_kv_key("/kv/%00%ff").key, "\0\xff"s);
  EXPECT_EQ(parse_kv_key("/kv/line%0Abreak").key, "line\nbreak");
  EXPECT_EQ(parse_kv_key("/kv//leading").key, "/leading");
}

TEST(ParseKvKey, EmptyOrMalformedKeyIs400) {
  EXPECT_EQ(parse_kv_key("/kv/").http_status, 400);
  EXPECT_EQ(parse_kv_key("/kv/?x=1").http_status, 400);
  EXPECT_EQ(parse_kv_key("/kv/bad%zz").http_status, 400);
  EXPECT_EQ(parse_kv_key("/kv/bad%").http_status, 400);
  EXPECT_EQ(parse_kv_key("/other/x").http_status, 400);
}

TEST(ParseKvKey, KeyUpTo1KiBIsAcceptedAndLongerIs413) {
  EXPECT_TRUE(parse_kv_key("/kv/" + std::string(1024, 'k')).ok());
  EXPECT_EQ(parse_kv_key("/kv/" + std::string(1025, 'k')).http_status, 413);
  // The limit is on decoded bytes: 1024 escaped bytes are 3072 characters.
  std::string escaped;
  for (int i = 0; i < 1024; ++i) escaped += "%41";
  EXPECT_TRUE(parse_kv_key("/kv/" + escaped).ok());
  EXPECT_EQ(parse_kv_key("/kv/" + escaped + "%41").http_status, 413);
}

TEST(ParseU64, OnlyPlainDecimalNumbers) {
  EXPECT_EQ(parse_u64("0"), 0u);
  EXPECT_EQ(parse_u64("42"), 42u);
  EXPECT_EQ(parse_u64("18446744073709551615"), 18446744073709551615ull);
  EXPECT_EQ(parse_u64("18446744073709551616"), std::nullopt);  // overflow
  EXPECT_EQ(parse_u64(""), std::nullopt);
  EXPECT_EQ(parse_u64("-1"), std::nullopt);
  EXPECT_EQ(parse_u64("+1"), std::nullopt);
  EXPECT_EQ(parse_u64(" 1"), std::nullopt);
  EXPECT_EQ(parse_u64("1 "), std::nullopt);
  EXPECT_EQ(parse_u64("1e3"), std::nullopt);
  EXPECT_EQ(parse_u64("0x10"), std::nullopt);
  EXPECT_EQ(parse_u64(std::string(1000, '9')), std::nullopt);
}

TEST(ParseFlag, AcceptsCommonSpellings) {
  for (const char* t : {"", "true", "TRUE", "1", "yes", "on"}) EXPECT_EQ(parse_flag(t), true) << t;
  for (const char* f : {"false", "False", "0", "no", "off"}) EXPECT_EQ(parse_flag(f), false) << f;
  for (const char* bad : {"2", "maybe", "truee", " true"}) EXPECT_EQ(parse_flag(bad), std::nullopt);
}

TEST(ParseCasBody, NeedsExpectedAndValueStrings) {
  const CasBody ok = parse_cas_body(R"({"expected":"old","value":"new"})");
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.expected, "old");
  EXPECT_EQ(ok.value, "new");
  EXPECT_TRUE(parse_cas_body(R"({"expected":"","value":""})").ok());
  for (const char* bad : {"", "x", "[]", R"({"value":"new"})", R"({"expected":"old"})",
                          R"({"expected":1,"value":"new"})", R"({"expected":"o","value":null})"}) {
    const CasBody c = parse_cas_body(bad);
    EXPECT_EQ(c.http_status, 400) << bad;
    EXPECT_FALSE(c.error.empty());
  }
}

TEST(ParseCasBody, ValueAbove1MiBIs413) {
  const std::string big(1 << 20, 'v');
  EXPECT_TRUE(parse_cas_body(R"({"expected":"a","value":")" + big + R"("})").ok());
  EXPECT_EQ(parse_cas_body(R"({"expected":"a","value":")" + big + R"(v"})").http_status, 413);
  EXPECT_EQ(parse_cas_body(R"({"expected":")" + big + R"(v","value":"a"})").http_status, 413);
}

TEST(ParseEntriesQuery, DefaultsCapsAndRejects) {
  EntriesQuery q = parse_entries_query(std::nullopt, std::nullopt);
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q.from.has_value());
  EXPECT_EQ(q.limit, kDefaultEntriesLimit);

  q = parse_entries_query("5", "10");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.from, 5u);
  EXPECT_EQ(q.limit, 10u);

  EXPECT_EQ(parse_entries_query(std::nullopt, "1000000").limit, kMaxEntriesLimit);
  EXPECT_FALSE(parse_entries_query("x", std::nullopt).ok());
  EXPECT_FALSE(parse_entries_query("-1", std::nullopt).ok());
  EXPECT_FALSE(parse_entries_query("", std::nullopt).ok());
  EXPECT_FALSE(parse_entries_query(std::nullopt, "0").ok());
  EXPECT_FALSE(parse_entries_query(std::nullopt, "ten").ok());
  EXPECT_FALSE(parse_entries_query(std::nullopt, "99999999999999999999999").ok());
}

TEST(ParseLogLimit, DefaultsCapsAndRejects) {
  EXPECT_EQ(parse_log_limit(std::nullopt), kDefaultLogLines);
  EXPECT_EQ(parse_log_limit("5"), 5u);
  EXPECT_EQ(parse_log_limit("5000"), kMaxLogLines);
  EXPECT_EQ(parse_log_limit("0"), std::nullopt);
  EXPECT_EQ(parse_log_limit("abc"), std::nullopt);
}

TEST(TargetQueryParam, ReadsTheUrlOnly) {
  EXPECT_EQ(target_query_param("/kv/a?cas=1&stale", "cas"), "1");
  EXPECT_EQ(target_query_param("/kv/a?cas=1&stale", "stale"), "");
  EXPECT_EQ(target_query_param("/kv/a?cas=1", "seq"), std::nullopt);
  EXPECT_EQ(target_query_param("/kv/a", "cas"), std::nullopt);
  EXPECT_EQ(target_query_param("/x?client%5Fid=a+b%21", "client_id"), "a b!");
  EXPECT_EQ(target_query_param("/x?a=1&a=2", "a"), "1");
  EXPECT_EQ(target_query_param("/x?a=%zz", "a"), std::nullopt);
  EXPECT_EQ(target_query_param("/x?ab=1", "a"), std::nullopt);
}

TEST(QuoteForError, ShortensAndKeepsUtf8Valid) {
  EXPECT_EQ(quote_for_error("short"), "short");
  EXPECT_EQ(quote_for_error(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
  EXPECT_EQ(quote_for_error("\xff"), "\\xff");
  EXPECT_TRUE(is_valid_utf8(quote_for_error("\xe2\x82\xac\xe2\x82\xac", 4)));
}

}  // namespace
}  // namespace raft::http
