#!/usr/bin/env bash
# tapir's benchmark suite: every workload against tapir (on a TAP) and, in the same run,
# against the Linux kernel (over a veth pair), each in fresh network namespaces, unpinned
# and pinned to one CPU. Prints a table of medians with the ratio to the kernel and
# writes JSON to bench/results/. Usage: bench/run.sh [--quick] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
SECONDS_PER_TEST=5
STREAM_BYTES=1000000000
HOLD=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) RUNS=1; SECONDS_PER_TEST=2; STREAM_BYTES=200000000; HOLD=200 ;;
    --runs) RUNS=$2; shift ;;
    *) echo "bench/run.sh: unknown option '$1' (use --quick or --runs N)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh: needs root for network namespaces and TAP devices" >&2; exit 1; }

bash scripts/install-deps.sh
for p in nginx-light; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPIR_TESTS=OFF >/dev/null
cmake --build build/release --target tapir netbench -j "$(nproc)" >/dev/null
TAPIR=$PWD/build/release/src/tapir
NETBENCH=$PWD/build/release/bench/netbench

ID=$$
NS_T="tapir-bench-t-$ID"   # the kernel client and tapir, joined by tap0
NS_C="tapir-bench-c-$ID"   # the kernel client of the reference
NS_S="tapir-bench-s-$ID"   # the kernel server of the reference
WORK=$(mktemp -d /tmp/tapir-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  for ns in "$NS_T" "$NS_C" "$NS_S"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

for ns in "$NS_T" "$NS_C" "$NS_S"; do ip netns add "$ns"; ip netns exec "$ns" ip link set lo up; done
ip netns exec "$NS_T" ip tuntap add dev tap0 mode tap
ip netns exec "$NS_T" ip addr add 10.0.0.1/24 dev tap0
ip netns exec "$NS_T" ip link set tap0 up
ip link add "vb$ID" netns "$NS_C" type veth peer name "vs$ID" netns "$NS_S"
ip netns exec "$NS_C" ip addr add 10.1.0.1/24 dev "vb$ID"
ip netns exec "$NS_S" ip addr add 10.1.0.2/24 dev "vs$ID"
ip netns exec "$NS_C" ip link set "vb$ID" up
ip netns exec "$NS_S" ip link set "vs$ID" up

chmod 755 "$WORK"
mkdir -p "$WORK/site"
printf '<!doctype html><title>bench</title><p>tapir benchmark page</p>\n' >"$WORK/site/index.html"
chmod -R a+rX "$WORK/site"

start_servers() {  # start_servers PIN_PREFIX: tapir on tap0, netbench + nginx behind the veth
  local pin=$1
  ip netns exec "$NS_T" $pin "$TAPIR" serve --tap tap0 --ip 10.0.0.2/24 --services echo,discard,chargen,http \
    --http-root "$WORK/site" --control "$WORK/ctl.sock" >"$WORK/tapir.log" 2>&1 &
  TAPIR_PID=$!
  PIDS+=("$TAPIR_PID")
  ip netns exec "$NS_S" $pin "$NETBENCH" serve >"$WORK/netbench.log" 2>&1 &
  PIDS+=("$!")
  cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 1024; }
http { access_log off; server { listen 10.1.0.2:80; root $WORK/site; } }
CONF
  ip netns exec "$NS_S" $pin nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
  PIDS+=("$!")
  for _ in $(seq 100); do grep -q "serving on" "$WORK/tapir.log" && grep -q serving "$WORK/netbench.log" && break; sleep 0.1; done
  sleep 0.5
}

stop_servers() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
  PIDS=()
}

