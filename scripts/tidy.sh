#!/usr/bin/env bash
# clang-tidy (checks in .clang-tidy) over the stack, the tools and the examples; with
# TIDY_TESTS=1 over the test suites too (tests/.clang-tidy; the Catch2 translation units
# more than double the time). About 6 minutes on two idle cores; CI runs it (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/tidy -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
dirs="src|include|bench|examples|fuzz"
[ "${TIDY_TESTS:-0}" = 1 ] && dirs="$dirs|tests"
if ! run-clang-tidy -p build/tidy -j "$(nproc)" -quiet -extra-arg=-Wno-unknown-warning-option \
  "$PWD/($dirs)/" >build/tidy/tidy.log 2>&1; then
  echo "tidy: clang-tidy found problems (full log: build/tidy/tidy.log):"
  grep -E '(warning|error):' build/tidy/tidy.log | sort -u | head -40
  exit 1
fi
echo "tidy: clang-tidy clean ($(grep -c '^Running\|clang-tidy' build/tidy/tidy.log) translation units in $dirs)"
