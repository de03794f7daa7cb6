#!/usr/bin/env bash
# `tapir replay` and `tapir decode` on good and bad input: exit codes (0 pass, 1 mismatch or
# unreadable input, 2 usage), one-line errors naming the file and the problem, never a crash;
# and `tapir replay --pcapng` read back by tshark with its comments.
#   cli_test.sh TAPIR_BINARY PCAPS_DIR
set -euo pipefail
TAPIR=$1
PCAPS=$2
WORK=$(mktemp -d /tmp/tapir-replay-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok - $*"; }

# run EXPECTED_RC CMD... : runs CMD, keeps stdout/stderr in $WORK/out and $WORK/err.
run() {
  local want=$1
  shift
  set +e
  "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  set -e
  [ $rc -lt 128 ] || fail "$* crashed (exit $rc): $(cat "$WORK/err")"
  [ $rc -eq "$want" ] || fail "$* exited $rc, expected $want: $(cat "$WORK/out" "$WORK/err")"
}

# one_line_error FILE WORDS : stderr is exactly one line naming FILE and containing WORDS.
one_line_error() {
  local lines
  lines=$(wc -l <"$WORK/err")
  [ "$lines" -eq 1 ] || fail "expected a one-line error, got $lines lines: $(cat "$WORK/err")"
  grep -qF "$1" "$WORK/err" || fail "error does not name $1: $(cat "$WORK/err")"
  grep -qF "$2" "$WORK/err" || fail "error does not say '$2': $(cat "$WORK/err")"
}

# A private copy of the ping fixture to break in different ways.
fixture() {
  local name=$1
  cp "$PCAPS/ping.pcap" "$WORK/$name.pcap"
  cp "$PCAPS/ping.sidecar" "$WORK/$name.sidecar"
  cp "$PCAPS/ping.trace" "$WORK/$name.trace"
  echo "$WORK/$name.pcap"
}

run 2 "$TAPIR" replay
pass "replay without a capture: usage error (2)"
run 2 "$TAPIR" replay --no-such-flag "$PCAPS/ping.pcap"
pass "replay with an unknown flag: usage error (2)"
run 2 "$TAPIR" decode
pass "decode without a capture: usage error (2)"

good=$(fixture good)
run 0 "$TAPIR" replay "$good"
grep -q "^PASS" "$WORK/out" || fail "no PASS line: $(cat "$WORK/out")"
pass "replay of an intact fixture: PASS (0)"

frames=$("$TAPIR" decode "$good" | wc -l)
[ "$frames" -eq "$(grep -c '^#[0-9]' "$WORK/good.trace")" ] || fail "decode lists $frames frames"
"$TAPIR" decode -v "$good" >"$WORK/verbose"
grep -q "^      ipv4.ttl: 64$" "$WORK/verbose" || fail "decode -v shows no ipv4.ttl"
pass "decode: one line per frame, -v every field"

seed=$(fixture seed)
sed -i 's/^seed = .*/seed = 9/' "$WORK/seed.sidecar"
run 1 "$TAPIR" replay "$seed"
grep -q "^FAIL" "$WORK/out" || fail "no FAIL line: $(cat "$WORK/out")"
grep -q "ipv4.id" "$WORK/out" || fail "the diff does not name ipv4.id: $(cat "$WORK/out")"
pass "replay with another seed: FAIL (1) with a diff naming ipv4.id"

nogold=$(fixture nogold)
rm "$WORK/nogold.trace"
run 1 "$TAPIR" replay "$nogold"
grep -q "golden trace .*nogold.trace is missing" "$WORK/out" || fail "$(cat "$WORK/out")"
pass "replay without a golden trace: fails (1) and says how to make one"

trunc=$(fixture trunc)
size=$(stat -c %s "$trunc")
head -c $((size - 5)) "$PCAPS/ping.pcap" >"$trunc"
for cmd in replay decode; do
  run 1 "$TAPIR" $cmd "$trunc"
  one_line_error "$trunc" "truncated"
done
pass "truncated capture: one-line error (1) from replay and decode"

garbage=$(fixture garbage)
echo "not a capture" >"$garbage"
for cmd in replay decode; do
  run 1 "$TAPIR" $cmd "$garbage"
  one_line_error "$garbage" "unknown file format"
done
pass "corrupt capture: one-line error (1)"

corrupt=$(fixture corrupt)
# The first record's captured length (file header 24 octets, then two time words).
printf '\xff\xff\xff\x7f' | dd of="$corrupt" bs=1 seek=32 conv=notrunc status=none
for cmd in replay decode; do
  run 1 "$TAPIR" $cmd "$corrupt"
  one_line_error "$corrupt" "frame 1"
done
pass "corrupt record header: one-line error (1)"

raw=$(fixture raw)
printf '\x65\x00\x00\x00' | dd of="$raw" bs=1 seek=20 conv=notrunc status=none  # LINKTYPE_RAW
for cmd in replay decode; do
  run 1 "$TAPIR" $cmd "$raw"
  one_line_error "$raw" "is not Ethernet"
done
pass "non-Ethernet link type: one-line error (1)"

nosidecar=$(fixture nosidecar)
rm "$WORK/nosidecar.sidecar"
run 1 "$TAPIR" replay "$nosidecar"
one_line_error "$WORK/nosidecar.sidecar" "cannot open sidecar"
pass "missing sidecar: one-line error (1) naming the sidecar"

badkey=$(fixture badkey)
echo "colour = blue" >>"$WORK/badkey.sidecar"
run 1 "$TAPIR" replay "$badkey"
one_line_error "$WORK/badkey.sidecar:" "unknown key 'colour'"
pass "unknown sidecar key: one-line error (1) naming file, line and key"

run 1 "$TAPIR" replay "$WORK/missing.pcap"
one_line_error "$WORK/missing.pcap" "No such file or directory"
pass "missing capture: one-line error (1)"

run 0 "$TAPIR" replay --pcapng "$WORK/ping.pcapng" "$good"
[ "$("$TAPIR" decode "$WORK/ping.pcapng" | wc -l)" -eq "$frames" ] || fail "pcapng frame count"
if command -v tshark >/dev/null; then
  tshark -r "$WORK/ping.pcapng" -V 2>/dev/null >"$WORK/tshark"
  grep -q "Packet comments" "$WORK/tshark" || fail "tshark -V shows no packet comments"
  grep -q "for #[0-9]*: icmp.tx_echo_replies (echo replies sent)" "$WORK/tshark" ||
    fail "tshark -V does not show the echo reply's comment"
  [ "$(tshark -r "$WORK/ping.pcapng" 2>/dev/null | wc -l)" -eq "$frames" ] || fail "tshark frame count"
  pass "replay --pcapng: tshark decodes every frame and shows the comments"
else
  pass "replay --pcapng: frames read back (tshark not installed: comments not checked)"
fi
