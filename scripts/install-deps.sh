#!/usr/bin/env bash
# Installs the Debian packages ecmpd's build and every test tier need.
# Idempotent: apt-get runs only when something is missing.
set -euo pipefail

packages=(
  pkg-config libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libsqlite3-dev
  iproute2 frr frr-pythontools ipvsadm keepalived python3 curl sqlite3 ethtool
  qemu-system-x86 busybox-static kmod cpio xz-utils
  debhelper dpkg-dev lintian prometheus
  dnsmasq-base ndisc6
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
