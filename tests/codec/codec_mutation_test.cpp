// Randomized mutation test of the decoder: millions of valid encodings, each
// bent by a few bit flips, byte changes, truncations, insertions, deletions
// and splices, go through decode(). The decoder must never crash, never trip
// ASan/UBSan (the -DRAFT_SANITIZE=ON build runs this same test), and whatever
// it accepts must re-encode to exactly the bytes it was given (the format has
// one encoding per message, so an accepted mutation is simply another valid
// message; a version-2 one re-encodes with the current version byte).
//
// Deterministic: iteration i draws from Rng(seed ^ mix(i)), so a failure is
// replayed with the printed seed and RAFT_CODEC_FUZZ_START=i
// RAFT_CODEC_FUZZ_ITERATIONS=1. Environment:
//   RAFT_CODEC_FUZZ_ITERATIONS  mutated messages to try (default 4,000,000;
//                               1,000,000 in a -DRAFT_SANITIZE=ON build)
//   RAFT_CODEC_FUZZ_SEED        base seed (default 20240601)
//   RAFT_CODEC_FUZZ_START       first iteration (default 0)

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "codec/codec.hpp"
#include "raft/rng.hpp"
#include "random_message.hpp"

#ifndef RAFT_CODEC_FUZZ_DEFAULT_ITERATIONS
#define RAFT_CODEC_FUZZ_DEFAULT_ITERATIONS 4'000'000
#endif

namespace raft::codec {
namespace {

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 0);
  if (end == nullptr || *end != '\0') {
    ADD_FAILURE() << name << "=" << text << " is not a number";
    return fallback;
  }
  return value;
}

struct Sample {
  std::string bytes;
  NodeId from;
  NodeId to;
  int tag;
};

std::vector<Sample> make_pool(std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Sample> pool;
  for (int i = 0; i < 512; ++i) {
    testing::RandomMessageOptions options;
    if (i % 64 == 0) options = {256, 24};  // a few full batches
    const Message m = testing::random_message(rng, options);
    pool.push_back(Sample{encode(m), m.from, m.to, mpi_tag(m.type)});
  }
  return pool;
}

std::string varint_bytes(std::uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(value) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}

/// A position in [0, size]. Half the time past the header and ids, where
/// most of the checks are: small messages would otherwise spend most
/// mutations on the first few bytes and stop at the magic or the sender.
std::size_t pick(Rng& rng, std::size_t size) {
  const std::size_t body = std::min<std::size_t>(size, kHeaderBytes + 2);
  return static_cast<std::size_t>(rng.chance(1, 2) ? rng.uniform(body, size)
                                                   : rng.uniform(0, size));
}

/// A varint value: any width, or one on the edge of a limit.
std::uint64_t edgy_value(Rng& rng) {
  static constexpr std::array<std::uint64_t, 10> kEdges = {0,
                                                           1,
                                                           kEntryCountMax,
                                                           kEntryCountMax + 1,
                                                           kEntryDataBytesMax,
                                                           kEntryDataBytesMax + 1,
                                                           0xFFFFFFFFULL,
                                                           0x100000000ULL,
                                                           ~0ULL - 1,
                                                           ~0ULL};
  if (rng.chance(1, 2)) return testing::random_width_u64(rng);
  const std::uint64_t edge = kEdges[rng.uniform(0, kEdges.size() - 1)];
  return edge - std::min<std::uint64_t>(edge, rng.uniform(0, 3) == 0 ? rng.uniform(0, 300) : 0);
}

/// Applies one random mutation to `bytes`.
void mutate(Rng& rng, std::string& bytes, const std::vector<Sample>& pool) {
  static constexpr std::array<std::uint8_t, 10> kInteresting = {0x00, 0x01, 0x02, 0x03, 0x09,
                                                                0x0A, 0x7F, 0x80, 0xFE, 0xFF};
  switch (rng.uniform(0, 10)) {
    case 0:  // flip a bit
      if (!bytes.empty())
        bytes[pick(rng, bytes.size() - 1)] ^= static_cast<char>(1 << rng.uniform(0, 7));
      break;
    case 1:  // any byte value
      if (!bytes.empty()) bytes[pick(rng, bytes.size() - 1)] = static_cast<char>(rng.next());
      break;
    case 2:  // a byte value that sits on a boundary of some check
      if (!bytes.empty()) {
        bytes[pick(rng, bytes.size() - 1)] =
            static_cast<char>(kInteresting[rng.uniform(0, kInteresting.size() - 1)]);
      }
      break;
    case 3:  // truncate
      bytes.resize(pick(rng, bytes.size()));
      break;
    case 4: {  // insert random bytes
      std::string extra(static_cast<std::size_t>(rng.uniform(1, 8)), '\0');
      for (char& c : extra) c = static_cast<char>(rng.next());
      bytes.insert(pick(rng, bytes.size()), extra);
      break;
    }
    case 5: {  // delete a range
      const std::size_t at = pick(rng, bytes.size());
      bytes.erase(at, static_cast<std::size_t>(rng.uniform(1, 16)));
      break;
    }
    case 6: {  // splice: our head, another encoding's tail
      const std::string& other = pool[rng.uniform(0, pool.size() - 1)].bytes;
      bytes.resize(pick(rng, bytes.size()));
      bytes.append(other, pick(rng, other.size()));
      break;
    }
    case 7: {  // a varint of any width, inserted or written over a field
      const std::string value = varint_bytes(edgy_value(rng));
      const std::size_t at = pick(rng, bytes.size());
      if (rng.chance(1, 2)) {
        bytes.insert(at, value);
      } else {
        bytes.replace(at, value.size(), value);
      }
      break;
    }
    case 8: {  // duplicate a range somewhere else
      if (bytes.empty()) break;
      const std::size_t from = pick(rng, bytes.size() - 1);
      const std::string copy = bytes.substr(from, static_cast<std::size_t>(rng.uniform(1, 12)));
      bytes.insert(pick(rng, bytes.size()), copy);
      break;
    }
    case 9: {  // append garbage
      const std::size_t n = static_cast<std::size_t>(rng.uniform(1, 4));
      for (std::size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(rng.next()));
      break;
    }
    default: {  // keep a valid header, randomize everything after it
      for (std::size_t i = kHeaderBytes; i < bytes.size(); ++i) {
        if (rng.chance(1, 4)) bytes[i] = static_cast<char>(rng.next());
      }
      break;
    }
  }
}