measure() {  # measure PIN STACK NS HOST TEST ARGS...: one JSON line tagged with stack/pin
  local pin=$1 stack=$2 ns=$3 host=$4 test=$5
  shift 5
  local out
  case "$test" in
    ping)
      out=$(ip netns exec "$ns" $pin ping -q -c 500 -i 0.002 "$host" | awk -F'[/ =]+' '/rtt/ {printf "{\"test\":\"ping_rtt\",\"value\":%s,\"unit\":\"us\"}", $7*1000}') ;;
    wrk)
      out=$(ip netns exec "$ns" $pin wrk -c 100 -t 1 -d "${SECONDS_PER_TEST}s" "http://$host/index.html" |
        awk '/Requests\/sec/ {printf "{\"test\":\"http_wrk\",\"value\":%.4f,\"unit\":\"k/s\"}", $2/1000} /Socket errors|Non-2xx/ {print "ERROR " $0 > "/dev/stderr"}') ;;
    hold)
      local before after
      before=$(awk '/VmRSS/ {print $2}' "/proc/$TAPIR_PID/status")
      coproc H { ip netns exec "$ns" $pin "$NETBENCH" hold "$host" "$HOLD"; }
      read -r out <&"${H[0]}"
      after=$(awk '/VmRSS/ {print $2}' "/proc/$TAPIR_PID/status")
      exec {H[1]}>&-
      wait "$H_PID" || true
      [ "$stack" = tapir ] && out="{\"test\":\"idle_conn_memory\",\"value\":$(( (after - before) * 1024 / HOLD )),\"unit\":\"B/conn\"}" ;;
    *)
      out=$(ip netns exec "$ns" $pin timeout 120 "$NETBENCH" "$test" "$host" "$@") ;;
  esac
  [ -n "$out" ] && echo "$out" | sed "s/}\$/,\"stack\":\"$stack\",\"pinned\":$([ -n "$pin" ] && echo true || echo false)}/"
}

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
for pin in "" "taskset -c 0"; do
  start_servers "$pin"
  for run in $(seq "$RUNS"); do
    for stack in tapir kernel; do
      if [ $stack = tapir ]; then ns=$NS_T; host=10.0.0.2; else ns=$NS_C; host=10.1.0.2; fi
      measure "$pin" $stack $ns $host stream-in "$STREAM_BYTES" >>"$RESULTS"
      measure "$pin" $stack $ns $host stream-out "$STREAM_BYTES" >>"$RESULTS"
      measure "$pin" $stack $ns $host rr "$SECONDS_PER_TEST" 64 >>"$RESULTS"
      measure "$pin" $stack $ns $host crr "$SECONDS_PER_TEST" >>"$RESULTS"
      measure "$pin" $stack $ns $host udp-rr "$SECONDS_PER_TEST" 64 >>"$RESULTS"
      measure "$pin" $stack $ns $host ping >>"$RESULTS"
      measure "$pin" $stack $ns $host wrk >>"$RESULTS"
      [ "$run" = 1 ] && [ -z "$pin" ] && [ $stack = tapir ] && measure "$pin" $stack $ns $host hold >>"$RESULTS"
    done
  done
  stop_servers
done

mkdir -p bench/results
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$RESULTS" "bench/results/$STAMP.json" "$(uname -r)" "$(nproc)" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = {"kernel": sys.argv[3], "cpus": int(sys.argv[4]), "runs": rows, "medians": []}
keys = sorted({(r["test"], r["pinned"]) for r in rows})
print(f"{'workload':<18} {'pinned':<7} {'tapir':>12} {'kernel':>12} {'ratio':>7}  unit")
for test, pinned in keys:
    def med(stack):
        v = [r["value"] for r in rows if r["test"] == test and r["pinned"] == pinned and r["stack"] == stack]
        return statistics.median(v) if v else None
    def p99(stack):
        v = [r["p99_us"] for r in rows if r["test"] == test and r["pinned"] == pinned and r["stack"] == stack and "p99_us" in r]
        return statistics.median(v) if v else None
    unit = next(r["unit"] for r in rows if r["test"] == test)
    t, k = med("tapir"), med("kernel")
    lower_is_better = unit in ("us", "B/conn")
    ratio = (k / t if lower_is_better else t / k) if t and k else None
    out["medians"].append({"test": test, "pinned": pinned, "tapir": t, "kernel": k, "ratio": ratio,
                           "unit": unit, "tapir_p99_us": p99("tapir"), "kernel_p99_us": p99("kernel")})
    fmt = lambda x: f"{x:12.3f}" if x is not None else f"{'-':>12}"
    print(f"{test:<18} {str(pinned):<7} {fmt(t)} {fmt(k)} {(f'{ratio:7.2f}' if ratio else '      -')}  {unit}")
json.dump(out, open(sys.argv[2], "w"), indent=1)
print(f"\nJSON: {sys.argv[2]}  (ratio > 1: tapir better)")
PY
