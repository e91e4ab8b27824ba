#!/usr/bin/env bash
# Kernel tier (docs/testing.md, tier 3): run one command as root on Debian's
# generic kernel under qemu, because many host kernels (this one too) lack IPVS.
# The guest sees the host's / read-only over 9p under a tmpfs overlay, so every
# host binary runs unchanged and every write is lost at power-off.
#
# usage: Tests/kernel/run-in-vm.sh [--mem MB] [--timeout SECONDS] [--out DIR]
#                                  [--no-ipvs] [--systemd] -- COMMAND [ARGS...]
#   --mem MB       guest memory (default 1024)
#   --timeout S    kill the VM after S seconds and exit 124 (default 900)
#   --out DIR      host DIR is mounted read-write at /vm-out, $ECMPD_VM_OUT
#   --no-ipvs      leave ip_vs unloaded and make loading it fail, to test the
#                  "kernel has no IPVS" path; by default ip_vs, its schedulers,
#                  veth, bridge and dummy are loaded at boot
#   --systemd      boot systemd as PID 1 (basic.target, then COMMAND as a
#                  unit on the console) with /opt/swift hidden under an empty
#                  tmpfs, as on a director without the Swift toolchain
# The command runs in the host's working directory with stdin /dev/null, the
# host's PATH (plus /opt/swift/usr/bin), CI, ECMPD_* and ECMPD_VM=1. Exit status:
# the command's; 124 timeout; 125 the VM never reported one; 2 usage; 1 setup.
# ECMPD_AUTO_INSTALL=1 or CI=true installs missing prerequisites.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache="$(cd "$here/../.." && pwd)/.cache/kernel"
[[ ":$PATH:" == *:/usr/sbin:* ]] || export PATH="$PATH:/usr/sbin:/sbin"
kernel_package='^linux-image-6\.1\.0-[0-9]+-amd64(-unsigned)?$'  # generic: cloud lacks 9p
boot_modules=(virtio_pci 9pnet_virtio 9p overlay)
ipvs_modules=(ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_dh ip_vs_mh
  ip_vs_sed ip_vs_nq ip_vs_lblc ip_vs_lblcr ip_vs_fo ip_vs_ovf)
lab_modules=(veth bridge dummy)

die() { echo "run-in-vm: $*" >&2; exit 1; }
usage() { sed -n '7,21s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }

mem=1024 timeout=900 out='' no_ipvs=0 systemd=0
while (($#)); do
  case "$1" in
    --mem) mem=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --out) out=$(cd "${2:?}" && pwd); shift 2 ;;
    --no-ipvs) no_ipvs=1; shift ;;
    --systemd) systemd=1; shift ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
