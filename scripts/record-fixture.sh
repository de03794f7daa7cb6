#!/usr/bin/env bash
# Records a replay fixture from a real conversation between tapir and the Linux kernel:
#
#   sudo scripts/record-fixture.sh NAME [SCENARIO]      (SCENARIO defaults to NAME)
#   sudo scripts/record-fixture.sh --list
#
# In a fresh network namespace, the kernel gets tap0 (10.0.0.1/24, MAC 02:00:00:00:00:01,
# IPv6 off so that no router or neighbour solicitations wander in) and tapir serves on it
# (10.0.0.2/24, MAC 02:00:00:00:00:02) with a fixed --seed and --pcap. The scenario drives
# the kernel's side (ping, arping, nc, scapy for crafted frames); then tapir is stopped
# and the script writes
#
#   pcaps/NAME.pcap     tapir's own capture of the conversation
#   pcaps/NAME.sidecar  the stack's configuration, the peer, the clock origin, how it was made
#   pcaps/NAME.trace    the golden trace (tapir replay --update-golden)
#
# and checks that the new fixture replays. Every scenario is a function `scenario_NAME`
# below, with a one-line description in `about_NAME`, the services it needs in
# `services_NAME` and, when the peer is not the kernel, the peer's MAC in `peer_NAME`.
# Environment: TAPIR (the binary; by default the newest of build*/src/tapir), SEED (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

STACK_MAC=02:00:00:00:00:02
STACK_IP=10.0.0.2
KERNEL_MAC=02:00:00:00:00:01
KERNEL_IP=10.0.0.1
# The crafted TCP peer (scapy, tcp_peer below): a host of its own on the kernel's side of
# tap0. The kernel drops what tapir sends it (another host's MAC), so it neither answers nor
# resets the crafted connections.
CRAFTED_MAC=02:00:00:00:00:03
CRAFTED_IP=10.0.0.3
SEED=${SEED:-1}
# Debian's python3-scapy lives in the system interpreter; a python3 earlier on PATH may lack it.
PYTHON=$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3)

# ---- scenarios: the kernel's side of each conversation ----

about_arp="the kernel resolves tapir's address with arping (request, reply), then asks for 10.0.0.3, which tapir ignores"
scenario_arp() {
  nsx arping -c 1 -w 2 -I tap0 $STACK_IP >/dev/null
  nsx arping -c 1 -w 1 -I tap0 10.0.0.3 >/dev/null || true
}

about_arp_gratuitous="tapir's start-up announcement, then the kernel's gratuitous ARP request (arping -U) and reply (arping -A) for its own address"
scenario_arp_gratuitous() {
  nsx arping -U -c 1 -I tap0 $KERNEL_IP >/dev/null || true
  sleep 0.2
  nsx arping -A -c 1 -I tap0 $KERNEL_IP >/dev/null || true
}

about_ping="ping -c 3 from the kernel: ARP resolution, then three echo requests and replies"
scenario_ping() {
  nsx ping -c 3 -i 0.2 -W 2 $STACK_IP >/dev/null
}

about_ping_fragmented="ping -s 4000 from the kernel: each request arrives in three fragments, tapir reassembles it and fragments its reply"
scenario_ping_fragmented() {
  nsx ping -c 2 -i 0.2 -W 2 -s 4000 $STACK_IP >/dev/null
}

about_udp_closed_port="a UDP datagram (nc -u) to port 9, where nothing listens: tapir answers ICMP port unreachable"
scenario_udp_closed_port() {
  echo hello | nsx nc -u -w 1 $STACK_IP 9 >/dev/null 2>&1 || true
}

about_udp_echo="a UDP datagram (nc -u) to tapir's echo service (RFC 862, port 7), which sends it back"
services_udp_echo=echo
scenario_udp_echo() {
  local reply
  reply=$(echo "hello tapir" | nsx nc -u -w 1 $STACK_IP 7 2>/dev/null || true)
  [ "$reply" = "hello tapir" ] || { echo "record-fixture: no echo from tapir (got '$reply')" >&2; exit 1; }
}

