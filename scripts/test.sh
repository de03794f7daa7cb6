#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test (unit,
# stack, replay, netns), then builds and runs the whole suite again under ASan+UBSan,
# and the blocking-facade suite under ThreadSanitizer.
# Tests labelled netns need root (or CAP_NET_ADMIN): without it they are skipped, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
JOBS=$(nproc)

run_suite() {  # run_suite BUILD_DIR CMAKE_ARGS...
  local dir=$1
  shift
  echo "== configure and build: $dir ($*)"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
  echo "== test: $dir"
  # The longest test takes about 20 s; a hung one is cut off after 5 minutes, not 15.
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" --timeout 300)
}

run_suite build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_suite build/asan -DCMAKE_BUILD_TYPE=Debug -DTAPIR_SANITIZE=ON

# The blocking facade is the one multi-threaded part: its suite runs under ThreadSanitizer.
echo "== configure and build: build/tsan (test_bsd, -DTAPIR_TSAN=ON)"
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTAPIR_TSAN=ON >/dev/null
cmake --build build/tsan -j "$JOBS" --target test_bsd
echo "== test: build/tsan"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" timeout --kill-after=10 300 build/tsan/tests/test_bsd
