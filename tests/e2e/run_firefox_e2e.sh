#!/usr/bin/env bash
# Runs the Firefox walk of the monitor (monitor_firefox_e2e.py): installs
# Debian's firefox-esr if it is missing (skips, exit 77, only when that is
# impossible), then drives it through Marionette with Python's standard library.
# Usage: run_firefox_e2e.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1"
build="$2"
firefox="${FIREFOX:-$(command -v firefox-esr || true)}"
if [[ -z "$firefox" ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr >/dev/null 2>&1 || true
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr >/dev/null 2>&1 || true
  fi
  firefox="$(command -v firefox-esr || true)"
fi
if [[ -z "$firefox" ]]; then
  echo "SKIPPED: Firefox is not installed and could not be installed (apt-get install firefox-esr)"
  exit 77
fi
mkdir -p "$build/e2e"
FIREFOX="$firefox" exec python3 "$src/tests/e2e/monitor_firefox_e2e.py" "$build" "$build/e2e/monitor-firefox.png"