about_tcp_echo="TCP to tapir's echo service (RFC 862, port 7): handshake, one line echoed, the kernel closes first (nc -N), then tapir"
services_tcp_echo=echo
scenario_tcp_echo() {
  local reply
  reply=$(echo "hello tcp" | nsx timeout 5 nc -N $STACK_IP 7 2>/dev/null || true)
  [ "$reply" = "hello tcp" ] || { echo "record-fixture: no TCP echo from tapir (got '$reply')" >&2; exit 1; }
}

about_tcp_closed_port="a TCP SYN (nc -z) to port 9, where nothing listens: tapir answers RST (RFC 9293 §3.10.7.1)"
scenario_tcp_closed_port() {
  nsx timeout 5 nc -z $STACK_IP 9 >/dev/null 2>&1 || true
}

about_malformed="crafted frames (scapy): bad IP checksum, truncated IP, bad ICMP checksum, bad UDP checksum, IP version 6 in an IPv4 frame, unknown EtherType, 802.1Q VLAN tag, another host's MAC, another host's IP; tapir drops each one silently and counts it; a last well-formed ping is answered"
scenario_malformed() {
  nsx "$PYTHON" - "$KERNEL_MAC" "$STACK_MAC" "$KERNEL_IP" "$STACK_IP" <<'EOF'
import sys, time
from scapy.all import Ether, IP, ICMP, UDP, Dot1Q, Raw, sendp, conf
conf.verb = 0
kmac, smac, kip, sip = sys.argv[1:5]
eth = Ether(src=kmac, dst=smac)
echo = IP(src=kip, dst=sip) / ICMP(id=0x7a70, seq=1) / Raw(b"tapir malformed")
frames = [
    eth / IP(src=kip, dst=sip, chksum=0x1234) / ICMP(id=0x7a70, seq=1),          # bad IP checksum
    bytes(eth / echo)[:14 + 24],                                                   # IP cut short
    eth / IP(src=kip, dst=sip) / ICMP(id=0x7a70, seq=2, chksum=0xbeef),            # bad ICMP checksum
    eth / IP(src=kip, dst=sip) / UDP(sport=40000, dport=7, chksum=0x4242) / Raw(b"x"),  # bad UDP checksum
    bytes(eth / echo)[:14] + bytes([0x65]) + bytes(eth / echo)[15:],               # version 6
    Ether(src=kmac, dst=smac, type=0x88b5) / Raw(b"local experimental ethertype"), # unknown EtherType
    Ether(src=kmac, dst=smac) / Dot1Q(vlan=42) / echo,                             # VLAN tag
    Ether(src=kmac, dst="02:00:00:00:00:09") / echo,                               # another host's MAC
    eth / IP(src=kip, dst="10.0.0.9") / ICMP(id=0x7a70, seq=3),                    # another host's IP
]
for f in frames:
    sendp(f, iface="tap0")
    time.sleep(0.05)
sendp(eth / IP(src=kip, dst=sip) / ICMP(id=0x7a70, seq=9) / Raw(b"still alive"), iface="tap0")
EOF
  sleep 0.5
}

# TCP scenarios with the kernel as the peer turn its timestamps and SACK-permitted off, so
# that its SYN offers only what tapir negotiates today (MSS, window scaling): the fixtures
# then do not change when tapir learns RFC 7323 timestamps or SACK.
kernel_tcp_plain() {
  nsx sysctl -qw net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0
}

