#!/usr/bin/env bash
# Starts a release Gatehouse (production profile, fresh SQLite data directory),
# registers a client_credentials client and runs bench/oauth.sh against it with
# the server's CPU per request (from its own /proc counters). For before/after
# comparisons of the token path: run it on two binaries.
# usage: bench/token_cpu.sh [path/to/gatehouse] [seconds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-target/release/gatehouse}")
secs=${2:-10}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
dir=$(mktemp -d)
export GATEHOUSE_BIND=127.0.0.1:$port GATEHOUSE_ISSUER=http://127.0.0.1:$port
export GATEHOUSE_PROFILE=production GATEHOUSE_AUTO_MIGRATE=true GATEHOUSE_LOG_LEVEL=info \
  GATEHOUSE_MASTER_KEY=$(head -c 32 /dev/urandom | base64) GATEHOUSE_METRICS_TOKEN=$(head -c 24 /dev/urandom | base64)
(cd "$dir" && exec "$bin" serve >"$dir/server.log" 2>&1) &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && break; sleep 0.05; done
created=$(cd "$dir" && "$bin" client create --name bench --grant-type client_credentials --json)
id=$(python3 -c 'import sys,json;print(json.load(sys.stdin)["client_id"])' <<<"$created")
secret=$(python3 -c 'import sys,json;print(json.load(sys.stdin)["client_secret"])' <<<"$created")
GH_URL=http://127.0.0.1:$port GH_CLIENT_ID=$id GH_CLIENT_SECRET=$secret GH_PID=$pid "$here/oauth.sh" "$secs"
