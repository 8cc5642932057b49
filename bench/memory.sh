#!/usr/bin/env bash
# Memory under a large directory: starts a release Gatehouse (production
# profile, fresh SQLite data directory, or PostgreSQL with
# GATEHOUSE_DATABASE_URL), prints its RSS at start, after seeding N users
# over SCIM, and every few seconds of sustained mixed load (machine tokens,
# SCIM lookups of random users, introspection), so growth and plateaus
# show. Extra settings can be passed in the environment (GATEHOUSE_*).
# usage: bench/memory.sh [path/to/gatehouse] [users] [seconds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-target/release/gatehouse}")
users=${2:-100000}
secs=${3:-60}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 2; }
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
dir=$(mktemp -d)
export GATEHOUSE_BIND=127.0.0.1:$port GATEHOUSE_ISSUER=http://127.0.0.1:$port
export GATEHOUSE_PROFILE=production GATEHOUSE_AUTO_MIGRATE=true GATEHOUSE_LOG_LEVEL=warn \
  GATEHOUSE_MASTER_KEY=$(head -c 32 /dev/urandom | base64) GATEHOUSE_METRICS_TOKEN=$(head -c 24 /dev/urandom | base64)
(cd "$dir" && exec "$bin" serve >"$dir/server.log" 2>&1) &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && break; sleep 0.05; done
rss() { echo "$(( $(ps -o rss= -p $pid) / 1024 )) MiB"; }
# The server's own CPU time (user + system), in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tick=$(getconf CLK_TCK)
echo "RSS at start: $(rss)"
token=$(cd "$dir" && "$bin" scim-token create --name bench --json | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
created=$(cd "$dir" && "$bin" client create --name bench --grant-type client_credentials --json)
id=$(python3 -c 'import sys,json;print(json.load(sys.stdin)["client_id"])' <<<"$created")
secret=$(python3 -c 'import sys,json;print(json.load(sys.stdin)["client_secret"])' <<<"$created")
base=http://127.0.0.1:$port/scim/v2
export SCIM_BASE=$base SCIM_TOKEN=$token SCIM_USERS=$users
echo "== seeding $users users over SCIM (8 connections)"
before=$(cpu)
python3 "$here/scim_seed.py"
echo "server CPU per create: $(python3 -c "print('%.2f ms' % (($(cpu) - $before) * 1000 / $tick / $users))")"
echo "RSS after seeding: $(rss)"

lookups=$(mktemp --suffix=.lua)
cat >"$lookups" <<'LUA'
local token = os.getenv("SCIM_TOKEN")
local n = tonumber(os.getenv("SCIM_USERS"))
math.randomseed(os.time())
request = function()
  local path = string.format("/scim/v2/Users?filter=userName%%20eq%%20%%22user-%07d%%22", math.random(0, n - 1))
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
LUA
basic=$(printf '%s:%s' "$id" "$secret" | base64 -w0)
before=$(cpu)
served() { curl -s -H "Authorization: Bearer $GATEHOUSE_METRICS_TOKEN" "http://127.0.0.1:$port/metrics" | grep -E '^gatehouse_http_requests_total' | awk '{s+=$2} END {printf "%d", s}'; }
served_before=$(served)
wrk -t1 -c8 -d"${secs}s" -s "$lookups" "$base" >/dev/null &
w1=$!
wrk -t1 -c8 -d"${secs}s" -s <(printf 'wrk.method="POST"\nwrk.body="grant_type=client_credentials"\nwrk.headers["Content-Type"]="application/x-www-form-urlencoded"\nwrk.headers["Authorization"]="Basic %s"\n' "$basic") \
  "http://127.0.0.1:$port/token" >/dev/null &
w2=$!
for t in $(seq 5 5 "$secs"); do
  sleep 5
  echo "RSS after ${t} s of mixed load: $(rss)"
done
wait $w1 $w2 || true
n=$(( $(served) - served_before ))
echo "mixed load: $n requests, $(( n / secs )) requests/s, server CPU per request: $(python3 -c "print('%.1f µs' % (($(cpu) - $before) * 1e6 / $tick / max($n, 1)))")"
rm -f "$lookups"
