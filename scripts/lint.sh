#!/usr/bin/env bash
# Style gate: clang-format must have nothing to change in our sources, test names must be
# ctest-safe, and clang-tidy (.clang-tidy) must have nothing to say.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find src include tests -name '*.[ch]pp')
bad=$(echo "$files" | xargs -r clang-format --dry-run 2>&1 | grep -c 'warning:' || true)
if [ "$bad" -gt 0 ]; then
  echo "lint: clang-format would change $bad places; run: clang-format -i \$(git ls-files '*.cpp' '*.hpp')"
  echo "$files" | xargs -r clang-format --dry-run 2>&1 | grep 'warning:' | head -20
  exit 1
fi
echo "lint: clang-format clean ($(echo "$files" | wc -l) files)"

# ctest discovery breaks on test names with ';' (the case is skipped yet reported passed)
# and with '[' or ']' (cases merge): refuse them.
bad_names=$(grep -rnE 'TEST_CASE\("[^"]*[][;]' tests/ || true)
if [ -n "$bad_names" ]; then
  echo "lint: Catch2 test names must not contain ';', '[' or ']':"
  echo "$bad_names"
  exit 1
fi
echo "lint: test names are ctest-safe"

# clang-tidy (checks in .clang-tidy) over the stack, the tools and the examples; with
# TIDY_TESTS=1 over the test suites too (tests/.clang-tidy; slow: the Catch2 translation
# units more than double the time, so CI leaves them out).
cmake -S . -B build/tidy -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
dirs="src|include|bench|examples|fuzz"
[ "${TIDY_TESTS:-0}" = 1 ] && dirs="$dirs|tests"
if ! run-clang-tidy -p build/tidy -j "$(nproc)" -quiet -extra-arg=-Wno-unknown-warning-option \
  "$PWD/($dirs)/" >build/tidy/tidy.log 2>&1; then
  echo "lint: clang-tidy found problems:"
  grep -E '(warning|error):' build/tidy/tidy.log | sort -u | head -40
  exit 1
fi
echo "lint: clang-tidy clean ($(grep -c '^Running\|clang-tidy' build/tidy/tidy.log) translation units in $dirs)"
