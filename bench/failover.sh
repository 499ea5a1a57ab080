#!/usr/bin/env bash
# Soak of the failover (bench/RESULTS.md): two serve replicas on one
# PostgreSQL store; the leader is SIGKILLed right after each page, a new
# follower starts, KILLS times in a row. Prints the takeover times (p50,
# p99) and fails on any lost or duplicated delivery: a receiver that
# deduplicates by delivery id counts one trigger and one resolve per
# episode. It runs the test TestFailoverPagesOnce, which `make test` runs
# with one kill; needs the PostgreSQL server binaries (initdb, pg_ctl).
# Usage: bench/failover.sh [KILLS]   (default 20; about 25 s a kill)
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-20}
./scripts/ensure-postgres.sh
DPCOPS_FAILOVER_KILLS=$kills go test -count=1 -timeout 60m -run '^TestFailoverPagesOnce$' -v ./internal/cli/ 2>&1 |
	grep -E 'takeover|FAIL|PASS|ok|episode' | grep -v 'level='
