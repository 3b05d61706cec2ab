"""Benchmark of an Odoo sync: the `odoo` row of `make bench`, or alone.

    VD_BIN=build/bin python3 bench/odoo_bench.py --lines 100000 [--page-size 1000]
        [--transport auto|json2|xmlrpc] [--version 19|17] [--customers N] [--products N]

Starts the fast Odoo double (bench/odoo_fast.py, its own process: answers
rendered before the clock starts) holding --lines sales lines,
--customers customers (lines / 10), --products products and two stock
quants each, then the real services (one Odoo extractor, no
recommender) against a fresh database of a durable PostgreSQL (the
bench's own: fsync on), and syncs the connector once: the first sync of
every model, as a new connector does. The time is the run's own (queued
to marked success, ops.sync_runs); records/s counts every record of
every model. Peak RSS and CPU of every service, of the server and of the
double come from benchlib.Monitor. Checks: the run succeeded; for each
model, the run extracted and inserted exactly the records the double
holds (the double's transfer count is higher when a page split a second
of write_date and the pager re-read it: that is kept, not checked), none
rejected; the canonical table holds that many rows of source odoo.

Alone it prints one JSON line; in `make bench` (bench/cases/
other_sources.py) measure() runs on the bench's server.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import (BenchPostgres, BenchStack, Monitor, autovacuum_counts,  # noqa: E402
                      autovacuum_since, settle)

CONNECTOR = "odoo"
TABLES = {"product.product": "product_catalog", "res.partner": "customers",
          "stock.quant": "stock_levels", "sale.order.line": "sales_lines"}


class Double:
    """bench/odoo_fast.py in a process of its own."""

    def __init__(self, args, log):
        with open(log, "ab") as err:
            self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "odoo_fast.py")]
                                         + args, stdout=subprocess.PIPE, stderr=err,
                                         stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError("the Odoo double did not start; see %s" % log)
        self.info = json.loads(line)

    def counters(self):
        req = urllib.request.Request(self.info["url"] + "/__control__",
                                     data=json.dumps({"op": "counters"}).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())["result"]

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _connector(stack, info, page_size, transport):
    # secrets never on the command line; the double speaks plain http
    stack.env["VD_BENCH_ODOO_KEY"] = info["api_key"]
    settings = {"url": info["url"], "database": info["db"], "user": info["login"],
                "api_key": "env:VD_BENCH_ODOO_KEY", "transport": transport,
                "allow_insecure": "true",
                "page_size": str(page_size), "safety_lag_s": "0", "reconcile": "off"}
    cli = ["connector", "add", CONNECTOR, "--type", "odoo"]
    for k, v in settings.items():
        cli += ["--set", "%s=%s" % (k, v)]
    stack.cli(*cli)


def _check(pg, db, run, held):
    """Every record the double holds was extracted and inserted once, none
    rejected, and is in its canonical table; returns what was checked."""
    if run["status"] != "success":
        raise AssertionError("odoo sync ended %s: %s" % (run["status"], run.get("errors")))
    found = []
    for model, table in TABLES.items():
        c = run["tables"].get(table, {})
        got = (c.get("extracted"), c.get("inserted"), c.get("rejected"))
        rows = int(pg.psql("SELECT count(*) FROM canonical.%s WHERE source = 'odoo'" % table,
                           db=db)[0][0])
        if got != (held[model], held[model], 0) or rows != held[model]:
            raise AssertionError("odoo sync, %s: extracted/inserted/rejected %s and %d rows in "
                                 "canonical.%s, for %d records served"
                                 % (model, got, rows, table, held[model]))
        found.append("%s %d" % (table, rows))
    return found


def measure(pg, db, logs, lines, page_size=1000, transport="auto", version="19", customers=0,
            products=2000):
    """One measured Odoo sync on server pg (database db, recreated); returns
    a dict: seconds, records, records_per_s, procs, checks, the double's
    counters, the settle wait."""
    customers = customers or max(1, lines // 10)
    double = Double(["--lines", str(lines), "--customers", str(customers), "--products",
                     str(products), "--version", version], os.path.join(logs, "odoo-double.log"))
    pg.recreate(db)
    stack = None
    try:
        stack = BenchStack(pg.dsn_for(db), "odoo", logs, extractors=0, odoo_extractors=1,
                           recommender=False, env={"VENDANGE_STALL_TIMEOUT_S": "3600"})
        _connector(stack, double.info, page_size, transport)
        pids = dict(stack.pids(), **{"odoo-double": double.proc.pid})
        settled = settle(pg, pids)
        pg.psql("CHECKPOINT", db="postgres")
        vacuumed = autovacuum_counts(pg, db)
        with Monitor(pids, pg) as m:
            t0 = time.perf_counter()
            status, out, err = stack.cli("sync", CONNECTOR, "--wait", check=False, timeout=3600)
            wall = time.perf_counter() - t0
        settled["autovacuum_during"] = autovacuum_since(pg, db, vacuumed)
        run = json.loads(stack.cli("runs", CONNECTOR, "--json")[1])[0]
        seconds = float(pg.psql("SELECT extract(epoch FROM finished_at - queued_at) FROM "
                                "ops.sync_runs WHERE id = %d" % int(run["id"]), db=db)[0][0])
        held = double.info["records"]
        checks = _check(pg, db, run, held)
        counters = double.counters()
    finally:
        bad = stack.close() if stack else []
        double.close()
    if bad:
        raise AssertionError("services did not stop on SIGTERM: %s" % bad)
    records = sum(held[m] for m in TABLES)
    procs = {("extractor-odoo" if k.startswith("extractor-odoo") else k): v
             for k, v in m.procs.items()}
    ext = procs.get("extractor-odoo", {})
    return {"bench": "odoo sync", "status": run["status"], "exit": status,
            "seconds": round(seconds, 3), "wall_s": round(wall, 3), "records": records,
            "records_per_s": round(records / seconds) if seconds > 0 else None,
            "lines": held["sale.order.line"], "held": held, "page_size": page_size,
            "transport": transport, "version": version, "procs": procs,
            "extractor_cpu_s": ext.get("cpu_s"), "extractor_peak_rss_mb": ext.get("peak_rss_mb"),
            "extractor_cpu_s_per_1000": (round(ext["cpu_s"] / records * 1000, 4)
                                         if ext.get("cpu_s") is not None else None),
            "checks": checks, "double": counters, "settle": settled, "tables": run["tables"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=100000)
    ap.add_argument("--customers", type=int, default=0)
    ap.add_argument("--products", type=int, default=2000)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--transport", default="auto", choices=("auto", "json2", "xmlrpc"))
    ap.add_argument("--version", default="19", choices=("17", "19"))
    args = ap.parse_args()
    pg = BenchPostgres("")
    logs = tempfile.mkdtemp(prefix="vd-odoo-bench-")
    try:
        r = measure(pg, "odoo_bench", logs, args.lines, args.page_size, args.transport,
                    args.version, args.customers, args.products)
    except Exception:
        print("odoo_bench: failed; the logs are in %s" % logs, file=sys.stderr)
        raise
    finally:
        pg.close()
    shutil.rmtree(logs, ignore_errors=True)
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
