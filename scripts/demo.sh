#!/usr/bin/env bash
# The README's main job: builds tapir if needed (installing what is missing), runs it on a
# TAP in a network namespace of its own, talks to it from the Linux kernel's side, and
# tears everything down, even on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root (or CAP_NET_ADMIN) for network namespaces and TAP devices; try: sudo $0" >&2
  exit 1
fi
bash scripts/install-deps.sh
if [ ! -x build/release/src/tapir ] || [ -n "$(find src include -newer build/release/src/tapir -print -quit)" ]; then
  echo "== building tapir"
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build/release --target tapir -j "$(nproc)"
fi
TAPIR=$PWD/build/release/src/tapir

NS="tapir-demo-$$"
WORK=$(mktemp -d /tmp/tapir-demo.XXXXXX)
TAPIR_PID=""
cleanup() {
  [ -n "$TAPIR_PID" ] && kill "$TAPIR_PID" 2>/dev/null && wait "$TAPIR_PID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
nsx() { ip netns exec "$NS" "$@"; }

step "network namespace $NS with tap0 (kernel side 10.0.0.1/24)"
ip netns add "$NS"
nsx ip link set lo up
nsx ip tuntap add dev tap0 mode tap
nsx ip addr add 10.0.0.1/24 dev tap0
nsx ip link set tap0 up

step "tapir serve --tap tap0 --ip 10.0.0.2/24"
ip netns exec "$NS" "$TAPIR" serve --tap tap0 --ip 10.0.0.2/24 >"$WORK/tapir.log" 2>&1 &
TAPIR_PID=$!
for _ in $(seq 50); do grep -q "serving on" "$WORK/tapir.log" && break; sleep 0.1; done
cat "$WORK/tapir.log"

step "ping from the kernel"
nsx ping -c 5 -i 0.2 10.0.0.2
step "a 4000-byte ping: fragmented both ways, reassembled by tapir and by the kernel"
nsx ping -c 2 -s 4000 10.0.0.2
step "the kernel's neighbour table holds tapir's MAC"
nsx ip neigh show dev tap0

step "stopping tapir (SIGTERM)"
kill -TERM "$TAPIR_PID"
wait "$TAPIR_PID" || true
TAPIR_PID=""
tail -1 "$WORK/tapir.log"
step "done: namespace $NS removed"
