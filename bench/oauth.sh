#!/usr/bin/env bash
# Load on the machine-client path of a running Gatehouse: JWKS, RFC 8414
# metadata, client_credentials token issuance and introspection. Release build, loopback,
# bounded time. Prints req/s and p99 per scenario.
# usage: GH_URL=http://127.0.0.1:8080 GH_CLIENT_ID=… GH_CLIENT_SECRET=… bench/oauth.sh [seconds]
#   (a confidential client allowed client_credentials, client_secret_basic)
#   GH_PID=… adds the server's CPU per request (utime+stime from /proc/PID/stat
#   over the measured run, divided by the requests served): unlike req/s it
#   does not depend on wrk sharing the cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-10}
url=${GH_URL:-http://127.0.0.1:8080}
: "${GH_CLIENT_ID:?set GH_CLIENT_ID}" "${GH_CLIENT_SECRET:?set GH_CLIENT_SECRET}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

auth="Basic $(printf '%s:%s' "$GH_CLIENT_ID" "$GH_CLIENT_SECRET" | base64 -w0)"
lua=$(mktemp --suffix=.lua)
trap 'rm -f "$lua"' EXIT
cat >"$lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("AUTH")
LUA

cpu_ticks() { [ -n "${GH_PID:-}" ] && awk '{print $14 + $15}' "/proc/$GH_PID/stat" || echo 0; }
hz=$(getconf CLK_TCK)

run() { # name url [post]
  local out before after n cpu=""
  wrk -t2 -c32 -d2s ${3:+-s "$lua"} "$2" >/dev/null 2>&1 || true
  before=$(cpu_ticks)
  out=$(wrk -t2 -c32 -d"${secs}s" --latency ${3:+-s "$lua"} "$2" 2>&1)
  after=$(cpu_ticks)
  n=$(awk '/requests in/{print $1}' <<<"$out")
  if [ -n "${GH_PID:-}" ] && [ "${n:-0}" -gt 0 ]; then
    cpu=$(awk -v d=$((after - before)) -v hz="$hz" -v n="$n" 'BEGIN{printf "%.1f", d / hz / n * 1e6}')
  fi
  printf '%-22s %12s %10s %12s %s\n' "$1" "$(awk '/Requests\/sec/{print $2}' <<<"$out")" \
    "$(awk '$1=="99%"{print $2}' <<<"$out")" "$cpu" "$(awk '/Non-2xx/{print "non-2xx=" $NF}' <<<"$out")"
}

printf '%-22s %12s %10s %12s\n' scenario req/s p99 cpu_us/req
run jwks "$url/jwks.json"
run discovery "$url/.well-known/openid-configuration"
BODY="grant_type=client_credentials" AUTH="$auth" run client_credentials "$url/token" post
token=$(curl -sf -H "Authorization: $auth" -d grant_type=client_credentials "$url/token" |
  python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
BODY="token=$token" AUTH="$auth" run introspection "$url/introspect" post
