#!/usr/bin/env bash
# `make deb`: ecmpd_VERSION_amd64.deb from the release binary, with Debian's
# own tooling (debian/, debhelper, dpkg-buildpackage). The package is built
# in a staged copy under .build-release/deb so dpkg-buildpackage's outputs
# (written to the parent directory) stay inside the build tree.
# usage: build-deb.sh RELEASE_BINARY VERSION [OUTDIR]
set -euo pipefail
binary="$1"
version="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${3:-$root/.build-release/deb}"
mkdir -p "$out" && out="$(cd "$out" && pwd)"
stage="$out/ecmpd-$version"

rm -rf "$out"
mkdir -p "$stage/build/completions"
cp -a "$root/debian" "$root/deploy" "$root/quagga-templates" "$root/docs" "$root/README.md" "$stage/"
install -m 0755 "$binary" "$stage/build/ecmpd"
"$root/scripts/gen-manpages.py" "$binary" "$stage/build/man" >/dev/null
# Completion files are sourced, not run: no #! line (lintian).
"$binary" --generate-completion-script bash | sed "1{/^#!/d}" >"$stage/build/completions/ecmpd"
"$binary" --generate-completion-script zsh >"$stage/build/completions/_ecmpd"

cat >"$stage/debian/changelog" <<CHANGELOG
ecmpd ($version) unstable; urgency=medium

  * Built from $(git -C "$root" describe --tags --always --dirty) by make deb.

 -- ecmpd maintainers <maintainers@users.noreply.h-seed-eec147ff.example>  $(git -C "$root" log -1 --format=%aD)
CHANGELOG

(cd "$stage" && dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) || { tail -40 "$out/build.log" >&2; exit 1; }
deb="$out/ecmpd_${version}_amd64.deb"
echo "$deb"
