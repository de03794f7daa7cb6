#!/usr/bin/env bash
# Style gate: clang-format must have nothing to change in our sources, and test names must
# be ctest-safe. clang-tidy runs separately: scripts/tidy.sh.
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
