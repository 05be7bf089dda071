#!/usr/bin/env bash
# Builds the oras client (oras.land/oras, pinned in versions.env) with Go into the cache and
# prints the binary's path. The OCI registry tests push modules with it: a real client, not
# our own code alone, so both ends of a pull are not our reading of the spec.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

dir="$WOP_CACHE/oras-$WOP_ORAS_VERSION"
if [ -x "$dir/oras" ]; then echo "$dir/oras"; exit 0; fi
take_lock oras
if [ -x "$dir/oras" ]; then echo "$dir/oras"; exit 0; fi  # built by another run while we waited

need_cmd go "install Go 1.25 or newer to build oras for the registry tests"
say "building oras $WOP_ORAS_VERSION (once; under a minute)"
# go install writes into GOBIN; a private one, then a rename, so a half-written binary is
# never taken for a built one.
tmp="$dir.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
run_logged "go install of oras $WOP_ORAS_VERSION" "$WOP_CACHE/logs/build-oras.log" \
  env GOBIN="$tmp" GOFLAGS=-mod=readonly CGO_ENABLED=0 \
  go install -trimpath -ldflags='-s -w' "oras.land/oras/cmd/oras@v$WOP_ORAS_VERSION"
"$tmp/oras" version | grep -q "^Version: *$WOP_ORAS_VERSION\$" || die "built oras does not report version $WOP_ORAS_VERSION"
mkdir -p "$dir"
mv "$tmp/oras" "$dir/oras"
rm -rf "$tmp"
say "oras ready in $dir"
echo "$dir/oras"
