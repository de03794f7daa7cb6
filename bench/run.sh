#!/usr/bin/env bash
# tapir's benchmark suite: every workload against tapir (on a TAP), the Linux kernel (over a
# veth pair) and lwIP (Debian's liblwip, on a TAP, bench/lwip/) in the same run, plus the raw
# TAP limit (netbench tap-in/tap-out: no stack at all), each in fresh network namespaces,
# unpinned and pinned to one CPU. Prints a table of medians with the ratios of tapir to the
# kernel, to lwIP and to the raw limit, checks issue 7's targets, and writes every value as
# JSON to bench/results/.
#
#   bench/run.sh [--quick] [--runs N] [--build DIR] [--only W,...] [--stack NAME=COMMAND]...
#
# --only runs some workloads: stream-in, stream-out, rr, crr, udp-rr, ping, wrk, hold,
# tap-in, tap-out (netbench's names), e.g. --only rr,udp-rr,ping.
#
# --stack adds any other stack through an adapter: COMMAND TAP ADDR/PREFIX must bring the
# stack up on that (existing) TAP at that address, serve TCP echo (7), discard (9) and
# chargen (19, RFC 864 as tapir sends it), UDP echo (7) and ICMP echo, optionally HTTP on 80
# (GET /index.html), and print a line containing "serving on" once ready (bench/README.md).
# lwIP is such a stack, added by itself when bench/lwip/lwip_adapter is built.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
SECONDS_PER_TEST=5
RAW_SECONDS=3
STREAM_BYTES=1000000000
HOLD=1000           # idle connections held by adapter stacks (lwIP's pools are small)
HOLD_TAPIR=100000   # ... and by tapir: issue 7 asks for 100,000
BUILD=build/release
ADAPTERS=()      # NAME=COMMAND, one per adapter stack
ONLY=""          # comma-separated workloads (--only); empty: all
WORKLOADS="stream-in stream-out rr crr udp-rr ping wrk hold tap-in tap-out"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) RUNS=1; SECONDS_PER_TEST=2; RAW_SECONDS=2; STREAM_BYTES=200000000; HOLD=200; HOLD_TAPIR=5000 ;;
    --runs) RUNS=$2; shift ;;
    --build) BUILD=$2; shift ;;
    --only)
      for w in ${2//,/ }; do
        [[ " $WORKLOADS " == *" $w "* ]] || { echo "bench/run.sh: --only: unknown workload '$w' (one of: $WORKLOADS)" >&2; exit 2; }
      done
      ONLY=",$2,"; shift ;;
    --stack)
      [[ "$2" =~ ^[a-z][a-z0-9_]{0,9}=. ]] || { echo "bench/run.sh: --stack wants NAME=COMMAND (NAME: a-z0-9_, up to 10)" >&2; exit 2; }
      ADAPTERS+=("$2"); shift ;;
    *) echo "bench/run.sh: unknown option '$1' (use --quick, --runs N, --build DIR, --only W,... or --stack NAME=COMMAND)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh: needs root for network namespaces and TAP devices" >&2; exit 1; }

bash scripts/install-deps.sh
for p in nginx-light; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPIR_TESTS=OFF >/dev/null
TARGETS=(tapir netbench)
# The lwIP adapter exists as a target only when liblwip-dev was found (bench/lwip/CMakeLists.txt).
ninja -C "$BUILD" -t targets all 2>/dev/null | grep -q '^lwip_adapter:' && TARGETS+=(lwip_adapter)
cmake --build "$BUILD" --target "${TARGETS[@]}" -j "$(nproc)" >/dev/null
TAPIR=$PWD/$BUILD/src/tapir
NETBENCH=$PWD/$BUILD/bench/netbench
LWIP=$PWD/$BUILD/bench/lwip/lwip_adapter
if [ -x "$LWIP" ]; then
  ADAPTERS=("lwip=$LWIP" "${ADAPTERS[@]}")
else
  echo "bench/run.sh: the lwIP adapter is not built (liblwip-dev missing): no lwip column" >&2
fi

