#!/usr/bin/env bash
# Runs the built XCTest bundle directly, for the kernel tier's VM boots.
# `swift test --skip-build` plans the package before it runs a test, and under
# qemu's TCG that planning takes about 8.5 minutes per boot (measured
# 2026-12-02: a boot whose two tests take 3.5 s ran 8 min 48 s); the bundle
# itself starts in well under a second.
#
# usage: Tests/kernel/xctest.sh SELECTOR... [--skip SELECTOR...]
#   SELECTOR   Module, Module.Class or Module.Class/testMethod; a test runs if
#              an include selector matches it and no --skip selector does
# Runs .build/debug/ecmpdPackageTests.xctest (`swift build --build-tests`
# first). Selectors that match no test are an error, so a renamed class
# cannot turn a boot into a silent pass. Exit status: the bundle's; 2 usage.
set -euo pipefail

bundle=.build/debug/ecmpdPackageTests.xctest
usage() { sed -n '8,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }

includes=() skips=()
while (($#)); do
  case "$1" in
    --skip) skips+=("${2:?--skip needs a selector}"); shift 2 ;;
    -*) usage ;;
    *) includes+=("$1"); shift ;;
  esac
done
((${#includes[@]})) || usage
[[ -x "$bundle" ]] || { echo "xctest: $bundle missing; run swift build --build-tests" >&2; exit 1; }

# "Module.Class/testMethod" matches the selectors Module, Module.Class and
# itself, nothing else (KernelTests.IPVS does not match KernelTests.IPVSErrorTests).
matches() {
  local test=$1 selector
  shift
  for selector in "$@"; do
    case "$test" in "$selector" | "$selector".* | "$selector"/*) return 0 ;; esac
  done
  return 1
}

all=$("$bundle" --list-tests | grep -E '^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*/' || true)
[[ -n "$all" ]] || { echo "xctest: $bundle --list-tests listed no tests" >&2; exit 1; }

for selector in "${includes[@]}" "${skips[@]}"; do
  found=0
  while read -r test; do
    if matches "$test" "$selector"; then found=1; break; fi
  done <<<"$all"
  ((found)) || { echo "xctest: selector $selector matches no test in $bundle" >&2; exit 1; }
done

selected=()
while read -r test; do
  matches "$test" "${includes[@]}" || continue
  ((${#skips[@]})) && matches "$test" "${skips[@]}" && continue
  selected+=("$test")
done <<<"$all"
((${#selected[@]})) || { echo "xctest: every selected test is skipped" >&2; exit 1; }

echo "xctest: ${#selected[@]} tests" >&2
exec "$bundle" "$(IFS=,; echo "${selected[*]}")"
