#!/usr/bin/env bash
# TCP against the Linux kernel: echo byte-exact from 1 B to 10 MB, 100 MB into discard,
# 100 MB out of chargen with the pattern checked, 200 concurrent connections, the kernel
# resetting and half-closing, a closed port refusing, tapir as a client to a kernel
# server; then echo again with tapir's fault injector dropping 5% both ways.
source "$(dirname "$0")/lib.sh"
netns_begin tcp "$1"
PEER="python3 $(dirname "$0")/tcp_peer.py"
CTL="$WORK/ctl.sock"



start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services echo,discard,chargen --control "$CTL"

echo_sizes 1 100 1460 1461 65536 1000000 10000000
head -c 3000 /dev/urandom >"$WORK/s.bin"
nsx timeout 20 socat -t 5 - TCP:10.0.0.2:7,shut-down <"$WORK/s.bin" >"$WORK/s.out" || fail "socat echo failed"
cmp -s "$WORK/s.bin" "$WORK/s.out" || fail "socat echo not byte-exact"
pass "socat echo byte-exact"

discard_bytes 100000000

out=$(nsx timeout 120 $PEER chargen 10.0.0.2 19 100000000) || fail "$out"
pass "$out"

coproc CONC { ip netns exec "$NS" $PEER concurrent 10.0.0.2 7 200; }
PIDS+=("$CONC_PID")
read -r -t 60 line <&"${CONC[0]}" || fail "concurrent: no answer from the peer script"
[[ "$line" == "concurrent: 200 connections open and verified" ]] || fail "$line"
estab=$("$TAPIR" ss --control "$CTL" | grep -c "ESTAB.*10.0.0.2:7 ")
[ "$estab" -eq 200 ] || fail "tapir ss shows $estab established echo connections, not 200"
exec {CONC[1]}>&-
wait "$CONC_PID" || true
pass "$line; tapir ss lists all 200"

resets=$(stat_value tcp rx_resets)
out=$(nsx $PEER rst 10.0.0.2 7) || fail "$out"
for _ in $(seq 50); do [ "$(stat_value tcp rx_resets)" -gt "$resets" ] && break; sleep 0.1; done
[ "$(stat_value tcp rx_resets)" -gt "$resets" ] || fail "the kernel's RST was not counted"
port=${out##* }
sleep 0.2
ss_out=$("$TAPIR" ss --control "$CTL")
if grep -q "10.0.0.1:$port " <<<"$ss_out"; then fail "the reset connection is still listed"; fi
pass "$out: tapir dropped the connection"

out=$(nsx $PEER halfclose 10.0.0.2 7) || fail "$out"
pass "$out"
out=$(nsx $PEER refused 10.0.0.2 81) || fail "$out"
pass "$out"
stop_tapir

# tapir as the client: a kernel `nc -l` receives a file from `tapir nc`.
head -c 2000000 /dev/urandom >"$WORK/c.bin"
ip netns exec "$NS" timeout 60 nc -l 10.0.0.1 5000 >"$WORK/server.out" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
nsx timeout 5 bash -c 'until ss -ltn | grep -q 10.0.0.1:5000; do sleep 0.05; done'
nsx timeout 60 "$TAPIR" nc --tap tap0 10.0.0.1 5000 <"$WORK/c.bin" || fail "tapir nc client failed"
wait "$SERVER_PID" || true
cmp -s "$WORK/c.bin" "$WORK/server.out" || fail "tapir client -> kernel server: not byte-exact"
pass "tapir nc -> kernel nc -l: 2000000 bytes byte-exact"

# The same service with 5% loss in both directions (tapir's own fault injector).
start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services echo --control "$CTL" --drop-pct 5 --seed 7
echo_sizes 1 1000 100000 1000000
retx=$(stat_value tcp retransmitted_segments)
[ "$retx" -gt 0 ] || fail "5% loss but no retransmission counted"
pass "5% loss both ways: echo byte-exact, $retx segments retransmitted by tapir"
stop_tapir
