#!/usr/bin/env bash
# Builds one of the ring benchmark's Go baselines with Go into the cache; prints the binary's
# path. Cached by the hash of the module's sources: a rerun is instant.
#   scripts/setup-ring-baselines.sh [clientgo|crcombined]
#     clientgo    bench/ring/clientgo: one operator per process on client-go (the default)
#     crcombined  bench/ring/crcombined: all N operators in one controller-runtime manager
set -euo pipefail
source "$(dirname "$0")/lib.sh"

name="${1:-clientgo}"
case "$name" in
  clientgo|crcombined) ;;
  *) die "unknown ring baseline '$name' (known: clientgo, crcombined)" ;;
esac
src="$WOP_ROOT/bench/ring/$name"
key=$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -c1-12)
bin="$WOP_CACHE/ring-$name-$key/ring-$name"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
take_lock "ring-$name"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi  # built by another run while we waited

need_cmd go "install Go 1.25 or newer to build the ring's Go baselines"
mkdir -p "$(dirname "$bin")"
export GOFLAGS=-mod=readonly CGO_ENABLED=0
say "building ring-$name (once)"
run_logged "go build of ring-$name" "$WOP_CACHE/logs/build-ring-$name.log" \
  bash -c "cd '$src' && go build -trimpath -ldflags='-s -w' -o '$bin.tmp.$$' . && mv '$bin.tmp.$$' '$bin'"
say "ring-$name ready: $bin"
echo "$bin"
