#!/bin/sh
# backup.sh OUT.dump - dumps the schemas canonical, ops and reco (pg_dump
# custom format: tables, data, sequences; no privileges: the services
# grant them at their start) of the vendange database.
#   With DATABASE_URL set: pg_dump runs here against that server.
#   Otherwise: pg_dump runs in the postgres service of the compose stack
#   (COMPOSE, default "docker-compose -f deploy/docker-compose.yml").
# Keep VENDANGE_SECRET_KEY with the dump: connector secrets in ops are
# encrypted with it. Restore with deploy/restore.sh.
set -eu
out="${1:?usage: backup.sh OUT.dump}"
tmp="$out.partial"
schemas="--schema=canonical --schema=ops --schema=reco"
if [ -n "${DATABASE_URL:-}" ]; then
    pg_dump --format=custom $schemas --no-owner --no-privileges --file="$tmp" "$DATABASE_URL"
else
    cid=$(${COMPOSE:-docker-compose -f "$(dirname "$0")/docker-compose.yml"} ps -q postgres)
    [ -n "$cid" ] || { echo "${0##*/}: the postgres service is not running" >&2; exit 1; }
    docker exec -i "$cid" \
        pg_dump --format=custom $schemas --no-owner --no-privileges -U postgres vendange >"$tmp"
fi
mv "$tmp" "$out"
echo "backup.sh: wrote $out ($(wc -c <"$out") bytes)"
