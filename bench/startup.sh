#!/usr/bin/env bash
# Time from exec of `gatehouse serve` to the first 200 from /health/ready,
# on a fresh SQLite data directory (first start: migrations, dev master key,
# bootstrap admin with an argon2id hash) and on the same one again.
# usage: bench/startup.sh [path/to/gatehouse] [runs]   (loopback only, bounded)
set -euo pipefail
bin=${1:-target/release/gatehouse}
runs=${2:-5}
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

measure() { # -> milliseconds until ready
  local start end pid
  start=$(date +%s%N)
  (cd "$dir" && GATEHOUSE_BIND=127.0.0.1:$port GATEHOUSE_LOG_LEVEL=warn exec "$bin" serve >/dev/null 2>&1) &
  pid=$!
  for _ in $(seq 1 2000); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && break
    sleep 0.005
  done
  end=$(date +%s%N)
  kill -TERM "$pid"; wait "$pid" || true
  echo $(( (end - start) / 1000000 ))
}

for i in $(seq 1 "$runs"); do
  rm -rf "$dir/data"
  first=$(measure)
  again=$(measure)
  echo "run $i: first start ${first} ms, restart ${again} ms"
done
