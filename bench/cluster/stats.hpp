#pragma once
/// Order statistics for benchmark samples. Percentiles interpolate linearly
/// between closest ranks (as numpy's default), so the p99 of 50 trials lies
/// between the two largest values instead of always being the maximum.

#include <algorithm>
#include <cmath>
#include <vector>

namespace raft::bench {

/// The p-th percentile (0..100) of `v`; 0 for an empty sample.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

inline double median(const std::vector<double>& v) { return percentile(v, 50); }

inline double maximum(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

}  // namespace raft::bench