(($#)) || usage
case "$PWD/" in /run/* | /proc/* | /sys/* | /dev/*)
  die "working directory $PWD is hidden in the guest (fresh mount there)" ;;
esac

missing_prerequisites() {
  local tool
  for tool in qemu-system-x86_64 depmod modprobe cpio xz apt-get apt-cache dpkg-deb; do
    command -v "$tool" >/dev/null || echo "$tool"
  done
  if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    echo "static /bin/busybox (busybox-static)"
  fi
}

if [[ -n "$(missing_prerequisites)" ]]; then
  if [[ "${ECMPD_AUTO_INSTALL:-}" == 1 || "${CI:-}" == true ]]; then "$here/install-deps.sh"; fi
  missing=$(missing_prerequisites | paste -sd,)
  [[ -z "$missing" ]] || die "missing: $missing; run Tests/kernel/install-deps.sh"
fi

newest_kernel_package() {
  apt-cache search --names-only "$kernel_package" | cut -d' ' -f1 | sort -V | tail -n1
}

# Sets $version: the newest extracted kernel in the cache, else the newest one
# apt knows, downloaded. Delete .cache/kernel to move to a newer kernel.
find_or_fetch_kernel() {
  local package
  version=$(find "$cache" -mindepth 2 -maxdepth 2 -name ready -printf '%h\n' |
    xargs -r -n1 basename | sort -V | tail -n1)
  [[ -z "$version" ]] || return 0
  package=$(newest_kernel_package)
  if [[ -z "$package" ]]; then apt-get update >&2; package=$(newest_kernel_package); fi
  [[ -n "$package" ]] || die "apt knows no package matching $kernel_package"
  version=${package#linux-image-}
  version=${version%-unsigned}
  rm -rf "$cache/download" "$cache/${version:?}"
  mkdir -p "$cache/download"
  (cd "$cache/download" && apt-get download -q "$package" >&2) ||
    { apt-get update >&2 && (cd "$cache/download" && apt-get download -q "$package" >&2); }
  dpkg-deb -x "$cache/download/${package}_"*.deb "$cache/$version"
  depmod -b "$cache/$version" "$version"
  rm -rf "$cache/download"
  touch "$cache/$version/ready"
}

# Busybox, the modules that reach the 9p root, and stage 1 (/init).
build_initramfs() {
  local kernel_dir=$1 version=$2 output=$3 root="$tmp/initramfs" ko name
  mkdir -p "$root"/{bin,dev,lower,upper,root,modules}
  cp /bin/busybox "$root/bin/busybox"
  modprobe -C /dev/null -d "$kernel_dir" -S "$version" -a --show-depends "${boot_modules[@]}" |
    awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
    while read -r ko; do
      name=$(basename "$ko")
      case "$name" in  # busybox insmod cannot read compressed modules
        *.xz) xz -dc "$ko" >"$root/modules/${name%.xz}"; name=${name%.xz} ;;
        *) cp "$ko" "$root/modules/$name" ;;
      esac
      echo "$name" >>"$root/modules/order"
    done
  cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# Stage 1: the host's / (9p, read-only) under a tmpfs overlay becomes the root;
# /job.sh, appended per run, then runs as PID 1 with the host's bash.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
fail() { echo "run-in-vm: guest: $*"; poweroff -f; }
for ko in $(cat /modules/order); do insmod "/modules/$ko" || fail "insmod $ko"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /lower ||
  fail "cannot mount the host root (9p hostroot)"
mount -t tmpfs -o mode=755 upper /upper && mkdir /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work root /root ||
  fail "cannot mount the overlay"
mount --move /dev /root/dev
mount -t tmpfs -o mode=755 run /root/run
mkdir /root/run/ecmpd-vm && cp /job.sh /root/run/ecmpd-vm/job.sh
exec switch_root /root /bin/bash /run/ecmpd-vm/job.sh
EOF
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet) >"$output.tmp"
  mv "$output.tmp" "$output"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

mkdir -p "$cache"
{
  flock 9  # parallel runs share the cache
  find_or_fetch_kernel
  kernel_dir="$cache/$version"
  initramfs="$cache/initramfs-$version-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12).cpio"
  if [[ ! -f "$initramfs" ]]; then
    rm -f "$cache/initramfs-$version-"*.cpio
    build_initramfs "$kernel_dir" "$version" "$initramfs"
  fi
} 9>"$cache/lock"

# Stage 2, run by PID 1 after switch_root: the per-run values, then the body.
guest_env=()
for name in $(compgen -e); do
  case "$name" in CI | ECMPD_*) guest_env+=("$name=${!name}") ;; esac
done
guest_env+=(PATH="${PATH%:/opt/swift/usr/bin}:/opt/swift/usr/bin" ECMPD_VM=1
  HOME=/root TERM=dumb LANG=C.UTF-8)
[[ -z "$out" ]] || guest_env+=(ECMPD_VM_OUT=/vm-out)
mkdir "$tmp/job"
{
  printf 'modules=%q cwd=%q no_ipvs=%q out=%q systemd=%q\n' \
    "$kernel_dir/lib/modules/$version" "$PWD" "$no_ipvs" "${out:+1}" "$systemd"
  printf 'ipvs_modules=(%s) lab_modules=(%s)\n' "${ipvs_modules[*]}" "${lab_modules[*]}"
  printf 'guest_env=(%s)\n' "$(printf '%q ' "${guest_env[@]}")"
  printf 'command=(%s)\n' "$(printf '%q ' "$@")"
  cat <<'EOF'
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts && mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
# /tmp stays the host's (read-only lower layer, writes land in the tmpfs
# overlay), so a checkout under /tmp, as CI may use, is visible.
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 shm /dev/shm
mkdir -p "/lib/modules/$(uname -r)"
mount --bind "$modules" "/lib/modules/$(uname -r)"  # modprobe and autoload work
echo ecmpd-vm >/proc/sys/kernel/hostname
ip link set lo up
if ((no_ipvs)); then
  echo 'install ip_vs /bin/false' >/etc/modprobe.d/ecmpd-vm-no-ipvs.conf
else
  modprobe -a "${ipvs_modules[@]}"
fi
modprobe -a "${lab_modules[@]}"
if [[ -n "$out" ]]; then
  mkdir -p /vm-out
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 hostout /vm-out
fi
if ((systemd)); then
  # systemd as PID 1 on the same root: the command becomes a unit after
  # basic.target (no multi-user.target, so the host's enabled services stay
  # down), printing to the console, and powers the VM off when it ends.
  mount -t tmpfs -o ro,mode=755 no-swift /opt/swift
  # Debian's tmpfiles.d/tmp.conf ("D /tmp") empties /tmp at boot: a checkout
  # under /tmp, as CI may use, would vanish from the guest (slowly, file by
  # file over 9p). Same name in /run/tmpfiles.d overrides it: keep /tmp.
  mkdir -p /run/tmpfiles.d
  echo 'd /tmp 1777 root root -' >/run/tmpfiles.d/tmp.conf
  {
    printf 'guest_env=(%s)\n' "$(printf '%q ' "${guest_env[@]}")"
    printf 'command=(%s)\n' "$(printf '%q ' "${command[@]}")"
    printf 'cd %q || { echo run-in-vm: %q is not in the guest; echo ECMPD-VM-START; echo ECMPD-VM-EXIT=1; /bin/busybox poweroff -f; }\n' "$cwd" "$cwd"
    echo 'echo ECMPD-VM-START; status=0'
    echo 'env -i "${guest_env[@]}" "${command[@]}" </dev/null || status=$?'
    echo 'echo "ECMPD-VM-EXIT=$status"; /bin/busybox poweroff -f'
  } >/run/ecmpd-vm/command.sh
  mkdir -p /run/systemd/system
  cat >/run/systemd/system/ecmpd-vm.target <<'UNIT'
[Unit]
Description=run-in-vm: the command under systemd
Requires=basic.target ecmpd-vm-command.service
After=basic.target
AllowIsolate=yes
UNIT
  cat >/run/systemd/system/ecmpd-vm-command.service <<'UNIT'
[Unit]
Description=run-in-vm: the command
After=basic.target
[Service]
Type=oneshot
StandardInput=null
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
ExecStart=/bin/bash /run/ecmpd-vm/command.sh
UNIT
  umount /dev/pts /dev/shm /sys/fs/cgroup
  exec /lib/systemd/systemd --unit=ecmpd-vm.target --show-status=false --log-target=journal
fi
cd "$cwd"
echo ECMPD-VM-START
status=0
env -i "${guest_env[@]}" "${command[@]}" </dev/null || status=$?
echo "ECMPD-VM-EXIT=$status"
/bin/busybox poweroff -f
EOF
} >"$tmp/job/job.sh"
(cd "$tmp/job" && echo job.sh | cpio -o -H newc --quiet) | cat "$initramfs" - >"$tmp/initrd"

out_share=()
[[ -z "$out" ]] ||
  out_share=(-virtfs "local,path=$out,mount_tag=hostout,security_model=none,multidevs=remap")

# The guest's console is the serial port on stdout: show what the command
# printed (between the markers) and take its status from the last marker,
# which ends a line that may hold the command's unterminated last output.
# qemu and the console filter run in the background and the script waits
# for them, so a SIGTERM or SIGINT to the script stops the VM at once
# (bash runs a trap only after a foreground job ends; it would have waited
# for the whole run).
mkfifo "$tmp/serial"
tr -d '\r' <"$tmp/serial" | tee "$tmp/console" | sed -u -e '0,/ECMPD-VM-START$/d' \
  -e '/ECMPD-VM-EXIT=[0-9]*$/,${ /ECMPD-VM-EXIT/!d; s/ECMPD-VM-EXIT=[0-9]*$//; /^$/d; }' &
console_filter=$!
timeout --kill-after=10 "$timeout" qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -smp 2 \
  -nographic -no-reboot -nic none \
  -kernel "$kernel_dir/boot/vmlinuz-$version" -initrd "$tmp/initrd" \
  -append 'console=ttyS0 quiet loglevel=1 panic=-1' \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  "${out_share[@]}" </dev/null >"$tmp/serial" &
qemu_job=$!
# timeout passes the TERM on to qemu, which exits on it.
trap 'kill -TERM "$qemu_job" 2>/dev/null || true; wait "$qemu_job" "$console_filter" || true; echo "run-in-vm: stopped by a signal; qemu ended" >&2; exit 130' INT TERM
set +e
wait "$qemu_job"
qemu_status=$?
wait "$console_filter"
set -e

exit_line=$(grep -ao 'ECMPD-VM-EXIT=[0-9]*$' "$tmp/console" | tail -n1 || true)
if [[ -n "$exit_line" ]]; then exit "${exit_line#*=}"; fi
if ((qemu_status == 124)); then
  echo "run-in-vm: timed out after $timeout s; qemu killed" >&2
  exit 124
fi
echo "run-in-vm: the VM stopped without reporting a status (qemu exit $qemu_status); console:" >&2
cat "$tmp/console" >&2
exit 125
