// Known answers for CRC-32C come from RFC 3720 (iSCSI), appendix B.4, and the
// usual "123456789" check value of the Castagnoli polynomial.
#include "storage/crc32c.hpp"

#include <string>

#include <gtest/gtest.h>

#include "raft/rng.hpp"

namespace raft::storage {
namespace {

std::uint32_t bitwise_crc32c(std::string_view bytes) {
  std::uint32_t crc = ~0u;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return ~crc;
}

TEST(Crc32c, KnownAnswers) {
  EXPECT_EQ(crc32c(""), 0x00000000u);
  EXPECT_EQ(crc32c("a"), 0xC1D04330u);
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending), 0x113FDB5Cu);
}

TEST(Crc32c, SlicingMatchesBitwiseAtEveryLengthAndAlignment) {
  Rng rng(7);
  std::string buffer(300, '\0');
  for (char& c : buffer) c = static_cast<char>(rng.next());
  for (std::size_t start = 0; start < 8; ++start) {
    for (std::size_t len = 0; start + len <= buffer.size(); ++len) {
      const std::string_view view(buffer.data() + start, len);
      ASSERT_EQ(crc32c(view), bitwise_crc32c(view)) << "start " << start << " len " << len;
    }
  }
}

TEST(Crc32c, ExtendEqualsOneShotAtEverySplit) {
  Rng rng(11);
  std::string buffer(1000, '\0');
  for (char& c : buffer) c = static_cast<char>(rng.next());
  const std::uint32_t whole = crc32c(buffer);
  for (std::size_t split = 0; split <= buffer.size(); ++split) {
    const std::uint32_t head = crc32c_extend(0, buffer.data(), split);
    ASSERT_EQ(crc32c_extend(head, buffer.data() + split, buffer.size() - split), whole) << split;
  }
}

}  // namespace
}  // namespace raft::storage
