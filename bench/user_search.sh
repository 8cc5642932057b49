#!/usr/bin/env bash
# Admin user search at scale: starts a release Gatehouse (production
# profile) on a fresh SQLite data directory (or PostgreSQL with
# GATEHOUSE_DATABASE_URL), seeds N users over SCIM, then measures
# GET /admin/api/v1/users with wrk, one query shape at a time: a narrow
# prefix, dense prefixes (one letter matches every user), two words, a
# filter, and a page deep into the directory by cursor. Prints req/s, p99
# and the server's CPU per request (utime+stime from /proc/PID/stat).
# usage: bench/user_search.sh [path/to/gatehouse] [users] [seconds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-target/release/gatehouse}")
users=${2:-100000}
secs=${3:-10}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 2; }
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
dir=$(mktemp -d)
admin=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
export GATEHOUSE_BIND=127.0.0.1:$port GATEHOUSE_ISSUER=http://127.0.0.1:$port GATEHOUSE_ADMIN_TOKEN=$admin
export GATEHOUSE_PROFILE=production GATEHOUSE_AUTO_MIGRATE=true GATEHOUSE_LOG_LEVEL=warn \
  GATEHOUSE_MASTER_KEY=$(head -c 32 /dev/urandom | base64) GATEHOUSE_METRICS_TOKEN=$(head -c 24 /dev/urandom | base64)
(cd "$dir" && exec "$bin" serve >"$dir/server.log" 2>&1) &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && break; sleep 0.05; done
token=$(cd "$dir" && "$bin" scim-token create --name "bench-$port-$$" --json | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
url=http://127.0.0.1:$port/admin/api/v1/users
export SCIM_BASE=http://127.0.0.1:$port/scim/v2 SCIM_TOKEN=$token SCIM_USERS=$users

echo "== seeding $users users over SCIM (8 connections)"
python3 "$here/scim_seed.py"
if [ -n "${GATEHOUSE_DATABASE_URL:-}" ] && command -v psql >/dev/null; then
  # What autovacuum does within a minute or so of a bulk load: planner
  # statistics (without them PostgreSQL picks hash joins over whole term
  # ranges, hundreds of ms a query) and the visibility map (without it
  # every index-only probe also reads the table).
  psql -q "$GATEHOUSE_DATABASE_URL" -c 'VACUUM ANALYZE'
fi
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
run() { # name query
  local out before after n cpu
  curl -sf -o /dev/null -H "Authorization: Bearer $admin" "$url?$2" || { echo "$1: the query failed" >&2; exit 1; }
  before=$(cpu_ticks)
  out=$(wrk -t2 -c8 -d"${secs}s" --latency -H "Authorization: Bearer $admin" "$url?$2" 2>&1)
  after=$(cpu_ticks)
  n=$(awk '/requests in/{print $1}' <<<"$out")
  cpu=$(awk -v d=$((after - before)) -v hz="$hz" -v n="$n" 'BEGIN{printf "%.0f", d / hz / n * 1e6}')
  printf '%-26s %10s %10s %12s %s\n' "$1" "$(awk '/Requests\/sec/{print $2}' <<<"$out")" \
    "$(awk '$1=="99%"{print $2}' <<<"$out")" "$cpu" "$(awk '/Non-2xx/{print "non-2xx=" $NF}' <<<"$out")"
}

deep=$(python3 -c 'import base64,sys;print(base64.urlsafe_b64encode(b"u1:user-%07d" % (int(sys.argv[1]) * 9 // 10)).decode().rstrip("="))' "$users")
printf '%-26s %10s %10s %12s\n' query req/s p99 cpu_us/req
run "first page, no query" "limit=50"
run "narrow: user-0042" "q=user-0042"
run "dense: u (everyone)" "q=u"
run "dense: family1 (11%)" "q=family1"
run "two words" "q=given4%20family4"
run "dense words, 1% overlap" "q=given1%20family2"
run "filter: active=false" "active=false"
run "dense + filter" "q=u&second_factor=false"
run "filter: locked=true" "locked=true"
run "filter: second_factor" "second_factor=true"
run "deep cursor (90%)" "cursor=$deep"
echo "RSS $(ps -o rss= -p $pid) KiB"
