#!/usr/bin/env bash
# Installs what the kernel tier needs on Debian 12: qemu, a static busybox for
# the initramfs, kmod for the module order, and the tools tests run inside the
# VM (iproute2, ipvsadm, FRR). apt-get update runs only if something is missing.
set -euo pipefail

packages=(qemu-system-x86 busybox-static kmod cpio xz-utils iproute2 ipvsadm frr)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f '${Status}\n' "$package" 2>/dev/null | grep -qx 'install ok installed' ||
    missing+=("$package")
done
((${#missing[@]})) || exit 0

if ((EUID != 0)); then
  echo "install-deps: run as root to install: ${missing[*]}" >&2
  exit 1
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
