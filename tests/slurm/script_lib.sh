# shellcheck shell=bash disable=SC2034 # BUILD_DIR is for the sourcing script
# What the Slurm and package test scripts share (sourced; bash): their
# messages and exit codes (0 pass, 1 fail, 77 skipped, as ctest's
# SKIP_RETURN_CODE expects) and the logs they show on a failure.

readonly SKIP=77

say() { echo "[$(date +%H:%M:%S)] $*"; }

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

skip() {
  echo "SKIPPED: $*" >&2
  exit "$SKIP"
}

# show_tails LINES FILE...: the last LINES lines of each FILE that exists,
# on stderr, each under its name.
show_tails() {
  local lines=$1 file
  shift
  for file in "$@"; do
    [[ -f "$file" ]] || continue
    echo "---- $file (last lines) ----" >&2
    tail -n "$lines" "$file" >&2
  done
}

# take_build_dir USAGE [BUILD_DIR]: sets BUILD_DIR (read-only) to the build
# folder given, as an absolute path; exits with USAGE when none is given.
take_build_dir() {
  [[ $# -ge 2 ]] || { echo "usage: $1" >&2; exit 2; }
  BUILD_DIR="$(cd "$2" && pwd)" || fail "no build folder $2"
  readonly BUILD_DIR
}
