#!/usr/bin/env bash
# Check throughput and cost (docs/benchmarks.md, "Managed mode: checks"),
# inside one VM boot: N real servers with a TCP check every second, checked
# by keepalived's checker and by `ecmpd run` in managed mode, one after the
# other on the same namespace and the same real servers. The ecmpd config is
# `ecmpd import-keepalived` of the keepalived.conf keepalived runs, so both
# do the same work. For each: CPU (utime + stime of its processes) and RSS
# over a WINDOW-second window after a warm-up (per second of the window as
# measured: its IPVS samples make it run past WINDOW, most under TCG), the check rate the real
# servers saw (handshakes their kernel completed per second), and real servers missing from IPVS at
# the worst of the window's samples (every real server is alive: each
# missing one is a false down; ecmpd's own count of down verdicts too).
#   make bench-checks
#   Tests/kernel/run-in-vm.sh --out DIR -- Tests/kernel/bench-checks.sh ECMPD "1000 10000" [WINDOW]
# With --host first it runs on this kernel without IPVS: ecmpd alone (keepalived's
# checker cannot start without IPVS), false downs from ecmpd's own verdicts:
#   make bench-checks-host
#   Tests/kernel/bench-checks.sh --host ECMPD "10000" [WINDOW]
# Variants: ECMPD_BENCH_SERVERS=veth (the real servers in a namespace of
# their own behind a veth pair with threaded NAPI, so each side's receive
# work runs in its own kernel thread, as a NIC's would, and not inline in
# the checker's connect; the director side's thread is measured and
# reported beside the checker), ECMPD_BENCH_POLL=1s (ecmpd's controller.poll_interval),
# ECMPD_BENCH_ONLY=ecmpd (skip keepalived's run), ECMPD_BENCH_PERF=1 (after
# the window, a 10 s `perf record` of each program, its report beside the
# results as perf-PROGRAM-N.txt), ECMPD_BENCH_SYSCALLS=1 (after the window,
# each program's system calls by kind over 10 s, from the kernel's syscall
# tracepoints, as syscalls-PROGRAM-N.txt: how many of each per check).
# ECMPD_BENCH_VIA_VIP=1: ecmpd twice per N, in one boot or host run, plain
# TCP checks and then the same checks with `via_vip: true` (keepalived is
# not run): `make bench-checks-via-vip`. On the host (no IPVS) the VIPs are
# local to the checker's namespace, so a probe ends there: the figures are
# the checker's own extra cost (source lookup, SO_MARK, bind), not IPVS's.
# Results: stdout and $ECMPD_VM_OUT/bench-checks.txt.
set -euo pipefail
shopt -s inherit_errexit

host=0
if [[ "${1:-}" == --host ]]; then host=1; shift; fi
if [[ "${ECMPD_VM:-}" != 1 && "$host" != 1 ]]; then
  echo "bench-checks: run me inside the VM (Tests/kernel/run-in-vm.sh --out DIR -- $0), or with --host for ecmpd alone" >&2
  exit 2
