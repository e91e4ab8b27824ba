#!/usr/bin/env bash
# The reference topology in network namespaces on one host (docs/lab.md),
# dual-stack:
#
#   client 198.19.1.2 --- router (198.19.1.1 | br0 198.18.0.1, the DR)
#   2001:db8:19:1::2       (2001:db8:19:1::1 | br0 2001:db8:18::1)
#                                   |  LAN 198.18.0.0/24 and 2001:db8:18::/64 (a bridge in the router)
#          d1 198.18.0.2   d2 198.18.0.3   rs1 198.18.0.4   rs2 198.18.0.5
#          2001:db8:18::2  ::3             ::4              ::5
#
# Directors: FRR (zebra, ospfd and ospf6d, configs by `ecmpd render`) and `ecmpd run`.
# In observe mode (the default) IPVS is programmed once by `ecmpd ipvs apply`
# (mh + port hashing, direct routing) and `ecmpd run` watches it; with
# ECMPD_LAB_MODE=managed, `ecmpd run` checks the real servers itself and
# programs IPVS (ECMPD_LAB_FLEET=1, the default: a fleet_consistent VIP, mh;
# ECMPD_LAB_FLEET=0: scheduler $ECMPD_LAB_SCHEDULER, default wrr).
# Real servers: `ecmpd realserver up`, a tiny HTTP server answering its own
# name on port 80, and a line echo server on port 9000 (echo-server.py, for
# long-lived connections). The VIP 198.18.0.100/32 lives on each healthy
# director's lo; the router spreads flows over them by ECMP. The IPv6 VIP
# 2001:db8:18:ff::100/128 (port 80, the same real servers over IPv6) is
# announced with OSPFv3 the same way; ECMPD_LAB_IPV6=0 leaves IPv6 out
# (an IPv4-only lab: no ospf6d, and a drain reloads one daemon, not two).
# ECMPD_LAB_REAL_SERVERS=3 adds rs3 198.18.0.6 (a third server shows whether a
# flow moved to another director lands on the same one of the live servers).
# ECMPD_LAB_DNS=1 adds a DNS server on each real server (Debian's dnsmasq,
# on its address and the VIP: svc.example A is 198.18.0.5N on rsN) and, in
# managed mode, a UDP service VIP:53 checked with `type: dns`.
# ECMPD_LAB_VIA_VIP=1 (managed mode) checks port 80 through the VIP path
# (`via_vip: true`); port 9000 keeps a plain tcp check to each server's address.
#
#   lab.sh up | down | status
#   lab.sh fail-director N [4|6] | restore-director N [4|6]
#                                                 (N = 1 or 2: every port-80 IPVS weight 0 / back, of one
#                                                  family or, without 4 or 6, of both; observe mode)
#   lab.sh drain-director N | undrain-director N  (`ecmpd drain` on director N / undrain)
#   lab.sh fail-rs N | restore-rs N               (stop its HTTP server; observe mode also sets weight 0 / back)
#   lab.sh fail-echo N | restore-echo N           (stop / start real server N's echo server on port 9000)
#   lab.sh fail-dns N | restore-dns N             (ECMPD_LAB_DNS=1: stop / start real server N's dnsmasq)
#   lab.sh reload-director N                      (SIGHUP to director N's `ecmpd run`: its config again)
#   lab.sh exec NODE CMD...                       (run a command in client, router, d1, d2, rs1 or rs2)
#
# Needs root, iproute2, FRR, ipvsadm, python3, curl, and a kernel with IPVS
# (`make demo` runs this inside the kernel tier's VM when the host has none).
# Everything it makes carries the prefix $ECMPD_LAB_PREFIX (default ecmpdlab)
# and lives in $ECMPD_LAB_DIR (default /run/ecmpd-lab); `down` removes only
# that, and stops only processes it started (pid files).
set -euo pipefail

