#!/usr/bin/env bash
# Runs every test project of the solution and ends with one summary line over all of them,
# so CI logs end with the numbers that matter.
set -uo pipefail
config=${1:-Release}
filter=${2:-}
cd "$(dirname "$0")/.."
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
args=(test BuildPoolOperator.sln -c "$config" --no-build --nologo
      --logger "trx" --results-directory "$results" --logger "console;verbosity=${VERBOSITY:-minimal}")
[ -n "$filter" ] && args+=(--filter "$filter")
dotnet "${args[@]}" 2>&1
rc=${PIPESTATUS[0]}
# Sum the counters of every trx file (one per test assembly); trx has no skipped counter, so
# skipped = total - passed - failed.
read -r total passed failed skipped < <(
  for f in "$results"/*.trx; do
    [ -e "$f" ] || continue
    grep -o '<Counters [^>]*>' "$f" | head -1
  done | awk '{
    for (i = 1; i <= NF; i++) {
      split($i, kv, "=\""); v = kv[2]; sub(/".*/, "", v)
      if (kv[1] == "total") t += v; if (kv[1] == "passed") p += v
      if (kv[1] == "failed") f += v
    }
  } END { printf "%d %d %d %d\n", t, p, f, t - p - f }')
assemblies=$(ls "$results"/*.trx 2>/dev/null | wc -l)
if [ "$rc" -ne 0 ] || [ "${failed:-0}" -ne 0 ] || [ "${total:-0}" -eq 0 ]; then
  echo "Test summary: FAILED — total: ${total:-0}, passed: ${passed:-0}, failed: ${failed:-0}, skipped: ${skipped:-0}, assemblies: $assemblies"
  exit 1
fi
echo "Test summary: PASSED — total: $total, passed: $passed, failed: $failed, skipped: $skipped, assemblies: $assemblies"
