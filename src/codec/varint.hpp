#pragma once
/// Varint primitives shared by the encoder and decoder (private to the codec).
/// The format itself is specified in include/codec/codec.hpp.

#include <bit>
#include <cstddef>
#include <cstdint>

namespace raft::codec::detail {

/// The longest varint: ceil(64 / 7) groups.
inline constexpr std::size_t kVarintBytesMax = 10;

/// Bytes the shortest LEB128 encoding of `value` takes (1..10).
constexpr std::size_t varint_size(std::uint64_t value) {
  return (static_cast<std::size_t>(std::bit_width(value | 1)) + 6) / 7;
}

/// Writes the shortest LEB128 encoding of `value` at `out`, which must have
/// room for varint_size(value) bytes; returns the position after it.
inline char* put_varint(char* out, std::uint64_t value) {
  while (value >= 0x80) {
    *out++ = static_cast<char>(static_cast<std::uint8_t>(value) | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<char>(value);
  return out;
}

/// The encoding of a NodeId: its 32-bit two's complement pattern, so that
/// kNoNode (-1) round-trips like any other id.
constexpr std::uint64_t node_id_bits(std::int32_t id) { return static_cast<std::uint32_t>(id); }

}  // namespace raft::codec::detail