P=${ECMPD_LAB_PREFIX:-ecmpdlab}
DIR=${ECMPD_LAB_DIR:-/run/ecmpd-lab}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# The binary the package ships (`make release`); ECMPD overrides it.
ECMPD=${ECMPD:-$ROOT/.build-release/release/ecmpd}
VIP=198.18.0.100
VIP6=2001:db8:18:ff::100
IPV6=${ECMPD_LAB_IPV6:-1}
MODE=${ECMPD_LAB_MODE:-observe}
FLEET=${ECMPD_LAB_FLEET:-1}
SCHEDULER=${ECMPD_LAB_SCHEDULER:-wrr}
REAL_SERVERS=${ECMPD_LAB_REAL_SERVERS:-2}
DNS=${ECMPD_LAB_DNS:-0}
VIA_VIP=${ECMPD_LAB_VIA_VIP:-0}
case "$REAL_SERVERS" in 2 | 3) ;; *) echo "lab: error: ECMPD_LAB_REAL_SERVERS is 2 or 3, not $REAL_SERVERS" >&2; exit 2 ;; esac
case "$IPV6" in 0) FAMILIES="4" ;; 1) FAMILIES="4 6" ;; *) echo "lab: error: ECMPD_LAB_IPV6 is 0 or 1, not $IPV6" >&2; exit 2 ;; esac
NODES=(client router d1 d2)
for n in $(seq "$REAL_SERVERS"); do NODES+=("rs$n"); done

ns() { echo "$P-$1"; }
in_ns() { local node=$1; shift; ip netns exec "$(ns "$node")" "$@"; }
say() { echo "lab: $*"; }
die() { echo "lab: error: $*" >&2; exit 1; }

director_address() { echo "198.18.0.$(( $1 + 1 ))"; }
rs_address() { echo "198.18.0.$(( $1 + 3 ))"; }
director_address6() { echo "2001:db8:18::$(( $1 + 1 ))"; }
rs_address6() { echo "2001:db8:18::$(( $1 + 3 ))"; }

# real_servers entries for a director's config: one per real server, with
# the given port and check ("" for none); family 6 lists their IPv6 addresses.
real_server_entries() {  # port check [family]
  local n sep="" address
  for n in $(seq "$REAL_SERVERS"); do
    if [ "${3:-4}" = 6 ]; then address="\"$(rs_address6 "$n")\""; else address=$(rs_address "$n"); fi
    printf '%s\n          { address: %s, port: %s, weight: 1%s }' "$sep" "$address" "$1" "${2:+, check: $2}"
    sep=","
  done
}

# A director's ospf6 section in a dual-stack lab (a comment otherwise).
ospf6_line() {
  if [ "$IPV6" = 1 ]; then echo "ospf6: { interfaces: [eth0] }"; else echo "# IPv4 only (ECMPD_LAB_IPV6=0): no ospf6"; fi
}

require() {
  [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, FRR, IPVS)"
  [ -x "$ECMPD" ] || die "no ecmpd binary at $ECMPD (make build, or set ECMPD)"
  for tool in ip ipvsadm python3 curl /usr/lib/frr/zebra /usr/lib/frr/ospfd; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh)"
  done
}

require_ipvs() {
  modprobe ip_vs 2>/dev/null || true
  if [ ! -e /proc/net/ip_vs ]; then
    die "this kernel has no IPVS (modprobe ip_vs failed); run the lab in the kernel tier's VM: make demo"
  fi
}

# Starts a command in NODE's namespace in the background, in its own session,
# and records the command's own pid (the subshell execs into it: without the
# exec, $! would be a subshell's pid and `down` would leave the program running).
spawn_in() {  # node log pidfile command...
  local node=$1 log=$2 pidfile=$3
  shift 3
  ( exec ip netns exec "$(ns "$node")" setsid "$@" >> "$log" 2>&1 < /dev/null ) &
  echo $! > "$pidfile"
}

wait_port() {  # node port: until something listens there (python starts slowly in the VM)
  # Every try is a process start, which under TCG takes CPU from the very
  # python it waits for: a try every half second, for at least a minute.
  for _ in $(seq 120); do
    in_ns "$1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null && return 0
    sleep 0.5
  done
  die "nothing listens on port $2 in $1"
}

