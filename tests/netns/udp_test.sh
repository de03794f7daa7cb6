#!/usr/bin/env bash
# UDP against the Linux kernel over a TAP: tapir's echo service byte-exact for sizes up
# to 8000 (fragmented both ways), ICMP port unreachable seen as ECONNREFUSED, the example
# client and server against kernel peers, broadcast and multicast both ways with IGMP
# answered to a query, and a name resolved through dnsmasq.
source "$(dirname "$0")/lib.sh"
netns_begin udp "$1"
BUILD=$(cd "$(dirname "$TAPIR")/.." && pwd)
CLIENT=$BUILD/examples/udp_client
SERVER=$BUILD/examples/udp_server
[ -x "$CLIENT" ] && [ -x "$SERVER" ] || fail "build the examples first (udp_client, udp_server in $BUILD/examples)"
PY=/usr/bin/python3  # Debian's, with python3-scapy
command -v socat >/dev/null || fail "socat is missing (scripts/install-deps.sh installs it)"

# --- tapir serve --services echo: the kernel's socat talks to tapir's echo service
start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services echo
grep -q "tapir: echo listening on udp 10.0.0.2:7" "$WORK/tapir.log" ||
  fail "serve did not announce the echo service: $(cat "$WORK/tapir.log")"
pass "serve --services echo: listening on udp 10.0.0.2:7"

# 1472 octets fill one 1500-octet datagram; 1473 and up are fragmented both ways.
for size in 1 2 100 1000 1472 1473 2000 4000 5000 8000; do
  head -c "$size" /dev/urandom >"$WORK/in"
  nsx socat -t 1 -b 9000 - UDP4:10.0.0.2:7 <"$WORK/in" >"$WORK/out" || fail "socat, $size octets"
  cmp -s "$WORK/in" "$WORK/out" || fail "echo of $size octets differs ($(stat -c %s "$WORK/out") back)"
done
pass "socat -> tapir echo: byte-exact for 1..8000 octets (fragmented above 1472)"

out=$(nsx "$PY" - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(("10.0.0.2", 9999))
s.send(b"anyone?")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("ECONNREFUSED")
except socket.timeout:
    print("timeout")
PY
)
[ "$out" = "ECONNREFUSED" ] || fail "closed tapir port: kernel saw '$out', want ECONNREFUSED"
pass "closed tapir port: the kernel's connected socket gets ECONNREFUSED"
stop_tapir

# --- the example server (textbook blocking calls) against the kernel, plus multicast in
start_bg server "serving on" "$SERVER" --tap tap0 --ip 10.0.0.2/24 --port 7 --group 239.1.2.3
SERVER_PID=$BG_PID
out=$(echo "hello example" | nsx socat -t 2 - UDP4:10.0.0.2:7) || fail "socat to udp_server"
[ "$out" = "hello example" ] || fail "udp_server echoed '$out'"
pass "examples/udp_server echoes the kernel's datagram"

# The kernel sends to the group tapir joined; tapir receives it and answers (unicast).
out=$(nsx "$PY" - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("10.0.0.1"))
s.settimeout(2)
s.sendto(b"to the group", ("239.1.2.3", 7))
try:
    data, peer = s.recvfrom(100)
    print(data.decode(), peer[0])
except socket.timeout:
    print("timeout")
PY
)
[ "$out" = "to the group 10.0.0.2" ] || fail "multicast to tapir's group: got '$out'"
pass "kernel -> 239.1.2.3: tapir (a member) received it"

# The kernel (as a router would) sends an IGMPv2 General Query; tapir answers with a
# report for its group within Max Resp Time (1 s), TTL 1 and Router Alert.
start_bg tcpdump "listening on" tcpdump -l -n -v -tt -i tap0 igmp
TCPDUMP_PID=$BG_PID
nsx "$PY" - <<'PY' >/dev/null 2>&1 || fail "scapy could not send the IGMP query"
from scapy.all import Ether, IP, IPOption_Router_Alert, sendp
from scapy.contrib.igmp import IGMP
q = (Ether(dst="01:00:5e:00:00:01") /
     IP(src="10.0.0.1", dst="224.0.0.1", ttl=1, options=[IPOption_Router_Alert()]) /
     IGMP(type=0x11, mrcode=10, gaddr="0.0.0.0"))
sendp(q, iface="tap0", verbose=False)
PY
for _ in $(seq 30); do
  grep -q "igmp v2 report 239.1.2.3" "$WORK/tcpdump.log" && break
  sleep 0.1
