#!/usr/bin/env bash
# Runs the whole-cluster benchmarks one after the other (they would disturb
# each other) and writes JSON and SVG charts to bench/results/. About 24
# minutes; give it a quiet machine. etcd is measured beside our cluster when
# `etcd` is on $PATH (Debian package etcd-server), else ours runs alone.
# Usage: bench/cluster/run_cluster_benches.sh [BUILD_DIR] [RESULTS_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
out="${2:-$root/bench/results}"
bin="$build/bench/cluster"
mkdir -p "$out"
RAFT_BENCH_COMMIT="${RAFT_BENCH_COMMIT:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
export RAFT_BENCH_COMMIT

step() { echo "== $* (load average: $(cut -d' ' -f1-3 /proc/loadavg))"; }

# The defaults every raft_node and the demo run with.
defaults=(--min_election_timeout 2000 --max_election_timeout 4000 --heartbeat_interval 750)
short=(--min_election_timeout 150 --max_election_timeout 300 --heartbeat_interval 50)

step "KV writes and idle CPU, 3 ranks, fsync always (beside etcd) and never (~2.5 min)"
"$bin/raft_cluster_bench" --nodes 3 --idle_seconds 30 --seconds 5 --fsync always,never \
  --concurrency 1,8,64,256 --etcd auto --json "$out/kv_3.json" --svg_prefix "$out/kv_3"
step "KV writes and idle CPU, 5 ranks, fsync always (~1 min)"
"$bin/raft_cluster_bench" --nodes 5 --idle_seconds 30 --seconds 5 --fsync always \
  --concurrency 1,8,64,256 --etcd off --json "$out/kv_5.json"
step "first write after 5 s and 30 s of quiet, defaults (~5 min)"
"$bin/raft_quiet_write_bench" --nodes 3 --quiet_seconds 5,30 --samples 20,5 \
  --json "$out/quiet_write.json" --svg "$out/quiet_write.svg"
step "failover, 150-300 ms, no traffic (~1 min)"
"$bin/raft_failover_bench" --trials 50 --traffic none "${short[@]}" \
  --json "$out/failover_150_300.json" --svg "$out/failover_150_300.svg"
step "failover, 150-300 ms, writes during the failover (~1 min)"
"$bin/raft_failover_bench" --trials 50 --traffic writes "${short[@]}" \
  --json "$out/failover_150_300_writes.json" --svg "$out/failover_150_300_writes.svg"
step "failover, the defaults 2000-4000 ms, no traffic (~4 min)"
"$bin/raft_failover_bench" --trials 40 --traffic none "${defaults[@]}" \
  --json "$out/failover_2000_4000.json" --svg "$out/failover_2000_4000.svg"
step "failover, the defaults 2000-4000 ms, writes during the failover (~4 min)"
"$bin/raft_failover_bench" --trials 40 --traffic writes "${defaults[@]}" \
  --json "$out/failover_2000_4000_writes.json" --svg "$out/failover_2000_4000_writes.svg"
step "scale, 3 to 25 ranks, 60 s of steady state each (~6 min)"
"$bin/raft_scale_bench" --sizes 3,5,9,15,25 --window 60 --json "$out/scale.json" \
  --svg_prefix "$out/scale"
step "done"
