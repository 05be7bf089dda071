#!/usr/bin/env bash
# Fails, naming the files, when any C++ source of ours differs from what clang-format makes of
# it (.clang-format at the root). `scripts/check-format.sh --fix` rewrites them instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/versions.env"
format="clang-format-$WOP_LLVM_MAJOR"
command -v "$format" >/dev/null || { echo "$format is not installed (scripts/setup-apt.sh installs it)" >&2; exit 1; }
cd "$root"
mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v '^third_party/')
if [ "${1:-}" = "--fix" ]; then
  "$format" -i "${files[@]}"
  exit 0
fi
bad=()
for file in "${files[@]}"; do
  "$format" --dry-run -Werror "$file" >/dev/null 2>&1 || bad+=("$file")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'not formatted (run scripts/check-format.sh --fix):\n' >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "all ${#files[@]} C++ files formatted"
