#!/usr/bin/env bash
# Adds up the results of `make test`'s runners (dotnet test, node --test) into one closing line:
# "tests: N passed, N failed". Exits non-zero when a log is missing or reports a failure.
set -euo pipefail
passed=0
failed=0
for log in "$@"; do
    [ -f "$log" ] || { echo "test-summary: $log not found" >&2; exit 1; }
    # dotnet test: "Passed!  - Failed:     0, Passed:    45, Skipped:     0, Total:    45, ..."
    while read -r f p; do
        passed=$((passed + p)); failed=$((failed + f))
    done < <(sed -nE 's/^(Passed|Failed)! +- Failed: +([0-9]+), Passed: +([0-9]+),.*/\2 \3/p' "$log")
    # node --test: "# pass 90" and "# fail 0"
    p=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$log" | tail -1)
    f=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$log" | tail -1)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
