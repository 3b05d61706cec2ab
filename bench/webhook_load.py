"""Load test of the webhook gateway (for the benchmark issue; not in make check).

    python3 bench/webhook_load.py [--seconds 60] [--connections 32]

Starts its own PostgreSQL and services on free loopback ports (the
optimised build in build/bin, or $VD_BIN), registers a Brevo connector,
runs bench/hook_load.c (build/bin/hook-load) against the gateway, then
waits until the pipeline has caught up and checks that every acknowledged
event is in canonical.contact_history exactly once. Prints one JSON line:
events/s and p50/p99 latency of acknowledged requests, the check, and
the peak RSS and CPU of every service and of the server during the load
("procs", benchlib.Monitor). No recommender runs (webhook events queue
no recommendation job).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
os.environ.setdefault("VD_BIN", os.path.join(ROOT, "build", "bin"))

from benchlib import Monitor  # noqa: E402
from harness import Postgres, Stack  # noqa: E402


def key(email, ts_event):
    """The contact_key of a load event: Brevo marketing identity, the email
    as its BLAKE2b-64 (see extractors/webhook/hook_event.h)."""
    token = hashlib.blake2b(email.lower().encode(), digest_size=8).hexdigest()
    return "brevo-opened:1:e-%s:%s" % (token, ts_event)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    pg = Postgres()
    stack = Stack(pg, "bench-webhook", extractors=0, gateway=True, recommender=False,
                  env={"VENDANGE_LOG_LEVEL": "warn", "ASAN_OPTIONS": ""})
    try:
        stack.cli("connector", "add", "load", "--type", "brevo", "--set", "token=bench-token")
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if stack.get("/api/status") and os.path.exists(stack.spool):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        time.sleep(2)  # the gateway receives its configuration
        host, port = stack.env["VENDANGE_WEBHOOK_ADDR"].split(":")
        acked_file = tempfile.mktemp(prefix="vd-acked-")
        pids = {key: p.pid for key, p in stack.procs.items() if p.poll() is None}
        with Monitor(pids, pg) as m:
            out = subprocess.run([os.path.join(os.environ["VD_BIN"], "hook-load"), host, port,
                                  "/webhooks/brevo/load", "bench-token", str(args.connections),
                                  str(args.seconds), acked_file],
                                 capture_output=True, text=True, check=True)
        result = json.loads(out.stdout)
        result["procs"] = m.procs
        with open(acked_file) as f:  # "email ts_event" of each acknowledged event
            acked = {key(*line.split()) for line in f if line.strip()}
        os.unlink(acked_file)
        start = time.time()
        stored = 0
        while time.time() - start < 600:
            stored = int(pg.value("SELECT count(*) FROM canonical.contact_history "
                                  "WHERE email LIKE '%@load.test'"))
            if stored >= len(acked):
                break
            time.sleep(1)
        result["drain_s"] = round(time.time() - start, 1)
        keys = pg.psql("SELECT contact_key FROM canonical.contact_history "
                       "WHERE email LIKE '%@load.test'")
        keyset = {k[0] for k in keys}
        result["stored"] = len(keys)
        result["missing"] = len(acked - keyset)
        result["duplicates"] = len(keys) - len(keyset)
        result["exactly_once"] = result["missing"] == 0 and result["duplicates"] == 0
        print(json.dumps(result))
        return 0 if result["exactly_once"] else 1
    finally:
        stack.close()
        pg.close()


if __name__ == "__main__":
    sys.exit(main())
