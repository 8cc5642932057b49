#!/usr/bin/env bash
# Proves a built image without running a container (the CI machines refuse
# the container runtime's setrlimit): checks its configuration, exports its
# filesystem, and starts the entrypoint under chroot as the image's user;
# /health/ready must answer 200 and the first administrator be created.
# usage: ops/image/test.sh TAG   (as root, for chroot)
set -euo pipefail
tag=$1
engine=$(command -v podman || command -v docker)
fail() { echo "image test: $*" >&2; exit 1; }

config=$("$engine" image inspect --format '{{json .Config}}' "$tag")
echo "$config" | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["User"] == "10001:10001", c["User"]
assert c["Entrypoint"] == ["/usr/local/bin/gatehouse"], c["Entrypoint"]
assert c["Cmd"] == ["serve"], c["Cmd"]
labels = c.get("Labels") or {}
for key in ["org.opencontainers.image.version", "org.opencontainers.image.revision", "org.opencontainers.image.title"]:
    assert labels.get(key) not in (None, "", "unknown", "dev"), (key, labels.get(key))
assert "/var/lib/gatehouse" in (c.get("Volumes") or {}), c.get("Volumes")
' || fail "configuration: $config"

dir=$(mktemp -d)
name="gatehouse-image-test-$$"
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  "$engine" rm -f "$name" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"$engine" create --name "$name" "$tag" >/dev/null
"$engine" export "$name" | tar -x -C "$dir"
chmod 0755 "$dir" # mktemp made it private; it is the image's /

# Only the binary, its libraries and the few files the build adds.
unexpected=$(cd "$dir" && find . -type f ! -path './usr/local/bin/gatehouse' ! -path './etc/passwd' ! -path './etc/group' \
  ! -path './etc/gatehouse/gatehouse.toml' ! -path './lib*' ! -path './usr/lib*' ! -path './etc/hosts' ! -path './etc/resolv.conf' \
  ! -path './etc/hostname' ! -path './run/.containerenv' | sort)
[ -z "$unexpected" ] || fail "unexpected files: $unexpected"
[ ! -e "$dir/bin/sh" ] || fail "the image has a shell"
[ "$(stat -c %u "$dir/var/lib/gatehouse")" = 10001 ] || fail "the data volume is not owned by the image's user"

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
# The image's own environment, plus a loopback address for this test.
chroot=$(command -v chroot)
env -i GATEHOUSE_CONFIG=/etc/gatehouse/gatehouse.toml GATEHOUSE_BIND="127.0.0.1:$port" \
  "$chroot" --userspec=10001:10001 "$dir" /usr/local/bin/gatehouse serve >"$dir.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready" || true)
  [ "$code" = 200 ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir.log" >&2; fail "the entrypoint exited"; }
  sleep 0.1
done
[ "$code" = 200 ] || { cat "$dir.log" >&2; fail "/health/ready answered $code"; }
grep -q 'Created the first administrator' "$dir.log" || { cat "$dir.log" >&2; fail "no first administrator"; }
[ -f "$dir/var/lib/gatehouse/gatehouse.db" ] || fail "no database in the data volume"
curl -sf "http://127.0.0.1:$port/.well-known/openid-configuration" >/dev/null || fail "no discovery document"
rm -f "$dir.log"
echo "image $tag: serves as user 10001 from its own filesystem; /health/ready 200"
