#!/usr/bin/env bash
# The demo in one command: installs what is missing (scripts/bootstrap.sh),
# builds the four programs in build/, and runs launch_cluster with your flags
# (default: 3 nodes). Open the monitor URL it prints; Ctrl+C stops everything.
#
#   scripts/demo.sh                     3 nodes, default timeouts (2-4 s)
#   scripts/demo.sh --nodes 5 --min_election_timeout 300 --max_election_timeout 600 --heartbeat_interval 100
#   scripts/demo.sh --fresh             forget the data of earlier runs first
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
gen=()
if [[ ! -f build/CMakeCache.txt ]] && command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --parallel "$(nproc 2>/dev/null || echo 2)" \
  --target launch_cluster raft_node discovery_server web_monitor
args=("$@")
has_nodes=0
for a in "${args[@]}"; do [[ "$a" == --nodes || "$a" == --nodes=* ]] && has_nodes=1; done
((has_nodes)) || args=(--nodes 3 "${args[@]}")
exec build/launch_cluster "${args[@]}"
