#pragma once
/// The key-value commands carried in Raft log entries, and their encoding.
///
/// Entry data of a KV command is one text header line followed by raw bytes,
/// so `/entries` stays readable and keys and values may hold any byte:
///   "kv1 <op> <client_id> <seq> <key_len> <value_len> <expected_len>\n"
///   <key bytes><value bytes><expected bytes>
/// op is put, delete or cas. Any other entry data (e.g. `submit TEXT`) is not a
/// KV command and leaves the store unchanged.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace raft::runtime {

inline constexpr std::size_t kMaxKeyBytes = 1024;
inline constexpr std::size_t kMaxValueBytes = 1 << 20;
inline constexpr std::size_t kMaxClientIdBytes = 64;

enum class KvOp : std::uint8_t { Put, Delete, Cas };

std::string_view kv_op_name(KvOp op);

struct KvCommand {
  KvOp op = KvOp::Put;
  std::string key;
  std::string value;     ///< put and cas: the new value
  std::string expected;  ///< cas: the value the key must hold now
  /// Retries of one client request carry the same (client_id, seq) and are
  /// applied once. An empty client_id turns duplicate detection off.
  std::string client_id;
  std::uint64_t seq = 0;

  friend bool operator==(const KvCommand&, const KvCommand&) = default;
};

std::string encode_kv_command(const KvCommand& command);
/// nullopt if `data` is not a well-formed KV command.
std::optional<KvCommand> decode_kv_command(std::string_view data);

/// An encoded command's first line: what it is and how long its parts are,
/// read without touching (or copying) the value.
struct KvHeader {
  KvOp op = KvOp::Put;
  std::string client_id;  ///< empty: none
  std::uint64_t seq = 0;
  std::uint64_t key_bytes = 0;
  std::uint64_t value_bytes = 0;
  std::uint64_t expected_bytes = 0;
  std::size_t header_bytes = 0;  ///< the line and its newline; the key follows
};
/// Longest header an encoder writes (magic, op, a 64-byte client id, four
/// 20-digit numbers): a prefix this long plus the key holds a summary.
inline constexpr std::size_t kKvHeaderBytesMax = 200;
/// The header of a command of `total_bytes` bytes of which `data` is a
/// prefix (or all); nullopt if it is not a well-formed KV command.
std::optional<KvHeader> decode_kv_header(std::string_view data, std::size_t total_bytes);
/// Empty if the command is acceptable, else one sentence naming the problem.
std::string validate_kv_command(const KvCommand& command);

}  // namespace raft::runtime