start_frr() {  # node config-dir
  local node=$1 etc=$2 run=/var/run/frr/$P$1
  mkdir -p "$run" && chown frr:frr /var/run/frr "$run"
  for daemon in zebra ospfd ospf6d; do
    # ospf6d only where ecmpd rendered its file (a dual-stack lab).
    [ -f "$etc/$daemon.conf" ] || continue
    in_ns "$node" /usr/lib/frr/$daemon -N "$P$node" -f "$etc/$daemon.conf" -d -u frr -g frr >> "$DIR/frr-$node.log" 2>&1
  done
}

write_director_config() {  # N
  local n=$1 node=d$1
  mkdir -p "$DIR/$node/frr" "$DIR/$node/state"
  chown frr:frr "$DIR/$node/frr"
  if [ "$MODE" = managed ]; then write_managed_config "$n"; return; fi
  cat > "$DIR/$node/ecmpd.yaml" <<EOF
# Director $n of the lab (deploy/lab/lab.sh).
node: { hostname: $node, state_dir: $DIR/$node/state }
ospf: { interfaces: [eth0] }
$(ospf6_line)
routing: { config_dir: $DIR/$node/frr, pathspace: $P$node, reload: frr-reload }
status: { listen: 127.0.0.1:9477 }
controller: { poll_interval: 100ms, on_stop: withdraw, keepalived_config: $DIR/keepalived.conf }
vips:
$(observed_vip "$VIP" web 4)
EOF
  if [ "$IPV6" = 1 ]; then observed_vip "\"$VIP6\"" web6 6 >> "$DIR/$node/ecmpd.yaml"; fi
}

# One VIP of the observe-mode config: port 80 over the real servers'
# addresses of the given family, mh with port hashing, direct routing.
observed_vip() {  # address name family
  cat <<EOF
  - address: $1
    name: $2
    health: { min_healthy: 1, rise: 3, fall: 2, hold_down: 2s }
    services:
      - protocol: tcp
        port: 80
        scheduler: mh
        scheduler_flags: [mh-port, mh-fallback]
        forwarding: dr
        real_servers: [$(real_server_entries 80 "" "$3") ]
EOF
}

write_managed_config() {  # N
  local n=$1 node=d$1 fleet=true scheduler=""
  # A 2 s timeout: python's single-threaded http.server under an emulated
  # CPU sometimes needs more than a second, and a false down flaps IPVS.
  local via=""
  [ "$VIA_VIP" = 1 ] && via=", via_vip: true"
  local http="{ type: http, path: /, interval: 1s, timeout: 2s, fall: 2, rise: 2$via }"
  local tcp="{ type: tcp, interval: 1s, timeout: 2s, fall: 2, rise: 2 }"
  local dns="{ type: dns, query_name: svc.example, query_type: A, require_answer: true, interval: 1s, timeout: 2s, fall: 2, rise: 2 }"
  if [ "$FLEET" != 1 ]; then fleet=false; scheduler="scheduler: $SCHEDULER, "; fi
  cat > "$DIR/$node/ecmpd.yaml" <<EOF
# Director $n of the lab (deploy/lab/lab.sh), managed mode.
mode: managed
node: { hostname: $node, state_dir: $DIR/$node/state }
ospf: { interfaces: [eth0] }
$(ospf6_line)
routing: { config_dir: $DIR/$node/frr, pathspace: $P$node, reload: frr-reload }
status: { listen: 127.0.0.1:9477 }
controller: { poll_interval: 100ms, on_stop: withdraw, drain_wait: 2s }
vips:
  - address: $VIP
    name: web
    fleet_consistent: $fleet
    health: { min_healthy: 1, rise: 3, fall: 2, hold_down: 2s }
    services:
      - { protocol: tcp, port: 80, forwarding: dr, ${scheduler}real_servers: [$(real_server_entries 80 "$http") ] }
      - { protocol: tcp, port: 9000, forwarding: dr, ${scheduler}real_servers: [$(real_server_entries 9000 "$tcp") ] }
EOF
  if [ "$DNS" = 1 ]; then
    echo "      - { protocol: udp, port: 53, forwarding: dr, ${scheduler}real_servers: [$(real_server_entries 53 "$dns") ] }" >> "$DIR/$node/ecmpd.yaml"
  fi
  # IPv6: port 80 with a plain http check (ecmpd refuses via_vip for IPv6:
  # IPVS hooks a director's own traffic only for IPv4).
  if [ "$IPV6" = 1 ]; then
    local http6="{ type: http, path: /, interval: 1s, timeout: 2s, fall: 2, rise: 2 }"
    cat >> "$DIR/$node/ecmpd.yaml" <<EOF
  - address: "$VIP6"
    name: web6
    fleet_consistent: $fleet
    health: { min_healthy: 1, rise: 3, fall: 2, hold_down: 2s }
    services:
      - { protocol: tcp, port: 80, forwarding: dr, ${scheduler}real_servers: [$(real_server_entries 80 "$http6" 6) ] }
EOF
  fi
}

