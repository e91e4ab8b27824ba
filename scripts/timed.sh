#!/usr/bin/env bash
# Runs a command and appends its wall time to .build/tier-times, so `make
# test` (and .ci/run, also when a tier fails) can print what each tier took.
#   scripts/timed.sh NAME COMMAND [ARGS...]
set -euo pipefail
name=${1:?name}
shift
mkdir -p .build
start=$(date +%s)
status=0
"$@" || status=$?
end=$(date +%s)
printf '%-34s %4d min %02d s  %s\n' "$name" $(((end - start) / 60)) $(((end - start) % 60)) \
  "$([ "$status" -eq 0 ] && echo ok || echo "FAILED ($status)")" >> .build/tier-times
exit "$status"
