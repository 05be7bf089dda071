#!/usr/bin/env bash
# Explores with every fuzzer for SECONDS each, a random seed, and the inputs libFuzzer found
# earlier in this build (build/test/fuzz-corpus/<name>/) plus the checked-in seeds.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS. Exits non-zero when any fuzzer found a crash,
# a hang or memory past 4 GiB; the input is in BUILD_DIR/fuzz-findings/<name>/.
set -uo pipefail
build="$1" seconds="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
export ASAN_OPTIONS=handle_segv=0:allow_user_segv_handler=1:detect_leaks=0

failed=()
for fuzzer in "$build"/test/*_fuzz; do
  name="$(basename "$fuzzer" _fuzz)"
  findings="$build/fuzz-findings/$name"
  mkdir -p "$findings" "$build/test/fuzz-corpus/$name"
  printf '[fuzz] %s for %s s\n' "$name" "$seconds"
  if ! "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$findings/" \
      "$build/test/fuzz-corpus/$name" "$root/test/fuzz/corpus/$name" >"$findings/log.txt" 2>&1; then
    failed+=("$name")
    grep -m1 -E 'ERROR|SUMMARY|Test unit written' "$findings/log.txt" | sed 's/^/[fuzz]   /'
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  printf '[fuzz] found something in: %s (inputs and logs in %s/fuzz-findings/)\n' "${failed[*]}" "$build"
  exit 1
fi
printf '[fuzz] nothing found\n'
