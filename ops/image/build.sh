#!/usr/bin/env bash
# Builds the Gatehouse image from a release binary: gathers the binary and
# the shared libraries ldd lists into a build context (the image is FROM
# scratch: there is no base to install from), then runs podman (or docker)
# build with the repository's Containerfile.
# usage: ops/image/build.sh BINARY TAG
#        ops/image/build.sh --context-only BINARY DIR   (just the context)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
context_only=
if [ "${1:-}" = "--context-only" ]; then context_only=1; shift; fi
[ $# -eq 2 ] || { sed -n 2,7p "$0" >&2; exit 2; }
bin=$(realpath "$1")
[ -x "$bin" ] || { echo "$bin is not an executable" >&2; exit 2; }

if [ -n "$context_only" ]; then ctx=$2; mkdir -p "$ctx"; else ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT; fi
root="$ctx/rootfs"
rm -rf "$root" "$ctx/data"
mkdir -p "$root/usr/local/bin" "$root/etc/gatehouse" "$root/tmp" "$ctx/data"
chmod 1777 "$root/tmp"
install -m 0755 "$bin" "$root/usr/local/bin/gatehouse"

# Every library the dynamic loader resolves, and the loader itself, at the
# paths the binary asks for.
ldd "$bin" | awk '/=> \// { print $3 } /^\s*\/[^ ]+ \(/ { print $1 }' | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
if ldd "$bin" | grep -q 'not found'; then
  ldd "$bin" >&2
  echo "a library the binary needs is missing" >&2
  exit 1
fi

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/nonexistent:/nonexistent
gatehouse:x:10001:10001:Gatehouse:/var/lib/gatehouse:/nonexistent
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
gatehouse:x:10001:
GROUP
cat >"$root/etc/gatehouse/gatehouse.toml" <<'TOML'
# The image's defaults; mount a configuration over this file or set
# GATEHOUSE_* variables (they win over the file).
bind = "0.0.0.0:8080"
data_dir = "/var/lib/gatehouse"
TOML
cp "$repo/Containerfile" "$ctx/Containerfile"
[ -n "$context_only" ] && exit 0

version=$("$bin" --version | awk '{ print $2 }')
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
engine=$(command -v podman || command -v docker || { echo "podman or docker is required" >&2; exit 2; })
"$engine" build --quiet -f "$ctx/Containerfile" --build-arg "VERSION=$version" --build-arg "REVISION=$revision" -t "$2" "$ctx"
