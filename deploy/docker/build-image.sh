#!/usr/bin/env bash
# Builds the Flotilla image (masters and agents) with no registry: `FROM scratch` and a root file
# system made here from this machine's node binary and the shared libraries it and the native
# add-ons (better-sqlite3) load, the checkout's code and production dependencies (`npm prune
# --omit=dev` on a copy: nothing is downloaded), and a static busybox for /bin/sh, which the
# process containerizer runs tasks with. Where a registry is reachable, `FROM node:20-slim` with
# `npm ci --omit=dev` does the same (deploy/README.md).
#
#   deploy/docker/build-image.sh [IMAGE]      (default flotilla:local; DOCKER_HOST is honoured)
set -euo pipefail

image="${1:-flotilla:local}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
node_binary="$(command -v node)"
busybox_binary="${BUSYBOX:-/bin/busybox}"
# The user masters run as in the compose file (a fixed id: the data volume belongs to it).
flotilla_uid=999

[ -x "$busybox_binary" ] || { echo "build-image: $busybox_binary is missing (apt-get install busybox-static)" >&2; exit 1; }
[ -d "$repo/node_modules" ] || { echo "build-image: run npm install in $repo first" >&2; exit 1; }

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
rootfs="$context/rootfs"
app="$rootfs/opt/flotilla"
mkdir -p "$rootfs/usr/bin" "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/var/lib/flotilla/master" \
  "$rootfs/var/lib/flotilla/agent" "$app"
chmod 1777 "$rootfs/tmp"

cp -a "$repo/package.json" "$repo/package-lock.json" "$repo/bin" "$repo/src" "$repo/node_modules" "$app/"
(cd "$app" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --offline >/dev/null)

cp "$node_binary" "$rootfs/usr/bin/node"
copy_libraries() {
  local library
  for library in $(ldd "$1" | grep -o '/[^ ]*'); do
    mkdir -p "$rootfs$(dirname "$library")"
    cp -L "$library" "$rootfs$library"
  done
}
copy_libraries "$node_binary"
while IFS= read -r addon; do copy_libraries "$addon"; done < <(find "$app/node_modules" -name '*.node' -type f)

cp "$busybox_binary" "$rootfs/bin/busybox"
for applet in sh ls cat ps sleep echo env id wget; do ln -s busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nflotilla:x:%s:%s:flotilla:/nonexistent:/bin/false\n' \
  "$flotilla_uid" "$flotilla_uid" > "$rootfs/etc/passwd"
printf 'root:x:0:\nflotilla:x:%s:\n' "$flotilla_uid" > "$rootfs/etc/group"
chown -R "$flotilla_uid:$flotilla_uid" "$rootfs/var/lib/flotilla/master"

tar -C "$rootfs" --numeric-owner -cf "$context/rootfs.tar" .
cp "$repo/deploy/docker/Dockerfile" "$context/Dockerfile"
docker build --quiet --tag "$image" "$context" >/dev/null
echo "built $image"
