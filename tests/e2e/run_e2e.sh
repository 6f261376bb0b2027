#!/usr/bin/env bash
# Runs the browser test: installs Debian's Chromium if it is missing (skips,
# exit 77, only when that is impossible), installs playwright-core from npm
# into the build folder, then runs SCRIPT (default monitor_e2e.mjs).
# Usage: run_e2e.sh SOURCE_DIR BUILD_DIR [SCRIPT]
set -euo pipefail
src="$1"
build="$2"
script="${3:-monitor_e2e.mjs}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || true
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || true
  fi
fi
if [[ ! -x "$chromium" ]]; then
  echo "SKIPPED: Chromium is not installed and could not be installed (apt-get install chromium)"
  exit 77
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "e2e: node and npm are needed (apt-get install nodejs npm)" >&2
  exit 1
fi
work="$build/e2e"
mkdir -p "$work"
cp "$src/tests/e2e/package.json" "$src/tests/e2e/package-lock.json" "$src/tests/e2e/$script" \
   "$src/tests/e2e/free_ports.mjs" "$src/tests/e2e/e2e_cluster.mjs" "$work/"
if [[ ! -d "$work/node_modules/playwright-core" ]]; then
  (cd "$work" && npm ci --no-audit --no-fund --silent)
fi
cd "$work"
exec node "$script" "$build" "$build/e2e/shots"
