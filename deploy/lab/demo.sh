#!/usr/bin/env bash
# The lab's story in one run (docs/lab.md): the router spreads a client's
# requests over both directors and both real servers; director 1's backends
# fail, it withdraws the VIP and the router's ECMP set shrinks, the client
# is still served; they come back, so does director 1. Prints a timeline in
# milliseconds since the start and exits non-zero if any step fails. The lab
# is torn down on every exit.
set -euo pipefail

LAB="$(cd "$(dirname "$0")" && pwd)/lab.sh"
export ECMPD=${ECMPD:-$(cd "$(dirname "$0")/../.." && pwd)/.build-release/release/ecmpd}
VIP=198.18.0.100
REQUESTS=${ECMPD_DEMO_REQUESTS:-200}
START=$(date +%s%3N)

at() { printf '%7d ms  %s\n' "$(( $(date +%s%3N) - START ))" "$*"; }
fail() { at "FAILED: $*"; exit 1; }

cleanup() { "$LAB" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

# Waits until the router's route to the VIP has N nexthops; prints the set.
wait_for_nexthops() {  # N timeout-seconds
  local want=$1 limit=$2 began
  began=$(date +%s%3N)
  while (( $(date +%s%3N) - began < limit * 1000 )); do
    if "$LAB" exec router "$ECMPD" verify --vip "$VIP" --expect "$want" > /tmp/ecmpd-demo-verify.$$ 2>&1; then
      at "router: $(head -1 /tmp/ecmpd-demo-verify.$$)  [$(( $(date +%s%3N) - began )) ms]"
      rm -f /tmp/ecmpd-demo-verify.$$
      return 0
    fi
    sleep 0.05
  done
  cat /tmp/ecmpd-demo-verify.$$ >&2 || true
  fail "the router's route never had $want nexthop(s) within ${limit}s"
}

# Connections each director's IPVS has scheduled for the VIP so far. The
# kernel folds its per-CPU counters into these every 2 s, so `requests`
# waits that long before the second reading.
director_connections() {  # N
  "$LAB" exec "d$1" ipvsadm -Ln --stats --exact -t "$VIP:80" | awk '$1 == "TCP" { print $3 }'
}

# REQUESTS new connections from the client; prints the spread.
requests() {
  local before1 before2 out ok rs1 rs2
  before1=$(director_connections 1); before2=$(director_connections 2)
  out=$("$LAB" exec client sh -c "for i in \$(seq $REQUESTS); do curl -s --max-time 3 http://$VIP/ || echo FAILED; done")
  sleep 2.5
  ok=$(grep -c '^rs[12]$' <<< "$out" || true)
  rs1=$(grep -c '^rs1$' <<< "$out" || true)
  rs2=$(grep -c '^rs2$' <<< "$out" || true)
  at "client: $ok/$REQUESTS answered; real servers rs1=$rs1 rs2=$rs2; directors d1=$(( $(director_connections 1) - before1 )) d2=$(( $(director_connections 2) - before2 ))"
  [ "$ok" -eq "$REQUESTS" ] || fail "$(( REQUESTS - ok )) request(s) failed"
}

at "lab up (client, router, 2 directors, 2 real servers in namespaces)"
"$LAB" up
wait_for_nexthops 2 120
requests

at "fail director 1: every IPVS weight to 0 (as keepalived's inhibit_on_failure would)"
"$LAB" fail-director 1
wait_for_nexthops 1 30
requests

at "restore director 1's weights"
"$LAB" restore-director 1
wait_for_nexthops 2 60
requests

at "history of d1:"
"$LAB" exec d1 "$ECMPD" history --db "${ECMPD_LAB_DIR:-/run/ecmpd-lab}/d1/state/history.sqlite" --vip "$VIP" \
  | grep -E 'announce|withdraw' | sed 's/^/           /'
"$LAB" down
trap - EXIT
at "lab down; demo ok"
