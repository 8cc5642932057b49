#!/usr/bin/env bash
# Starts a release Gatehouse (production profile) on a fresh SQLite data directory, registers a
# client_credentials client, and runs the shared peer comparison
# (../shared/bench/peer/compare.sh: node's oidc-provider under the same wrk
# load) against it. Loopback only, bounded in time.
# usage: bench/peer.sh [path/to/gatehouse] [seconds]   (ALG=RS256 for RSA on both sides)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-target/release/gatehouse}")
secs=${2:-10}
compare=${PEER_COMPARE:-$here/../../shared/bench/peer/compare.sh}
[ -x "$compare" ] || { echo "compare.sh not found; set PEER_COMPARE" >&2; exit 2; }
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
dir=$(mktemp -d)
export GATEHOUSE_BIND=127.0.0.1:$port GATEHOUSE_ISSUER=http://127.0.0.1:$port
# As deployed: production profile, JSON access log at info, metrics on.
export GATEHOUSE_PROFILE=production GATEHOUSE_AUTO_MIGRATE=true GATEHOUSE_LOG_LEVEL=info \
  GATEHOUSE_MASTER_KEY=$(head -c 32 /dev/urandom | base64) GATEHOUSE_METRICS_TOKEN=$(head -c 24 /dev/urandom | base64)
(cd "$dir" && exec "$bin" serve >"$dir/server.log" 2>&1) &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && break; sleep 0.05; done
alg=ES256; [ "${ALG:-ES256}" = RS256 ] && alg=RS256
created=$(cd "$dir" && "$bin" client create --name bench --grant-type client_credentials --signing-alg "$alg" --json)
id=$(python3 -c 'import sys,json;print(json.load(sys.stdin)["client_id"])' <<<"$created")
secret=$(python3 -c 'import sys,json;print(json.load(sys.stdin)["client_secret"])' <<<"$created")
echo "gatehouse $("$bin" --version 2>/dev/null || true), idle RSS $(ps -o rss= -p $pid) KiB"
GH_URL=http://127.0.0.1:$port GH_CLIENT_ID=$id GH_CLIENT_SECRET=$secret "$compare" "$secs"
echo "loaded RSS $(ps -o rss= -p $pid) KiB"