fi
ecmpd=$(realpath "${1:-.build-release/release/ecmpd}")
counts=${2:-1000 10000}
window=${3:-30}
warmup=15
poll=${ECMPD_BENCH_POLL:-1s}
only=${ECMPD_BENCH_ONLY:-}
profile=${ECMPD_BENCH_PERF:-}
syscalls=${ECMPD_BENCH_SYSCALLS:-}
servers=${ECMPD_BENCH_SERVERS:-loopback}
via_vip=${ECMPD_BENCH_VIA_VIP:-}
[[ -z "$via_vip" ]] || only=ecmpd
[[ "$servers" == loopback || "$servers" == veth ]] ||
  { echo "bench-checks: ECMPD_BENCH_SERVERS is loopback or veth, not '$servers'" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
ns=benchchecks
rs_ns=benchchecks-rs
acceptor=''
# The daemons' logs are kept beside the results when there is an out dir.
trap 'kill_tree "$acceptor"; ip netns del "$ns" 2>/dev/null || true; ip netns del "$rs_ns" 2>/dev/null || true; [[ -z "${ECMPD_VM_OUT:-}" ]] || cp "$work"/ecmpd-*.log "$ECMPD_VM_OUT"/ 2>/dev/null; rm -rf "$work"' EXIT
out=${ECMPD_VM_OUT:-$work}/bench-checks.txt
: > "$out"

kill_tree() {  # pid: the process and its children
  [[ -n "$1" ]] || return 0
  pkill -TERM -P "$1" 2>/dev/null || true
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
in_ns() { ip netns exec "$ns" "$@"; }
ticks=$(getconf CLK_TCK)

# CPU seconds "user system" of the given pids, from /proc/PID/stat.
cpu_seconds() {
  local user=0 system=0 pid fields
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    fields=$(sed 's/.*) //' "/proc/$pid/stat")
    user=$((user + $(awk '{print $12}' <<<"$fields")))
    system=$((system + $(awk '{print $13}' <<<"$fields")))
  done
  awk -v u="$user" -v s="$system" -v hz="$ticks" 'BEGIN { printf "%.2f %.2f", u / hz, s / hz }'
}
rss_mb() {
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0))); done
  awk -v k="$total" 'BEGIN { printf "%.1f", k / 1024 }'
}
# A 10 s profile of the pids (perf's software clock: no PMU under TCG).
profile() {  # label N pids...
  [[ -n "$profile" ]] || return 0
  local label=$1 n=$2; shift 2
  local pids
  pids=$(tr ' ' ',' <<<"$*")
  perf record -q -e cpu-clock -F 499 -p "$pids" -o "$work/perf.data" -- sleep 10 > /dev/null 2>&1 || return 0
  { perf report -q -i "$work/perf.data" --no-children --sort dso --stdio
    perf report -q -i "$work/perf.data" --no-children --sort dso,symbol --stdio --percent-limit 0.3
  } 2>/dev/null | sed 's/  *$//' > "$(dirname "$out")/perf-$label-$n.txt" || true
}
# System calls by kind, nonzero ones, most first, and their total.
count_syscalls() {  # label N pids...
  [[ -n "$syscalls" ]] || return 0
  local label=$1 n=$2; shift 2
  perf stat -x, -e 'syscalls:sys_enter_*' -p "$(tr ' ' ',' <<<"$*")" -o "$work/syscalls.csv" -- sleep 10 > /dev/null 2>&1 || return 0
  awk -F, '$1 + 0 > 0 { sub(/^syscalls:sys_enter_/, "", $3); print $1, $3; t += $1 } END { print t, "total (10 s)" }' "$work/syscalls.csv" |
    sort -nr > "$(dirname "$out")/syscalls-$label-$n.txt" || true
}
accepted() { awk '{ s += $1 } END { print s + 0 }' "$work"/counts/accepted.* 2>/dev/null || echo 0; }
# Kernel counters of one namespace, their values in the order named, from
# one nstat (absolute values, no history kept; 0 for one it lacks).
counters() {  # namespace name...
  local ns=$1; shift
  ip netns exec "$ns" nstat -asz "$@" 2>/dev/null | awk -v names="$*" '
    { value[$1] = $2 }
    END { n = split(names, name, " "); for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? " " : ""), value[name[i]] + 0; print "" }'
}

ip netns add "$ns"
in_ns ip link set lo up
server_ns=$ns
if [[ "$servers" == veth ]]; then
  # The real servers' side: its own namespace, reached over rs0 <-> rs1.
  # GRO on gives a veth NAPI; threaded NAPI runs each side's receive in a
  # kernel thread (napi/rs0-*, napi/rs1-*) instead of inline in the sender's
  # system call, so the checker is charged what a NIC would charge it.
  command -v ethtool > /dev/null || { echo "bench-checks: ECMPD_BENCH_SERVERS=veth needs ethtool (scripts/install-deps.sh)" >&2; exit 1; }
  server_ns=$rs_ns
  ip netns add "$rs_ns"
  ip -n "$rs_ns" link set lo up
  in_ns ip link add rs0 type veth peer name rs1 netns "$rs_ns"
  in_ns ethtool -K rs0 gro on tso off > /dev/null
  ip netns exec "$rs_ns" ethtool -K rs1 gro on tso off > /dev/null
  in_ns ip addr add 198.18.251.1/30 dev rs0
  ip -n "$rs_ns" addr add 198.18.251.2/30 dev rs1
  in_ns ip link set rs0 up
  ip -n "$rs_ns" link set rs1 up
  in_ns sh -c 'echo 1 > /sys/class/net/rs0/threaded'
  ip netns exec "$rs_ns" sh -c 'echo 1 > /sys/class/net/rs1/threaded'
  in_ns ip route add 198.18.128.0/17 via 198.18.251.2
