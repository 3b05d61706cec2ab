"""The other sources, one function each (issues 6 and 7): run in the first
round only (they bring their own server and data), so they add one row
each to the table.

odoo     a sale.order.line sync from the Odoo double: BENCH_ODOO_LINES
         (a tenth of BENCH_SALES, 100000 at full size; the double, in Python, is the slow side: 500000 takes
         several minutes and ~600 MB) lines, page BENCH_ODOO_PAGE (1000), records/s, extractor
         CPU s per 1,000 records and its peak RSS (bench/odoo_bench.py)
webhook  the gateway under load: 32 connections for BENCH_WEBHOOK_SECONDS
         (60), events/s of acknowledged events, p50/p99 latency, then a
         check that every acknowledged event is stored exactly once
         (bench/webhook_load.py; build/bin/hook-load)
Their servers are the test harness's (fsync off): the durability that an
acknowledgement waits for is the gateway's own spool fsync.
"""
import json
import os
import subprocess
import sys

from benchlib import ROOT, Sample, case


def _run_json(script, args, log):
    """Runs a bench script; its last stdout line is its JSON result."""
    env = dict(os.environ)
    env.setdefault("VD_BIN", os.path.join(ROOT, "build", "bin"))
    with open(log, "w") as err:
        out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", script)] + args,
                             env=env, stdout=subprocess.PIPE, stderr=err, text=True)
    lines = [l for l in out.stdout.split("\n") if l.strip()]
    if out.returncode != 0 or not lines:
        raise RuntimeError("%s failed (%d), see %s: %s" % (script, out.returncode, log,
                                                           out.stdout[-500:]))
    return json.loads(lines[-1])


@case(60)
def odoo(ctx):
    if ctx.round > 0:
        return []
    lines = int(os.environ.get("BENCH_ODOO_LINES", str(max(1000, ctx.sizes["sales"] // 10))))
    page = os.environ.get("BENCH_ODOO_PAGE", "1000")
    r = _run_json("odoo_bench.py", ["--lines", str(lines), "--page-size", page],
                  ctx.log("odoo_bench.log"))
    if r["status"] != "success" or r["lines"] < lines:  # the double's seed lines come too
        raise RuntimeError("odoo sync: %s, %s lines for %d" % (r["status"], r["lines"], lines))
    return Sample("odoo", "Odoo sale.order.line sync (double, JSON-2, page %s)" % page,
                  r["seconds"], r["lines"],
                  {"extractor-odoo": {"peak_rss_mb": r["extractor_peak_rss_mb"],
                                      "cpu_s": r["extractor_cpu_s_per_1000"] * r["lines"] / 1000}},
                  "%d lines, %.4f extractor CPU s / 1000 records" % (
                      r["lines"], r["extractor_cpu_s_per_1000"]), r, unit="records/s",
                  compare=False)


@case(70)
def webhook(ctx):
    if ctx.round > 0:
        return []
    seconds = os.environ.get("BENCH_WEBHOOK_SECONDS", "60")
    r = _run_json("webhook_load.py", ["--seconds", seconds], ctx.log("webhook_load.log"))
    if not r["exactly_once"]:
        raise RuntimeError("acknowledged events not stored exactly once: %s" % r)
    return Sample("webhook", "webhook gateway, 32 connections, %s s of load" % seconds,
                  float(seconds), r["acknowledged"], r.get("procs", {}),
                  "%d acknowledged, %d refused, %d errors; stored exactly once (drained in %s s)"
                  % (r["acknowledged"], r.get("refused", 0), r.get("errors", 0), r["drain_s"]),
                  r, throughput="%d events/s acknowledged, p50 %s ms, p99 %s ms" % (
                      round(r["events_per_s"]), r.get("p50_ms"), r.get("p99_ms")),
                  compare=False)
