#!/usr/bin/env bash
# The lab's story in one run (docs/lab.md), over IPv4 and IPv6: the router
# spreads a client's requests to each VIP over both directors and both real
# servers; director 1's backends of one family fail, it withdraws that VIP
# and the router's ECMP set for it shrinks while the other family's stays,
# the client is still served; they come back, so does director 1. Prints a timeline in
# milliseconds since the start and exits non-zero if any step fails. The lab
# is torn down on every exit.
set -euo pipefail

LAB="$(cd "$(dirname "$0")" && pwd)/lab.sh"
export ECMPD=${ECMPD:-$(cd "$(dirname "$0")/../.." && pwd)/.build-release/release/ecmpd}
VIP=198.18.0.100
VIP6=2001:db8:18:ff::100
REQUESTS=${ECMPD_DEMO_REQUESTS:-200}
START=$(date +%s%3N)

at() { printf '%7d ms  %s\n' "$(( $(date +%s%3N) - START ))" "$*"; }
fail() { at "FAILED: $*"; exit 1; }

cleanup() { "$LAB" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

# Waits until the router's route to a VIP has N nexthops; prints the set.
wait_for_nexthops() {  # VIP N timeout-seconds
  local vip=$1 want=$2 limit=$3 began
  began=$(date +%s%3N)
  while (( $(date +%s%3N) - began < limit * 1000 )); do
    if "$LAB" exec router "$ECMPD" verify --vip "$vip" --expect "$want" > /tmp/ecmpd-demo-verify.$$ 2>&1; then
      at "router: $(head -1 /tmp/ecmpd-demo-verify.$$)  [$(( $(date +%s%3N) - began )) ms]"
      rm -f /tmp/ecmpd-demo-verify.$$
      return 0
    fi
    sleep 0.05
  done
  cat /tmp/ecmpd-demo-verify.$$ >&2 || true
  fail "the router's route to $vip never had $want nexthop(s) within ${limit}s"
}

# VIP:80 as ipvsadm names the service ([VIP]:80 for IPv6) and as a URL.
service() { if [[ $1 == *:* ]]; then echo "[$1]:80"; else echo "$1:80"; fi; }
url() { if [[ $1 == *:* ]]; then echo "http://[$1]/"; else echo "http://$1/"; fi; }

# Connections each director's IPVS has scheduled for a VIP so far. The
# kernel folds its per-CPU counters into these every 2 s, so `requests`
# waits that long before the second reading.
director_connections() {  # N VIP
  "$LAB" exec "d$1" ipvsadm -Ln --stats --exact -t "$(service "$2")" | awk '$1 == "TCP" { print $3 }'
}

# REQUESTS new connections from the client to a VIP; prints the spread.
requests() {  # VIP
  local vip=$1 before1 before2 out ok rs1 rs2
  before1=$(director_connections 1 "$vip"); before2=$(director_connections 2 "$vip")
  out=$("$LAB" exec client sh -c "for i in \$(seq $REQUESTS); do curl -s --max-time 3 $(url "$vip") || echo FAILED; done")
  sleep 2.5
  ok=$(grep -c '^rs[12]$' <<< "$out" || true)
  rs1=$(grep -c '^rs1$' <<< "$out" || true)
  rs2=$(grep -c '^rs2$' <<< "$out" || true)
  at "client -> $vip: $ok/$REQUESTS answered; real servers rs1=$rs1 rs2=$rs2; directors d1=$(( $(director_connections 1 "$vip") - before1 )) d2=$(( $(director_connections 2 "$vip") - before2 ))"
  [ "$ok" -eq "$REQUESTS" ] || fail "$(( REQUESTS - ok )) request(s) to $vip failed"
}

at "lab up (client, router, 2 directors, 2 real servers in namespaces; IPv4 and IPv6)"
"$LAB" up
wait_for_nexthops "$VIP" 2 120
wait_for_nexthops "$VIP6" 2 60
requests "$VIP"
requests "$VIP6"

for family in 4 6; do
  if [ "$family" = 4 ]; then vip=$VIP other=$VIP6; else vip=$VIP6 other=$VIP; fi
  at "fail director 1's IPv$family backends: every weight to 0 (as keepalived's inhibit_on_failure would)"
  "$LAB" fail-director 1 "$family"
  wait_for_nexthops "$vip" 1 30
  wait_for_nexthops "$other" 2 1
  requests "$vip"

  at "restore director 1's IPv$family weights"
  "$LAB" restore-director 1 "$family"
  wait_for_nexthops "$vip" 2 60
  requests "$vip"
done

at "history of d1:"
"$LAB" exec d1 "$ECMPD" history --db "${ECMPD_LAB_DIR:-/run/ecmpd-lab}/d1/state/history.sqlite" \
  | grep -E 'announce|withdraw' | sed 's/^/           /'
"$LAB" down
trap - EXIT
at "lab down; demo ok"
