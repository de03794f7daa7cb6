#!/usr/bin/env bash
# The tapir command against the Linux kernel: the HTTP service under curl (a 50 MB file,
# byte-exact) and wrk (100 connections, no errors); ss/stats/arp over the control socket
# while kernel clients hold connections; tapir ping, nc (TCP and UDP) and get against
# kernel peers; and the failures a user meets: bad flags, no privileges, a busy TAP.
source "$(dirname "$0")/lib.sh"
netns_begin cli "$1"
CTL="$WORK/ctl.sock"
SITE="$WORK/site"
mkdir -p "$SITE/docs"
head -c 50000000 /dev/urandom >"$SITE/big.bin"
printf '<!doctype html><title>tapir</title><h1>served by tapir</h1>\n' >"$SITE/index.html"
printf 'plain text\n' >"$SITE/docs/readme.txt"

start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services echo,discard,daytime,chargen,http \
  --http-root "$SITE" --control "$CTL"

nsx timeout 60 curl -sS -o "$WORK/big.out" http://10.0.0.2/big.bin || fail "curl of the 50 MB file failed"
cmp -s "$SITE/big.bin" "$WORK/big.out" || fail "curl: 50 MB file not byte-exact"
pass "curl: 50 MB file byte-exact"
type=$(nsx curl -sS -o /dev/null -w '%{http_code} %{content_type}' http://10.0.0.2/)
[ "$type" = "200 text/html; charset=utf-8" ] || fail "index: $type"
codes=$(for u in /nope /docs /docs/ "/../etc/passwd"; do nsx curl -sS --path-as-is -o /dev/null -w '%{http_code} ' "http://10.0.0.2$u"; done)
[ "$codes" = "404 301 200 403 " ] || fail "status codes: $codes"
code=$(nsx curl -sS -o /dev/null -w '%{http_code}' -X DELETE http://10.0.0.2/)
[ "$code" = 405 ] || fail "DELETE gave $code"
head_len=$(nsx curl -sS -I http://10.0.0.2/big.bin | tr -d '\r' | awk -F': ' '/Content-Length/ {print $2}')
[ "$head_len" = 50000000 ] || fail "HEAD Content-Length: $head_len"
pass "http: index, 404, 301 for a directory, listing, 403 outside the root, 405, HEAD"

nsx timeout 30 wrk -c 100 -t 2 -d 10s http://10.0.0.2/index.html >"$WORK/wrk.txt" 2>&1 || fail "wrk failed: $(cat "$WORK/wrk.txt")"
grep -q "Socket errors" "$WORK/wrk.txt" && fail "wrk saw socket errors: $(grep 'Socket errors' "$WORK/wrk.txt")"
grep -q "Non-2xx" "$WORK/wrk.txt" && fail "wrk saw non-2xx answers: $(grep 'Non-2xx' "$WORK/wrk.txt")"
reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
[ "${reqs:-0}" -gt 0 ] || fail "wrk made no requests"
pass "wrk -c 100 -d 10s: $reqs requests, no errors ($(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt") req/s)"

# Kernel clients hold three echo connections; tapir ss must show them.
coproc HOLD { ip netns exec "$NS" python3 -c '
import socket, sys
s = [socket.create_connection(("10.0.0.2", 7)) for _ in range(3)]
for c in s: c.sendall(b"x"); c.recv(1)
print("held", flush=True); sys.stdin.read()'; }
PIDS+=("$HOLD_PID")
read -r -t 20 line <&"${HOLD[0]}" || fail "the holding client did not start"
ss_out=$("$TAPIR" ss --control "$CTL")
[ "$(grep -c 'ESTAB.*10.0.0.2:7 .*10.0.0.1:' <<<"$ss_out")" -eq 3 ] || fail "tapir ss: $ss_out"
# (Outputs are captured before grep: `grep -q` closing the pipe early would SIGPIPE tapir.)
ss_info=$("$TAPIR" ss -i --control "$CTL")
grep -q "rtt:.*rto:.*cwnd:" <<<"$ss_info" || fail "tapir ss -i shows no TCP internals"
"$TAPIR" ss --json --control "$CTL" | python3 -c '
import json, sys
rows = json.load(sys.stdin)["sockets"]
assert sum(1 for r in rows if r["state"] == "ESTABLISHED" and r["local"] == "10.0.0.2:7") == 3, rows' ||
  fail "tapir ss --json does not list the three connections"
exec {HOLD[1]}>&-
wait "$HOLD_PID" || true
pass "tapir ss (text, -i, --json): the kernel's three echo connections"

stats_out=$("$TAPIR" stats --control "$CTL")
grep -q "^tcp:" <<<"$stats_out" || fail "tapir stats has no tcp group"
"$TAPIR" stats --json --control "$CTL" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["tcp"]["established"] >= 3 and s["eth"]["rx_frames"] > 0, s' || fail "tapir stats --json"
arp_out=$("$TAPIR" arp --control "$CTL")
grep -q "^10.0.0.1 lladdr" <<<"$arp_out" || fail "tapir arp does not show the kernel"
"$TAPIR" arp --json --control "$CTL" | python3 -c 'import json,sys; assert json.load(sys.stdin)["neighbors"][0]["ip"] == "10.0.0.1"' ||
  fail "tapir arp --json"
pass "tapir stats and tapir arp (text and --json)"

# A second stack on the same TAP is refused with a clear line.
out=$(nsx "$TAPIR" serve --tap tap0 --control "$WORK/other.sock" 2>&1) && fail "a second tapir attached to a busy tap0"
grep -q "another process holds tap0" <<<"$out" || fail "busy TAP message: $out"
pass "busy TAP: $out"
stop_tapir
[ -e "$CTL" ] && fail "the control socket was left behind"
pass "shutdown removed the control socket"

out=$(nsx "$TAPIR" ping -c 3 -i 0.2 --tap tap0 10.0.0.1) || fail "tapir ping: $out"
grep -q "3 packets transmitted, 3 received, 0% packet loss" <<<"$out" || fail "tapir ping: $out"
grep -q "rtt min/avg/max/mdev" <<<"$out" || fail "tapir ping: no rtt summary"
pass "tapir ping -c 3: 3 received"
if nsx "$TAPIR" ping -c 1 -W 1 --tap tap0 10.0.0.99 >/dev/null 2>&1; then fail "ping of a missing host succeeded"; fi
pass "tapir ping of a missing host exits non-zero"

ip netns exec "$NS" timeout 20 socat -u UDP-RECV:7001,bind=10.0.0.1 OPEN:"$WORK/udp.out",creat &
UDPSRV=$!
PIDS+=("$UDPSRV")
sleep 0.3
echo "datagram from tapir" | nsx timeout 10 "$TAPIR" nc -u -w 1 --tap tap0 10.0.0.1 7001 || fail "tapir nc -u failed"
sleep 0.3
grep -q "datagram from tapir" "$WORK/udp.out" || fail "the kernel did not receive tapir's datagram"
pass "tapir nc -u -> kernel socket"

head -c 300000 /dev/urandom >"$WORK/l.bin"
ip netns exec "$NS" timeout 20 "$TAPIR" nc -l --tap tap0 6000 >"$WORK/l.out" 2>"$WORK/l.err" &
LPID=$!
PIDS+=("$LPID")
for _ in $(seq 50); do grep -q listening "$WORK/l.err" && break; sleep 0.1; done
nsx timeout 10 nc -N 10.0.0.2 6000 <"$WORK/l.bin" || fail "kernel nc to tapir nc -l failed"
wait "$LPID" || fail "tapir nc -l failed: $(cat "$WORK/l.err")"
cmp -s "$WORK/l.bin" "$WORK/l.out" || fail "kernel -> tapir nc -l: not byte-exact"
pass "kernel nc -> tapir nc -l: byte-exact"

(cd "$SITE" && exec ip netns exec "$NS" python3 -m http.server --bind 10.0.0.1 8080) >/dev/null 2>&1 &
HTTPD=$!
PIDS+=("$HTTPD")
nsx timeout 5 bash -c 'until ss -ltn | grep -q 10.0.0.1:8080; do sleep 0.05; done'
nsx timeout 60 "$TAPIR" get --tap tap0 http://10.0.0.1:8080/big.bin >"$WORK/get.out" || fail "tapir get failed"
cmp -s "$SITE/big.bin" "$WORK/get.out" || fail "tapir get: not byte-exact"
if nsx "$TAPIR" get --tap tap0 http://10.0.0.1:8080/missing >/dev/null 2>&1; then fail "tapir get of a 404 exited 0"; fi
pass "tapir get: 50 MB from a kernel HTTP server, byte-exact; a 404 exits 1"

# Usage errors: exit 2, naming the flag and what is expected.
check_usage() {  # check_usage EXPECTED_TEXT ARGS...
  local want=$1
  shift
  local out rc=0
  out=$("$TAPIR" "$@" 2>&1) || rc=$?
  [ "$rc" -eq 2 ] || fail "tapir $* exited $rc, want 2: $out"
  grep -q -- "$want" <<<"$out" || fail "tapir $*: '$out' does not mention '$want'"
}
check_usage "--ip" serve --ip 300.1.2.3/24
check_usage "--drop-pct" serve --drop-pct 140
check_usage "--services" serve --services echo,gopher
check_usage "-c" ping -c 0 10.0.0.1
check_usage "HOST" ping
check_usage "expected HOST PORT" nc 10.0.0.1
check_usage "http://" get ftp://10.0.0.1/
check_usage "unknown command" frobnicate
for cmd in serve ping nc get ss stats arp; do
  help_out=$("$TAPIR" "$cmd" --help)
  grep -q "^Usage: tapir $cmd" <<<"$help_out" || fail "tapir $cmd --help"
done
pass "usage errors exit 2 with the flag named; every subcommand has --help"

# Without CAP_NET_ADMIN: one clear line, exit 1, and no TAP left behind.
out=$(nsx setpriv --reuid=65534 --regid=65534 --clear-groups "$TAPIR" serve --tap tapnopriv 2>&1) && fail "serve ran without privileges"
grep -qi "root\|CAP_NET_ADMIN" <<<"$out" || fail "no-privilege message: $out"
nsx ip link show tapnopriv >/dev/null 2>&1 && fail "a TAP was left behind"
pass "no privileges: $out"
