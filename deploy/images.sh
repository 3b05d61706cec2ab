#!/bin/sh
# make images: builds the vendange service image and the PostgreSQL image,
# offline when need be. The bases come from deploy/docker/base.sh
# (debian:bookworm-slim when a registry answers, else made here from
# Debian packages once and cached by package list). Docker's layer cache
# keeps re-runs quick: only a source change recompiles.
#   VENDANGE_IMAGE (default vendange:latest),
#   VENDANGE_POSTGRES_IMAGE (default vendange-postgres:latest)
set -eu
cd "$(dirname "$0")/.."
image="${VENDANGE_IMAGE:-vendange:latest}"
pg_image="${VENDANGE_POSTGRES_IMAGE:-vendange-postgres:latest}"
# both bases at once (each is an mmdebstrap when no registry answers)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
sh deploy/docker/base.sh build >"$out" &
build_pid=$!
base=$(sh deploy/docker/base.sh runtime)
wait "$build_pid"
build_base=$(cat "$out")
echo "images: $image and $pg_image on $base (build stage on $build_base)"
docker build -q -f deploy/Dockerfile --build-arg BASE="$base" --build-arg BUILD_BASE="$build_base" \
    -t "$image" . >/dev/null
docker build -q -f deploy/postgres.Dockerfile --build-arg BASE="$base" -t "$pg_image" \
    deploy/docker >/dev/null
docker image ls --format '  {{.Repository}}:{{.Tag}} {{.Size}}' "${image%%:*}"
docker image ls --format '  {{.Repository}}:{{.Tag}} {{.Size}}' "${pg_image%%:*}"
