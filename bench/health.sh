#!/usr/bin/env bash
# Load on the operational endpoints of a running Gatehouse (the floor every
# other endpoint pays: routing, middleware, access log, metrics).
# usage: GH_URL=http://127.0.0.1:8080 bench/health.sh [seconds]   (needs wrk; loopback only)
set -euo pipefail
secs=${1:-10}
url=${GH_URL:-http://127.0.0.1:8080}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
printf '%-16s %12s %10s\n' endpoint req/s p99
for path in /health/live /health/ready; do
  wrk -t2 -c32 -d2s "$url$path" >/dev/null 2>&1 || true
  out=$(wrk -t2 -c32 -d"${secs}s" --latency "$url$path" 2>&1)
  printf '%-16s %12s %10s\n' "$path" "$(awk '/Requests\/sec/{print $2}' <<<"$out")" "$(awk '$1=="99%"{print $2}' <<<"$out")"
done
