#!/usr/bin/env bash
# Measures an idle monitor tab in headless Chromium at 3 and 15 nodes at the
# default timeouts (and 15 with prefers-reduced-motion), then at 3 and 15
# with the fast timeouts (300-600 ms, heartbeat 100 ms). Uses the e2e test's playwright-core
# (installed into BUILD_DIR/e2e by tests/e2e/run_e2e.sh, or here).
# Usage: run_monitor_tab_cpu.sh SOURCE_DIR BUILD_DIR [MEASURE_S]
set -euo pipefail
src="$(cd "$1" && pwd)"
build="$(cd "$2" && pwd)"
seconds="${3:-30}"
work="$build/e2e"
mkdir -p "$work"
cp "$src/tests/e2e/package.json" "$src/tests/e2e/package-lock.json" "$work/"
if [[ ! -d "$work/node_modules/playwright-core" ]]; then
  (cd "$work" && npm ci --no-audit --no-fund --silent)
fi
cp "$src/bench/web/monitor_tab_cpu.mjs" "$src/tests/e2e/free_ports.mjs" "$src/tests/e2e/e2e_cluster.mjs" \
   "$work/"
cd "$work"
for run in "3 0 0" "15 0 0" "15 1 0" "3 0 1" "15 0 1"; do
  set -- $run
  FAST="$3" node monitor_tab_cpu.mjs "$build" "$1" "$seconds" "$2"
done
