#!/usr/bin/env bash
# Builds the project and runs its tests: the one command for developers and CI.
#
#   scripts/test.sh               everything: release build + all tests, then an
#                                 ASan+UBSan build of the core + unit/sim/storage tests
#   scripts/test.sh --quick       skip the sanitizer build
#   scripts/test.sh --label L     run only tests whose ctest label matches L (a regex)
#   scripts/test.sh --label sim-long   a million simulated schedules (about half an
#                                 hour on 2 cores); never part of the default run
#
# Build directories: build/ (RelWithDebInfo, -Werror) and build-asan/
# (sanitizers, core only). Exits non-zero on the first failure and always
# prints a summary with the time each phase took.
set -euo pipefail

usage() {
  sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

quick=0
label=""
while (($# > 0)); do
  case "$1" in
    --quick) quick=1 ;;
    --label)
      (($# >= 2)) || { echo "test.sh: --label needs a value" >&2; exit 2; }
      label="$2"
      shift
      ;;
    --label=*) label="${1#--label=}" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

njobs="$(nproc 2>/dev/null || echo 2)"
# --- phase bookkeeping: name, seconds, result; the summary prints on any exit.
phase_names=()
phase_secs=()
phase_results=()
current_phase=""
phase_start=0
script_start=$SECONDS

begin() {
  current_phase="$1"
  phase_start=$SECONDS
  printf '\n=== %s ===\n' "$current_phase"
}

end() {
  phase_names+=("$current_phase")
  phase_secs+=($((SECONDS - phase_start)))
  phase_results+=("${1:-ok}")
  current_phase=""
}

summary() {
  local rc=$?
  if [[ -n "$current_phase" ]]; then
    end FAILED
  fi
  printf '\n=== summary ===\n'
  local i
  for i in "${!phase_names[@]}"; do
    printf '  %-28s %5ss  %s\n' "${phase_names[$i]}" "${phase_secs[$i]}" "${phase_results[$i]}"
  done
  printf '  %-28s %5ss  %s\n' "total" "$((SECONDS - script_start))" \
    "$( ((rc == 0)) && echo ok || echo "FAILED (exit $rc)")"
  return "$rc"
}
trap summary EXIT

# Only the first configure of a build directory chooses its generator.
configure() {
  local dir="$1"
  shift
  local gen=()
  [[ -f "$dir/CMakeCache.txt" ]] || gen=("${generator[@]}")
  cmake -S . -B "$dir" "${gen[@]}" "${launcher[@]}" "$@"
}

# --- 1. dependencies
begin "bootstrap"
bash scripts/bootstrap.sh
echo "$(cmake --version | head -n1), $(c++ --version | head -n1), ${njobs} cores"
end

# Chosen after bootstrap, which may have just installed ninja and ccache.
generator=()
if command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi
# ccache, when present, keeps repeated builds (and CI's fresh clone in another
# folder on the same machine) short: paths are hashed relative to the repo root.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
fi

# --- 2. release build with every target, all tests
begin "configure build/"
configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAFT_WERROR=ON
end

begin "build build/"
cmake --build build --parallel "$njobs"
end

begin "ctest build/${label:+ (-L $label)}"
ctest_args=(--test-dir build --output-on-failure --no-tests=error --timeout 600
  --parallel "$njobs")
[[ -z "$label" ]] || ctest_args+=(-L "$label")
# The long labels run only when named.
if [[ "$label" == *sim-long* ]]; then
  ctest_args+=(-V)  # its summary line and coverage are the point of running it
else
  ctest_args+=(-LE sim-long)
fi
ctest "${ctest_args[@]}"
end

# --- 3. ASan+UBSan build of the core, storage and codec with their tests
if ((quick)); then
  echo
  echo "test.sh: --quick: skipping the sanitizer build (build-asan/)"
  exit 0
fi

begin "configure build-asan/"
# -O1 keeps sanitized tests fast; no NDEBUG, so assert() stays on.
configure build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" \
  -DRAFT_SANITIZE=ON -DRAFT_CORE_ONLY=ON
end

begin "build build-asan/"
cmake --build build-asan --parallel "$njobs"
end

asan_label="unit|sim|storage"
asan_no_tests=error
if [[ -n "$label" ]]; then
  # Restricted run: the core-only build may have no test with that label.
  asan_label="$label"
  asan_no_tests=ignore
fi
begin "ctest build-asan/ (-L $asan_label)"
(
  # Fewer iterations of the long randomized tests under the sanitizers.
  export RAFT_SIM_SCHEDULES=300
  export RAFT_CODEC_FUZZ_ITERATIONS=200000
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  ctest --test-dir build-asan --output-on-failure --no-tests="$asan_no_tests" --timeout 600 \
    --parallel "$njobs" -L "$asan_label" -LE sim-long
)
end