up() {
  require
  require_ipvs
  [ -e "/var/run/netns/$(ns router)" ] && die "a lab with prefix $P is already up (lab.sh down first)"
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  : > "$DIR/keepalived.conf"   # observe mode reads it for ha_suspend; the lab has no keepalived
  for node in "${NODES[@]}"; do
    ip netns add "$(ns "$node")"
    in_ns "$node" ip link set lo up
  done
  # The LAN: a bridge in the router's namespace, one veth per machine.
  # No multicast snooping: the LAN floods multicast as a plain switch does,
  # so OSPF's hellos and IPv6 neighbour discovery never wait on MLD reports.
  in_ns router ip link add br0 type bridge mcast_snooping 0
  in_ns router ip addr add 198.18.0.1/24 dev br0
  in_ns router ip link set br0 up
  for node in "${NODES[@]:2}"; do
    ip link add "$P-$node-a" type veth peer name "$P-$node-b"
    ip link set "$P-$node-a" netns "$(ns router)"
    ip link set "$P-$node-b" netns "$(ns "$node")"
    in_ns router ip link set "$P-$node-a" name "p-$node"
    in_ns router ip link set "p-$node" master br0 up
    in_ns "$node" ip link set "$P-$node-b" name eth0
    in_ns "$node" ip link set eth0 up
  done
  ip link add "$P-cl-a" type veth peer name "$P-cl-b"
  ip link set "$P-cl-a" netns "$(ns router)"
  ip link set "$P-cl-b" netns "$(ns client)"
  in_ns router ip link set "$P-cl-a" name cl0
  in_ns router ip addr add 198.19.1.1/24 dev cl0
  in_ns router ip link set cl0 up
  in_ns client ip link set "$P-cl-b" name eth0
  in_ns client ip addr add 198.19.1.2/24 dev eth0
  in_ns client ip link set eth0 up
  in_ns client ip route add default via 198.19.1.1
  in_ns router sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
  if [ "$IPV6" = 1 ]; then
    # nodad: every address usable at once (duplicate detection would hold
    # them tentative for a second or more, and the lab has no duplicates).
    in_ns router ip -6 addr add 2001:db8:18::1/64 dev br0 nodad
    in_ns router ip -6 addr add 2001:db8:19:1::1/64 dev cl0 nodad
    in_ns client ip -6 addr add 2001:db8:19:1::2/64 dev eth0 nodad
    in_ns client ip -6 route add default via 2001:db8:19:1::1
    in_ns router sysctl -q -w net.ipv6.conf.all.forwarding=1 net.ipv6.fib_multipath_hash_policy=1
  fi

  for n in 1 2; do
    in_ns "d$n" ip addr add "$(director_address "$n")/24" dev eth0
    in_ns "d$n" ip route add default via 198.18.0.1
    if [ "$IPV6" = 1 ]; then
      in_ns "d$n" ip -6 addr add "$(director_address6 "$n")/64" dev eth0 nodad
      in_ns "d$n" ip -6 route add default via 2001:db8:18::1
    fi
    in_ns "d$n" sysctl -q -p "$ROOT/deploy/sysctl/90-ecmpd-director.conf"
    # The line the sysctl file leaves commented out for via_vip checks.
    if [ "$VIA_VIP" = 1 ]; then in_ns "d$n" sysctl -q -w net.ipv4.conf.all.accept_local=1; fi
  done
  for n in $(seq "$REAL_SERVERS"); do
    in_ns "rs$n" ip addr add "$(rs_address "$n")/24" dev eth0
    in_ns "rs$n" ip route add default via 198.18.0.1
    if [ "$IPV6" = 1 ]; then
      in_ns "rs$n" ip -6 addr add "$(rs_address6 "$n")/64" dev eth0 nodad
      in_ns "rs$n" ip -6 route add default via 2001:db8:18::1
    fi
  done

  # Router: FRR from `ecmpd render --role router`.
  mkdir -p "$DIR/router/frr" && chown frr:frr "$DIR/router/frr"
  local router_vips="{ address: $VIP, name: web }" router_ospf6="# IPv4 only: no ospf6"
  if [ "$IPV6" = 1 ]; then
    router_vips+=", { address: \"$VIP6\", name: web6 }"
    router_ospf6="ospf6: { interfaces: [br0, cl0] }"
  fi
  cat > "$DIR/router/ecmpd.yaml" <<EOF
node: { hostname: router }
ospf: { interfaces: [br0, cl0] }   # render --role router makes it the DR (priority 1)
$router_ospf6
routing: { config_dir: $DIR/router/frr, pathspace: ${P}router }
vips: [$router_vips]
EOF
  in_ns router "$ECMPD" render --role router --config "$DIR/router/ecmpd.yaml" --write "$DIR/router/frr" >/dev/null
  start_frr router "$DIR/router/frr"

  # Real servers: their side of direct routing, and an HTTP server naming itself.
  for n in $(seq "$REAL_SERVERS"); do
    mkdir -p "$DIR/rs$n/www"
    echo "rs$n" > "$DIR/rs$n/www/index.html"
    in_ns "rs$n" "$ECMPD" realserver up --vip "$VIP" $([ "$IPV6" = 1 ] && echo "--vip $VIP6") --state-file "$DIR/rs$n/realserver.json" >/dev/null
    start_http "$n"
    start_echo "$n"
    if [ "$DNS" = 1 ]; then start_dns "$n"; fi
  done
  # The servers start side by side (python's start is most of a lab's
  # bring-up under TCG); then each is waited for.
  for n in $(seq "$REAL_SERVERS"); do
    wait_port "rs$n" 80
    wait_port "rs$n" 9000
  done

  # Directors: IPVS, FRR, then the controller.
  for n in 1 2; do
    write_director_config "$n"
    # Observe mode: the table is programmed once, as keepalived would;
    # managed mode: `ecmpd run` programs it from its checks.
    [ "$MODE" = managed ] || in_ns "d$n" "$ECMPD" ipvs apply --config "$DIR/d$n/ecmpd.yaml" >/dev/null
    in_ns "d$n" "$ECMPD" render --config "$DIR/d$n/ecmpd.yaml" --write "$DIR/d$n/frr" >/dev/null
    start_frr "d$n" "$DIR/d$n/frr"
    spawn_in "d$n" "$DIR/d$n/ecmpd.log" "$DIR/d$n/ecmpd.pid" "$ECMPD" run --config "$DIR/d$n/ecmpd.yaml"
  done
  say "up: client, router, d1, d2, rs1, rs2 (prefix $P, files in $DIR, $MODE mode, IPv${FAMILIES// / and IPv})"
}

