// The shared-secret check of mutating endpoints (auth/auth_token.hpp).
#include "auth/auth_token.hpp"

#include <cstdlib>
#include <set>

#include <gtest/gtest.h>

namespace raft::auth {
namespace {

constexpr const char* kToken = "0123456789abcdef0123";

TEST(AuthToken, NoTokenConfiguredLetsEveryRequestThrough) {
  EXPECT_FALSE(check_authorization("", std::nullopt));
  EXPECT_FALSE(check_authorization("", "Bearer whatever"));
}

TEST(AuthToken, TheRightBearerTokenPasses) {
  EXPECT_FALSE(check_authorization(kToken, bearer(kToken)));
  EXPECT_FALSE(check_authorization(kToken, std::string("bearer ") + kToken));  // scheme any case
  EXPECT_FALSE(check_authorization(kToken, std::string("Bearer  ") + kToken + " "));
}

TEST(AuthToken, AMissingOrWrongTokenIsRefusedWithOneSentence) {
  for (const std::optional<std::string_view> header :
       {std::optional<std::string_view>(), std::optional<std::string_view>("Bearer wrong"),
        std::optional<std::string_view>("Basic Zm9vOmJhcg=="),
        std::optional<std::string_view>(kToken), std::optional<std::string_view>("Bearer "),
        std::optional<std::string_view>("Bearer 0123456789abcdef012"),       // a prefix
        std::optional<std::string_view>("Bearer 0123456789abcdef01234")}) {  // longer
    const std::optional<std::string> why = check_authorization(kToken, header);
    ASSERT_TRUE(why) << (header ? *header : "(none)");
    EXPECT_EQ(why->find('\n'), std::string::npos);
    EXPECT_EQ(why->find(kToken), std::string::npos) << "the error must not echo the token";
  }
}

TEST(AuthToken, ConstantTimeCompareIsAnEqualityTest) {
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "ab"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
  EXPECT_FALSE(equal_constant_time("abc", std::string_view("abc\0", 4)));
  EXPECT_TRUE(equal_constant_time("", ""));
}

TEST(AuthToken, TokensMustBeLongVisibleAscii) {
  EXPECT_FALSE(token_error(kToken));
  EXPECT_TRUE(token_error("short"));
  EXPECT_TRUE(token_error(std::string(kTokenLengthMax + 1, 'a')));
  EXPECT_TRUE(token_error("0123456789 abcdef"));
  EXPECT_TRUE(token_error("0123456789abcdef\n"));
  EXPECT_TRUE(token_error("0123456789abcdef\x7f"));
}

TEST(AuthToken, GeneratedTokensAreValidAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string t = generate_token();
    EXPECT_EQ(t.size(), 32u);
    EXPECT_FALSE(token_error(t));
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(AuthToken, TheFlagWinsOverTheEnvironmentAndBadOnesAreNamed) {
  ::setenv(kTokenEnv, "from-the-environment-1", 1);
  std::string error;
  EXPECT_EQ(resolve_token("", &error), "from-the-environment-1");
  EXPECT_EQ(resolve_token("from-the-flag-000000", &error), "from-the-flag-000000");
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(resolve_token("short", &error), "");
  EXPECT_NE(error.find("--auth_token"), std::string::npos) << error;
  ::setenv(kTokenEnv, "tiny", 1);
  error.clear();
  EXPECT_EQ(resolve_token("", &error), "");
  EXPECT_NE(error.find(kTokenEnv), std::string::npos) << error;
  ::unsetenv(kTokenEnv);
  error.clear();
  EXPECT_EQ(resolve_token("", &error), "");
  EXPECT_TRUE(error.empty());
}

}  // namespace
}  // namespace raft::auth
