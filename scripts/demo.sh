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
  set +e  # a killed tapir's wait returns non-zero: the cleanup must go on
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

SITE="$WORK/site"
mkdir -p "$SITE"
printf '<!doctype html>\n<title>tapir</title>\n<h1>Hello from tapir</h1>\n<p>This page crossed a userspace TCP/IP stack.</p>\n' >"$SITE/index.html"
head -c 1000000 /dev/urandom >"$SITE/random.bin"
CAPTURE="${TAPIR_DEMO_PCAP:-/tmp/tapir-demo.pcap}"
CTL="$WORK/ctl.sock"

step "tapir serve --tap tap0 --ip 10.0.0.2/24 --services echo,discard,daytime,chargen,http --pcap $CAPTURE"
ip netns exec "$NS" "$TAPIR" serve --tap tap0 --ip 10.0.0.2/24 --services echo,discard,daytime,chargen,http \
  --http-root "$SITE" --pcap "$CAPTURE" --control "$CTL" >"$WORK/tapir.log" 2>&1 &
TAPIR_PID=$!
for _ in $(seq 50); do grep -q "serving on" "$WORK/tapir.log" && break; sleep 0.1; done
cat "$WORK/tapir.log"

step "ping from the kernel"
nsx ping -c 3 -i 0.2 10.0.0.2
step "a 4000-byte ping: fragmented both ways, reassembled by tapir and by the kernel"
nsx ping -c 2 -i 0.2 -s 4000 10.0.0.2
step "curl http://10.0.0.2/ (tapir's HTTP/1.1 server)"
nsx curl -sS -i http://10.0.0.2/
step "curl a 1 MB file and compare"
nsx curl -sS -o "$WORK/random.out" http://10.0.0.2/random.bin
cmp "$SITE/random.bin" "$WORK/random.out" && echo "1000000 bytes, byte-exact"
step "nc to the TCP echo service (port 7)"
echo "hello over TCP" | nsx nc -N 10.0.0.2 7
step "UDP echo (port 7)"
echo "hello over UDP" | nsx nc -u -w 1 10.0.0.2 7
step "daytime (port 13) and 2 lines of chargen (port 19)"
nsx nc -N 10.0.0.2 13 </dev/null
nsx nc 10.0.0.2 19 </dev/null | head -n 2
step "tapir ss: the socket table, while a kernel client holds a connection"
nsx bash -c 'exec 3<>/dev/tcp/10.0.0.2/7; sleep 1' &
HOLD=$!
sleep 0.3
"$TAPIR" ss -i --control "$CTL"
wait "$HOLD" || true
step "tapir stats (abridged: the counters that moved)"
"$TAPIR" stats --control "$CTL" | awk '/^[a-z]+:$/ {g=$0; next} $1 != "0" {if (g) {print g; g=""} print}'
step "tapir arp"
"$TAPIR" arp --control "$CTL"

step "stopping tapir (SIGTERM)"
kill -TERM "$TAPIR_PID"
wait "$TAPIR_PID" || true
TAPIR_PID=""
tail -1 "$WORK/tapir.log"
step "the capture: $CAPTURE (open it in Wireshark, or: build/release/src/tapir decode $CAPTURE)"
"$TAPIR" decode "$CAPTURE" | head -n 12 || true
step "done: namespace $NS removed"
