#pragma once
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
/// every record and file header written by FileStore. Software only
/// (slicing-by-8, about 1-2 GB/s), so the on-disk format does not depend on
/// SSE4.2 being present. Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace raft::storage {

/// Continues a CRC-32C over `size` more bytes: `crc32c_extend(crc32c(a), b)`
/// equals the CRC of a followed by b. Start from 0 for a fresh checksum.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);

/// The CRC-32C of `bytes` ("123456789" gives 0xE3069283).
inline std::uint32_t crc32c(std::string_view bytes) {
  return crc32c_extend(0, bytes.data(), bytes.size());
}

}  // namespace raft::storage
