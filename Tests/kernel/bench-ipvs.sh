#!/usr/bin/env bash
# IPVS programming benchmark (docs/benchmarks.md), inside one VM boot:
# 1,000 virtual services x 10 destinations from empty, ecmpd vs ipvsadm-restore
# of the same rules, then one weight change in that full table. Times are wall
# clock of whole commands (process start included), median of TRIALS, taken in
# alternation. Each load runs in a fresh network namespace: IPVS keeps deleted
# destinations in a per-namespace trash that every later add scans, so loads
# after a flush in the same namespace get slower and slower.
#   make bench-ipvs
#   Tests/kernel/run-in-vm.sh --out DIR -- Tests/kernel/bench-ipvs.sh [ECMPD] [TRIALS]
# Results: stdout and $ECMPD_VM_OUT/bench-ipvs.txt.
set -euo pipefail
shopt -s inherit_errexit

if [[ "${ECMPD_VM:-}" != 1 ]]; then
  echo "bench-ipvs: run me inside the VM: Tests/kernel/run-in-vm.sh --out DIR -- $0" >&2
  exit 2
fi
ecmpd=$(realpath "${1:-.build-release/release/ecmpd}")
trials=${2:-5}
work=$(mktemp -d)
namespaces=0
trap 'for ((n = 1; n <= namespaces; n++)); do ip netns del "bench$n" 2>/dev/null || true; done; ipvsadm -C; rm -rf "$work"' EXIT

# 10 VIPs x 100 ports, 10 real servers each, wrr, direct routing; $1 is the
# weight of one real server of service 198.18.0.5:10099 (1 everywhere else).
generate() {
  awk -v changed="$1" 'BEGIN {
    print "vips:"
    for (vip = 1; vip <= 10; vip++) {
      printf "  - address: 198.18.0.%d\n    services:\n", vip
      for (port = 10000; port < 10100; port++) {
        printf "      - port: %d\n        scheduler: wrr\n        real_servers:\n", port
        for (real = 1; real <= 10; real++) {
          weight = (vip == 5 && port == 10099 && real == 3) ? changed : 1
          printf "          - { address: 198.19.%d.%d, weight: %d }\n", vip, real, weight
        }
      }
    }
  }'
}

# Sets $ns to a new, empty network namespace; `in_ns CMD` runs CMD in it. lo
# must be up: without a local routing table the kernel calls every real
# server's address a broadcast one and refuses direct routing to it (EINVAL).
fresh_namespace() {
  ns="bench$((namespaces += 1))"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
}
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
# Flushes synchronously, so no half-freed table costs CPU in later trials.
drop_namespace() { in_ns ipvsadm -C && ip netns del "$ns"; }

