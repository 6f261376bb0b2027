#pragma once
/// The Raft paper's Figure 8, played on five nodes n0..n4 (the paper's S1..S5):
///   (a) n0 leads; cut off alone, it appends x at index i (term t1) that nobody else gets;
///   (b) n4 is elected by n1..n3 in term t2 and appends its own entry at i,
///       but is cut off before that entry leaves it;
///   (c) n0 is elected again (term t3) by n1 and n2 and replicates x to them:
///       x, of the old term t1, is now on a majority, while n0's own term-t3
///       entry is kept from them (only messages that would append it are dropped);
///   (d) n0 crashes; n4 is elected by n1..n3 and overwrites x with its entry.
/// A correct core never commits x in (c): only entries of the current term
/// are committed by counting replicas (§5.4.2). A core that does commits an
/// entry that (d) then erases, which the InvariantChecker reports as a
/// Leader Completeness violation when n4 wins.

#include <cstdint>
#include <string>

#include "sim_cluster.hpp"

namespace raft::sim {

struct Figure8Outcome {
  /// Empty if every phase reached the state it needed; else which did not.
  std::string setup_failure;
  Index x_index = 0;
  Term x_term = 0;
  /// n0's commit index at the end of (c), when x sat on a majority.
  Index commit_in_c = 0;
  /// n1's term at x's index at the end (x's own term if x survived).
  Term final_term_at_x = 0;
};

/// Options for the scenario: five nodes, one entry per AppendEntries.
ClusterOptions figure8_options();
Figure8Outcome run_figure8(SimCluster& cluster);

}  // namespace raft::sim
