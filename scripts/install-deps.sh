#!/usr/bin/env bash
# Installs (idempotently) everything tapir's build, tests, demo and benchmarks use, from
# Debian's packages. Runs apt-get only when something is missing.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config libpcap-dev libspdlog-dev libfmt-dev catch2
  clang-format clang-tidy
  # the peers and tools the netns tests, the demo and the benchmarks talk to
  iproute2 iputils-ping iputils-arping socat netcat-openbsd curl tcpdump tshark
  python3-scapy dnsmasq-base procps wrk util-linux
  # the benchmarks' third stack: lwIP, driven by bench/lwip/lwip_adapter
  liblwip-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
