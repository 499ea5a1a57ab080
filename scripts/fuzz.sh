#!/usr/bin/env bash
# fuzz.sh: run every Go fuzz target of the module for FUZZTIME each
# (default 20s). Targets are found, not listed, so a new one is never
# forgotten. A failure leaves its input under the package's
# testdata/fuzz/ and stops the run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-20s}"
targets=$(grep -rl --include='*_test.go' '^func Fuzz' internal cmd 2>/dev/null | sort -u)
n=0
for file in $targets; do
	pkg="./$(dirname "$file")"
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		n=$((n + 1))
		echo "fuzz: $pkg $name for $fuzztime"
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "$pkg"
	done
done
echo "fuzz: $n targets, no failure"
