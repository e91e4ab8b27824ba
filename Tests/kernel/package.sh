#!/usr/bin/env bash
# Kernel tier, package: run inside the VM booted with systemd as PID 1
# (`run-in-vm.sh --systemd`, `make test-package`). Installs ecmpd's .deb with
# apt on a root without the Swift toolchain, sets FRR up as the operator
# guide says, and checks the installed service: its user and capabilities,
# the VIP on lo and in ospfd, a broken reload ignored, an upgrade that never
# takes the VIP off lo, a stop that does, and a purge that leaves nothing.
# usage: package.sh DEB NEWER_DEB
set -euo pipefail
deb=$(realpath "$1")
newer_deb=$(realpath "$2")
vip=198.18.0.100
results=${ECMPD_VM_OUT:-/tmp}/package-results.txt

step() { echo "package: $*"; }
fail() { echo "package: FAIL: $*" >&2; journalctl -u ecmpd --no-pager -n 40 >&2 || true; exit 1; }
vip_on_lo() { ip -4 -o addr show dev lo | grep -q " $vip/32 "; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@"; do ((SECONDS < deadline)) || fail "timed out waiting for $what"; sleep 0.2; done
}
record() { echo "$*" | tee -a "$results"; }
: >"$results"

step "no Swift toolchain here"
# The VM's root is the host's, a Docker image whose policy-rc.d forbids
# maintainer scripts to start or restart services; a director has none.
rm -f /usr/sbin/policy-rc.d
[[ -z "$(ls -A /opt/swift)" ]] || fail "/opt/swift is visible"

step "apt-get install $(basename "$deb")"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "$deb" >/tmp/apt-install.log 2>&1 || { cat /tmp/apt-install.log; fail "apt-get install"; }
! systemctl is-active --quiet ecmpd || fail "installing started ecmpd"
! systemctl is-enabled --quiet ecmpd || fail "installing enabled ecmpd"
vip_on_lo && fail "the VIP is on lo before anyone configured ecmpd"
/usr/sbin/ecmpd check --no-network --config /etc/ecmpd/ecmpd.yaml >/dev/null || fail "the shipped config fails check"
record "installed: $(/usr/sbin/ecmpd --version); ldd: $(ldd /usr/sbin/ecmpd | awk '{print $1}' | paste -sd' ')"

step "the director's network: a LAN with a default route, IPVS as keepalived would program it"
ip link add lan0 type dummy
ip addr add 198.18.1.2/24 dev lan0
ip link set lan0 up
ip route add default via 198.18.1.1
ipvsadm -A -t "$vip:80" -s wrr -p 60
ipvsadm -a -t "$vip:80" -r 198.18.0.4:80 -g -w 10
ipvsadm -a -t "$vip:80" -r 198.18.0.5:80 -g -w 10

step "FRR in split-file mode (docs/operator-guide.md, section 2)"
mv /etc/frr/frr.conf /etc/frr/frr.conf.integrated
sed -i 's/^ospfd=no/ospfd=yes/' /etc/frr/daemons
sed -i 's|^zebra_options=.*|zebra_options="  -A 127.0.0.1 -s 90000000 -f /etc/frr/zebra.conf"|' /etc/frr/daemons
sed -i 's|^ospfd_options=.*|ospfd_options="  -A 127.0.0.1 -f /etc/frr/ospfd.conf"|' /etc/frr/daemons
sed -i 's/^service integrated-vtysh-config/no service integrated-vtysh-config/' /etc/frr/vtysh.conf
sed -i '1i node:\n  hostname: director-vm' /etc/ecmpd/ecmpd.yaml
ecmpd check --config /etc/ecmpd/ecmpd.yaml || fail "ecmpd check on the configured director"
ecmpd render --config /etc/ecmpd/ecmpd.yaml --write /etc/frr || fail "ecmpd render --write /etc/frr"
systemctl restart frr || { journalctl -u frr --no-pager -n 30; fail "systemctl restart frr"; }

