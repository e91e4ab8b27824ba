#!/usr/bin/env bash
# Proves the kernel tier works: IPVS is programmable with ipvsadm, namespaces
# and veth pass traffic, FRR runs. Runs inside the VM, as
#   Tests/kernel/run-in-vm.sh -- Tests/kernel/smoke.sh
set -euo pipefail

if [[ "${ECMPD_VM:-}" != 1 ]]; then
  echo "smoke: run me inside the VM: Tests/kernel/run-in-vm.sh -- $0" >&2
  exit 2
fi
step() { echo "smoke: $*"; }

step "IPVS service with the mh scheduler and a direct-routing destination"
ipvsadm -A -t 198.18.0.1:80 -s mh
ipvsadm -a -t 198.18.0.1:80 -r 198.18.0.2:80 -g -w 3
table=$(ipvsadm -Ln)
echo "$table"
grep -Eq '^TCP +198\.18\.0\.1:80 mh' <<<"$table"
grep -Eq -- '-> 198\.18\.0\.2:80 +Route +3 ' <<<"$table"

step "veth pair between two namespaces carries a ping"
ip netns add t1
ip netns add t2
ip link add t1-eth0 netns t1 type veth peer name t2-eth0 netns t2
ip -n t1 address add 198.18.1.1/24 dev t1-eth0
ip -n t2 address add 198.18.1.2/24 dev t2-eth0
ip -n t1 link set t1-eth0 up
ip -n t2 link set t2-eth0 up
ip netns exec t1 /bin/busybox ping -c 1 -W 5 198.18.1.2

step "FRR runs"
/usr/lib/frr/zebra --version

step "ok"
