#!/usr/bin/env bash
# TCP options against the Linux kernel: Timestamps (RFC 7323) and SACK (RFC 2018) are
# negotiated both ways (the kernel's SYN to tapir's echo service, tapir's SYN to a kernel
# server), as tcpdump's capture of each handshake and the kernel's own TCP_INFO show; then
# an echo through tapir's fault injector (5% dropped both ways) stays byte-exact while SACK
# blocks flow both ways, counted in tapir's stats and the kernel's nstat.
source "$(dirname "$0")/lib.sh"
netns_begin tcp-options "$1"
PEER="python3 $(dirname "$0")/tcp_peer.py"
CTL="$WORK/ctl.sock"

# tcpdump on the kernel's side of the TAP, decoded one line per segment, e.g.
#   10.0.0.2.7 > 10.0.0.1.40000: Flags [S.], ... options [mss 1460,sackOK,TS val 5 ecr 9,nop,wscale 7]
capture_start() {
  ip netns exec "$NS" tcpdump -i tap0 --immediate-mode -U -n -w "$WORK/$1.pcap" tcp \
    >"$WORK/tcpdump.log" 2>&1 &
  CAP_PID=$!
  PIDS+=("$CAP_PID")
  for _ in $(seq 50); do grep -q "listening on" "$WORK/tcpdump.log" && return 0; sleep 0.1; done
  fail "tcpdump did not start"
}
capture_stop() {
  sleep 1
  stop_pid "$CAP_PID"
  tcpdump -r "$WORK/$1.pcap" -n 2>/dev/null >"$WORK/$1.txt"
}
# The first segment from address.port prefix $2 with flags $3 ("[S]", "[S.]", "[.]").
# One process, no pipe: with pipefail, `grep | head -1` fails whenever head exits before
# grep has written everything (SIGPIPE), which made this test fail at random.
first_seg() { awk -v a=" IP $2" -v f="Flags $3," 'index($0, a) && index($0, f) { print; exit }' "$WORK/$1.txt"; }
tsval() { sed -n 's/.*TS val \([0-9]*\) ecr \([0-9]*\).*/\1/p' <<<"$1"; }
tsecr() { sed -n 's/.*TS val \([0-9]*\) ecr \([0-9]*\).*/\2/p' <<<"$1"; }

# ---- 1. The kernel connects to tapir: the kernel's SYN offers, tapir's SYN,ACK agrees ----
capture_start in
start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services echo --control "$CTL"
info=$(nsx $PEER options 10.0.0.2 7) || fail "$info"
echo "kernel TCP_INFO, connection to tapir: $info"
# RFC 7323 §3.2 / RFC 6691 §2: the kernel sends 1460 - 12 octets of data per segment.
[[ "$info" == "options: ts sack wscale mss:1448" ]] || fail "the kernel did not negotiate TS and SACK: $info"
echo hello | nsx timeout 10 nc -N 10.0.0.2 7 >/dev/null || fail "echo failed"
capture_stop in
syn=$(first_seg in "10.0.0.1." "[S]")
synack=$(first_seg in "10.0.0.2.7 " "[S.]")
echo "kernel SYN:     $syn"
echo "tapir SYN,ACK:  $synack"
grep -q "sackOK,TS val" <<<"$syn" || fail "the kernel's SYN offers no TS/SACK"
grep -q "sackOK" <<<"$synack" || fail "tapir's SYN,ACK lacks SACK-Permitted"
grep -q "TS val" <<<"$synack" || fail "tapir's SYN,ACK lacks the Timestamps option"
[ "$(tsecr "$synack")" = "$(tsval "$syn")" ] || fail "tapir's SYN,ACK does not echo the SYN's TSval"
# RFC 7323 §3.2: once negotiated, every segment tapir sends carries TSopt.
total=$(grep -cF " IP 10.0.0.2.7 " "$WORK/in.txt" || true)
timed=$(grep -F " IP 10.0.0.2.7 " "$WORK/in.txt" | grep -c "TS val" || true)
[ "$total" -gt 2 ] && [ "$timed" -eq "$total" ] || fail "$timed of tapir's $total segments carry TSopt"
pass "kernel -> tapir: tapir's SYN,ACK has sackOK and TS (ecr = the SYN's TSval), all $total of its segments carry TS; the kernel's TCP_INFO: ts sack, mss 1448"
stop_tapir

