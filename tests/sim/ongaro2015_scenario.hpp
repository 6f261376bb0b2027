#pragma once
/// The counterexample Diego Ongaro published on raft-dev in July 2015 ("bug
/// in single-server membership changes", found by Huanchen Zhang and Brandon
/// Amos), played on five nodes n0..n4 (his S1..S5), with one server added and
/// one removed:
///   (0) n0 leads the voters {n0..n3}; n4 joins as a learner and catches up.
///   (1) n0, cut off with n4 alone, appends D = promote n4 (voters n0..n4):
///       only n4 gets it, so it stays uncommitted.
///   (2) n1 is elected in term 2 by n1, n2 and n3 (D is in none of their logs).
///   (3) n1 appends its no-op; n3 is cut off before it arrives. n1 then asks to
///       remove n0: E = voters {n1,n2,n3}. E's majority is {n1,n2}, so E, and
///       the no-op before it, commit without n3.
///   (4) n0, with n3 and n4 only, is elected in term 3 by a majority of D
///       (n0, n3, n4: n3's log lacks the term-2 entries, so n0's is as up to
///       date), and would replicate D over the committed E.
/// The 2015 fix refuses step (3) until n1 has committed an entry of its own
/// term: that no-op needs a majority of {n0..n3}, so n3 (or n0) holds it, and
/// n3 then refuses n0 in (4). A core without the fix commits E, and n0's
/// victory in (4) is a Leader Completeness violation.

#include <string>

#include "sim_cluster.hpp"

namespace raft::sim {

struct Ongaro2015Outcome {
  /// Empty if every phase reached the state it needed; else which did not.
  std::string setup_failure;
  Index d_index = 0;  ///< n0's promotion of n4, uncommitted
  /// n1's removal of n0, asked at once in (3), before its no-op committed.
  Result early_removal{};
  /// The removal as finally accepted (at once by a core without the fix;
  /// after the no-op committed, by a correct one) and the index it committed at.
  Index e_index = 0;
  /// n0 won an election in (4).
  bool old_leader_won = false;
};

/// Five nodes, voters n0..n3, n4 STANDBY; PreVote and CheckQuorum on.
ClusterOptions ongaro2015_options();
Ongaro2015Outcome run_ongaro2015(SimCluster& cluster);

}  // namespace raft::sim
