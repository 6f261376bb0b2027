#pragma once
/// Independent random streams derived from one schedule seed, so that adding
/// a draw to one component (the network, a node, the fault driver) does not
/// shift every other component's randomness.

#include <cstdint>

#include "raft/rng.hpp"

namespace raft::sim {

inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  Rng rng(seed ^ (stream * 0xD1B54A32D192ED03ULL));
  rng.next();  // decorrelate neighbouring seeds
  return rng.next();
}

}  // namespace raft::sim
