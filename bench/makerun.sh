#!/usr/bin/env bash
# Times what a newcomer waits for: `make run` on a fresh clone, from
# nothing to the dashboard answering, by stage (bench/RESULTS.md). The
# build uses empty Go caches (as a new machine has); the demo's stages are
# timed from its own progress lines.
# Usage: bench/makerun.sh   (clones this checkout's HEAD into a temp dir)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'kill "$demo" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
git clone -q "$src" "$dir/dpcops"
cd "$dir/dpcops"
export GOCACHE="$dir/gocache" GOMODCACHE="$dir/gomodcache"
t0=$(date +%s.%N)
stamp() { awk -v t0="$t0" -v now="$(date +%s.%N)" -v what="$1" 'BEGIN { printf "%6.1f s  %s\n", now - t0, what }'; }
stamp "start (fresh clone, empty Go caches)"
go build -o bin/dpcops ./cmd/dpcops
stamp "built bin/dpcops"
./scripts/ensure-postgres.sh
stamp "PostgreSQL binaries present"
port=$((20000 + RANDOM % 20000))
./bin/dpcops demo --listen "127.0.0.1:$port" --log-level warn > "$dir/demo.out" 2>&1 &
demo=$!
seen=""
while kill -0 "$demo" 2>/dev/null; do
  for want in "starting a throwaway PostgreSQL" "creating the synthetic DPC warehouse" "dashboard at"; do
    if ! grep -qF "$want" <<<"$seen" && grep -qF "$want" "$dir/demo.out"; then
      seen="$seen|$want"
      stamp "demo: $want"
    fi
  done
  if grep -qF "dashboard at" "$dir/demo.out" && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then
    stamp "dashboard answers"
    exit 0
  fi
  sleep 0.1
done
cat "$dir/demo.out" >&2
echo "the demo ended before it served" >&2
exit 1
