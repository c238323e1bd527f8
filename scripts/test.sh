#!/usr/bin/env bash
# Runs every test: the solution's test projects, then the package consumer check.
# Prints one closing line, "Tests: N passed, N failed, N skipped". Exit code 0 only when everything passed.
set -euo pipefail
cd "$(dirname "$0")/.."

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

status=0
dotnet test NeuralOde.sln -c Release --logger "trx" --results-directory "$results" || status=$?

consumer=0
bash scripts/pack-consumer-check.sh || consumer=$?

passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [[ $consumer -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "Tests: $passed passed, $failed failed, $skipped skipped"
if [[ $status -ne 0 || $consumer -ne 0 ]]; then
  exit 1
fi