# ---- 2. tapir connects to the kernel: tapir's SYN offers, the kernel's SYN,ACK agrees ----
capture_start out
head -c 300000 /dev/urandom >"$WORK/c.bin"
start_bg server listening $PEER options-server 10.0.0.1 5000
SERVER_PID=$BG_PID
nsx timeout 30 "$TAPIR" nc --tap tap0 10.0.0.1 5000 <"$WORK/c.bin" || fail "tapir nc client failed"
wait "$SERVER_PID" || true
capture_stop out
want="received 300000 $(sha256sum <"$WORK/c.bin" | cut -d' ' -f1)"
grep -qx "$want" "$WORK/server.log" || fail "tapir client -> kernel server: not byte-exact ($(cat "$WORK/server.log"))"
info=$(grep "^options:" "$WORK/server.log")
echo "kernel TCP_INFO, connection from tapir: $info"
[[ "$info" == "options: ts sack wscale mss:1448" ]] || fail "the kernel did not negotiate TS and SACK: $info"
syn=$(first_seg out "10.0.0.2." "[S]")
synack=$(first_seg out "10.0.0.1.5000 " "[S.]")
ack=$(first_seg out "10.0.0.2." "[.]")
echo "tapir SYN:      $syn"
echo "kernel SYN,ACK: $synack"
echo "tapir ACK:      $ack"
grep -q "sackOK" <<<"$syn" || fail "tapir's SYN lacks SACK-Permitted"
grep -q "TS val [0-9]* ecr 0" <<<"$syn" || fail "tapir's SYN lacks TS (with TSecr 0)"
grep -q "sackOK,TS val" <<<"$synack" || fail "the kernel's SYN,ACK does not agree"
[ "$(tsecr "$synack")" = "$(tsval "$syn")" ] || fail "the kernel's SYN,ACK does not echo tapir's TSval"
[ "$(tsecr "$ack")" = "$(tsval "$synack")" ] || fail "tapir's ACK does not echo the SYN,ACK's TSval"
pass "tapir -> kernel: tapir's SYN has sackOK and TS (ecr 0), the kernel agrees and tapir echoes its TSval; 300000 bytes byte-exact"

# ---- 3. Loss both ways: SACK blocks flow in both directions, the echo stays exact ----
start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services echo --control "$CTL" --drop-pct 5 --seed 11
nsx nstat -n >/dev/null
echo_sizes 1000000 3000000
sent=$(stat_value tcp sack_blocks_sent)
received=$(stat_value tcp sack_blocks_received)
recoveries=$(stat_value tcp sack_recoveries)
retx=$(stat_value tcp retransmitted_bytes)
kernel=$(nsx nstat -a 2>/dev/null | awk '/^TcpExtTCPSackRecovery /{print $2}')
echo "tapir: sack_blocks_sent=$sent sack_blocks_received=$received sack_recoveries=$recoveries retransmitted_bytes=$retx; kernel: TcpExtTCPSackRecovery=${kernel:-0}"
[ "$sent" -gt 0 ] || fail "tapir sent no SACK blocks through 5% loss"
[ "$received" -gt 0 ] || fail "tapir received no SACK blocks through 5% loss"
[ "$recoveries" -gt 0 ] || fail "tapir entered no SACK-based recovery"
[ "${kernel:-0}" -gt 0 ] || fail "the kernel entered no SACK-based recovery"
[ "$(stat_value tcp paws_rejected)" -eq 0 ] || fail "PAWS rejected segments of the kernel"
[ "$(stat_value tcp rx_drop_no_timestamp)" -eq 0 ] || fail "kernel segments without timestamps"
pass "5% loss both ways: echo byte-exact; tapir sent $sent and received $received SACK blocks, $recoveries SACK recoveries; the kernel ${kernel} SACK recoveries"
stop_tapir
