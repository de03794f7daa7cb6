# Shared helpers for the tests against the Linux kernel. Each test runs in a network
# namespace of its own with a unique name; the namespace, the processes the test started
# (by PID) and its temp dir are removed on exit, failure included. Nothing routes out:
# the namespace holds only lo and the test's TAP.
#
#   source lib.sh; netns_begin NAME TAPIR_BINARY
#   start_tapir serve --tap tap0 --ip 10.0.0.2/24 ...
#   nsx ping -c 1 10.0.0.2
set -euo pipefail

SKIP=77  # ctest SKIP_RETURN_CODE

netns_begin() {
  TEST_NAME=$1
  TAPIR=$2
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: $TEST_NAME needs root (network namespaces and TAP devices)"
    exit $SKIP
  fi
  NS="tapir-$TEST_NAME-$$-$RANDOM"
  WORK=$(mktemp -d "/tmp/tapir-$TEST_NAME.XXXXXX")
  PIDS=()
  trap netns_end EXIT
  ip netns add "$NS"
  nsx ip link set lo up
  # The kernel's side of the wire: tap0 with 10.0.0.1/24; tapir attaches to it.
  nsx ip tuntap add dev tap0 mode tap
  nsx ip addr add 10.0.0.1/24 dev tap0
  nsx ip link set tap0 up
}

netns_end() {
  local rc=$?
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  ip netns del "$NS" 2>/dev/null || true
  if [ $rc -ne 0 ] && [ $rc -ne $SKIP ] && [ -f "$WORK/tapir.log" ]; then
    echo "--- tapir output"
    tail -50 "$WORK/tapir.log"
  fi
  rm -rf "$WORK"
  exit $rc
}

nsx() { ip netns exec "$NS" "$@"; }

# Starts `tapir ARGS...` inside the namespace and waits until it prints "serving on".
start_tapir() {
  # Not through nsx: a function in the background would be a subshell, and $! its PID.
  # `ip netns exec` execs the command, so $! is tapir's own PID.
  # serve's default control socket (/run/tapir/tap0.sock) is shared by every namespace:
  # give each test its own, so parallel runs (and a tapir someone else runs) don't collide.
  local control=()
  if [ "${1:-}" = serve ] && [[ " $* " != *" --control "* ]]; then
    control=(--control "$WORK/control.sock")
  fi
  ip netns exec "$NS" "$TAPIR" "$@" "${control[@]}" >"$WORK/tapir.log" 2>&1 &
  TAPIR_PID=$!
  PIDS+=("$TAPIR_PID")
  for _ in $(seq 100); do
    grep -q "serving on" "$WORK/tapir.log" && return 0
    kill -0 "$TAPIR_PID" 2>/dev/null || fail "tapir exited early"
    sleep 0.1
  done
  fail "tapir did not come up within 10 s"
}

# Starts `CMD ARGS...` inside the namespace in the background, its output in
# $WORK/NAME.log, and waits (10 s at most) until that log matches PATTERN. BG_PID is its PID.
start_bg() {
  local name=$1 pattern=$2
  shift 2
  ip netns exec "$NS" "$@" >"$WORK/$name.log" 2>&1 &
  BG_PID=$!
  PIDS+=("$BG_PID")
  for _ in $(seq 100); do
    grep -q "$pattern" "$WORK/$name.log" && return 0
    kill -0 "$BG_PID" 2>/dev/null || fail "$name exited early: $(tail -5 "$WORK/$name.log")"
    sleep 0.1
  done
  fail "$name did not print '$pattern' within 10 s"
}

# Ends a process this test started (by PID) and waits for it.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Stops the tapir started last with SIGTERM and waits for it to exit.
stop_tapir() {
  kill -TERM "$TAPIR_PID"
  wait "$TAPIR_PID" || true
}

fail() {
  echo "FAIL: $*"
  exit 1
}

pass() {
  echo "ok - $*"
}

# stat_value GROUP NAME: a counter of the running tapir (its control socket is $CTL).
stat_value() {
  "$TAPIR" stats --control "$CTL" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$1']['$2'])"
}

# echo_sizes SIZE...: each size through tapir's TCP echo service at 10.0.0.2, byte-exact.
echo_sizes() {
  for size in "$@"; do
    head -c "$size" /dev/urandom >"$WORK/in.bin"
    nsx timeout 120 nc -N 10.0.0.2 7 <"$WORK/in.bin" >"$WORK/out.bin" || fail "echo of $size bytes: nc failed"
    cmp -s "$WORK/in.bin" "$WORK/out.bin" ||
      fail "echo of $size bytes: not byte-exact ($(stat -c %s "$WORK/out.bin") bytes back)"
  done
  pass "echo byte-exact: $*"
}

# discard_bytes N: N zero octets from the kernel (nc) into tapir's discard service at
# 10.0.0.2:9; passes when the service has read exactly N (tapir's socket counter).
discard_bytes() {
  local n=$1 before got=0
  before=$(stat_value socket stream_bytes_received)
  head -c "$n" /dev/zero | nsx timeout 120 nc -N 10.0.0.2 9 || fail "discard: nc failed"
  for _ in $(seq 200); do
    got=$(( $(stat_value socket stream_bytes_received) - before ))
    [ "$got" -ge "$n" ] && break
    sleep 0.1
  done
  [ "$got" -eq "$n" ] || fail "discard: tapir read $got of $n bytes"
  pass "discard: $n bytes read by the service"
}
