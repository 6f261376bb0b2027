#!/usr/bin/env bash
# Runs the whole-cluster benchmarks one after the other (they would disturb
# each other) and writes JSON and SVG charts to bench/results/. About 20
# minutes. Usage: bench/cluster/run_cluster_benches.sh [BUILD_DIR] [RESULTS_DIR]
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

step "KV writes, 3 ranks, fsync always and never"
"$bin/raft_cluster_bench" --nodes 3 --seconds 5 --fsync always,never --concurrency 1,8,64,256 \
  --json "$out/kv_3.json" --svg_prefix "$out/kv_3"
step "KV writes, 5 ranks, fsync always"
"$bin/raft_cluster_bench" --nodes 5 --seconds 5 --fsync always --concurrency 1,8,64,256 \
  --json "$out/kv_5.json"
step "failover, 150-300 ms"
"$bin/raft_failover_bench" --trials 50 --min_election_timeout 150 --max_election_timeout 300 \
  --heartbeat_interval 50 --json "$out/failover_150_300.json" --svg "$out/failover_150_300.svg"
step "failover, the defaults 2000-4000 ms"
"$bin/raft_failover_bench" --trials 50 --min_election_timeout 2000 --max_election_timeout 4000 \
  --heartbeat_interval 750 --json "$out/failover_2000_4000.json" --svg "$out/failover_2000_4000.svg"
step "scale, 3 to 25 ranks, 60 s of steady state each"
"$bin/raft_scale_bench" --sizes 3,5,9,15,25 --window 60 --json "$out/scale.json" \
  --svg_prefix "$out/scale"
step "done"
