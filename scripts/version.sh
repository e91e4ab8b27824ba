#!/usr/bin/env bash
# The version ecmpd and its package carry, from `git describe --tags
# --always --dirty`: a tag v1.2.3 gives 1.2.3 (1.2.3+4.gabc1234 four commits
# on); without a tag, 0.1.0+gitN.gHASH, N counting commits so that a later
# build sorts after an earlier one for dpkg. `.dirty` marks uncommitted
# changes. ECMPD_VERSION, if set, wins (a test building two "releases").
set -euo pipefail
if [ -n "${ECMPD_VERSION:-}" ]; then
  echo "$ECMPD_VERSION"
  exit 0
fi
cd "$(dirname "$0")/.."
describe="$(git describe --tags --always --dirty=.dirty)"
if [[ "$describe" =~ ^v([0-9][0-9.]*)(-([0-9]+)-g([0-9a-f]+))?(\.dirty)?$ ]]; then
  version="${BASH_REMATCH[1]}"
  if [ -n "${BASH_REMATCH[3]}" ]; then version="$version+${BASH_REMATCH[3]}.g${BASH_REMATCH[4]}"; fi
  echo "$version${BASH_REMATCH[5]}"
else
  echo "0.1.0+git$(git rev-list --count HEAD).g$describe"
fi