fi
# Every address of 198.18.128.0/17 is local: 10,000 real servers without 10,000 aliases.
ip netns exec "$server_ns" ip route add local 198.18.128.0/17 dev lo
# Without IPVS a via_vip probe is delivered by routing alone: the VIPs
# (198.18.1.0-198.18.40.255) are local too, so the probe reaches the acceptor.
if [[ -n "$via_vip" && "$host" == 1 ]]; then in_ns ip route add local 198.18.0.0/18 dev lo; fi
# The kernel threads that receive for one side of the veth pair: rs0 the
# director's, rs1 the servers' (none with loopback servers: there the
# receive runs inline in the checker).
napi_pids() {  # device
  [[ "$servers" == veth ]] || return 0
  pgrep "^napi/$1-" | tr '\n' ' ' || true
}
# A default route, so ecmpd can render its (unused) routing configs.
# (a veth pair inside the namespace: not every host kernel has dummy)
in_ns ip link add bench0 type veth peer name bench1
in_ns ip link set bench1 up
in_ns ip link set bench0 up
in_ns ip addr add 198.18.250.2/24 dev bench0
in_ns ip route add default via 198.18.250.1
mkdir -p "$work/counts"
( exec ip netns exec "$server_ns" python3 "$root/Tests/tools/accept-close.py" --port 80 --workers 2 --count-dir "$work/counts" ) &
acceptor=$!
sleep 2

# N real servers, 100 per virtual server, TCP_CHECK every second.
keepalived_conf() {  # N
  awk -v n="$1" 'BEGIN {
    print "global_defs {\n    router_id bench\n}"
    for (s = 0; s < n / 100; s++) {
      printf "virtual_server 198.18.%d.%d 80 {\n    delay_loop 1\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n", 1 + int(s / 250), 1 + s % 250
      for (r = 0; r < 100; r++) {
        i = s * 100 + r
        printf "    real_server 198.18.%d.%d 80 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 2\n        }\n    }\n", 128 + int(i / 250), 1 + i % 250
      }
      print "}"
    }
  }'
}

# Destinations in IPVS now (every real server is alive, so N when nothing
# was wrongly taken out).
present() {
  if [[ "$host" == 1 ]]; then echo 0; return; fi   # no IPVS to read
  in_ns ipvsadm -Ln | grep -c -- '-> 198\.18\.' || true
}
samples="$work/present"
# Real servers missing from IPVS at the worst sample of the window.
fewest_present() {  # N
  sort -n "$samples" | head -n1 | awk -v n="$1" '{ print n - $1 }'
}

# CPU seconds, user + system, of the given pids.
cpu_total() { cpu_seconds "$@" | awk '{ print $1 + $2 }'; }