start_echo() {  # N
  local n=$1
  spawn_in "rs$n" "$DIR/rs$n/echo.log" "$DIR/rs$n/echo.pid" python3 "$ROOT/deploy/lab/echo-server.py" --port 9000 --name "rs$n"
}

start_dns() {  # N: dnsmasq in the foreground (its pid is the pid file's), answering svc.example only
  local n=$1
  spawn_in "rs$n" "$DIR/rs$n/dns.log" "$DIR/rs$n/dns.pid" /usr/sbin/dnsmasq --keep-in-foreground \
    --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address="$(rs_address "$n")" \
    --listen-address="$VIP" --port=53 --address=/svc.example/198.18.0.5"$n" --user=root --group=root --pid-file=
}

# http.server bound to :: takes both families (python's DualStackServer).
http_bind() { if [ "$IPV6" = 1 ]; then echo "::"; else echo "0.0.0.0"; fi; }

start_http() {  # N
  local n=$1
  spawn_in "rs$n" "$DIR/rs$n/http.log" "$DIR/rs$n/http.pid" python3 -m http.server 80 --bind "$(http_bind)" --directory "$DIR/rs$n/www"
}

stop_pid() {  # pidfile
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  for n in 1 2; do stop_pid "$DIR/d$n/ecmpd.pid"; done
  for n in 1 2 3; do
    stop_pid "$DIR/rs$n/http.pid"
    stop_pid "$DIR/rs$n/echo.pid"
    stop_pid "$DIR/rs$n/dns.pid"
  done
  for node in d1 d2 router; do
    for daemon in ospf6d ospfd zebra; do stop_pid "/var/run/frr/$P$node/$daemon.pid"; done
    rm -rf "/var/run/frr/$P$node"
  done
  for node in client router d1 d2 rs1 rs2 rs3; do
    ip netns del "$(ns "$node")" 2>/dev/null || true
  done
  rm -rf "$DIR"
  say "down"
}