about_tcp_tapir_closes_first="TCP to tapir's http service (port 80): an HTTP/1.0 DELETE (nc) is refused with 405 and tapir closes first (FIN-WAIT-1); the kernel ACKs, then closes with a FIN that also acknowledges tapir's, which tapir ACKs from TIME-WAIT"
services_tcp_tapir_closes_first=http
scenario_tcp_tapir_closes_first() {
  local reply
  kernel_tcp_plain
  # HTTP/1.0 without keep-alive: the server closes once the response is queued (RFC 9112
  # §9.6). A status the request line decides alone (405) keeps the files of the directory
  # tapir serves out of the fixture.
  reply=$(printf 'DELETE / HTTP/1.0\r\n\r\n' | nsx timeout 5 nc $STACK_IP 80 2>/dev/null || true)
  [[ $reply == "HTTP/1.1 405 "* ]] || { echo "record-fixture: no 405 from tapir's http (got '$reply')" >&2; exit 1; }
}

about_tcp_rst_from_peer="TCP to tapir's echo service: one line echoed, then the kernel aborts the connection (SO_LINGER 0: RST); tapir drops it silently"
services_tcp_rst_from_peer=echo
scenario_tcp_rst_from_peer() {
  kernel_tcp_plain
  nsx "$PYTHON" - "$STACK_IP" <<'EOF'
import socket, struct, sys
s = socket.create_connection((sys.argv[1], 7), timeout=3)
line = b"hello, then reset\n"
s.sendall(line)
got = b""
while len(got) < len(line):
    chunk = s.recv(100)
    if not chunk:
        sys.exit("record-fixture: tapir closed before echoing")
    got += chunk
if got != line:
    sys.exit("record-fixture: wrong echo from tapir: %r" % got)
# SO_LINGER with a zero timeout: close() aborts with a RST instead of a FIN.
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
EOF
}

# The crafted TCP peer: scapy at CRAFTED_IP/CRAFTED_MAC, every segment written by hand from a
# fixed ISN (1000) and port (40000), its SYN offering MSS only (no window scaling,
# timestamps or SACK-permitted). `tcp_peer` runs this, then the scenario's Python on stdin.
TCP_PEER_PY=$(cat <<'EOF'
import select, sys, time
from scapy.all import ARP, IP, TCP, Ether, Raw, conf
conf.verb = 0
PEER_MAC, STACK_MAC, PEER_IP, STACK_IP = sys.argv[1:5]

def fail(msg):
    sys.exit("record-fixture: scapy peer: " + msg)

def check(ok, msg):
    if not ok:
        fail(msg)

class Seg:
    """A segment from tapir: flags as scapy spells them ("SA", "PA", "FA"), seq, ack, win, data."""
    def __init__(self, f):
        ip, tcp = f[IP], f[TCP]
        n = ip.len - ip.ihl * 4 - tcp.dataofs * 4
        self.flags, self.seq, self.ack, self.win = str(tcp.flags), tcp.seq, tcp.ack, tcp.window
        self.data = bytes(tcp.payload)[:n]
        self.end = self.seq + len(self.data) + (1 if "S" in self.flags or "F" in self.flags else 0)
    def __repr__(self):
        return "[%s] seq=%d ack=%d win=%d len=%d" % (self.flags, self.seq, self.ack, self.win, len(self.data))

class Peer:
    def __init__(self, dport, sport=40000, isn=1000, win=8192):
        self.sock = conf.L2socket(iface="tap0")
        self.dport, self.sport, self.win = dport, sport, win
        self.nxt = isn  # our SND.NXT
        self.ack = 0    # what we acknowledge (our RCV.NXT)
        # As arping does: tapir answers and learns our address (RFC 826).
        self.sock.send(Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") /
                       ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=STACK_IP))
        check(self.frame(lambda f: ARP in f and f[ARP].op == 2, 3.0), "no ARP reply from tapir")

    def send(self, flags, data=b"", seq=None, ack=None, win=None, options=()):
        seq = self.nxt if seq is None else seq
        tcp = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=seq,
                  ack=(self.ack if ack is None else ack) if "A" in flags else 0,
                  window=self.win if win is None else win, options=list(options))
        f = Ether(src=PEER_MAC, dst=STACK_MAC) / IP(src=PEER_IP, dst=STACK_IP) / tcp
        self.sock.send(f / Raw(data) if data else f)
        self.nxt = max(self.nxt, seq + len(data) + (1 if "S" in flags or "F" in flags else 0))

    def frame(self, match, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not select.select([self.sock], [], [], left)[0]:
                continue
            f = self.sock.recv()
            if f is None or Ether not in f or f[Ether].src != STACK_MAC:
                continue
            if ARP in f and f[ARP].op == 1 and f[ARP].pdst == PEER_IP:
                self.sock.send(Ether(src=PEER_MAC, dst=STACK_MAC) /
                               ARP(op=2, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst=STACK_MAC, pdst=STACK_IP))
                continue
            if match(f):
                return f

    def segment(self, what, timeout=3.0):
        f = self.frame(lambda f: TCP in f and f[TCP].dport == self.sport, timeout)
        check(f is not None, "no %s from tapir within %g s" % (what, timeout))
        return Seg(f)

    def quiet(self, seconds):
        f = self.frame(lambda f: TCP in f and f[TCP].dport == self.sport, seconds)
        check(f is None, "tapir sent %r, expected nothing" % (Seg(f) if f else None))

    def connect(self):
        self.send("S", options=[("MSS", 1460)])
        sa = self.segment("SYN,ACK")
        check(sa.flags == "SA" and sa.ack == self.nxt, "expected SYN,ACK, got %r" % sa)
        self.ack = sa.end
        self.send("A")

    def close(self):
        """Our FIN; the service closes at end of file, so tapir ACKs it and sends its FIN
        (CLOSE-WAIT, LAST-ACK); our ACK of that FIN ends the connection."""
        self.send("FA")
        while True:
            s = self.segment("FIN")
            if "F" in s.flags:
                break
        self.ack = s.end
        self.send("A")
EOF
)
tcp_peer() {
  local script
  script=$(cat)
  nsx "$PYTHON" -c "$TCP_PEER_PY
$script" "$CRAFTED_MAC" "$STACK_MAC" "$CRAFTED_IP" "$STACK_IP"
}

