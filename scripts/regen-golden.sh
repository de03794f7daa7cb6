#!/usr/bin/env bash
# Regenerates the golden trace of every fixture (or of the ones named) from its capture:
#
#   scripts/regen-golden.sh [NAME...]
#
# Each pcaps/NAME.trace is rewritten by `tapir replay --update-golden`, which refuses when
# the replayed frames no longer match the recording (then the stack's behaviour changed and
# the fixture must be re-recorded or the change fixed). Review the result with `git diff
# pcaps/` like code: every changed line is a changed decision or a changed decode.
# Environment: TAPIR (the binary; by default the newest of build*/src/tapir).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TAPIR:-}" ]; then
  TAPIR=$(ls -t build*/src/tapir build/*/src/tapir 2>/dev/null | head -1 || true)
fi
[ -n "${TAPIR:-}" ] && [ -x "$TAPIR" ] || { echo "regen-golden: no tapir binary: build it, or set TAPIR=path" >&2; exit 1; }

captures=()
if [ $# -gt 0 ]; then
  for name in "$@"; do captures+=("pcaps/$name.pcap"); done
else
  captures=(pcaps/*.pcap)
fi
failed=0
for c in "${captures[@]}"; do
  "$TAPIR" replay --update-golden "$c" || failed=1
done
git --no-pager diff --stat -- pcaps/ 2>/dev/null || true
exit $failed