# Runs "$@" with stdout to $work/last.out, stderr to $work/last.err; prints ms.
milliseconds() {
  local start end
  start=$(date +%s%N)
  "$@" >"$work/last.out" 2>"$work/last.err" || { echo "bench-ipvs: failed: $*" >&2; cat "$work/last.err" >&2; return 1; }
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN { printf "%.1f", ns / 1e6 }'
}
timing_field() { sed -nE "s/.* $1 ([0-9.]+) ms.*/\1/p" "$work/last.err"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

generate 1 >"$work/big.yaml"
generate 5 >"$work/changed.yaml"
"$ecmpd" ipvs apply --config "$work/big.yaml" --print-rules >"$work/big.rules"
[[ $(wc -l <"$work/big.rules") == 11000 ]] || { echo "bench-ipvs: expected 11000 rules" >&2; exit 1; }

restore=() load=() load_config=() load_apply=() reload=() enter=()
for ((trial = 1; trial <= trials; trial++)); do
  fresh_namespace
  enter+=("$(milliseconds in_ns true)")
  restore+=("$(milliseconds in_ns ipvsadm-restore <"$work/big.rules")")
  in_ns ipvsadm -Sn | sort >"$work/restored.txt"
  # ipvsadm-restore has no diff: any change is a reload (it flushes, then adds all).
  reload+=("$(milliseconds in_ns ipvsadm-restore <"$work/big.rules")")
  drop_namespace

  fresh_namespace
  load+=("$(milliseconds in_ns "$ecmpd" ipvs apply --config "$work/big.yaml" --timing)")
  load_config+=("$(timing_field config)") load_apply+=("$(timing_field apply)")
  in_ns ipvsadm -Sn | sort >"$work/applied.txt"
  cmp -s "$work/restored.txt" "$work/applied.txt" || { echo "bench-ipvs: the tables differ" >&2; exit 1; }
  drop_namespace
done

# The full table in this (the VM's own) namespace: flip one weight 1 -> 5 -> 1 ...
"$ecmpd" ipvs apply --config "$work/big.yaml" >/dev/null
change=() config=() read=() plan=() apply=() edit=() ipvsadm_list=() ecmpd_list=()
for ((trial = 1; trial <= trials; trial++)); do
  for yaml in changed big; do
    change+=("$(milliseconds "$ecmpd" ipvs apply --config "$work/$yaml.yaml" --timing)")
    [[ $(grep -c '^~ destination' "$work/last.out") == 1 && $(wc -l <"$work/last.out") == 1 ]] ||
      { echo "bench-ipvs: expected exactly one change:" >&2; cat "$work/last.out" >&2; exit 1; }
    config+=("$(timing_field config)") read+=("$(timing_field read)")
    plan+=("$(timing_field plan)") apply+=("$(timing_field apply)")
  done
  edit+=("$(milliseconds ipvsadm -e -t 198.18.0.5:10099 -r 198.19.5.3:10099 -g -w 1)")
  ipvsadm_list+=("$(milliseconds ipvsadm -Ln --stats --exact)")
  ecmpd_list+=("$(milliseconds "$ecmpd" ipvs list)")
done
# Kernel requests of one single-change apply: family lookup, dumps, the edit.
strace -f -c -e trace=sendmsg -o "$work/strace.txt" "$ecmpd" ipvs apply --config "$work/changed.yaml" >/dev/null
requests=$(awk '$NF == "sendmsg" { print $4 }' "$work/strace.txt")

restore_m=$(median "${restore[@]}") load_m=$(median "${load[@]}") change_m=$(median "${change[@]}")
reload_m=$(median "${reload[@]}") list_m=$(median "${ipvsadm_list[@]}") ecmpd_list_m=$(median "${ecmpd_list[@]}")
report="$work/report.txt"
{
  echo "kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), $trials trials, medians in ms" \
    "(full loads: nsenter into the trial's namespace included, alone $(median "${enter[@]}"))"
  echo "full load 1000x10 from empty: ipvsadm-restore $restore_m, ecmpd $load_m, ecmpd/restore $(ratio "$load_m" "$restore_m")"
  echo "  ecmpd in-process: config $(median "${load_config[@]}"), apply $(median "${load_apply[@]}") (11000 requests)"
  echo "  trials: ipvsadm-restore ${restore[*]}; ecmpd ${load[*]}"
  echo "one weight change: ecmpd apply $change_m; ipvsadm-restore over the full table (it flushes, then adds all) $reload_m," \
    "ecmpd/reload $(ratio "$change_m" "$reload_m"); ipvsadm -e of that weight (diff known) $(median "${edit[@]}")"
  echo "  ecmpd in-process: config $(median "${config[@]}"), read $(median "${read[@]}"), plan $(median "${plan[@]}")," \
    "apply $(median "${apply[@]}"); $requests netlink requests (1 family lookup, 1 + 1000 dumps, 1 edit)"
  echo "  trials: ecmpd ${change[*]}; reload ${reload[*]}"
  echo "listing with counters: ipvsadm -Ln --stats --exact $list_m, ecmpd ipvs list $ecmpd_list_m," \
    "ecmpd/ipvsadm $(ratio "$ecmpd_list_m" "$list_m")"
} >"$report"
cat "$report"
[[ -z "${ECMPD_VM_OUT:-}" ]] || cp "$report" "$ECMPD_VM_OUT/bench-ipvs.txt"
