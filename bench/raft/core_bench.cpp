// Throughput of the pure Raft core: proposals committed per second through an
// in-memory 3-node cluster (no I/O, instant in-order network), one proposal at
// a time and in batches. Run: build/bench/raft/raft_bench
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "local_cluster.hpp"

namespace {

using raft::EntryType;
using raft::Index;
using raft::NodeId;
using raft::testing::LocalCluster;

constexpr std::size_t kPayloadBytes = 16;
constexpr Index kCompactEvery = 100'000;

std::unique_ptr<LocalCluster> make_cluster(NodeId* leader) {
  raft::Config cfg;
  cfg.election_timeout_min_ms = 150;
  cfg.election_timeout_max_ms = 300;
  cfg.heartbeat_interval_ms = 50;
  auto c = std::make_unique<LocalCluster>(3, cfg);
  *leader = c->elect();
  c->settle();
  return c;
}

/// Keeps memory bounded over millions of entries, as a real node would.
void compact_if_long(LocalCluster& c) {
  for (NodeId id = 0; id < c.size(); ++id) {
    raft::Node& n = c.node(id);
    if (n.applied_index() - n.log().snapshot().last_index < kCompactEvery) continue;
    raft::Snapshot snap;
    if (n.compact(n.applied_index(), std::make_shared<const std::string>("image"), &snap).ok()) {
      c.store(id).install_snapshot(snap);
      c.store(id).sync();
    }
  }
}

void report(benchmark::State& state, LocalCluster& c, NodeId leader, Index first_commit) {
  const Index committed = c.node(leader).commit_index() - first_commit;
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  state.counters["entries_per_s"] =
      benchmark::Counter(static_cast<double>(committed), benchmark::Counter::kIsRate);
  if (c.node(leader).commit_index() != c.node(leader).log().last_index()) {
    state.SkipWithError("not every proposal committed");
  }
}

/// One proposal, then wait for it to commit: the latency-bound case.
void BM_CommitOneAtATime(benchmark::State& state) {
  NodeId leader;
  auto c = make_cluster(&leader);
  const Index first_commit = c->node(leader).commit_index();
  const std::string payload(kPayloadBytes, 'x');
  for (auto _ : state) {
    c->node(leader).propose(EntryType::Command, payload);
    c->settle();
    compact_if_long(*c);
  }
  report(state, *c, leader, first_commit);
}
BENCHMARK(BM_CommitOneAtATime);

/// Batches of N proposals per propose_batch call, pipelined replication.
void BM_CommitBatches(benchmark::State& state) {
  NodeId leader;
  auto c = make_cluster(&leader);
  const Index first_commit = c->node(leader).commit_index();
  const auto batch = static_cast<std::size_t>(state.range(0));
  const std::string payload(kPayloadBytes, 'x');
  for (auto _ : state) {
    std::vector<std::string> commands(batch, payload);
    c->node(leader).propose_batch(std::move(commands));
    c->settle();
    compact_if_long(*c);
  }
  report(state, *c, leader, first_commit);
}
BENCHMARK(BM_CommitBatches)->Arg(16)->Arg(256)->Arg(4096);

}  // namespace

BENCHMARK_MAIN();
