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
# below, with a one-line description in `about_NAME`. Environment: TAPIR (the binary; by
# default the newest of build*/src/tapir), SEED (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

STACK_MAC=02:00:00:00:00:02
STACK_IP=10.0.0.2
KERNEL_MAC=02:00:00:00:00:01
KERNEL_IP=10.0.0.1
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

# ---- machinery ----

SCENARIOS=(arp arp-gratuitous ping ping-fragmented udp-closed-port udp-echo malformed
           tcp-echo tcp-closed-port)

usage() {
  echo "usage: sudo $0 NAME [SCENARIO]    (SCENARIO defaults to NAME)"
  echo "       $0 --list"
  echo "scenarios: ${SCENARIOS[*]}"
}

if [ "${1:-}" = "--list" ]; then
  for s in "${SCENARIOS[@]}"; do
    about="about_${s//-/_}"
    printf '%-18s %s\n' "$s" "${!about}"
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
SERVE_ARGS=()
[ -z "$SERVICES" ] || SERVE_ARGS=(--services "$SERVICES")
[ "$(id -u)" -eq 0 ] || { echo "record-fixture: needs root (network namespaces and TAP devices)" >&2; exit 1; }

if [ -z "${TAPIR:-}" ]; then
  TAPIR=$(ls -t build*/src/tapir build/*/src/tapir 2>/dev/null | head -1 || true)
fi
[ -n "${TAPIR:-}" ] && [ -x "$TAPIR" ] || { echo "record-fixture: no tapir binary: build it, or set TAPIR=path" >&2; exit 1; }
TAPIR=$(realpath "$TAPIR")

NS="tapir-rec-$NAME-$$"
WORK=$(mktemp -d "/tmp/tapir-rec-$NAME.XXXXXX")
TAPIR_PID=""
cleanup() {
  local rc=$?
  if [ -n "$TAPIR_PID" ]; then kill "$TAPIR_PID" 2>/dev/null || true; wait "$TAPIR_PID" 2>/dev/null || true; fi
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

ip netns exec "$NS" "$TAPIR" serve --tap tap0 --ip $STACK_IP/24 --mac $STACK_MAC --seed "$SEED" \
  --pcap "$WORK/$NAME.pcap" "${SERVE_ARGS[@]}" >"$WORK/tapir.log" 2>&1 &
TAPIR_PID=$!
for _ in $(seq 100); do
  grep -q "serving on" "$WORK/tapir.log" && break
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

cat >"$WORK/$NAME.sidecar" <<EOF
# Replay fixture recorded by scripts/record-fixture.sh $NAME $SCENARIO (see docs/replay.md).
description = ${!ABOUT}
mac = $STACK_MAC
ip = $STACK_IP/24
mtu = $MTU
seed = $SEED
peer = $KERNEL_MAC
clock_origin = $ORIGIN
recorded = $(date -u +%Y-%m-%d) on Linux $(uname -r), tapir serve --seed $SEED${SERVE_ARGS[*]:+ ${SERVE_ARGS[*]}}
EOF
[ -z "$SERVICES" ] || echo "services = $SERVICES" >>"$WORK/$NAME.sidecar"

mkdir -p pcaps
cp "$WORK/$NAME.pcap" "$WORK/$NAME.sidecar" pcaps/
"$TAPIR" replay --update-golden "pcaps/$NAME.pcap"
"$TAPIR" replay "pcaps/$NAME.pcap"
echo "recorded pcaps/$NAME.{pcap,sidecar,trace}: $(grep -c '^#[0-9]' "pcaps/$NAME.trace") frames"
