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
dotnet "${args[@]}" 2>&1 | tee "$results/console.log"
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
# Name every failed test (and the first lines of its message) right above the summary, so the
# tail of a CI log says which test failed without scrolling back through every assembly.
list_failures() {
  for f in "$results"/*.trx; do
    [ -e "$f" ] || continue
    awk '
      /<UnitTestResult / && /outcome="Failed"/ {
        name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name)
        gsub(/&lt;/, "<", name); gsub(/&gt;/, ">", name); gsub(/&quot;/, "\"", name); gsub(/&amp;/, "\\&", name)
        printf "  FAILED %s\n", name; want = 1; next
      }
      want && /<Message>/ { inmsg = 1; n = 0; sub(/.*<Message>/, "") }
      inmsg {
        line = $0; done = sub(/<\/Message>.*/, "", line)
        gsub(/&lt;/, "<", line); gsub(/&gt;/, ">", line); gsub(/&quot;/, "\"", line); gsub(/&amp;/, "\\&", line)
        if (n < 6 && line ~ /[^ ]/) { printf "         %s\n", line; n++ }
        if (done) { inmsg = 0; want = 0 }
      }
    ' "$f"
  done
}
failures=$(list_failures)
if [ -n "$failures" ]; then
  echo "Failed tests:"
  echo "$failures"
elif [ "$rc" -ne 0 ]; then
  # No failed test in any trx: a build error, or a test host that crashed or was aborted.
  echo "The test run failed without a failed test; the lines that say why:"
  grep -E "error [A-Z]+[0-9]+|[Tt]est host process crashed|test run was aborted|Unhandled exception" "$results/console.log" | head -20 | sed 's/^/  /'
fi
if [ "$rc" -ne 0 ] || [ "${failed:-0}" -ne 0 ] || [ "${total:-0}" -eq 0 ]; then
  echo "Test summary: FAILED — total: ${total:-0}, passed: ${passed:-0}, failed: ${failed:-0}, skipped: ${skipped:-0}, assemblies: $assemblies"
  exit 1
fi
echo "Test summary: PASSED — total: $total, passed: $passed, failed: $failed, skipped: $skipped, assemblies: $assemblies"
