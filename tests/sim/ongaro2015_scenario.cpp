#include "ongaro2015_scenario.hpp"

#include "scenario_support.hpp"

namespace raft::sim {

namespace {

constexpr TimeMs kLimitMs = 3000;

/// (0): n0 leads {n0..n3}, and n4 is a learner holding everything.
std::string setup(SimCluster& c) {
  if (!c.elect(0, kLimitMs)) return "(0) n0 was not elected";
  const Index w = write_and_wait(c, 0, "k", "a", {0, 1, 2, 3});
  if (w == 0) return "(0) the first write failed";
  const Result add = c.change_membership(0, {ConfChangeType::AddLearner, 4});
  if (!add.ok()) return "(0) add_learner n4 was refused: " + add.error;
  if (!c.run_until([&] { return group_applied(c, all_nodes(c), add.index); }, kLimitMs)) {
    return "(0) n4 did not catch up";
  }
  return {};
}

/// (3): n1 asks to remove n0, first at once, then (if refused) once its
/// no-op has committed with n3 back; returns the accepted removal's index.
std::string remove_n0(SimCluster& c, Ongaro2015Outcome& out) {
  SimNetwork& net = c.network();
  const ConfChange remove{ConfChangeType::Remove, 0};
  out.early_removal = c.change_membership(1, remove);
  Result removal = out.early_removal;
  if (!removal.ok()) {
    // The fixed core waits for its no-op, which needs n3 (n0 is away).
    net.partition({{0, 4}, {1, 2, 3}});
    const bool noop_committed = c.run_until(
        [&] { return c.node(1).log().term_at(c.node(1).commit_index()) == c.node(1).term(); },
        kLimitMs);
    if (!noop_committed) return "(3) n1's no-op did not commit with n3 back";
    removal = c.change_membership(1, remove);
    if (!removal.ok()) return "(3) the removal was refused again: " + removal.error;
  }
  out.e_index = removal.index;
  const bool committed = c.run_until(
      [&] {
        return c.node(1).commit_index() >= out.e_index && c.kv(2).applied_index() >= out.e_index;
      },
      kLimitMs);
  if (c.halted()) return {};
  if (!committed) return "(3) the removal of n0 did not commit";
  return {};
}

}  // namespace

ClusterOptions ongaro2015_options() {
  ClusterOptions o = scenario_options(5, /*seed=*/2015);
  o.voter_count = 4;
  return o;
}

Ongaro2015Outcome run_ongaro2015(SimCluster& c) {
  Ongaro2015Outcome out;
  SimNetwork& net = c.network();
  if (std::string why = setup(c); !why.empty()) return {why};

  // (1) n0, with n4 alone, promotes n4: D reaches n4 only.
  net.partition({{0, 4}, {1, 2, 3}});
  const Result d = c.change_membership(0, {ConfChangeType::Promote, 4});
  if (!d.ok()) return {"(1) n0 refused to promote n4: " + d.error};
  out.d_index = d.index;
  if (!c.run_until([&] { return c.node(4).log().last_index() >= out.d_index; }, kLimitMs)) {
    return {"(1) D did not reach n4"};
  }

  // (2) n1 is elected by n1, n2, n3 in a term of its own.
  if (!c.elect(1, kLimitMs)) return {"(2) n1 was not elected"};
  // (3) ...and n3 is cut off before n1's no-op reaches it.
  net.partition({{0, 4}, {1, 2}, {3}});
  if (std::string why = remove_n0(c, out); !why.empty()) {
    out.setup_failure = why;
    return out;
  }
  if (c.halted()) return out;

  // (4) n0 stands with n3 and n4, a majority of D.
  net.partition({{0, 3, 4}, {1, 2}});
  out.old_leader_won = c.elect(0, kLimitMs);
  if (c.halted() || out.old_leader_won) return out;

  // A correct core: the cluster heals into the new configuration without
  // n0 (which, cut off when its removal committed, never hears of it).
  net.heal();
  const bool settled = c.run_until(
      [&] {
        const NodeId l = c.stable_leader();
        return l != kNoNode && l != 0 && c.node(l).committed_conf_state().index >= out.e_index;
      },
      kLimitMs);
  if (!settled && !c.halted()) out.setup_failure = "(4) the cluster did not settle without n0";
  return out;
}

}  // namespace raft::sim