weights() {  # director-number weight [real-server-number or all] [families: "4", "6" or "4 6"]
  local n=$1 weight=$2 only=${3:-all} families=${4:-$FAMILIES} family m
  for family in $families; do
    case "$family" in 4 | 6) ;; *) die "the family is 4 or 6, not $family" ;; esac
    if [ "$family" = 6 ] && [ "$IPV6" != 1 ]; then die "this lab has no IPv6 (ECMPD_LAB_IPV6=0)"; fi
    for m in $(seq "$REAL_SERVERS"); do
      [ "$only" = all ] || [ "$only" = "$m" ] || continue
      if [ "$family" = 4 ]; then
        in_ns "d$n" ipvsadm -e -t "$VIP:80" -r "$(rs_address "$m"):80" -g -w "$weight"
      else
        in_ns "d$n" ipvsadm -e -t "[$VIP6]:80" -r "[$(rs_address6 "$m")]:80" -g -w "$weight"
      fi
    done
  done
}

managed_lab() { grep -q '^mode: managed' "$DIR/d1/ecmpd.yaml"; }

status() {
  for vip in $VIP $([ "$IPV6" = 1 ] && echo "$VIP6"); do
    say "router's route to $vip:"
    in_ns router "$ECMPD" verify --vip "$vip" || true
  done
  for n in 1 2; do
    say "d$n:"
    in_ns "d$n" "$ECMPD" status || true
    in_ns "d$n" ipvsadm -Ln --stats
  done
}

case "${1:-}" in
  up)
    [[ -x "$ECMPD" ]] || { echo "lab: $ECMPD missing: run make release (or set ECMPD)" >&2; exit 1; }
    up ;;
  down) down ;;
  status) status ;;
  fail-director) weights "${2:?director number}" 0 all "${3:-}" ;;
  restore-director) weights "${2:?director number}" 1 all "${3:-}" ;;
  drain-director) in_ns "d${2:?director number}" "$ECMPD" drain --config "$DIR/d$2/ecmpd.yaml" ;;
  undrain-director) in_ns "d${2:?director number}" "$ECMPD" undrain --config "$DIR/d$2/ecmpd.yaml" ;;
  # Observe mode stands in for keepalived's reaction; managed mode's own checks notice.
  fail-rs)
    stop_pid "$DIR/rs${2:?real server number}/http.pid"
    managed_lab || for n in 1 2; do weights "$n" 0 "$2"; done ;;
  restore-rs)
    start_http "${2:?real server number}"
    wait_port "rs$2" 80
    managed_lab || for n in 1 2; do weights "$n" 1 "$2"; done ;;
  fail-echo) stop_pid "$DIR/rs${2:?real server number}/echo.pid" ;;
  restore-echo)
    start_echo "${2:?real server number}"
    wait_port "rs$2" 9000 ;;
  fail-dns) stop_pid "$DIR/rs${2:?real server number}/dns.pid" ;;
  restore-dns) start_dns "${2:?real server number}" ;;
  reload-director) kill -HUP "$(cat "$DIR/d${2:?director number}/ecmpd.pid")" ;;
  exec) node=${2:?node}; shift 2; in_ns "$node" "$@" ;;
  *) sed -n '2,/^set -euo pipefail/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
