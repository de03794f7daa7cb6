#!/usr/bin/env bash
# Live capture: `tapir serve --pcap --pcapng --trace` while the kernel pings it (small and
# fragmented echoes). tshark must decode every frame of both files without a malformed
# packet, the pcapng must carry a comment on every frame (tshark -V shows them), the files
# must end on a whole record after SIGTERM, and --trace must print both directions. Then
# --drop-pct 100 must lose every frame.
source "$(dirname "$0")/lib.sh"
netns_begin pcap "$1"
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed"; exit $SKIP; }
export HOME=${HOME:-/root}  # tshark wants a home for its profile

start_tapir serve --tap tap0 --ip 10.0.0.2/24 --mac 02:00:00:00:00:02 --seed 5 \
  --pcap "$WORK/live.pcap" --pcapng "$WORK/live.pcapng" --trace
grep -q "capturing to $WORK/live.pcap (clock_origin = [0-9]*\.[0-9]\{6\})" "$WORK/tapir.log" ||
  fail "no capture banner with the clock origin"
pass "serve --pcap/--pcapng: banner names each file and the clock origin"

nsx ping -c 3 -i 0.1 -W 2 10.0.0.2 >/dev/null || fail "ping failed"
nsx ping -c 2 -i 0.1 -W 2 -s 4000 10.0.0.2 >/dev/null || fail "fragmented ping failed"
stop_tapir
grep -q "shutting down" "$WORK/tapir.log" || fail "tapir did not shut down cleanly"

# 1 announcement + ARP request/reply + 3 x (request, reply) + 2 x (3 + 3 fragments); the
# kernel may add IPv6 multicast listener reports, which tapir drops (and captures).
want=21
for f in live.pcap live.pcapng; do
  tshark -r "$WORK/$f" >"$WORK/$f.txt" 2>"$WORK/$f.err" || fail "tshark -r $f: $(cat "$WORK/$f.err")"
  "$TAPIR" decode "$WORK/$f" >"$WORK/$f.tapir" || fail "tapir decode $f: the file does not end on a whole record"
  total=$(wc -l <"$WORK/$f.tapir")
  [ "$(wc -l <"$WORK/$f.txt")" -eq "$total" ] || fail "tshark and tapir decode count different frames in $f"
  n=$(tshark -r "$WORK/$f" -Y "arp or ip" 2>/dev/null | wc -l)
  [ "$n" -eq $want ] || fail "tshark finds $n ARP/IPv4 frames in $f, expected $want: $(cat "$WORK/$f.txt")"
  ! grep -qi "malformed" "$WORK/$f.txt" || fail "tshark finds malformed packets in $f"
  [ "$(grep -c "Echo (ping) reply" "$WORK/$f.txt")" -eq 5 ] || fail "not 5 echo replies in $f"
done
pass "tshark -r decodes all $total frames of the pcap and the pcapng ($want ARP/IPv4), none malformed"

tshark -r "$WORK/live.pcapng" -T fields -e frame.comment >"$WORK/comments" 2>/dev/null
[ "$(grep -c . "$WORK/comments")" -eq "$total" ] || fail "not every frame has a comment: $(cat "$WORK/comments")"
grep -q "^arp.tx_gratuitous (gratuitous announcements sent)" "$WORK/comments" ||
  fail "the announcement's comment is missing"
grep -q "^icmp.rx_echo_requests (echo requests received); sent #" "$WORK/comments" ||
  fail "an echo request's comment is missing"
grep -q "^for #[0-9]*: icmp.tx_echo_replies (echo replies sent)" "$WORK/comments" ||
  fail "an echo reply's comment is missing"
grep -q "ipv4.reassembled (datagrams reassembled from fragments)" "$WORK/comments" ||
  fail "the reassembly comment is missing"
tshark -r "$WORK/live.pcapng" -V 2>/dev/null | grep -A1 "^Packet comments" |
  grep -q "icmp.tx_echo_replies" || fail "tshark -V shows no packet comments"
pass "pcapng: every frame commented with its decision (tshark -V shows them)"

grep -q "^<- ICMP 10.0.0.1 > 10.0.0.2 echo request" "$WORK/tapir.log" || fail "--trace: no '<-' line"
grep -q "^-> ICMP 10.0.0.2 > 10.0.0.1 echo reply" "$WORK/tapir.log" || fail "--trace: no '->' line"
pass "--trace prints received (<-) and sent (->) frames"

start_tapir serve --tap tap0 --ip 10.0.0.2/24 --mac 02:00:00:00:00:02 --drop-pct 100 --seed 1
if out=$(nsx ping -c 2 -i 0.2 -W 1 10.0.0.2); then
  fail "ping was answered through --drop-pct 100: $out"
fi
stop_tapir
pass "--drop-pct 100 loses every frame"
