#!/usr/bin/env bash
# Fails if a function in src/ (or a header of include/ or src/ it uses) is
# longer than LIMIT lines, as clang-tidy's readability-function-size counts
# them (the whole body, comments and lambdas included).
#
#   scripts/check_function_size.sh BUILD_DIR [LIMIT]     LIMIT defaults to 80
#
# BUILD_DIR must hold compile_commands.json (every CMake build here does).
# ctest runs it as style.function_size (label style).
set -euo pipefail

build_dir="${1:-}"
limit="${2:-80}"
if [[ -z "$build_dir" || ! -f "$build_dir/compile_commands.json" ]]; then
  echo "check_function_size: give a build directory with compile_commands.json" >&2
  exit 2
fi
if ! command -v clang-tidy >/dev/null 2>&1; then
  echo "check_function_size: clang-tidy not found (scripts/bootstrap.sh installs it)" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."

config="{CheckOptions: [{key: readability-function-size.LineThreshold, value: ${limit}}]}"
mapfile -t files < <(find src -name '*.cpp' | sort)
report="$(printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc 2>/dev/null || echo 2)" -n 4 clang-tidy -p "$build_dir" --quiet \
    -checks='-*,readability-function-size' -config="$config" \
    -header-filter="$PWD/(src|include)/" 2>/dev/null |
  grep -A3 'warning: function' | grep -E 'warning: function|note: [0-9]+ lines' || true)"
if [[ -n "$report" ]]; then
  echo "$report"
  echo "check_function_size: functions over $limit lines (above); split them" >&2
  exit 1
fi
echo "check_function_size: ${#files[@]} files of src/, no function over $limit lines"
