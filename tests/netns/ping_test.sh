#!/usr/bin/env bash
# The kernel pings tapir over a TAP: 20 echoes, large echoes fragmented both ways, ARP
# answered with tapir's MAC, and no ARP answer for another address.
source "$(dirname "$0")/lib.sh"
netns_begin ping "$1"
start_tapir serve --tap tap0 --ip 10.0.0.2/24 --mac 02:00:00:00:00:02

out=$(nsx ping -c 20 -i 0.05 -W 2 10.0.0.2) || fail "ping -c 20 failed: $out"
echo "$out" | grep -q "20 packets transmitted, 20 received" || fail "not 20 replies: $out"
pass "ping -c 20: 20 replies"

# 1472 data octets fill a 1500-octet datagram exactly; 4000 must be fragmented both ways.
for size in 1472 4000 65507; do
  out=$(nsx ping -c 3 -i 0.1 -W 2 -s $size 10.0.0.2) || fail "ping -s $size failed: $out"
  echo "$out" | grep -q "3 received" || fail "ping -s $size: $out"
  pass "ping -s $size: 3 replies"
done

neigh=$(nsx ip neigh show 10.0.0.2 dev tap0)
echo "$neigh" | grep -q "lladdr 02:00:00:00:00:02" || fail "ip neigh does not show tapir's MAC: $neigh"
pass "ip neigh: $neigh"

out=$(nsx arping -c 1 -w 2 -I tap0 10.0.0.2) || fail "arping for tapir's address got no reply: $out"
echo "$out" | grep -qi "02:00:00:00:00:02" || fail "arping reply not from tapir's MAC: $out"
pass "arping 10.0.0.2 answered by 02:00:00:00:00:02"

if out=$(nsx arping -c 2 -w 3 -I tap0 10.0.0.3); then
  fail "ARP request for 10.0.0.3 was answered: $out"
fi
pass "arping 10.0.0.3: no answer"

stop_tapir
grep -q "shutting down" "$WORK/tapir.log" || fail "tapir did not shut down cleanly on SIGTERM"
pass "SIGTERM: clean shutdown"