step "systemctl enable --now ecmpd"
systemctl enable --now ecmpd || fail "systemctl enable --now ecmpd"
wait_for 60 "the VIP on lo" vip_on_lo
pid=$(systemctl show -p MainPID --value ecmpd)
user=$(ps -o user= -p "$pid")
capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
[[ "$user" == ecmpd ]] || fail "ecmpd runs as $user"
[[ "$capeff" == 0000000000001000 ]] || fail "CapEff is $capeff, not CAP_NET_ADMIN (0x1000) alone"
record "process: user $user, CapEff $capeff (CAP_NET_ADMIN only)"
record "systemd-analyze security: $(systemd-analyze security ecmpd.service --no-pager | tail -n1)"
wait_for 60 "the VIP in ospfd's running config" \
  bash -c "vtysh -d ospfd -c 'show running-config' | grep -q 'network $vip/32'"
record "VIP $vip on lo and in ospfd's running config"
sleep 5
record "memory, idle with one VIP: $(grep -E '^(VmRSS|RssAnon|RssFile|RssShmem):' "/proc/$pid/status" | tr -s ' \t' ' ' | paste -sd',')"

step "systemctl reload with a broken config"
cp /etc/ecmpd/ecmpd.yaml /tmp/ecmpd.yaml.good
echo 'vips: [ {address: not-an-address' >>/etc/ecmpd/ecmpd.yaml
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl reload ecmpd
wait_for 30 "the rejected reload in the journal" \
  bash -c "journalctl -u ecmpd --since '$since' --no-pager | grep -q 'config not reloaded'"
systemctl is-active --quiet ecmpd || fail "a broken reload stopped ecmpd"
[[ "$(systemctl show -p MainPID --value ecmpd)" == "$pid" ]] || fail "a broken reload restarted ecmpd"
vip_on_lo || fail "a broken reload took the VIP off lo"
cp /tmp/ecmpd.yaml.good /etc/ecmpd/ecmpd.yaml
record "reload with a broken config: logged ('config not reloaded'), ecmpd and the VIP stayed"

step "upgrade to $(basename "$newer_deb"), lo watched over rtnetlink"
ip -o monitor address dev lo >/tmp/lo-events 2>&1 &
monitor=$!
sleep 1
apt-get install -y -q -o Dpkg::Options::=--force-confold "$newer_deb" >/tmp/apt-upgrade.log 2>&1 ||
  { cat /tmp/apt-upgrade.log; fail "apt-get install (upgrade)"; }
cat /tmp/apt-upgrade.log
wait_for 60 "a new ecmpd process" bash -c "[[ \$(systemctl show -p MainPID --value ecmpd) != $pid && \$(systemctl show -p MainPID --value ecmpd) != 0 ]]"
wait_for 30 "ecmpd active after the upgrade" systemctl is-active --quiet ecmpd
sleep 3
kill "$monitor"
removals=$(grep -c "^Deleted.* $vip/32 " /tmp/lo-events || true)
vip_on_lo || fail "the VIP is not on lo after the upgrade"
[[ "$removals" == 0 ]] || { cat /tmp/lo-events; fail "the upgrade removed the VIP from lo $removals times"; }
journalctl -u ecmpd --no-pager | grep -q "stopping for a package upgrade" || fail "the stop did not see the restart marker"
record "upgrade to $(dpkg-query -W -f='${Version}' ecmpd): VIP removed from lo $removals times (ip monitor address), ecmpd restarted ($pid -> $(systemctl show -p MainPID --value ecmpd))"

step "systemctl stop ecmpd withdraws"
systemctl stop ecmpd
vip_on_lo && fail "the VIP stayed on lo after systemctl stop (on_stop: withdraw)"
record "systemctl stop: VIP withdrawn from lo"

step "apt-get purge ecmpd"
apt-get purge -y -q ecmpd >/tmp/apt-purge.log 2>&1 || { cat /tmp/apt-purge.log; fail "apt-get purge"; }
pgrep -x ecmpd >/dev/null && fail "an ecmpd process is left"
getent passwd ecmpd >/dev/null && fail "user ecmpd is left"
getent group ecmpd >/dev/null && fail "group ecmpd is left"
[[ -e /var/lib/ecmpd ]] && fail "/var/lib/ecmpd is left"
[[ -e /etc/ecmpd ]] && fail "/etc/ecmpd is left"
[[ -f /etc/frr/ospfd.conf && -f /etc/frr/daemons ]] || fail "purge removed FRR's files"
record "purge: no process, user, group, state or config directory left; /etc/frr kept"
echo "package: PASS"