about_tcp_retransmit="crafted peer (scapy) to tapir's echo service: the peer does not acknowledge the echo, so tapir retransmits it when the RTO expires, twice, the second after twice the wait (RFC 6298 5.4, 5.5); then the peer ACKs and closes"
services_tcp_retransmit=echo
peer_tcp_retransmit=$CRAFTED_MAC
scenario_tcp_retransmit() {
  tcp_peer <<'EOF'
p = Peer(dport=7)
p.connect()
p.send("PA", b"hello, retransmit\n")
echo = p.segment("echo")
check(echo.data == b"hello, retransmit\n", "wrong echo %r" % echo.data)
for n in (1, 2):  # withhold the ACK: tapir's retransmission timer fires
    again = p.segment("retransmission %d" % n, timeout=5)
    check(again.seq == echo.seq and again.data == echo.data, "expected the echo again, got %r" % again)
p.ack = echo.end
p.send("A")
p.close()
EOF
}

about_tcp_out_of_order="crafted peer (scapy) to tapir's echo service: three segments sent last first; tapir answers each early one with a duplicate ACK, buffers it, and when the first fills the gap ACKs all and echoes the line in order"
services_tcp_out_of_order=echo
peer_tcp_out_of_order=$CRAFTED_MAC
scenario_tcp_out_of_order() {
  tcp_peer <<'EOF'
p = Peer(dport=7)
p.connect()
base = p.nxt
parts = [b"one ", b"two ", b"three\n"]
for i in (2, 1):
    p.send("PA", parts[i], seq=base + sum(len(x) for x in parts[:i]))
    dup = p.segment("duplicate ACK")
    check(dup.ack == base and not dup.data, "expected a duplicate ACK of %d, got %r" % (base, dup))
p.send("PA", parts[0], seq=base)
while True:
    s = p.segment("echo")
    if s.data:
        break
check(s.data == b"".join(parts), "echo out of order: %r" % s.data)
p.ack = s.end
p.send("A")
p.close()
EOF
}

