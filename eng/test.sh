#!/usr/bin/env bash
# Runs every test of the repository: unit, generator, MSBuild task, and end to end (the end-to-end tests pack
# the product themselves, install the tool and the template into throwaway folders, and drive real flows).
# Ends with one line 'N passed, N failed' counted from the TRX results.
set -uo pipefail
cd "$(dirname "$0")/.."

# The repository's own builds and tests never reuse MSBuild nodes or build servers (no stale task assemblies).
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 FLOW_BUILD_SERVERS=0
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1

results=artifacts/test-results
rm -rf "$results"
dotnet test flow.sln -nr:false --logger trx --results-directory "$results" "$@"
status=$?

passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(echo "$counters" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
  f=$(echo "$counters" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  status=1
fi
echo "$passed passed, $failed failed"
exit "$status"