TEST(CodecMutation, DecoderSurvivesMillionsOfMutatedMessages) {
  const std::uint64_t seed = env_u64("RAFT_CODEC_FUZZ_SEED", 20240601);
  const std::uint64_t iterations =
      env_u64("RAFT_CODEC_FUZZ_ITERATIONS", RAFT_CODEC_FUZZ_DEFAULT_ITERATIONS);
  const std::uint64_t start = env_u64("RAFT_CODEC_FUZZ_START", 0);
  std::cout << "codec mutation test: seed=" << seed << " iterations=" << iterations
            << " start=" << start << std::endl;

  const std::vector<Sample> pool = make_pool(seed);
  std::string bytes;
  std::string reencoded;
  Message decoded;
  std::uint64_t accepted = 0;
  std::map<ErrorReason, std::uint64_t> rejected;
  const auto began = std::chrono::steady_clock::now();

  for (std::uint64_t i = start; i < start + iterations; ++i) {
    Rng rng(seed ^ (i * 0x9E3779B97F4A7C15ULL));
    const Sample& sample = pool[rng.uniform(0, pool.size() - 1)];
    bytes = sample.bytes;
    const std::uint64_t mutations = rng.uniform(1, 4);
    for (std::uint64_t k = 0; k < mutations; ++k) mutate(rng, bytes, pool);

    NodeId from = sample.from;
    NodeId to = sample.to;
    int tag = sample.tag;
    switch (rng.uniform(0, 15)) {
      case 0: tag = static_cast<int>(rng.uniform(0, 12)) - 1; break;
      case 1: from = static_cast<NodeId>(rng.uniform(0, 5)); break;
      case 2: to = static_cast<NodeId>(rng.uniform(0, 5)); break;
      default:  // follow a mutated type byte, as a sender of such bytes would
        if (bytes.size() >= kHeaderBytes) tag = static_cast<std::uint8_t>(bytes[3]);
    }

    const auto error = decode_into(std::as_bytes(std::span(bytes)), from, to, tag, decoded);
    if (error) {
      ++rejected[error->reason];
      const std::string prefix = std::string(reason_name(error->reason)) + ": ";
      if (error->text.rfind(prefix, 0) != 0 || error->text.find('\n') != std::string::npos) {
        FAIL() << "seed=" << seed << " iteration=" << i << ": malformed error text '" << error->text
               << "'";
      }
      continue;
    }
    ++accepted;
    reencoded.clear();
    const auto encode_error = encode_into(decoded, reencoded);
    // A version-2 message re-encodes as the current version (codec.hpp).
    if (!encode_error && bytes[2] == static_cast<char>(kFormatVersionOldest)) {
      reencoded[2] = static_cast<char>(kFormatVersionOldest);
    }
    if (encode_error || reencoded != bytes) {
      FAIL() << "seed=" << seed << " iteration=" << i
             << ": accepted bytes do not re-encode identically ("
             << (encode_error ? encode_error->text : std::string("different bytes")) << ") "
             << testing::describe(decoded);
    }
    if (decoded.from != from || decoded.to != to || mpi_tag(decoded.type) != tag) {
      FAIL() << "seed=" << seed << " iteration=" << i << ": accepted a mismatched envelope";
    }
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::cout << "codec mutation test: " << iterations << " inputs in " << seconds << " s, "
            << accepted << " accepted;";
  for (const auto& [reason, count] : rejected)
    std::cout << " " << reason_name(reason) << "=" << count;
  std::cout << std::endl;
  // The mutations must reach past the header checks, or the test proves
  // little (a short replay run is exempt).
  if (iterations >= 100'000) {
    EXPECT_GT(accepted, 0u);
    EXPECT_GT(rejected[ErrorReason::BadEntryIndex], 0u);
    EXPECT_GT(rejected[ErrorReason::BadBool], 0u);
  }
}

}  // namespace
}  // namespace raft::codec
