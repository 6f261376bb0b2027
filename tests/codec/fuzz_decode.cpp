// libFuzzer target for the codec's decoder (clang only; -DRAFT_FUZZ=ON).
//
// Build and run (from the repo root; the codec sources are compiled into the
// target with coverage instrumentation, the rest of the build stays plain):
//   CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja \
//       -DRAFT_CORE_ONLY=ON -DRAFT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
//   cmake --build build-fuzz -j2 --target codec_fuzz_decode codec_fuzz_corpus
//   mkdir -p /tmp/codec-corpus && build-fuzz/tests/codec/codec_fuzz_corpus /tmp/codec-corpus
//   build-fuzz/tests/codec/codec_fuzz_decode /tmp/codec-corpus -max_total_time=120 \
//       -max_len=4096 -print_final_stats=1
// A crash leaves crash-<sha1> in the working directory; replay it with
//   build-fuzz/tests/codec/codec_fuzz_decode crash-<sha1>
//
// Input layout: byte 0 = MPI source rank, byte 1 = own rank, byte 2 = MPI tag,
// then the payload (codec_fuzz_corpus writes valid messages in this layout).
// Besides memory errors (ASan), the target aborts if an accepted payload does
// not re-encode to exactly the same bytes (but for the version byte of a
// version-2 payload, which re-encodes as the current version), or disagrees
// with its envelope.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "codec/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const raft::NodeId from = data[0];
  const raft::NodeId to = data[1];
  const int tag = data[2];
  const std::span<const std::byte> payload(reinterpret_cast<const std::byte*>(data + 3), size - 3);

  const raft::codec::DecodeResult result = raft::codec::decode(payload, from, to, tag);
  if (!result.ok()) {
    if (result.error().text.empty()) std::abort();
    return 0;
  }
  const raft::Message& m = result.message();
  if (m.from != from || m.to != to || raft::codec::mpi_tag(m.type) != tag) std::abort();
  std::string bytes;
  if (raft::codec::encode_into(m, bytes)) std::abort();
  const auto oldest = static_cast<char>(raft::codec::kFormatVersionOldest);
  if (static_cast<char>(data[3 + 2]) == oldest) bytes[2] = oldest;
  if (bytes.size() != payload.size() ||
      !std::equal(bytes.begin(), bytes.end(), reinterpret_cast<const char*>(payload.data()))) {
    std::abort();
  }
  return 0;
}
