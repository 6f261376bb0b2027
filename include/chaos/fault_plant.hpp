#pragma once
/// Faults planted into a real history, for the checker's self-check: each
/// turns a key's history into one that no linearizable register can produce,
/// at a random place in the middle of it (an op whose call lies in the
/// middle 60 % of the key's ops by time), where the checker has to search
/// rather than read it off the last op. Values must be unique per write, as
/// raft_chaos makes them. Pure functions.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "chaos/history.hpp"

namespace raft::chaos {

enum class PlantKind : std::uint8_t {
  StaleRead,   ///< a read returns a value that two acknowledged writes ago was replaced
  FutureRead,  ///< a read returns the value of a write invoked after it completed
  LostWrite,   ///< an acknowledged write no later read sees: a read after it sees the value before
  FlippedCas,  ///< a compare-and-set that swapped, and whose value was read, is answered 409
};

inline constexpr PlantKind kPlantKinds[] = {PlantKind::StaleRead, PlantKind::FutureRead,
                                            PlantKind::LostWrite, PlantKind::FlippedCas};

std::string_view plant_name(PlantKind kind);

struct Planted {
  PlantKind kind = PlantKind::StaleRead;
  int op_id = -1;  ///< the op changed (or added, for a lost write)
  std::string what;
};

/// Plants `kind` into `ops` (one key's history) at a place drawn with `rng`.
/// Returns nullopt, changing nothing, when the history has no such place.
std::optional<Planted> plant_fault(std::vector<Operation>& ops, PlantKind kind,
                                   std::mt19937_64& rng);

}  // namespace raft::chaos
