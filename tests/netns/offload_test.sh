#!/usr/bin/env bash
# TAP offloads against the Linux kernel: `tapir serve --offload` takes the kernel's
# checksum-partial frames and TCP superframes (IFF_VNET_HDR + TUNSETOFFLOAD) and sends its
# own superframes for the kernel to segment (TSO). 100 MB into discard, 100 MB out of
# chargen with the RFC 864 pattern checked, echo byte-exact from 1 B to 10 MB, and how many
# superframes went each way.
source "$(dirname "$0")/lib.sh"
netns_begin offload "$1"
CTL="$WORK/ctl.sock"
PEER="python3 $(dirname "$0")/tcp_peer.py"

start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services discard,echo,chargen --control "$CTL" \
  --offload

discard_bytes 100000000

# Transmit: chargen's stream leaves in superframes the kernel segments (or takes whole).
out=$(nsx timeout 120 $PEER chargen 10.0.0.2 19 100000000) || fail "$out"
pass "$out"
tso=$(stat_value tcp tso_superframes)
tso_segments=$(stat_value tcp tso_segments)
[ "$tso" -gt 0 ] || fail "chargen: no superframe sent (tcp.tso_superframes is 0)"
pass "chargen: $tso superframes carrying $tso_segments segments"

echo_sizes 1 100 1460 1461 65536 1000000 10000000

super=$(stat_value eth rx_superframes)
partial=$(stat_value eth rx_checksum_offloaded)
frames=$(stat_value eth rx_frames)
[ "$partial" -gt 0 ] || fail "no checksum-offloaded frame arrived: offload is not active"
pass "offload: $super superframes and $partial checksum-offloaded frames among $frames frames"
fallbacks=$(stat_value tcp tso_fallbacks)
pass "offload: $(stat_value tcp tso_superframes) superframes sent, $fallbacks sent as single segments instead"
stop_tapir
