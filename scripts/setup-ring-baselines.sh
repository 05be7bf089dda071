#!/usr/bin/env bash
# Builds the ring benchmark's client-go baseline (bench/ring/clientgo) with Go into the cache;
# prints the binary's path. Cached by the hash of the module's sources: a rerun is instant.
#   scripts/setup-ring-baselines.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"

src="$WOP_ROOT/bench/ring/clientgo"
key=$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -c1-12)
bin="$WOP_CACHE/ring-clientgo-$key/ring-clientgo"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
take_lock ring-clientgo
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi  # built by another run while we waited

need_cmd go "install Go 1.25 or newer to build the client-go ring baseline"
mkdir -p "$(dirname "$bin")"
export GOFLAGS=-mod=readonly CGO_ENABLED=0
say "building ring-clientgo (once)"
run_logged "go build of ring-clientgo" "$WOP_CACHE/logs/build-ring-clientgo.log" \
  bash -c "cd '$src' && go build -trimpath -ldflags='-s -w' -o '$bin.tmp.$$' . && mv '$bin.tmp.$$' '$bin'"
say "ring-clientgo ready: $bin"
echo "$bin"
