#!/usr/bin/env bash
# Installs every Debian package that warren's build, tests and quickstart need.
# Idempotent: packages already present are skipped. Runs as root, else via sudo.
#   --bench  also what bench/run.py needs (sshd and ssh, nginx, wrk, ip)
#   --fuzz   also clang-14 and libFuzzer, for the fuzz build (tests/fuzz/README.md);
#            optional because clang-14 pulls in ~185 MB of LLVM the normal build never uses
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libboost1.81-dev
  libngtcp2-dev libngtcp2-crypto-gnutls-dev
  libgnutls28-dev gnutls-bin
  capnproto libcapnp-dev
  libtomlplusplus-dev
  catch2
  libc-ares-dev
  libnghttp2-dev
  libcli11-dev libspdlog-dev libfmt-dev
  libsystemd-dev
  dnsmasq-base
  bind9-dnsutils   # dig, a DNS client through UDP tunnels (tests/integration/udp_tunnel_test.cpp)
  dnsdist          # a PROXY v2 consumer for UDP (tests/plugins/udp_dnsdist_test.cpp, udp_tunnel_faults_test.cpp)
  iproute2 nftables
  curl iperf3 socat python3
  haproxy nginx-light   # PROXY protocol consumers (tests/integration/proxy_protocol_test.cpp)
  help2man dpkg-dev file groff-base   # the man page, cpack -G DEB and its test
)
case "${1:-}" in
  --bench) packages+=(openssh-server openssh-client nginx-light wrk iproute2) ;;
  --fuzz) packages+=(clang-14 libfuzzer-14-dev) ;;
  "") ;;
  *) echo "usage: scripts/bootstrap.sh [--bench|--fuzz]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
