#!/usr/bin/env bash
# Captures the real Linux frames used as fixtures by the wire tests (tests/unit/wire/*).
# Two network namespaces joined by a veth pair, 10.0.0.1 (A) <-> 10.0.0.2 (B); tcpdump runs
# in A. Checksum offload is turned off so that the captured checksums are the final ones.
# Needs root, iproute2, tcpdump, ethtool, ping, nc (OpenBSD), python3.
# Usage: capture_fixtures.sh OUT.pcap   (then: tcpdump -r OUT.pcap -nn -e -xx)
set -euo pipefail
out=${1:?usage: capture_fixtures.sh OUT.pcap}
a=tapir-wirecap-a-$$
b=tapir-wirecap-b-$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$a"
ip netns add "$b"
ip -n "$a" link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 netns "$b" \
  address 02:00:00:00:00:02
ip -n "$a" addr add 10.0.0.1/24 dev veth0
ip -n "$b" addr add 10.0.0.2/24 dev veth1
for ns in "$a" "$b"; do
  ip -n "$ns" link set lo up
  ip netns exec "$ns" ethtool -K "$([ "$ns" = "$a" ] && echo veth0 || echo veth1)" tx off rx off \
    >/dev/null
done
ip -n "$a" link set veth0 up
ip -n "$b" link set veth1 up
sleep 1

ip netns exec "$a" tcpdump -i veth0 -s 0 -U -w "$out" 2>/dev/null &
pids+=($!)
sleep 1

# ARP request/reply + ICMP echo request/reply.
ip netns exec "$a" ping -c 1 -s 56 10.0.0.2 >/dev/null
# Fragmented echo (4000 octets of data over a 1500 MTU).
ip netns exec "$a" ping -c 1 -s 4000 10.0.0.2 >/dev/null
# IP options: record route (RFC 791 §3.1 option 7).
ip netns exec "$a" ping -c 1 -R 10.0.0.2 >/dev/null
# UDP datagram to a listener, then to a closed port (ICMP port unreachable back).
ip netns exec "$b" timeout 5 nc -u -l -p 7 >/dev/null &
pids+=($!)
sleep 0.5
echo "hello tapir" | ip netns exec "$a" nc -u -w 1 -p 5353 10.0.0.2 7 || true
echo "nobody home" | ip netns exec "$a" nc -u -w 1 -p 5354 10.0.0.2 9 || true
# UDP without a checksum (SO_NO_CHECK): RFC 768 zero checksum.
ip netns exec "$a" python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 11, 1)  # SO_NO_CHECK
s.bind(("10.0.0.1", 5355))
s.sendto(b"no checksum", ("10.0.0.2", 7))
PY
# TCP: handshake with Linux's default SYN options, data both ways, FIN both ways.
ip netns exec "$b" timeout 5 sh -c 'echo "HTTP/1.0 200 OK" | nc -l -p 80 >/dev/null' &
pids+=($!)
sleep 0.5
echo "GET / HTTP/1.0" | ip netns exec "$a" timeout 5 nc -N -p 51000 10.0.0.2 80 >/dev/null || true
sleep 0.5
# TCP to a closed port: RST+ACK back.
ip netns exec "$a" timeout 2 nc -z -p 51001 10.0.0.2 81 || true
# TCP SYN without timestamps and without SACK (other option layouts).
ip netns exec "$a" sysctl -q net.ipv4.tcp_timestamps=0
ip netns exec "$a" timeout 2 nc -z -p 51002 10.0.0.2 81 || true
ip netns exec "$a" sysctl -q net.ipv4.tcp_sack=0
ip netns exec "$a" timeout 2 nc -z -p 51003 10.0.0.2 81 || true
sleep 1
# TCP SACK blocks (RFC 2018 §3): a hand-rolled peer at 10.0.0.3 (an address no kernel owns,
# so only this script answers for it) completes a handshake with B and sends out-of-order
# segments; B acknowledges with SACK blocks. No timestamps, so Linux sends up to 4 blocks.
ip -n "$b" neigh add 10.0.0.3 lladdr 02:00:00:00:00:01 dev veth1
ip netns exec "$b" timeout 5 sh -c 'nc -l -p 8080 >/dev/null' &
pids+=($!)
sleep 0.5
ip netns exec "$a" python3 - <<'PY'
import socket, struct, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

SRC, DST = socket.inet_aton("10.0.0.3"), socket.inet_aton("10.0.0.2")
ETH = bytes.fromhex("020000000002" "020000000001" "0800")
ident = [0x4000]

def frame(seq, ack, flags, opts=b"", data=b""):
    hl = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", 40000, 8080, seq, ack, (hl // 4) << 4, flags, 64240, 0, 0)
    tcp += opts + data
    c = csum(SRC + DST + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ident[0] += 1
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ident[0], 0x4000, 64, 6, 0, SRC, DST)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ETH + ip + tcp

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("veth0", 0))
s.settimeout(2)

def recv_from_b():
    while True:
        f = s.recv(2048)
        if f[26:30] == DST and f[30:34] == SRC and f[23] == 6:
            return f

iss = 1000
# MSS 1460, NOP, NOP, SACK-permitted: no timestamps, no window scale.
s.send(frame(iss, 0, 0x02, bytes.fromhex("020405b4" "01010402")))
synack = recv_from_b()
irs = struct.unpack("!I", synack[38:42])[0]
s.send(frame(iss + 1, irs + 1, 0x10))
s.send(frame(iss + 1, irs + 1, 0x18, data=b"a" * 10))
for off in (21, 41, 61, 81):
    s.send(frame(iss + off, irs + 1, 0x18, data=b"b" * 10))
    time.sleep(0.05)
time.sleep(0.2)
s.send(frame(iss + 91, irs + 1, 0x04))
PY
sleep 1