about_tcp_zero_window="crafted peer (scapy) to tapir's echo service: the line arrives with a zero window, so tapir holds its echo and probes the window with one octet, twice, the second after twice the wait (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17); the peer opens the window and the echo follows"
services_tcp_zero_window=echo
peer_tcp_zero_window=$CRAFTED_MAC
scenario_tcp_zero_window() {
  tcp_peer <<'EOF'
p = Peer(dport=7)
p.connect()
line = b"hello, zero window\n"
p.send("PA", line, win=0)
while True:
    s = p.segment("window probe")
    if s.data:
        break
for n in (1, 2):
    check(len(s.data) == 1 and s.data == line[:1], "expected a one-octet probe, got %r" % s)
    p.send("A", win=0)  # no room yet: the octet is dropped, the window stays closed
    if n == 1:
        s = p.segment("second window probe")
time.sleep(0.1)
p.send("A")  # the window opens
echo = p.segment("echo")
check(echo.data == line, "wrong echo %r" % echo.data)
p.ack = echo.end
p.send("A")
p.close()
EOF
}

about_tcp_simultaneous_close="crafted peer (scapy) to tapir's http service: an HTTP/1.0 DELETE is refused with 405 and tapir closes; the peer's FIN crosses tapir's (it acknowledges none of tapir's data), so tapir goes FIN-WAIT-1, CLOSING, TIME-WAIT (RFC 9293 3.6)"
services_tcp_simultaneous_close=http
peer_tcp_simultaneous_close=$CRAFTED_MAC
scenario_tcp_simultaneous_close() {
  tcp_peer <<'EOF'
p = Peer(dport=80)
p.connect()
p.send("PA", b"DELETE / HTTP/1.0\r\n\r\n")
while True:
    s = p.segment("response and FIN")
    if "F" in s.flags:
        break
# Our FIN left before any of tapir's segments arrived: it acknowledges only tapir's SYN.
fin_seq = p.nxt
p.send("FA")
a = p.segment("ACK of our FIN")
check(a.ack == fin_seq + 1 and "F" not in a.flags, "expected tapir's ACK of our FIN, got %r" % a)
p.ack = s.end
p.send("A")  # the response and tapir's FIN arrive, and are acknowledged
time.sleep(0.1)
# Our FIN again, as if tapir's ACK of it had been lost: in TIME-WAIT tapir still holds the
# connection and acknowledges it once more (a closed one would answer RST).
p.send("FA", seq=fin_seq)
a = p.segment("ACK of the repeated FIN")
check(a.ack == fin_seq + 1 and "F" not in a.flags and "R" not in a.flags,
      "expected tapir's ACK from TIME-WAIT, got %r" % a)
p.quiet(0.3)
EOF
}

# ---- client scenarios: tapir runs a client (client_NAME), the kernel's side serves ----

# Starts a server of the kernel's side in the namespace and waits until its output shows
# PATTERN; the cleanup ends it by PID.
kernel_server() {
  local name=$1 pattern=$2
  shift 2
  nsx "$@" >"$WORK/$name.log" 2>&1 &
  BG_PIDS+=($!)
  for _ in $(seq 50); do
    grep -qs "$pattern" "$WORK/$name.log" && return 0
    kill -0 "${BG_PIDS[-1]}" 2>/dev/null || { echo "record-fixture: $name exited early: $(tail -3 "$WORK/$name.log")" >&2; exit 1; }
    sleep 0.1
  done
  echo "record-fixture: $name did not print '$pattern' within 5 s" >&2
  exit 1
}

