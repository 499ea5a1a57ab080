#!/usr/bin/env bash
# Times `dpcops backtest` on a month of one-minute data for every metric of
# the default spec, replayed through every default alarm (bench/RESULTS.md).
#
# The month (2026-11, 30 days) is synthetic but has each seed condition in
# it: a nightly batch that needs 32 RPU for 40 minutes, a pipeline that
# stalls for three hours on the 15th, COPY errors on the 10th, failed
# queries rising on the 20th, storage growing past 90 % of the quota, usage
# creeping towards its limit, idle days and a skewed table.
#
# It then times two rows two thousand years apart (0000 and 2026): a
# replay's cost follows the rows, not the time they span.
# Usage: bench/backtest.sh [DIR]   (DIR keeps the CSV; default a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
csv=$dir/month.csv

go build -o bin/dpcops ./cmd/dpcops

awk 'BEGIN {
  print "time,metric,value"
  for (d = 0; d < 30; d++) for (h = 0; h < 24; h++) for (m = 0; m < 60; m++) {
    i = (d * 24 + h) * 60 + m
    t = sprintf("2026-11-%02dT%02d:%02d:00Z", d + 1, h, m)
    batch = (h == 2 && m < 40)
    rpu = batch ? 32 : (i % 7 == 0 ? 16 : 8)
    print t ",ComputeCapacity," rpu
    print t ",RPUPerMinute," rpu
    print t ",ComputeSeconds," (batch || i % 7 == 0 ? rpu * 60 : 0)
    print t ",QueriesSucceeded," (14 + (i * 7919) % 13)
    failed = 0
    if (d == 19 && h == 9) failed = int(m / 5)     # rises every 5 minutes
    else if (i % 97 == 0) failed = 1
    print t ",QueriesFailed," failed
    print t ",CopyErrorCount," (d == 9 && h == 3 && m == 17 ? 3 : 0)
    since = (h * 60 + m - 10 + 1440) % 60          # the pipeline succeeds at :10
    if (d == 14 && h >= 1 && h < 4) since = (h - 1) * 60 + m + 50
    print t ",ELTExecutionDelay," since
    print t ",DataStorage," int(800000 + 160000 * i / 43200)
    print t ",IdlePercent," ((d % 7 == 3) ? 20 : 45)
    print t ",table_skew_percent," ((d == 21) ? 25 : 10)
    print t ",UsageLimitPercent," sprintf("%.3f", 85 * i / 43200)
  }
}' > "$csv"

echo "$(($(wc -l < "$csv") - 1)) datapoints in $csv ($(du -h "$csv" | cut -f1))"
time bin/dpcops backtest --data "$csv" > "$dir/transitions.jsonl"
echo "$(wc -l < "$dir/transitions.jsonl") transitions in $dir/transitions.jsonl"

year=$dir/year-span.csv
printf 'time,metric,value\n0000-01-01T00:00:00Z,RPUPerMinute,8\n2026-11-27T00:00:00Z,RPUPerMinute,40\n' > "$year"
echo "2 datapoints from year 0000 to 2026 in $year"
time bin/dpcops backtest --data "$year" > "$dir/year-span.jsonl"
echo "$(wc -l < "$dir/year-span.jsonl") transitions in $dir/year-span.jsonl"
