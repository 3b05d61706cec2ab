#!/bin/sh
# base.sh KIND - prints the name of a base image for the vendange images.
#   KIND runtime: runtime libraries + PostgreSQL (runtime and postgres images)
#   KIND build:   the same plus the compiler and -dev packages (build stage)
#   KIND fresh:   a bare Debian (essential packages, apt) plus git, make and
#                 ca-certificates, with the host's apt sources: the new
#                 machine of make check-fresh (always made here)
# With a registry, runtime and build are debian:bookworm-slim (the
# Dockerfiles install the packages). Without one (offline machines, CI), the
# base is made here from Debian packages with mmdebstrap and `docker
# import`ed as vendange-base-KIND:HASH, HASH keyed on the package lists and
# the sources, so it is built once and reused until they change. Progress
# goes to stderr.
set -eu
KIND="${1:-runtime}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SUITE="${VENDANGE_BASE_SUITE:-bookworm}"
MIRROR="${VENDANGE_BASE_MIRROR:-http://deb.debian.org/debian}"

if [ "$KIND" = fresh ]; then
    lists="packages-fresh.txt"
    # the host's apt sources, as files mmdebstrap copies into the rootfs
    MIRROR=""
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && grep -q '^[^#]' "$f" && MIRROR="$MIRROR $f"
    done
    [ -n "$MIRROR" ] || { echo "base.sh: the host has no apt sources" >&2; exit 1; }
    sources=$(cat $MIRROR)
else
    if docker image inspect debian:bookworm-slim >/dev/null 2>&1 ||
        timeout 60 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
        echo debian:bookworm-slim
        exit 0
    fi
    lists="packages-runtime.txt packages-postgres.txt"
    [ "$KIND" = build ] && lists="$lists packages-build.txt"
    sources="$MIRROR"
fi
pkgs=$(cd "$HERE" && cat $lists | sed 's/#.*//' | tr -s ' \n' ' ')
hash=$(printf '%s %s %s' "$SUITE" "$sources" "$pkgs" | sha256sum | cut -c1-12)
image="vendange-base-$KIND:$hash"
if docker image inspect "$image" >/dev/null 2>&1; then
    echo "$image"
    exit 0
fi

echo "vendange: making $image from Debian packages (mmdebstrap)" >&2
command -v mmdebstrap >/dev/null 2>&1 || {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends mmdebstrap >&2
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
include=$(echo $pkgs | tr ' ' ',')
# --variant=apt: essential packages + apt, like debian:bookworm-slim;
# the docs, man pages and apt lists are dropped as in the official image.
mmdebstrap --quiet --variant=apt --include="$include" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$SUITE" "$tmp/rootfs.tar" $MIRROR >&2
docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    "$tmp/rootfs.tar" "$image" >&2
echo "$image"