about_dns="tapir resolve tapir.test --nameserver 10.0.0.1: tapir announces itself, resolves the nameserver by ARP and asks dnsmasq (one fixed record, no upstream) for the A record (RFC 1035); the answer is 10.0.0.42"
client_dns="resolve tapir.test via $KERNEL_IP at start expect 10.0.0.42"
scenario_dns() {
  command -v dnsmasq >/dev/null || { echo "record-fixture: dnsmasq is missing (scripts/install-deps.sh installs dnsmasq-base)" >&2; exit 1; }
  kernel_server dnsmasq "started" dnsmasq --no-daemon --no-resolv --no-hosts --log-queries \
    --address=/tapir.test/10.0.0.42 --listen-address=$KERNEL_IP --bind-interfaces --port 53 \
    --pid-file="$WORK/dnsmasq.pid" --user=root
}

# ---- machinery ----

SCENARIOS=(arp arp-gratuitous ping ping-fragmented udp-closed-port udp-echo malformed
           tcp-echo tcp-closed-port tcp-tapir-closes-first tcp-rst-from-peer tcp-retransmit
           tcp-out-of-order tcp-zero-window tcp-simultaneous-close)
SCENARIOS+=(dns)

usage() {
  echo "usage: sudo $0 NAME [SCENARIO]    (SCENARIO defaults to NAME)"
  echo "       $0 --list"
  echo "scenarios: ${SCENARIOS[*]}"
}

if [ "${1:-}" = "--list" ]; then
  for s in "${SCENARIOS[@]}"; do
    about="about_${s//-/_}"
    printf '%-24s %s\n' "$s" "${!about}"
  done
  exit 0
