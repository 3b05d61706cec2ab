"""vendange on the same iSaVigne export, through the real services.

Each round, on a fresh database and freshly started services:
vd_full       full sync of the export (products, customers, stock, sales,
              aggregates and segments included)
vd_unchanged  re-sync of the unchanged export (recognised by its hashes)
vd_changed    re-sync after BENCH_CHANGE_PERCENT % of the sales lines changed

The time is the run's own, from the moment it was queued to the moment
it was marked success (ops.sync_runs.finished_at - queued_at); the
command's wall clock is kept in the JSON too. Every run is checked: it
succeeded and its counts are what the export makes them.

Each row measures only itself: the stack runs no recommender (a sync
that changed data still queues its recommendation job in reco.runs, as
deployed, but nobody serves it; the recommender is measured in its own
rows, bench/cases/reco.py), and before the clock starts the services
and the server must be idle (benchlib.settle: autovacuum of the run
before, for one). The wait is kept in the JSON.
"""
import json
import os
import shutil
import time

from benchlib import (BenchStack, Monitor, Sample, autovacuum_counts, autovacuum_since, case,
                      perf_record, settled_text)

CONNECTOR = "bench"


def _changed_lines(ctx):
    """How many sales lines differ between the export and its changed copy."""
    n = 0
    with open(os.path.join(ctx.export, "ventes.csv"), "rb") as a, \
            open(os.path.join(ctx.changed, "ventes.csv"), "rb") as b:
        for x, y in zip(a, b):
            n += x != y
    return n


def _round_folder(ctx):
    """A folder of hard links to the export, so a round may swap ventes.csv."""
    folder = os.path.join(ctx.work, "vd-export")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name in os.listdir(ctx.export):
        os.link(os.path.join(ctx.export, name), os.path.join(folder, name))
    return folder


def _sync(ctx, stack, db):
    """One measured sync; returns (seconds, extra, the run, procs)."""
    settled = ctx.quiesce(stack.pids())
    ctx.pg.statements_reset(db)
    vacuumed = autovacuum_counts(ctx.pg, db)
    with Monitor(stack.pids(), ctx.pg) as m, perf_record(ctx, stack, "%s-%d" % (db, _sync.n)):
        t0 = time.perf_counter()
        status, out, err = stack.cli("sync", CONNECTOR, "--wait", check=False, timeout=3600)
        wall = time.perf_counter() - t0
    _sync.n += 1
    settled["autovacuum_during"] = autovacuum_since(ctx.pg, db, vacuumed)
    top = ctx.pg.top_statements(db)
    run = json.loads(stack.cli("runs", CONNECTOR, "--json")[1])[0]
    if status != 0 or run["status"] != "success":
        raise AssertionError("vendange sync ended %s (exit %d):\n%s\n%s" % (
            run["status"], status, out, err))
    seconds, dispatch = ctx.pg.psql("SELECT extract(epoch FROM finished_at - queued_at), "
                                    "extract(epoch FROM started_at - queued_at) FROM "
                                    "ops.sync_runs WHERE id = %d" % int(run["id"]), db=db)[0]
    procs = {("extractor" if k.startswith("extractor") else k): v for k, v in m.procs.items()}
    extra = {"wall_s": round(wall, 3), "dispatch_wait_s": round(float(dispatch), 3),
             "tables": run["tables"], "top_statements": top, "settle": settled}
    return float(seconds), extra, run, procs


_sync.n = 0


def _totals(run):
    t = run["tables"]
    return {k: sum(c[k] for c in t.values()) for k in ("extracted", "inserted", "updated",
                                                       "unchanged", "rejected")}


def _expect(method, got, want):
    if got != want:
        raise AssertionError("%s: got %s, expected %s" % (method, got, want))


def _check_full(ctx, run):
    s, sz = run["tables"].get("sales_lines", {}), ctx.sizes
    _expect("vd_full sales_lines", (s.get("extracted"), s.get("inserted"), s.get("rejected")),
            (sz["sales"], sz["sales"], 0))
    total = sz["sales"] + sz["customers"] + sz["products"] + sz["stock"]
    _expect("vd_full records", _totals(run)["extracted"], total)
    return total


def _check_unchanged(run):
    _expect("vd_unchanged extracted", _totals(run)["extracted"], 0)
    _expect("vd_unchanged files", sorted({f["status"] for f in run["files"]}), ["unchanged"])


def _check_changed(ctx, run, changed):
    s = run["tables"].get("sales_lines", {})
    _expect("vd_changed sales_lines", (s.get("extracted"), s.get("updated"), s.get("inserted")),
            (ctx.sizes["sales"], changed, 0))


def _counts(run):
    return "; ".join("%s %s" % (name, "/".join(str(c[k]) for k in ("extracted", "inserted",
                                                                   "updated", "unchanged",
                                                                   "rejected")))
                     for name, c in sorted(run["tables"].items())) or "nothing extracted"


def _sample(method, label, rows, measured):
    seconds, extra, run, procs = measured
    return Sample(method, label, seconds, rows, procs,
                  "%s (extracted/inserted/updated/unchanged/rejected); queued to started %.2f s, "
                  "wall %.2f s; %s" % (_counts(run), extra["dispatch_wait_s"], extra["wall_s"],
                                       settled_text(extra["settle"])), extra)


@case(order=40)
def vendange_isavigne(ctx):
    changed = ctx.once("changed_lines", lambda: _changed_lines(ctx))
    db = "vd_round%d" % ctx.round
    ctx.pg.recreate(db)
    folder = _round_folder(ctx)
    stack = BenchStack(ctx.pg.dsn_for(db), "vd-round%d" % ctx.round, ctx.logs, recommender=False)
    try:
        stack.add_isavigne(CONNECTOR, folder)
        full = _sync(ctx, stack, db)
        records = _check_full(ctx, full[2])
        unchanged = _sync(ctx, stack, db)
        _check_unchanged(unchanged[2])
        os.unlink(os.path.join(folder, "ventes.csv"))
        os.link(os.path.join(ctx.changed, "ventes.csv"), os.path.join(folder, "ventes.csv"))
        resync = _sync(ctx, stack, db)
        _check_changed(ctx, resync[2], changed)
    finally:
        bad = stack.close()
        ctx.pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db, db="postgres")
    if bad:
        raise AssertionError("services did not stop on SIGTERM: %s" % bad)
    return [_sample("vd_full", "vendange full sync (fresh database, aggregates included)",
                    records, full),
            _sample("vd_unchanged", "vendange re-sync, export unchanged", records, unchanged),
            _sample("vd_changed", "vendange re-sync, %s %% of sales lines changed (%d lines)"
                    % (ctx.sizes["change_percent"], changed), ctx.sizes["sales"], resync)]