# Prints "cpu% rss rate user%/system% director-rx% server-rx% elapsed
# syn-retransmits listen-overflows connects/s accepts/s out-discards". The rate is the
# handshakes the real servers' kernel completed (TcpPassiveOpens of their
# namespace) per second; connects are the checker's (TcpActiveOpens of its
# own), accepts the acceptor's count, which lags when Python falls behind
# in a TCG VM (the backlog absorbs it). The
# rx figures are the veth's NAPI threads over the same window (0 with
# loopback). Every rate is per second of the window as measured (elapsed),
# not as asked: its samples (ipvsadm listing thousands of destinations, and
# the processes reading /proc) make it run past WINDOW, by 10-20 % in a TCG
# VM, and dividing by WINDOW overstated both CPU and the check rate.
# syn-retransmits and listen-overflows are the window's SYN retransmissions by the checker (a check
# whose SYN was lost takes over a second: it runs past its interval and
# the next waits for it) and the real servers' listen queue overflows;
# out-discards, "director/servers", the packets each namespace's IP layer could
# not send (IpOutDiscards: with veth servers, a full ring of the peer's
# receive thread), where a lost SYN or SYN-ACK went.
measure() {  # label N pids...
  local label=$1 n=$2; shift 2
  local u0 s0 a0 u1 s1 a1 h0 h1 c0 c1 d0 d1 r0 r1 drx srx t0 t1 ta0 ta1 syn0 syn1 ovf0 ovf1 od0 od1 os0 os1
  drx=$(napi_pids rs0) srx=$(napi_pids rs1)
  sleep "$warmup"
  # Each reading has its own clock reads: reading /proc for the CPU
  # figures takes half a second under TCG, which would otherwise count
  # against the accept rate.
  t0=$EPOCHREALTIME
  # shellcheck disable=SC2086
  { read -r u0 s0 <<<"$(cpu_seconds "$@")"; d0=$(cpu_total $drx); r0=$(cpu_total $srx); }
  ta0=$EPOCHREALTIME a0=$(accepted)
  read -r h0 ovf0 os0 <<<"$(counters "$server_ns" TcpPassiveOpens TcpExtListenOverflows IpOutDiscards)"
  read -r c0 syn0 od0 <<<"$(counters "$ns" TcpActiveOpens TcpExtTCPSynRetrans IpOutDiscards)"
  : > "$samples"
  for ((t = 0; t < window; t += 5)); do sleep 5; present >> "$samples"; done
  t1=$EPOCHREALTIME
  # shellcheck disable=SC2086
  { read -r u1 s1 <<<"$(cpu_seconds "$@")"; d1=$(cpu_total $drx); r1=$(cpu_total $srx); }
  ta1=$EPOCHREALTIME a1=$(accepted)
  read -r h1 ovf1 os1 <<<"$(counters "$server_ns" TcpPassiveOpens TcpExtListenOverflows IpOutDiscards)"
  read -r c1 syn1 od1 <<<"$(counters "$ns" TcpActiveOpens TcpExtTCPSynRetrans IpOutDiscards)"
  awk -v u0="$u0" -v s0="$s0" -v u1="$u1" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v ta0="$ta0" -v ta1="$ta1" -v a0="$a0" -v a1="$a1" -v h0="$h0" -v h1="$h1" -v c0="$c0" -v c1="$c1" -v rss="$(rss_mb "$@")" \
    -v d0="$d0" -v d1="$d1" -v r0="$r0" -v r1="$r1" -v syn0="$syn0" -v syn1="$syn1" -v ovf0="$ovf0" -v ovf1="$ovf1" -v od0="$od0" -v od1="$od1" -v os0="$os0" -v os1="$os1" \
    'BEGIN { w = t1 - t0; wa = ta1 - ta0; printf "%.1f %s %.0f %.1f%%/%.1f%% %.1f %.1f %.1f %d %d %.0f %.0f %d/%d\n", (u1 - u0 + s1 - s0) / w * 100, rss, (h1 - h0) / wa, (u1 - u0) / w * 100, (s1 - s0) / w * 100, (d1 - d0) / w * 100, (r1 - r0) / w * 100, w, syn1 - syn0, ovf1 - ovf0, (c1 - c0) / wa, (a1 - a0) / wa, od1 - od0, os1 - os0 }'
}