fi
[ $# -ge 1 ] && [ $# -le 2 ] || { usage >&2; exit 2; }
NAME=$1
SCENARIO=${2:-$1}
FN="scenario_${SCENARIO//-/_}"
ABOUT="about_${SCENARIO//-/_}"
declare -F "$FN" >/dev/null || { echo "record-fixture: unknown scenario '$SCENARIO'" >&2; usage >&2; exit 2; }
[[ $NAME =~ ^[a-z0-9][a-z0-9-]*$ ]] || { echo "record-fixture: NAME must be lowercase letters, digits and dashes" >&2; exit 2; }
# A scenario that needs services names them in services_NAME (tapir serve --services).
SVC="services_${SCENARIO//-/_}"
SERVICES=${!SVC:-}
# The peer's MAC for the sidecar: the kernel's, unless the scenario names another (peer_NAME).
PEERV="peer_${SCENARIO//-/_}"
PEER_MAC=${!PEERV:-$KERNEL_MAC}
SERVE_ARGS=()
[ -z "$SERVICES" ] || SERVE_ARGS=(--services "$SERVICES")
# A client scenario names in client_NAME the client tapir runs instead of serving: the
# sidecar's `client` (docs/replay.md); `resolve NAME via ADDR ...` runs `tapir resolve`.
CLIENTV="client_${SCENARIO//-/_}"
CLIENT=${!CLIENTV:-}
[ "$(id -u)" -eq 0 ] || { echo "record-fixture: needs root (network namespaces and TAP devices)" >&2; exit 1; }

if [ -z "${TAPIR:-}" ]; then
  TAPIR=$(ls -t build*/src/tapir build/*/src/tapir 2>/dev/null | head -1 || true)
fi
[ -n "${TAPIR:-}" ] && [ -x "$TAPIR" ] || { echo "record-fixture: no tapir binary: build it, or set TAPIR=path" >&2; exit 1; }
TAPIR=$(realpath "$TAPIR")

NS="tapir-rec-$NAME-$$"
WORK=$(mktemp -d "/tmp/tapir-rec-$NAME.XXXXXX")
TAPIR_PID=""
BG_PIDS=()  # the kernel's servers (kernel_server)
cleanup() {
  local rc=$?
  if [ -n "$TAPIR_PID" ]; then kill "$TAPIR_PID" 2>/dev/null || true; wait "$TAPIR_PID" 2>/dev/null || true; fi
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  if [ $rc -ne 0 ] && [ -f "$WORK/tapir.log" ]; then echo "--- tapir output"; tail -20 "$WORK/tapir.log"; fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
nsx() { ip netns exec "$NS" "$@"; }

ip netns add "$NS"
nsx ip link set lo up
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
nsx ip tuntap add dev tap0 mode tap
nsx ip link set tap0 address $KERNEL_MAC
nsx ip addr add $KERNEL_IP/24 dev tap0
nsx ip link set tap0 up

if [ -n "$CLIENT" ]; then
  # The kernel's servers come up first (scenario_NAME); then tapir runs the client with the
  # capture, and exits when it has its answer.
  "$FN"
  read -r VERB CNAME _ CNS _ <<<"$CLIENT"
  [ "$VERB" = resolve ] || { echo "record-fixture: $CLIENTV: expected 'resolve NAME via ADDR ...'" >&2; exit 2; }
  TAPIR_CMD="tapir resolve $CNAME --nameserver $CNS --seed $SEED"
  nsx "$TAPIR" resolve "$CNAME" --nameserver "$CNS" --tap tap0 --ip $STACK_IP/24 --mac $STACK_MAC \
    --seed "$SEED" --pcap "$WORK/$NAME.pcap" >"$WORK/tapir.log" 2>&1 ||
    { echo "record-fixture: $TAPIR_CMD failed"; exit 1; }
  ORIGIN=$(sed -n 's/.*(clock_origin = \([0-9.]*\)).*/\1/p' "$WORK/tapir.log" | head -1)
  MTU=$(nsx cat /sys/class/net/tap0/mtu)
else
ip netns exec "$NS" "$TAPIR" serve --tap tap0 --ip $STACK_IP/24 --mac $STACK_MAC --seed "$SEED" \
  --pcap "$WORK/$NAME.pcap" "${SERVE_ARGS[@]}" >"$WORK/tapir.log" 2>&1 &
TAPIR_PID=$!
for _ in $(seq 100); do
  grep -qs "serving on" "$WORK/tapir.log" && break
  kill -0 "$TAPIR_PID" 2>/dev/null || { echo "record-fixture: tapir exited early"; exit 1; }
  sleep 0.1
done
grep -q "serving on" "$WORK/tapir.log" || { echo "record-fixture: tapir did not come up"; exit 1; }
ORIGIN=$(sed -n 's/.*(clock_origin = \([0-9.]*\)).*/\1/p' "$WORK/tapir.log" | head -1)
MTU=$(nsx cat /sys/class/net/tap0/mtu)

sleep 0.3   # the start-up announcement goes out first
"$FN"
sleep 0.3   # late answers
kill -TERM "$TAPIR_PID"
wait "$TAPIR_PID" || true
TAPIR_PID=""
fi

cat >"$WORK/$NAME.sidecar" <<EOF
# Replay fixture recorded by scripts/record-fixture.sh $NAME $SCENARIO (see docs/replay.md).
description = ${!ABOUT}
mac = $STACK_MAC
ip = $STACK_IP/24
mtu = $MTU
seed = $SEED
peer = $PEER_MAC
clock_origin = $ORIGIN
recorded = $(date -u +%Y-%m-%d) on Linux $(uname -r), ${TAPIR_CMD:-tapir serve --seed $SEED${SERVE_ARGS[*]:+ ${SERVE_ARGS[*]}}}
EOF
[ -z "$SERVICES" ] || echo "services = $SERVICES" >>"$WORK/$NAME.sidecar"
[ -z "$CLIENT" ] || echo "client = $CLIENT" >>"$WORK/$NAME.sidecar"

mkdir -p pcaps
cp "$WORK/$NAME.pcap" "$WORK/$NAME.sidecar" pcaps/
"$TAPIR" replay --update-golden "pcaps/$NAME.pcap"
"$TAPIR" replay "pcaps/$NAME.pcap"
echo "recorded pcaps/$NAME.{pcap,sidecar,trace}: $(grep -c '^#[0-9]' "pcaps/$NAME.trace") frames"
