#!/bin/sh
# restore.sh IN.dump - restores a dump of deploy/backup.sh (the schemas
# canonical, ops and reco) into an EMPTY vendange database (a fresh
# postgres container or server; stop the vendange services first). The
# services' migrations then find the schema version in ops and go on from
# there, and grant the role vendange_service its rights again (a dump
# keeps no privileges: the role may not exist on the new server).
#   With DATABASE_URL set: pg_restore runs here against that server.
#   Otherwise: into the postgres service of the compose stack (COMPOSE).
# The restored stack needs the VENDANGE_SECRET_KEY of the backed-up one.
set -eu
in="${1:?usage: restore.sh IN.dump}"
[ -s "$in" ] || { echo "restore.sh: $in is missing or empty" >&2; exit 1; }
if [ -n "${DATABASE_URL:-}" ]; then
    pg_restore --exit-on-error --single-transaction --no-owner --no-privileges --dbname="$DATABASE_URL" "$in"
else
    cid=$(${COMPOSE:-docker-compose -f "$(dirname "$0")/docker-compose.yml"} ps -q postgres)
    [ -n "$cid" ] || { echo "${0##*/}: the postgres service is not running" >&2; exit 1; }
    docker exec -i "$cid" \
        pg_restore --exit-on-error --single-transaction --no-owner --no-privileges -U postgres \
        --dbname=vendange <"$in"
fi
echo "restore.sh: restored $in"