done
stop_pid "$TCPDUMP_PID"
grep -q "igmp query" "$WORK/tcpdump.log" || fail "the query did not go out: $(cat "$WORK/tcpdump.log")"
# tcpdump -v -tt: a header line "TIME IP (... ttl 1, ... options (RA))", then the message.
report=$(awk '/^[0-9]+\.[0-9]+ IP/ {hdr=$0; t=$1}
              /igmp query/ {tq=t}
              tq && /igmp v2 report 239.1.2.3/ {print t - tq; print hdr; exit}' "$WORK/tcpdump.log")
[ -n "$report" ] || fail "no IGMPv2 report for 239.1.2.3 after the query: $(cat "$WORK/tcpdump.log")"
delay=$(echo "$report" | head -1)
awk -v d="$delay" 'BEGIN { exit !(d >= 0 && d <= 1.1) }' ||
  fail "report came $delay s after a query with Max Resp Time 1 s"
echo "$report" | grep -q "ttl 1," || fail "report without TTL 1: $report"
echo "$report" | grep -q "options (RA)" || fail "report without Router Alert: $report"
pass "IGMP General Query answered after ${delay} s (max 1 s) with TTL 1 and Router Alert"
stop_pid "$SERVER_PID"

wait_udp_port() {  # until a kernel socket listens on ADDR:PORT (UDP)
  for _ in $(seq 50); do
    nsx ss -lun | grep -q "$1 " && return 0
    sleep 0.1
  done
  fail "nothing listens on udp $1"
}

# --- the example client against a kernel UDP server (socat echoing back)
nsx socat -T 5 UDP4-LISTEN:5555,bind=10.0.0.1 PIPE >"$WORK/socat.log" 2>&1 &
SOCAT_PID=$!
PIDS+=("$SOCAT_PID")
wait_udp_port 10.0.0.1:5555
out=$(nsx "$CLIENT" --tap tap0 --ip 10.0.0.2/24 --count 3 10.0.0.1 5555) ||
  fail "udp_client to the kernel's server: $out"
[ "$(echo "$out" | grep -c '^reply: line [123] from tapir$')" = 3 ] || fail "udp_client got: $out"
stop_pid "$SOCAT_PID"
pass "examples/udp_client -> kernel socat server: 3 replies"

# --- broadcast and multicast from tapir reach kernel sockets
# receiver.py PORT GROUP|- : prints "ready", then every datagram it receives within 3 s.
cat >"$WORK/receiver.py" <<'PY'
import socket, struct, sys
port, group = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", port))
if group != "-":
    mreq = socket.inet_aton(group) + socket.inet_aton("10.0.0.1")
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
print("ready", flush=True)
s.settimeout(3)
try:
    while True:
        data, peer = s.recvfrom(100)
        print(data.decode(), peer[0], flush=True)
except socket.timeout:
    pass
PY
start_bg bcast ready "$PY" -u "$WORK/receiver.py" 6001 -
BCAST_PID=$BG_PID
nsx "$CLIENT" --tap tap0 --ip 10.0.0.2/24 --broadcast --no-reply --count 1 255.255.255.255 6001 ||
  fail "udp_client --broadcast 255.255.255.255"
nsx "$CLIENT" --tap tap0 --ip 10.0.0.2/24 --broadcast --no-reply --count 1 10.0.0.255 6001 ||
  fail "udp_client --broadcast 10.0.0.255"
wait "$BCAST_PID" || true
[ "$(grep -c 'line 1 from tapir 10.0.0.2' "$WORK/bcast.log")" = 2 ] ||
  fail "broadcasts not received by the kernel: $(cat "$WORK/bcast.log")"
pass "tapir -> 255.255.255.255 and 10.0.0.255: the kernel's SO_BROADCAST socket got both"

if out=$(nsx "$CLIENT" --tap tap0 --ip 10.0.0.2/24 --no-reply --count 1 10.0.0.255 6001 2>&1); then
  fail "broadcast without SO_BROADCAST was sent: $out"
fi
echo "$out" | grep -q "Permission denied" || fail "broadcast without SO_BROADCAST: $out"
pass "broadcast without SO_BROADCAST: EACCES"

start_bg mcast ready "$PY" -u "$WORK/receiver.py" 6002 239.4.5.6
MCAST_PID=$BG_PID
nsx "$CLIENT" --tap tap0 --ip 10.0.0.2/24 --no-reply --count 1 239.4.5.6 6002 ||
  fail "udp_client to 239.4.5.6"
wait "$MCAST_PID" || true
grep -q "line 1 from tapir 10.0.0.2" "$WORK/mcast.log" ||
  fail "the kernel's group member got nothing: $(cat "$WORK/mcast.log")"
pass "tapir -> 239.4.5.6: the kernel (a member) received it"

# --- names through a real DNS server in the namespace
command -v dnsmasq >/dev/null || fail "dnsmasq is missing (install dnsmasq-base)"
start_bg dnsmasq "started" dnsmasq --no-daemon --no-resolv --no-hosts --log-queries \
  --address=/example.test/10.0.0.1 --address=/gone.test/ --listen-address=10.0.0.1 \
  --bind-interfaces --port 53 --pid-file="$WORK/dnsmasq.pid" --user=root
DNSMASQ_PID=$BG_PID
out=$(nsx "$TAPIR" resolve www.example.test --nameserver 10.0.0.1 --tap tap0 --ip 10.0.0.2/24 2>&1) ||
  fail "tapir resolve www.example.test: $out"
[ "$out" = "www.example.test has address 10.0.0.1" ] || fail "tapir resolve printed: $out"
pass "tapir resolve www.example.test via dnsmasq: 10.0.0.1"
if out=$(nsx "$TAPIR" resolve www.gone.test --nameserver 10.0.0.1 --tap tap0 --ip 10.0.0.2/24 2>&1); then
  fail "www.gone.test resolved: $out"
fi
echo "$out" | grep -q "Name or service not known" || fail "NXDOMAIN reported as: $out"
pass "tapir resolve www.gone.test: NXDOMAIN -> Name or service not known"
grep -q "query\[A\] www.example.test from 10.0.0.2" "$WORK/dnsmasq.log" ||
  fail "dnsmasq did not log tapir's query: $(cat "$WORK/dnsmasq.log")"
stop_pid "$DNSMASQ_PID"
