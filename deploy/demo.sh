#!/bin/sh
# make demo: start vendange (embedded PostgreSQL unless DATABASE_URL is
# set), register the bundled sample iSaVigne export, sync it and show
# what was loaded and one customer's recommendations.
set -eu
BIN="$1"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VD="$BIN/vendange"

"$VD" up
if ! "$VD" connector list --json | grep -q '"name": *"demo"'; then
    "$VD" connector add demo --type isavigne --set "export_path=$ROOT/samples/isavigne"
fi
status=0
"$VD" sync demo --wait || status=$?
echo
"$VD" runs demo --limit 1
echo
echo "Recommendations of one customer (the recommender runs after each sync that changed data):"
"$VD" reco isavigne-C0001 --refresh || true
echo
echo "The canonical tables are in the database (schema canonical), runs and rejects in schema ops."
echo "Web page and API: ${VENDANGE_API_URL:-http://127.0.0.1:8480}/"
echo "More: $VD --help   |   stop everything: $VD down"
exit $status
