#!/usr/bin/env bash
# CUBIC (RFC 9438) against the Linux kernel: `tapir serve --congestion cubic` sends 100 MB
# of chargen (pattern checked) and reads 100 MB into discard, echo byte-exact, `tapir ss -i`
# names cubic on every connection; then the same through tapir's fault injector dropping
# 2% both ways, where CUBIC's loss response (RFC 9438 §4.6) is what recovers. A bad
# --congestion value is a usage error (exit 2).
source "$(dirname "$0")/lib.sh"
netns_begin cubic "$1"
PEER="python3 $(dirname "$0")/tcp_peer.py"
CTL="$WORK/ctl.sock"

set +e
err=$("$TAPIR" serve --tap tap0 --congestion bbr 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--congestion bbr: exit $rc, not 2"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "--congestion bbr: more than one line: $err"
grep -q -- "--congestion: invalid value 'bbr': expected newreno or cubic" <<<"$err" ||
  fail "--congestion bbr: $err"
pass "--congestion bbr refused: $err"

start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services echo,discard,chargen --control "$CTL" \
  --congestion cubic

out=$(nsx timeout 120 $PEER chargen 10.0.0.2 19 100000000) || fail "$out"
pass "cubic sends: $out"

discard_bytes 100000000

echo_sizes 1 1460 1461 65536 1000000 10000000

# Connections held open: `tapir ss -i` shows the algorithm each one runs.
coproc CONC { ip netns exec "$NS" $PEER concurrent 10.0.0.2 7 20; }
PIDS+=("$CONC_PID")
read -r -t 60 line <&"${CONC[0]}" || fail "concurrent: no answer from the peer script"
[[ "$line" == "concurrent: 20 connections open and verified" ]] || fail "$line"
ss_out=$("$TAPIR" ss -i --control "$CTL")
n=$(grep -c "^[[:space:]]*cubic rtt:" <<<"$ss_out" || true)
exec {CONC[1]}>&-
wait "$CONC_PID" || true
[ "$n" -eq 20 ] || fail "tapir ss -i names cubic on $n connections, not 20: $ss_out"
pass "tapir ss -i: cubic on all 20 echo connections"
stop_tapir

# 2% loss both ways: fast retransmits with CUBIC's reduction, still byte-exact.
start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services echo,chargen --control "$CTL" \
  --congestion cubic --drop-pct 2 --seed 9
out=$(nsx timeout 120 $PEER chargen 10.0.0.2 19 20000000) || fail "with 2% loss: $out"
pass "cubic, 2% loss: $out"
echo_sizes 1000 100000 1000000
fast=$(stat_value tcp fast_retransmits)
retx=$(stat_value tcp retransmitted_segments)
[ "$fast" -gt 0 ] || fail "2% loss but no fast retransmit counted"
pass "cubic, 2% loss both ways: $fast fast retransmits, $retx segments retransmitted"
stop_tapir
