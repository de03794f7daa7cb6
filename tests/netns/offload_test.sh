#!/usr/bin/env bash
# TAP offloads against the Linux kernel: `tapir serve --offload` takes the kernel's
# checksum-partial frames and TCP superframes (IFF_VNET_HDR + TUNSETOFFLOAD). 100 MB into
# discard, echo byte-exact from 1 B to 10 MB, and how many superframes arrived.
source "$(dirname "$0")/lib.sh"
netns_begin offload "$1"
CTL="$WORK/ctl.sock"



start_tapir serve --tap tap0 --ip 10.0.0.2/24 --services discard,echo --control "$CTL" --offload

discard_bytes 100000000

echo_sizes 1 100 1460 1461 65536 1000000 10000000

super=$(stat_value eth rx_superframes)
partial=$(stat_value eth rx_checksum_offloaded)
frames=$(stat_value eth rx_frames)
[ "$partial" -gt 0 ] || fail "no checksum-offloaded frame arrived: offload is not active"
pass "offload: $super superframes and $partial checksum-offloaded frames among $frames frames"
stop_tapir