# One `ecmpd run` of $work/ecmpd-N.yaml, measured; sets the ec_* figures.
run_ecmpd() {  # N label ("" for the plain run of a keepalived comparison)
  local n=$1 label=$2 ec result
  # exec: $! must be ecmpd's own pid, not a subshell's.
  ( exec ip netns exec "$ns" "$ecmpd" run --config "$work/ecmpd-$n.yaml" > "$work/ecmpd-$n${label:+-$label}.log" 2>&1 ) &
  ec=$!
  result=$(measure ecmpd "$n" "$ec")
  read -r ec_cpu ec_rss ec_rate ec_split ec_drx ec_srx ec_elapsed ec_syn ec_ovf ec_conn ec_acc ec_disc <<<"$result"
  ec_downs=$(fewest_present "$n")
  profile "ecmpd${label:+-$label}" "$n" "$ec"
  count_syscalls "ecmpd${label:+-$label}" "$n" "$ec"
  [[ "$host" != 1 ]] || ec_downs='- (no IPVS: see marked down)'
  # Down verdicts since start, by reason (a reason label per kind of failure).
  ec_marked=$(in_ns curl -s http://127.0.0.1:9477/metrics | awk '/^ecmpd_realserver_transitions_total\{.*state="down"/ {
      match($0, /reason="[^"]*"/); r = substr($0, RSTART + 8, RLENGTH - 9); n[r] += $2; t += $2 }
    END { printf "%d", t; for (r in n) printf " %s=%d", r, n[r] }')
  kill_tree "$ec"
  [[ "$host" == 1 ]] || in_ns ipvsadm -C
}

for n in $counts; do
  conf="$work/keepalived-$n.conf"
  keepalived_conf "$n" > "$conf"
  ka_cpu=- ka_rss=- ka_rate=- ka_split=-/- ka_drx=- ka_srx=- ka_elapsed=- ka_syn=- ka_ovf=- ka_conn=- ka_acc=- ka_disc=-/- ka_downs='- (needs IPVS)'
  [[ "$only" != ecmpd ]] || ka_downs='- (not run: ECMPD_BENCH_ONLY=ecmpd)'
  if [[ "$host" != 1 && "$only" != ecmpd ]]; then
    # keepalived's checker alone (no VRRP), in the foreground, logging to a file.
    # No syslog, no console: logging thousands of lines to the VM's serial
    # console would cost more than the checks. Downs are read from IPVS.
    in_ns keepalived --check --dont-fork --no-syslog -f "$conf" \
      -p "$work/ka.pid" -c "$work/ka-check.pid" > /dev/null 2>&1 &
    ka=$!
    sleep 3
    pids=$(pgrep -f "keepalived --check --dont-fork.*keepalived-$n.conf" | tr '\n' ' ' || true)
    [[ -n "$pids" ]] || { echo "bench-checks: keepalived did not start" >&2; exit 1; }
    # shellcheck disable=SC2086
    result=$(measure keepalived "$n" $pids)   # no /dev/fd in the VM: no process substitution
    read -r ka_cpu ka_rss ka_rate ka_split ka_drx ka_srx ka_elapsed ka_syn ka_ovf ka_conn ka_acc ka_disc <<<"$result"
    ka_downs=$(fewest_present "$n")
    # shellcheck disable=SC2086
    profile keepalived "$n" $pids
    # shellcheck disable=SC2086
    count_syscalls keepalived "$n" $pids
    kill_tree "$ka"
    in_ns ipvsadm -C
  fi

  # ecmpd, from the same file through the import.
  "$ecmpd" import-keepalived "$conf" --output "$work/ecmpd-$n.yaml" > /dev/null 2>&1 || true
  cat >> "$work/ecmpd-$n.yaml" <<YAML
node: { hostname: bench, state_dir: $work/state-$n }
routing: { config_dir: $work/frr-$n, reload: none }
status: { listen: "127.0.0.1:9477" }
controller: { poll_interval: $poll }
YAML
  mkdir -p "$work/frr-$n"
  if [[ -n "$via_vip" ]]; then
    run_ecmpd "$n" plain
    plain="cpu ${ec_cpu}% (user/sys ${ec_split}) rss ${ec_rss} MB rate ${ec_rate}/s over ${ec_elapsed} s (connects ${ec_conn}/s, syn retransmits ${ec_syn}) marked down ${ec_marked}"
    sed -i 's/^\( *\)type: tcp$/\1type: tcp\n\1via_vip: true/' "$work/ecmpd-$n.yaml"
    run_ecmpd "$n" via_vip
    line="BENCH checks-via-vip n=$n interval=1s window=${window}s servers=$servers | plain tcp: $plain | via_vip tcp: cpu ${ec_cpu}% (user/sys ${ec_split}) rss ${ec_rss} MB rate ${ec_rate}/s over ${ec_elapsed} s (connects ${ec_conn}/s, syn retransmits ${ec_syn}) marked down ${ec_marked}"
    echo "$line" | tee -a "$out"
    continue
  fi
  run_ecmpd "$n" ""
  rx_ka='' rx_ec=''
  if [[ "$servers" == veth ]]; then
    rx_ka=" napi rx director/servers ${ka_drx}%/${ka_srx}%"
    rx_ec=" napi rx director/servers ${ec_drx}%/${ec_srx}%"
  fi
  line="BENCH checks n=$n interval=1s window=${window}s servers=$servers | keepalived: cpu ${ka_cpu}% (user/sys ${ka_split})${rx_ka} rss ${ka_rss} MB rate ${ka_rate}/s over ${ka_elapsed} s (connects ${ka_conn}/s, accepts ${ka_acc}/s, syn retransmits ${ka_syn}, listen overflows ${ka_ovf}, out discards director/servers ${ka_disc}) downs ${ka_downs} | ecmpd (poll $poll): cpu ${ec_cpu}% (user/sys ${ec_split})${rx_ec} rss ${ec_rss} MB rate ${ec_rate}/s over ${ec_elapsed} s (connects ${ec_conn}/s, accepts ${ec_acc}/s, syn retransmits ${ec_syn}, listen overflows ${ec_ovf}, out discards director/servers ${ec_disc}) downs ${ec_downs} (marked down ${ec_marked})"
  echo "$line" | tee -a "$out"
done
