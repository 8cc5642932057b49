#!/usr/bin/env bash
# SCIM at scale: starts a release Gatehouse (production profile) on a fresh
# SQLite data directory (or PostgreSQL with GATEHOUSE_DATABASE_URL), seeds N
# users over SCIM, then measures with wrk: userName equality lookups (a
# random user per request), a `co` search, and a page-through of every user
# with startIndex/count. Loopback only, bounded in time.
# usage: bench/scim.sh [path/to/gatehouse] [users] [seconds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-target/release/gatehouse}")
users=${2:-100000}
secs=${3:-10}
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
token=$(cd "$dir" && "$bin" scim-token create --name bench --json | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
base=http://127.0.0.1:$port/scim/v2
export SCIM_BASE=$base SCIM_TOKEN=$token SCIM_USERS=$users

echo "== seeding $users users over SCIM (8 connections)"
python3 "$here/scim_seed.py"

lua=$(mktemp --suffix=.lua)
cat >"$lua" <<'LUA'
local token = os.getenv("SCIM_TOKEN")
local n = tonumber(os.getenv("SCIM_USERS"))
math.randomseed(os.time())
request = function()
  local path = string.format("/scim/v2/Users?filter=userName%%20eq%%20%%22user-%07d%%22", math.random(0, n - 1))
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
LUA
echo "== GET /Users?filter=userName eq \"user-<random>\""
wrk -t2 -c16 -d"${secs}s" --latency -s "$lua" "$base" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx'

echo "== GET /Users?filter=userName co \"4242\" (a scan)"
wrk -t2 -c8 -d"${secs}s" --latency -H "Authorization: Bearer $token" \
  "$base/Users?filter=userName%20co%20%224242%22" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx'

echo "== paging through every user, count=1000"
python3 "$here/scim_seed.py" page
echo "RSS $(ps -o rss= -p $pid) KiB"
rm -f "$lua"
