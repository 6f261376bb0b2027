#include "figure8_scenario.hpp"

#include <algorithm>

#include "scenario_support.hpp"

namespace raft::sim {

ClusterOptions figure8_options() {
  ClusterOptions o = scenario_options(5, /*seed=*/8);
  // x and n0's new entry must travel in separate messages.
  o.config.append_entries_max = 1;
  return o;
}

Figure8Outcome run_figure8(SimCluster& c) {
  Figure8Outcome out;
  SimNetwork& net = c.network();
  const TimeMs limit_ms = 3000;

  // (a) n0 leads, then appends x alone.
  if (!c.elect(0, limit_ms)) return {"(a) n0 was not elected"};
  if (write_and_wait(c, 0, "k", "a", all_nodes(c)) == 0) return {"(a) the first write failed"};
  net.partition({{0}, {1, 2, 3, 4}});
  const Result x = c.write(0, "k", "x");
  if (!x.ok()) return {"(a) n0 refused x"};
  out.x_index = x.index;
  out.x_term = x.term;

  // (b) n4 wins without x and is cut off before its own entry at x's index leaves it.
  if (!c.elect(4, limit_ms)) return {"(b) n4 was not elected"};
  net.partition({{0}, {1, 2, 3}, {4}});
  const Term t2 = c.node(4).term();
  if (c.node(4).log().term_at(out.x_index) != t2) return {"(b) n4 has no entry of its own at i"};

  // (c) n0 returns with n1 and n2 only, is elected, and replicates x to them,
  // but every message that would actually append its new-term entry is dropped.
  net.partition({{0, 1, 2}, {3}, {4}});
  const Term x_term = out.x_term;
  net.set_drop_filter([&c, x_term](const Message& m) {
    if (m.from != 0 || m.type != MessageType::AppendEntries) return false;
    const bool carries_new = std::any_of(m.entries.begin(), m.entries.end(),
                                         [x_term](const Entry& e) { return e.term > x_term; });
    // A receiver whose log does not match prev rejects the whole message
    // anyway (and that rejection is what leads n0 back to x): let it through.
    return carries_new && !c.is_crashed(m.to) &&
           c.node(m.to).log().matches(m.prev_log_index, m.prev_log_term);
  });
  if (!c.elect(0, limit_ms)) return {"(c) n0 was not re-elected"};
  const Index i = out.x_index;
  const bool replicated = c.run_until(
      [&] {
        return c.node(1).log().matches(i, x_term) && c.node(2).log().matches(i, x_term) &&
               c.node(0).progress().at(1).match >= i && c.node(0).progress().at(2).match >= i;
      },
      200);
  if (c.halted()) return out;
  if (!replicated) return {"(c) x did not reach n1 and n2"};
  c.run_for(20);  // a heartbeat round: time for a wrong commit to happen and spread
  if (c.halted()) return out;
  out.commit_in_c = c.node(0).commit_index();

  // (d) n0 crashes; n4, whose entry at i has the higher term, is elected.
  c.crash(0);
  net.set_drop_filter(nullptr);
  net.heal();
  if (!c.elect(4, limit_ms)) {
    if (c.halted()) return out;
    return {"(d) n4 was not elected"};
  }
  const std::vector<NodeId> rest = {1, 2, 3, 4};
  const Index n4_last = c.node(4).log().last_index();
  if (!c.run_until([&] { return group_applied(c, rest, n4_last); }, limit_ms)) {
    if (c.halted()) return out;
    return {"(d) n4's log did not reach n1..n3"};
  }
  out.final_term_at_x = c.node(1).log().term_at(i).value_or(0);
  // And n0 comes back and is brought in line.
  c.restart(0);
  if (!c.run_until([&] { return group_applied(c, all_nodes(c), n4_last); }, limit_ms)) {
    if (c.halted()) return out;
    return {"(d) the restarted n0 did not catch up"};
  }
  return out;
}

}  // namespace raft::sim
