"""Benchmark of an Odoo sale.order.line sync, for `make bench`.

    VD_BIN=build/bin python3 bench/odoo_bench.py --lines 500000 [--page-size 1000]
        [--transport json2|xmlrpc] [--version 19|17]

Starts the Odoo double (tests/odoo_double.py) holding --lines extra sales
lines (one order, write_dates spread over the seconds, 1,000 per second),
a throwaway PostgreSQL and the real services, syncs once and prints one
JSON line: records/s of the whole sync (extractor to PostgreSQL), the
extractor's CPU time per 1,000 records and its peak RSS (VmHWM). Use the
optimised build (VD_BIN=build/bin), not the sanitizer one.

The double keeps every row in Python memory (about 1 KB a line: ~600 MB
for 500,000 lines) and serves pages in O(page) thanks to its sorted
indexes; it runs in this process, so its CPU is not the extractor's.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import odoo_double  # noqa: E402
from harness import Postgres, Stack  # noqa: E402


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--transport", default="auto")
    ap.add_argument("--version", default="19", choices=("17", "19"))
    args = ap.parse_args()

    odoo = odoo_double.OdooDouble(args.version)
    order = odoo.ids("sale.order", state="sale")[0]
    left = args.lines
    while left > 0:  # 1,000 lines per second of write_date
        odoo.add_lines(order, min(1000, left), product_id=3, qty=2.0, price=14.9)
        odoo.tick(1)
        left -= 1000
    odoo.tick(5)
    odoo.start()
    pg = Postgres()
    stack = Stack(pg, "bench-odoo", extractors=0, odoo_extractors=1,
                  env={"VENDANGE_LOG_LEVEL": "info", "VENDANGE_STALL_TIMEOUT_S": "3600"})
    try:
        settings = {"url": odoo.url, "database": odoo.db, "user": odoo.login,
                    "api_key": odoo.api_key, "transport": args.transport,
                    "page_size": str(args.page_size), "safety_lag_s": "0", "reconcile": "off"}
        cli = ["connector", "add", "bench", "--type", "odoo"]
        for k, v in settings.items():
            cli += ["--set", "%s=%s" % (k, v)]
        stack.cli(*cli)
        pid = stack.procs["extractor-odoo-0"].pid
        cpu0, t0 = cpu_seconds(pid), time.time()
        status, run = stack.sync("bench", timeout=3600)
        seconds, cpu = time.time() - t0, cpu_seconds(pid) - cpu0
        lines = run["tables"].get("sales_lines", {}).get("extracted", 0)
        print(json.dumps({
            "bench": "odoo sale.order.line sync", "status": run["status"], "lines": lines,
            "transport": args.transport, "version": args.version, "page_size": args.page_size,
            "seconds": round(seconds, 2), "records_per_s": round(lines / seconds) if seconds else 0,
            "extractor_cpu_s_per_1000": round(cpu / lines * 1000, 4) if lines else None,
            "extractor_peak_rss_mb": round(peak_rss_mb(pid), 1),
            "requests": odoo.counters()["calls"]}))
        return 0 if status == 0 else 1
    finally:
        stack.close()
        pg.close()
        odoo.stop()


if __name__ == "__main__":
    sys.exit(main())
