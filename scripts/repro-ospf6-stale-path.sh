#!/bin/bash
# Reproduces FRR 8.4 ospf6d keeping a withdrawn director's ECMP path to an
# IPv6 /128 (docs/benchmarks.md, "IPv6 beside IPv4"), without IPVS or ecmpd:
# a router and two directors in network namespaces on this host, zebra and
# ospf6d with configs equal to ecmpd's rendered ones, the /128 added to and
# deleted from a director's lo with `ip`. Fresh namespaces and daemons per
# start ("boot"); per boot three withdrawals and re-announcements of
# director $WD, each watched for 10 s on the router's kernel route.
#   TOPO=lan (one bridge, as the lab) or links (a link per director)
#   BOOTS=N, WD=d1|d2 (which director withdraws), LATEVIP=1 (add the /128s
#   after the daemons start, LATEWAIT s later), TOUCH4=1 (add and delete an
#   IPv4 /32 on d1's lo first)
# Prints per boot the milliseconds to each withdrawal (w) and announcement
# (a); STALE(ms) is a withdrawal the router's route never showed.
# Needs root, iproute2, FRR. Namespaces o6s-*, addresses 2001:db8::/32;
# removes them and stops its daemons (by pid) on exit.
set -uo pipefail
TOPO=${TOPO:-lan}
BOOTS=${BOOTS:-8}
WD=${WD:-d1}
P=o6s
VIP=2001:db8:ffff::10
D=/tmp/$P
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for n in r d1 d2; do ip netns del $P-$n 2>/dev/null; rm -rf /var/run/frr/$P$n; done
  pids=()
}
trap cleanup EXIT
start() {  # node daemon conf
  mkdir -p /var/run/frr/$P$1 && chown frr:frr /var/run/frr/$P$1
  ip netns exec $P-$1 /usr/lib/frr/$2 -N $P$1 -f $3 -u frr -g frr -i /var/run/frr/$P$1/$2.pid >>$D/$1-$2.log 2>&1 &
  pids+=($!)
}
nexthops() { ip netns exec $P-r ip -6 route show $VIP/128 | grep -c "via fe80" ; }
mkdir -p $D
for boot in $(seq $BOOTS); do
  cleanup
  for n in r d1 d2; do ip netns add $P-$n; ip netns exec $P-$n ip link set lo up; done
  if [ "$TOPO" = links ]; then
    i=1
    for n in d1 d2; do
      ip link add $P-$n-a type veth peer name $P-$n-b
      ip link set $P-$n-a netns $P-r; ip link set $P-$n-b netns $P-$n
      ip netns exec $P-r ip link set $P-$n-a name $n up
      ip netns exec $P-$n ip link set $P-$n-b name eth0 up
      ip netns exec $P-r ip -6 addr add 2001:db8:$i::1/64 dev $n nodad
      ip netns exec $P-$n ip -6 addr add 2001:db8:$i::2/64 dev eth0 nodad
      i=$((i+1))
    done
    rifs="d1 d2"
  else
    ip netns exec $P-r ip link add br0 type bridge mcast_snooping 0
    ip netns exec $P-r ip link set br0 up
    ip netns exec $P-r ip -6 addr add 2001:db8:1::1/64 dev br0 nodad
    i=2
    for n in d1 d2; do
      ip link add $P-$n-a type veth peer name $P-$n-b
      ip link set $P-$n-a netns $P-r; ip link set $P-$n-b netns $P-$n
      ip netns exec $P-r ip link set $P-$n-a name p$n master br0 up
      ip netns exec $P-$n ip link set $P-$n-b name eth0 up
      ip netns exec $P-$n ip -6 addr add 2001:db8:1::$i/64 dev eth0 nodad
      i=$((i+1))
    done
    rifs="br0"
  fi
  ip netns exec $P-r sysctl -qw net.ipv6.conf.all.forwarding=1
  # router
  { echo "hostname r"; for f in $rifs; do printf 'interface %s\n ipv6 ospf6 area 0.0.0.0\n ipv6 ospf6 hello-interval 1\n ipv6 ospf6 dead-interval 4\n ipv6 ospf6 priority 1\n!\n' $f; done
    printf 'router ospf6\n ospf6 router-id 198.18.9.1\n maximum-paths 64\n timers lsa min-arrival 0\n timers throttle spf 0 50 1000\n!\n'; } > $D/r-ospf6d.conf
  echo "hostname r" > $D/r-zebra.conf
  start r zebra $D/r-zebra.conf; sleep 0.3; start r ospf6d $D/r-ospf6d.conf
  k=2
  for n in d1 d2; do
    [ "${LATEVIP:-0}" = 1 ] || ip netns exec $P-$n ip -6 addr add $VIP/128 dev lo nodad
    printf 'hostname %s\ninterface eth0\n ipv6 ospf6 area 0.0.0.0\n ipv6 ospf6 hello-interval 1\n ipv6 ospf6 dead-interval 4\n ipv6 ospf6 priority 0\n ipv6 ospf6 cost 10\n!\ninterface lo\n ipv6 ospf6 area 0.0.0.0\n ipv6 ospf6 cost 20\n ipv6 ospf6 passive\n!\nrouter ospf6\n ospf6 router-id 198.18.9.%s\n timers lsa min-arrival 0\n timers throttle spf 0 50 1000\n!\n' $n $k > $D/$n-ospf6d.conf
    echo "hostname $n" > $D/$n-zebra.conf
    start $n zebra $D/$n-zebra.conf; sleep 0.3; start $n ospf6d $D/$n-ospf6d.conf
    k=$((k+1))
  done
  t0=$(date +%s%3N)
  if [ "${LATEVIP:-0}" = 1 ]; then
    sleep "${LATEWAIT:-8}"
    for n in d1 d2; do ip netns exec $P-$n ip -6 addr add $VIP/128 dev lo nodad; done
  fi
  until [ "$(nexthops)" = 2 ]; do sleep 0.1; [ $(( $(date +%s%3N) - t0 )) -gt 60000 ] && { echo "boot $boot: never converged"; continue 2; }; done
  conv=$(( $(date +%s%3N) - t0 ))
  sleep "${SETTLE:-0}"
  results=""
  if [ "${TOUCH4:-0}" = 1 ]; then
    ip netns exec $P-d1 ip addr add 198.18.77.1/32 dev lo; sleep 0.5; ip netns exec $P-d1 ip addr del 198.18.77.1/32 dev lo; sleep 0.5
  fi
  for trial in 1 2 3; do
    t1=$(date +%s%3N)
    ip netns exec $P-$WD ip -6 addr del $VIP/128 dev lo
    until [ "$(nexthops)" = 1 ]; do sleep 0.02; [ $(( $(date +%s%3N) - t1 )) -gt 10000 ] && break; done
    w=$(( $(date +%s%3N) - t1 )); [ "$(nexthops)" = 1 ] || w="STALE(${w})"
    ip netns exec $P-$WD ip -6 addr add $VIP/128 dev lo nodad
    t2=$(date +%s%3N)
    until [ "$(nexthops)" = 2 ]; do sleep 0.02; [ $(( $(date +%s%3N) - t2 )) -gt 10000 ] && break; done
    a=$(( $(date +%s%3N) - t2 )); [ "$(nexthops)" = 2 ] || a="MISSING(${a})"
    results="$results w=$w a=$a;"
    sleep 0.5
  done
  echo "topo=$TOPO boot $boot: converged ${conv} ms;$results"
done