ID=$$
NS_T="tapir-bench-t-$ID"   # the kernel client and tapir, joined by tap0
NS_R="tapir-bench-r-$ID"   # the raw TAP limit: netbench on both sides of tapraw
NS_C="tapir-bench-c-$ID"   # the kernel client of the reference
NS_S="tapir-bench-s-$ID"   # the kernel server of the reference
NS_O="tapir-bench-o-$ID"   # tapir with --offload (TSO, checksum offload) on its own tap0
NAMESPACES=("$NS_T" "$NS_R" "$NS_C" "$NS_S" "$NS_O")
STACKS=(tapir kernel)
declare -A STACK_NS STACK_HOST ADAPTER_CMD ADAPTER_TAP
STACK_NS[tapir]=$NS_T; STACK_HOST[tapir]=10.0.0.2
STACK_NS[kernel]=$NS_C; STACK_HOST[kernel]=10.1.0.2
i=0
for a in "${ADAPTERS[@]}"; do  # each adapter stack: its own namespace and TAP, 10.0.0.2 on it
  name=${a%%=*}
  [ -z "${STACK_NS[$name]:-}" ] || { echo "bench/run.sh: stack '$name' given twice" >&2; exit 2; }
  STACKS+=("$name")
  STACK_NS[$name]="tapir-bench-a$i-$ID"
  STACK_HOST[$name]=10.0.0.2
  ADAPTER_CMD[$name]=${a#*=}
  ADAPTER_TAP[$name]="tapa$i"
  NAMESPACES+=("${STACK_NS[$name]}")
  i=$((i + 1))
done
WORK=$(mktemp -d /tmp/tapir-bench.XXXXXX)
PIDS=()
cleanup() {
  # No errexit here: a killed child's wait returns non-zero, and cleanup must go on.
  set +e
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "bench/run.sh: line $LINENO failed (exit $?): $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM HUP  # through the EXIT trap: namespaces go on a signal too

for ns in "${NAMESPACES[@]}"; do ip netns add "$ns"; ip netns exec "$ns" ip link set lo up; done
make_tap() {  # make_tap NS DEV: the kernel side of a stack's TAP is 10.0.0.1, the stack 10.0.0.2
  ip netns exec "$1" ip tuntap add dev "$2" mode tap
  ip netns exec "$1" ip addr add 10.0.0.1/24 dev "$2"
  ip netns exec "$1" ip link set "$2" up
}
make_tap "$NS_T" tap0
make_tap "$NS_O" tap0
for a in 10.0.0.11 10.0.0.12; do ip netns exec "$NS_T" ip addr add "$a/24" dev tap0; done
ip netns exec "$NS_T" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
for name in "${!ADAPTER_CMD[@]}"; do make_tap "${STACK_NS[$name]}" "${ADAPTER_TAP[$name]}"; done
ip netns exec "$NS_R" ip tuntap add dev tapraw mode tap
ip netns exec "$NS_R" ip link set tapraw up
# A client that closes first keeps a TIME-WAIT per connection for 60 s. tcp_crr makes
# thousands a second, and once half the ephemeral ports are taken each connect(2) searches
# for a free one for milliseconds, whatever the stack: cap TIME-WAIT in the client
# namespaces (the link is lossless and private, so no old duplicate can arrive).
for stack in "${STACKS[@]}"; do ip netns exec "${STACK_NS[$stack]}" sysctl -qw net.ipv4.tcp_max_tw_buckets=4096; done
ip netns exec "$NS_O" sysctl -qw net.ipv4.tcp_max_tw_buckets=4096
ip link add "vb$ID" netns "$NS_C" type veth peer name "vs$ID" netns "$NS_S"
ip netns exec "$NS_C" ip addr add 10.1.0.1/24 dev "vb$ID"
ip netns exec "$NS_S" ip addr add 10.1.0.2/24 dev "vs$ID"
ip netns exec "$NS_C" ip link set "vb$ID" up
ip netns exec "$NS_S" ip link set "vs$ID" up

chmod 755 "$WORK"
mkdir -p "$WORK/site"
printf '<!doctype html><title>bench</title><p>tapir benchmark page</p>\n' >"$WORK/site/index.html"
chmod -R a+rX "$WORK/site"

declare -A STACK_PID  # the process whose RSS the hold workload reads
declare -A HAS_HTTP   # adapter stacks that answered on port 80
start_servers() {  # start_servers PIN_PREFIX: tapir on tap0, each adapter on its TAP, netbench + nginx behind the veth
  local pin=$1
  ip netns exec "$NS_T" $pin "$TAPIR" serve --tap tap0 --ip 10.0.0.2/24 --max-sockets $((HOLD_TAPIR + 1000)) \
    --services echo,discard,chargen,http \
    --http-root "$WORK/site" --control "$WORK/ctl.sock" >"$WORK/tapir.log" 2>&1 &
  STACK_PID[tapir]=$!
  PIDS+=("$!")
  # The same tapir with TAP offloads, for the streams with offloads (issue 7: >= 0.8x the
  # kernel over veth); a TAP that refuses them makes it log so and use plain frames.
  ip netns exec "$NS_O" $pin "$TAPIR" serve --tap tap0 --ip 10.0.0.2/24 --offload \
    --services echo,discard,chargen --control "$WORK/ctl-offload.sock" >"$WORK/tapir_tso.log" 2>&1 &
  PIDS+=("$!")
  for name in "${!ADAPTER_CMD[@]}"; do
    # shellcheck disable=SC2086  # the adapter's command line splits into words by design
    ip netns exec "${STACK_NS[$name]}" $pin ${ADAPTER_CMD[$name]} "${ADAPTER_TAP[$name]}" 10.0.0.2/24 \
      >"$WORK/$name.log" 2>&1 &
    STACK_PID[$name]=$!
    PIDS+=("$!")
  done
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
  local ready
  for _ in $(seq 100); do
    ready=1
    for log in tapir tapir_tso "${!ADAPTER_CMD[@]}"; do grep -q "serving on" "$WORK/$log.log" || ready=0; done
    grep -q serving "$WORK/netbench.log" || ready=0
    [ $ready = 1 ] && break
    sleep 0.1
  done
  [ $ready = 1 ] || { echo "bench/run.sh: a stack did not come up; logs:" >&2; tail -n 5 "$WORK"/*.log >&2; exit 1; }
  sleep 0.5
  for name in "${!ADAPTER_CMD[@]}"; do
    HAS_HTTP[$name]=0
    if ip netns exec "${STACK_NS[$name]}" timeout 2 bash -c 'exec 3<>/dev/tcp/10.0.0.2/80' 2>/dev/null; then
      HAS_HTTP[$name]=1
    fi
  done
}

stop_servers() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
  PIDS=()
}

measure() {  # measure PIN STACK NS HOST TEST ARGS...: one JSON line tagged with stack/pin
  local pin=$1 stack=$2 ns=$3 host=$4 test=$5
  shift 5
  [ -z "$ONLY" ] || [[ "$ONLY" == *",$test,"* ]] || return 0
  local out
  case "$test" in
    ping)  # every reply's RTT: p50 is the value, p99 beside it
      out=$(ip netns exec "$ns" $pin ping -c 500 -i 0.002 "$host" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
        awk '{v[NR] = $1 * 1000} END { if (NR == 0) exit; m = int((NR + 1) / 2); q = int(NR * 0.99); if (q < NR * 0.99) q++;
          printf "{\"test\":\"ping_rtt\",\"value\":%.1f,\"unit\":\"us\",\"p50_us\":%.1f,\"p99_us\":%.1f,\"replies\":%d}", v[m], v[m], v[q], NR;
          if (NR < 500) print "ERROR ping: " 500 - NR " of 500 echoes lost" > "/dev/stderr" }') ;;
    wrk)
      out=$(ip netns exec "$ns" $pin wrk -c 100 -t 1 -d "${SECONDS_PER_TEST}s" "http://$host/index.html" |
        awk '/Requests\/sec/ {printf "{\"test\":\"http_wrk\",\"value\":%.4f,\"unit\":\"k/s\"}", $2/1000} /Socket errors|Non-2xx/ {print "ERROR " $0 > "/dev/stderr"}') ;;
    hold)
      local before after pid=${STACK_PID[$stack]}
      before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
      local n=$HOLD src=""
      # tapir holds 100k: beyond one source address's ports, so the kernel side connects
      # from 10.0.0.1 and two more addresses on tap0 in turn.
      [ "$stack" = tapir ] && n=$HOLD_TAPIR src=10.0.0.1,10.0.0.11,10.0.0.12
      coproc H { ip netns exec "$ns" $pin "$NETBENCH" hold "$host" "$n" $src; }
      read -r out <&"${H[0]}"
      after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
      exec {H[1]}>&-
      wait "$H_PID" || true
      out="{\"test\":\"idle_conn_memory\",\"value\":$(( (after - before) * 1024 / n )),\"unit\":\"B/conn\",\"connections\":$n}" ;;
    *)
      out=$(ip netns exec "$ns" $pin timeout 120 "$NETBENCH" "$test" "$host" "$@") ;;
  esac
  [ -n "$out" ] && echo "$out" | sed "s/}\$/,\"stack\":\"$stack\",\"pinned\":$([ -n "$pin" ] && echo true || echo false)}/"
  return 0
}

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
for pin in "" "taskset -c 0"; do
  start_servers "$pin"
  # Memory per idle connection first, on freshly started stacks whose heaps hold no memory
  # freed by earlier workloads (it would absorb the new connections).
  if [ -z "$pin" ]; then
    for stack in "${STACKS[@]}"; do
      if [ $stack != kernel ]; then measure "$pin" $stack "${STACK_NS[$stack]}" 10.0.0.2 hold >>"$RESULTS"; fi
    done
  fi
  for run in $(seq "$RUNS"); do
    for stack in "${STACKS[@]}"; do
      ns=${STACK_NS[$stack]}
      host=${STACK_HOST[$stack]}
      measure "$pin" $stack $ns $host stream-in "$STREAM_BYTES" >>"$RESULTS"
      measure "$pin" $stack $ns $host stream-out "$STREAM_BYTES" >>"$RESULTS"
      measure "$pin" $stack $ns $host rr "$SECONDS_PER_TEST" 64 >>"$RESULTS"
      measure "$pin" $stack $ns $host crr "$SECONDS_PER_TEST" >>"$RESULTS"
      measure "$pin" $stack $ns $host udp-rr "$SECONDS_PER_TEST" 64 >>"$RESULTS"
      measure "$pin" $stack $ns $host ping >>"$RESULTS"
      # Adapters without HTTP are left out (lwIP: Debian's liblwip has no httpd app).
      if [ "${HAS_HTTP[$stack]:-1}" = 1 ]; then measure "$pin" $stack $ns $host wrk >>"$RESULTS"; fi
    done
    measure "$pin" tapir_tso "$NS_O" 10.0.0.2 stream-in "$STREAM_BYTES" >>"$RESULTS"
    measure "$pin" tapir_tso "$NS_O" 10.0.0.2 stream-out "$STREAM_BYTES" >>"$RESULTS"
    for dir in tap-in tap-out; do
      for mode in plain vnet; do
        measure "$pin" raw "$NS_R" tapraw "$dir" "$RAW_SECONDS" "$mode" >>"$RESULTS"
      done
    done
  done
  stop_servers
done

mkdir -p bench/results
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$RESULTS" "bench/results/$STAMP.json" "$(uname -r)" "$(nproc)" "${STACKS[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
STACKS = tuple(sys.argv[5:])  # tapir, kernel, then the adapter stacks
OTHERS = STACKS[1:]
out = {"kernel": sys.argv[3], "cpus": int(sys.argv[4]), "stacks": list(STACKS), "runs": rows,
       "medians": [], "targets": []}
RAW_OF = {"stream_in": "raw_tap_in", "stream_out": "raw_tap_out"}  # plain frames, as tapir's

def pick(test, pinned, stack, field):
    v = [r[field] for r in rows if r["test"] == test and r["pinned"] == pinned
         and r["stack"] == stack and field in r]
    return statistics.median(v) if v else None

def better(a, b, unit):  # > 1: a did better than b
    if a is None or b is None or a == 0 or b == 0:
        return None
    return b / a if unit in ("us", "B/conn") else a / b

fmt = lambda x, w=9, d=3: f"{x:{w}.{d}f}" if x is not None else f"{'-':>{w}}"
col = lambda s: s[:9]
ratio_col = lambda s: f"t/{s[:6]}"
keys = sorted({(r["test"], r["pinned"]) for r in rows}, key=lambda k: (k[0].startswith("raw"), k))
print(f"{'workload':<17} {'pinned':<6} " + " ".join(f"{col(s):>9}" for s in STACKS) + " " +
      " ".join(f"{ratio_col(s):>8}" for s in OTHERS) + f" {'raw':>9} {'t/raw':>6}  unit")
med = {}
for test, pinned in keys:
    unit = next(r["unit"] for r in rows if r["test"] == test)
    m = {s: pick(test, pinned, s, "value") for s in STACKS}
    raw = pick(test if test.startswith("raw") else RAW_OF.get(test, ""), pinned, "raw", "value")
    entry = {"test": test, "pinned": pinned, "unit": unit, **m, "raw": raw,
             **{f"tapir_vs_{s}": better(m["tapir"], m[s], unit) for s in OTHERS},
             "tapir_vs_raw": None if test.startswith("raw") else better(m["tapir"], raw, unit),
             **{f"{s}_p99_us": pick(test, pinned, s, "p99_us") for s in STACKS}}
    out["medians"].append(entry)
    med[(test, pinned)] = entry
    print(f"{test:<17} {str(pinned):<6} " + " ".join(fmt(m[s]) for s in STACKS) + " " +
          " ".join(fmt(entry[f"tapir_vs_{s}"], 8, 2) for s in OTHERS) +
          f" {fmt(raw)} {fmt(entry['tapir_vs_raw'], 6, 2)}  {unit}")

# tapir with --offload: the streams only, against the kernel over veth.
tso = []
for test in ("stream_in", "stream_out"):
    for pinned in (False, True):
        t, k = pick(test, pinned, "tapir_tso", "value"), pick(test, pinned, "kernel", "value")
        if t is None:
            continue
        e = {"test": test, "pinned": pinned, "tapir_offload": t, "kernel": k,
             "offload_vs_kernel": better(t, k, "Gbit/s")}
        tso.append(e)
        med[(test + "_offload", pinned)] = e
out["offload"] = tso
if tso:
    print(f"\n{'with --offload':<17} {'pinned':<6} {'tapir':>9} {'kernel':>9} {'t/kernel':>8}  unit")
    for e in tso:
        print(f"{e['test']:<17} {str(e['pinned']):<6} {fmt(e['tapir_offload'])} {fmt(e['kernel'])} "
              f"{fmt(e['offload_vs_kernel'], 8, 2)}  Gbit/s")

lat = [e for e in out["medians"] if e["tapir_p99_us"] is not None]
if lat:
    print(f"\n{'p99 latency (us)':<17} {'pinned':<6} " + " ".join(f"{col(s):>9}" for s in STACKS) +
          " " + " ".join(f"{ratio_col(s):>8}" for s in OTHERS))
    for e in lat:
        p = {s: e[f"{s}_p99_us"] for s in STACKS}
        print(f"{e['test']:<17} {str(e['pinned']):<6} " + " ".join(fmt(p[s], 9, 1) for s in STACKS) +
              " " + " ".join(fmt(better(p["tapir"], p[s], "us"), 8, 2) for s in OTHERS))

# Issue 7's targets, each a ratio within this run (against lwIP and the raw TAP limit).
def target(name, test, pinned, key, want, p99=False):
    e = med.get((test, pinned))
    got = e.get(key) if e else None
    ok = got is not None and got >= want
    if ok and p99:
        ok = e["tapir_p99_us"] is not None and e.get("lwip_p99_us") is not None and \
             e["tapir_p99_us"] <= e["lwip_p99_us"]
    out["targets"].append({"target": name, "ratio": got, "want": want, "met": bool(ok)})
    print(f"{name:<46} {fmt(got, 6, 2)}  (>= {want}{', p99 no worse' if p99 else ''})  "
          f"{'met' if ok else 'NOT met' if got is not None else 'no figure'}")

print("\nissue 7 targets (ratios measured in this run)")
for s in ("stream_in", "stream_out"):
    target(f"{s}: tapir/lwip", s, False, "tapir_vs_lwip", 2.5)
    target(f"{s}: tapir/raw TAP limit (plain frames)", s, False, "tapir_vs_raw", 0.9)
for s in ("tcp_rr", "udp_rr", "ping_rtt"):
    target(f"{s} pinned: tapir/lwip", s, True, "tapir_vs_lwip", 1.2, p99=True)
target("tcp_crr pinned: tapir/lwip", "tcp_crr", True, "tapir_vs_lwip", 1.5)
for s in ("stream_in", "stream_out"):
    target(f"{s} with offloads: tapir/kernel", s + "_offload", False, "offload_vs_kernel", 0.8)
json.dump(out, open(sys.argv[2], "w"), indent=1)
print(f"\nJSON: {sys.argv[2]}  (ratios > 1: tapir better; latency and memory compare lower values)")
PY
