"""The other sources, one function each (issues 6, 7 and 14): run in the
first round only, so they add one row each to the table.

odoo     a first sync of an Odoo connector from the fast Odoo double
         (bench/odoo_fast.py: answers rendered before the clock starts,
         the wire protocol of tests/odoo_double.py): BENCH_ODOO_LINES
         sales lines (a tenth of BENCH_SALES, 100000 at full size), a
         tenth as many customers, BENCH_PRODUCTS products with two stock
         quants each, page BENCH_ODOO_PAGE (1000); on the bench's server
         (durable), the real services without a recommender
         (bench/odoo_bench.py). records/s counts every record of every
         model; the checks: each model's records extracted, inserted and
         in its canonical table exactly as many as the double holds.
webhook  the gateway under load: 32 connections for BENCH_WEBHOOK_SECONDS
         (60), acknowledged events/s, p50/p99 latency, then a check that
         every acknowledged event is stored exactly once
         (bench/webhook_load.py; build/bin/hook-load), on the test
         harness's server (fsync off): the durability that an
         acknowledgement waits for is the gateway's own spool fsync.
"""
import json
import os
import subprocess
import sys

from benchlib import ROOT, Sample, case, settled_text

import odoo_bench


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
    page = int(os.environ.get("BENCH_ODOO_PAGE", "1000"))
    r = odoo_bench.measure(ctx.pg, "odoo_bench", ctx.logs, lines, page,
                           products=ctx.sizes["products"])
    held = r["held"]
    return Sample("odoo", "Odoo first sync from the fast double (JSON-2, page %d): %d lines, %d "
                  "customers, %d products, %d quants" % (
                      page, held["sale.order.line"], held["res.partner"],
                      held["product.product"], held["stock.quant"]),
                  r["seconds"], r["records"], r["procs"],
                  "%s; extractor %.2f CPU s (%.4f s / 1000 records), peak RSS %.1f MB; double "
                  "transferred %s, rendered on request %d; %s" % (
                      ", ".join(r["checks"]), r["extractor_cpu_s"], r["extractor_cpu_s_per_1000"],
                      r["extractor_peak_rss_mb"], r["double"]["transferred"],
                      r["double"]["rendered_on_request"], settled_text(r["settle"])),
                  r, unit="records/s", compare=False)


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
