#pragma once
/// A tiny seeded random source (SplitMix64). Our own, because <random>'s
/// distributions differ between standard libraries and would not replay a
/// simulator seed elsewhere. Not thread-safe; one per owner.

#include <cstdint>

namespace raft {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// Uniform in [lo, hi] (inclusive). The modulo bias is below 2^-40 for the
  /// ranges used here, far beneath anything a test could see.
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
    if (hi <= lo) return lo;
    return lo + next() % (hi - lo + 1);
  }

  /// True with probability `numerator / denominator`.
  bool chance(std::uint64_t numerator, std::uint64_t denominator) {
    return denominator != 0 && next() % denominator < numerator;
  }

 private:
  std::uint64_t state_;
};

}  // namespace raft
