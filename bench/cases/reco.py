"""The recommender (issue 10): offline evaluation, then scale.

The history comes from bench/gen_reco.py (BENCH_RECO_CUSTOMERS customers,
BENCH_SALES / 10 by default, so 100,000 at full size and 10,000 for a quick
run; BENCH_PRODUCTS products; about 10 sales lines per customer), loaded
straight into the canonical tables with COPY: the recommender reads only
those. The schema comes from the services' own migration.

reco_vendange, reco_popularity, reco_random (first round only): each
    customer's last order is held out (every line of it; the generator puts
    it after day D, and it is the only order after D); the rest is loaded,
    the customers' aggregates and segments are computed as of D, and
    `recommender --once --model M --as-of D --no-issue` runs for each model.
    hit rate@5: share of the evaluated customers (those with a held-out order,
    all of whom bought before D) with at least one held-out product among
    their top 5; coverage: distinct recommended products / products active
    and in stock. Time and peak RSS are the run's own (its JSON line).
reco_scale (every round): the whole history (held-out orders included),
    aggregates as of its last day, then `recommender --once --as-of END`
    with issue tracking on (reco.issued, outcomes), timed from outside (wall
    clock, peak RSS and CPU from wait4, the server's CPU); reco.* is emptied
    before each round, so each round does the same work.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import harness
from benchlib import HERE, BenchStack, Sample, case, run_measured

MODELS = ("vendange", "popularity", "random")
TOP = 5
# the segment rules' defaults (common/vd_config.c, VENDANGE_SEGMENT_*), as in load_customers
VIP_SPENT, VIP_ORDERS, AT_RISK_DAYS, INACTIVE_DAYS = 1000, 10, 365, 730


def _customers(ctx):
    return int(os.environ.get("BENCH_RECO_CUSTOMERS", str(max(1000, ctx.sizes["sales"] // 10))))


def _generate(ctx):
    """The history, generated once per size and generator version."""
    gen = os.path.join(HERE, "gen_reco.py")
    with open(gen, "rb") as f:
        digest = hashlib.blake2b(f.read(), digest_size=16).hexdigest()
    stamp = "%s %d %d" % (digest, _customers(ctx), ctx.sizes["products"])
    folder = os.path.join(ctx.work, "reco-%d" % _customers(ctx))
    stamp_file = os.path.join(folder, "stamp")
    if not (os.path.exists(stamp_file) and open(stamp_file).read() == stamp):
        subprocess.run(["rm", "-rf", folder], check=True)
        with open(ctx.log("gen_reco.log"), "w") as log:
            subprocess.run([sys.executable, gen, folder, "--customers", str(_customers(ctx)),
                            "--products", str(ctx.sizes["products"])], check=True, stdout=log)
        with open(stamp_file, "w") as f:
            f.write(stamp)
    with open(os.path.join(folder, "meta.json")) as f:
        return folder, json.load(f)


def _migrate(ctx, db):
    """The schema, by the services' own migration (started, then stopped)."""
    stack = BenchStack(ctx.pg.dsn_for(db), "reco-migrate-%s" % db, ctx.logs, extractors=0,
                       recommender=False)
    bad = stack.close()
    if bad:
        raise AssertionError("services did not stop on SIGTERM: %s" % bad)


def _load(ctx, db, folder, meta):
    """COPY of the generated canonical rows."""
    ctx.pg.recreate(db)
    _migrate(ctx, db)
    for table in ("product_catalog", "stock_levels", "customers", "sales_lines"):
        cols = ", ".join(meta["columns"][table])
        path = os.path.join(folder, table + ".csv")
        subprocess.run(ctx.pg.psql_args(db) + [
            "-c", "\\copy canonical.%s (%s) FROM '%s' (FORMAT csv, HEADER true)"
            % (table, cols, path)], check=True, capture_output=True)


def _aggregates(ctx, db, as_of):
    """The customers' aggregates and segments as load_customers computes them, with
    as_of for today."""
    ctx.pg.psql(
        "WITH a AS (SELECT customer_key,"
        " min(date_sale) FILTER (WHERE quantity_units > 0) AS first_date,"
        " max(date_sale) FILTER (WHERE quantity_units > 0) AS last_date,"
        " coalesce(sum(price_total), 0) AS total,"
        " count(DISTINCT coalesce(order_id, sale_line_key)) FILTER (WHERE quantity_units > 0)"
        "   AS orders FROM canonical.sales_lines GROUP BY customer_key)"
        " UPDATE canonical.customers c SET first_purchase_date = a.first_date,"
        " last_purchase_date = a.last_date, total_spent = a.total, purchase_count = a.orders,"
        " avg_order_value = CASE WHEN a.orders > 0 THEN round(a.total / a.orders, 2) END,"
        " segment = CASE WHEN a.orders = 0 THEN 'prospect'"
        "   WHEN a.last_date < DATE '%(d)s' - %(inactive)d THEN 'inactive'"
        "   WHEN a.last_date < DATE '%(d)s' - %(at_risk)d THEN 'at_risk'"
        "   WHEN a.total >= %(spent)d OR a.orders >= %(orders)d THEN 'vip' ELSE 'standard' END"
        " FROM a WHERE a.customer_key = c.customer_key;"
        "UPDATE canonical.customers SET segment = 'prospect', total_spent = 0, purchase_count = 0"
        " WHERE purchase_count IS NULL;"
        "ANALYZE;" % {"d": as_of, "inactive": INACTIVE_DAYS, "at_risk": AT_RISK_DAYS,
                      "spent": VIP_SPENT, "orders": VIP_ORDERS}, db=db)


def _hold_out(ctx, db, as_of):
    """Moves the orders after as_of to bench.heldout and checks that each is
    its customer's last order, their only one after as_of, and that they
    bought before. Returns the number of evaluated customers."""
    ctx.pg.psql(
        "CREATE SCHEMA bench;"
        "CREATE TABLE bench.heldout AS SELECT customer_key, product_key, order_id, date_sale"
        " FROM canonical.sales_lines WHERE date_sale > DATE '%(d)s';"
        "DELETE FROM canonical.sales_lines WHERE date_sale > DATE '%(d)s';"
        "CREATE INDEX ON bench.heldout (customer_key);" % {"d": as_of}, db=db)
    bad = ctx.pg.psql(
        "SELECT count(*) FILTER (WHERE orders <> 1), count(*) FILTER (WHERE NOT EXISTS ("
        "  SELECT 1 FROM canonical.sales_lines s WHERE s.customer_key = h.customer_key"
        "  AND s.quantity_units > 0)), count(*) FROM (SELECT customer_key,"
        "  count(DISTINCT order_id) AS orders FROM bench.heldout GROUP BY customer_key) h",
        db=db)[0]
    several, new, total = (int(x) for x in bad)
    if several or new or not total:
        raise AssertionError("held-out orders: %d customers with several, %d without an earlier "
                             "order, %d in all" % (several, new, total))
    return total


def _env(ctx, db):
    env = dict(os.environ)
    env.update({"DATABASE_URL": ctx.pg.dsn_for(db), "VENDANGE_ENV_FILE": "/nonexistent",
                "VENDANGE_HOME": tempfile.mkdtemp(prefix="vd-reco-", dir=ctx.work),
                "VENDANGE_LOG_LEVEL": "info",
                "VENDANGE_ORCHESTRATOR_ENDPOINT": "tcp://127.0.0.1:%d" % harness.free_port()})
    return env


def _recommend(ctx, db, log, args):
    """One `recommender --once`: (wall seconds, procs, its JSON line)."""
    binary = os.path.join(harness.BIN, "recommender")
    if not os.path.exists(binary):
        raise RuntimeError("%s not built" % binary)
    log = ctx.log(log)
    if os.path.exists(log):
        os.unlink(log)
    ctx.quiesce()
    ctx.pg.statements_reset(db)
    seconds, procs = run_measured([binary, "--once"] + args, log, pg=ctx.pg, env=_env(ctx, db))
    top = ctx.pg.top_statements(db)
    with open(log, errors="replace") as f:
        lines = [line for line in f if line.startswith("{") and '"run_id"' in line]
    if not lines:
        raise AssertionError("no JSON line from the recommender; see %s" % log)
    out = json.loads(lines[-1])
    if out.get("status") != "success":
        raise AssertionError("recommender run %s; see %s" % (out, log))
    out["top_statements"] = top
    return seconds, procs, out


METRICS = """
WITH r AS (SELECT customer_key, product_key FROM reco.recommendations WHERE rank <= %(top)d),
ev AS (SELECT DISTINCT customer_key FROM bench.heldout),
hit AS (SELECT DISTINCT r.customer_key FROM r
        JOIN bench.heldout h USING (customer_key, product_key)),
eligible AS (SELECT p.product_key FROM canonical.product_catalog p
             WHERE p.active AND EXISTS (SELECT 1 FROM canonical.stock_levels s
                                        WHERE s.product_key = p.product_key
                                        AND s.available_qty > 0))
SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM hit),
       (SELECT count(DISTINCT product_key) FROM r),
       (SELECT count(DISTINCT r.product_key) FROM r JOIN eligible USING (product_key)),
       (SELECT count(*) FROM eligible),
       (SELECT count(DISTINCT customer_key) FROM r),
       (SELECT count(*) FROM r)
"""

# the recommended and bought (held-out) pairs: a product the customer had
# bought before, another vintage of a wine they had bought, or new to them
HIT_KINDS = """
WITH hit AS (SELECT DISTINCT r.customer_key, r.product_key FROM reco.recommendations r
             JOIN bench.heldout h USING (customer_key, product_key) WHERE r.rank <= %(top)d)
SELECT count(*) FILTER (WHERE kind = 1), count(*) FILTER (WHERE kind = 2),
       count(*) FILTER (WHERE kind = 3)
FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM canonical.sales_lines s
                               WHERE s.customer_key = hit.customer_key
                               AND s.product_key = hit.product_key) THEN 1
                  WHEN EXISTS (SELECT 1 FROM canonical.sales_lines s
                               JOIN canonical.product_catalog p USING (product_key)
                               JOIN canonical.product_catalog q ON q.name = p.name
                               WHERE s.customer_key = hit.customer_key
                               AND q.product_key = hit.product_key) THEN 2
                  ELSE 3 END AS kind FROM hit) k
"""

# customers whose held-out order holds a product a top 5 could contain:
# active, in stock on day D, not bought in the RECENT_DAYS before D
REACHABLE = """
SELECT count(DISTINCT h.customer_key) FROM bench.heldout h
JOIN canonical.product_catalog p USING (product_key)
WHERE p.active AND EXISTS (SELECT 1 FROM canonical.stock_levels s WHERE
      s.product_key = p.product_key AND s.available_qty > 0)
  AND NOT EXISTS (SELECT 1 FROM canonical.sales_lines l WHERE l.customer_key = h.customer_key
      AND l.product_key = h.product_key AND l.quantity_units > 0
      AND l.date_sale > DATE '%(d)s' - %(recent)d)
"""


def metrics(ctx, db, as_of):
    """hit rate@5 and coverage of what reco.recommendations holds now."""
    evaluated, hits, products, eligible_recommended, eligible, customers, rows = (
        int(x) for x in ctx.pg.psql(METRICS % {"top": TOP}, db=db)[0])
    if not evaluated or not eligible:
        raise AssertionError("nothing to evaluate: %d customers, %d products"
                             % (evaluated, eligible))
    recent = int(os.environ.get("VENDANGE_RECO_RECENT_DAYS", "90"))
    reachable = int(ctx.pg.psql(REACHABLE % {"d": as_of, "recent": recent}, db=db)[0][0])
    again, vintage, new = (int(x) for x in ctx.pg.psql(HIT_KINDS % {"top": TOP}, db=db)[0])
    return {"evaluated": evaluated, "hits": hits, "hit_rate_at_5": round(hits / evaluated, 4),
            "recommended_products": products, "eligible_products": eligible,
            "coverage": round(products / eligible, 4),
            "recommended_not_eligible": products - eligible_recommended,
            "customers_with_recommendations": customers, "recommendations": rows,
            "reachable_customers": reachable, "recent_days": recent,
            "hit_pairs": {"bought_before": again, "other_vintage": vintage, "new": new},
            "reachable_share": round(reachable / evaluated, 4)}


@case(order=80)
def reco_eval(ctx):
    if ctx.round > 0:
        return []
    folder, meta = ctx.once("reco_data", lambda: _generate(ctx))
    db, as_of = "reco_eval", meta["as_of"]
    _load(ctx, db, folder, meta)
    evaluated = _hold_out(ctx, db, as_of)
    _aggregates(ctx, db, as_of)
    out = []
    try:
        for model in MODELS:
            seconds, procs, run = _recommend(ctx, db, "reco-eval-%s.log" % model,
                                             ["--model", model, "--as-of", as_of, "--no-issue"])
            m = metrics(ctx, db, as_of)
            if m["evaluated"] != evaluated or m["recommended_not_eligible"]:
                raise AssertionError("%s: %s" % (model, m))
            issued = int(ctx.pg.psql("SELECT count(*) FROM reco.issued", db=db)[0][0])
            if issued:
                raise AssertionError("--no-issue run wrote %d reco.issued rows" % issued)
            m.update({"model": model, "run": run, "wall_s": round(seconds, 3),
                      "top_statements": run.pop("top_statements"),
                      "as_of": as_of, "history": {k: meta[k] for k in (
                          "customers", "products", "sales_lines", "orders", "heldout_orders",
                          "start", "end")}})
            out.append(Sample("reco_" + model, "recommender --once --model %s, %d customers, "
                              "last order held out" % (model, meta["customers"]),
                              float(run["seconds"]), int(run["customers"]),
                              {"recommender": {"peak_rss_mb": round(run["peak_rss_kb"] / 1000, 1),
                                               "cpu_s": procs["recommender"]["cpu_s"]},
                               "postgres": procs["postgres"]},
                              "hit rate@5 %.3f (%d/%d), coverage %.3f (%d/%d)" % (
                                  m["hit_rate_at_5"], m["hits"], m["evaluated"], m["coverage"],
                                  m["recommended_products"], m["eligible_products"]), m,
                              unit="customers/s", compare=False))
    finally:
        ctx.pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db, db="postgres")
    return out


def _scale_db(ctx, folder, meta):
    _load(ctx, "reco_scale", folder, meta)
    _aggregates(ctx, "reco_scale", meta["end"])
    return "reco_scale"


@case(order=81)
def reco_scale(ctx):
    folder, meta = ctx.once("reco_data", lambda: _generate(ctx))
    db = ctx.once("reco_scale_db", lambda: _scale_db(ctx, folder, meta))
    ctx.pg.psql("TRUNCATE reco.runs, reco.recommendations, reco.issued, reco.feedback,"
                " reco.exports; DELETE FROM canonical.contact_history WHERE source = 'vendange'",
                db=db)
    ctx.pg.psql("VACUUM ANALYZE canonical.contact_history", db=db)
    try:
        seconds, procs, run = _recommend(ctx, db, "reco-scale-round%d.log" % ctx.round,
                                         ["--as-of", meta["end"]])
        issued = int(ctx.pg.psql("SELECT count(*) FROM reco.issued", db=db)[0][0])
        if issued < int(run["recommendations"]) or not run["recommendations"]:
            raise AssertionError("reco.issued holds %d pairs for %s recommendations"
                                 % (issued, run["recommendations"]))
    finally:
        if ctx.round + 1 >= ctx.sizes["rounds"]:
            ctx.pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db, db="postgres")
    procs["recommender"]["peak_rss_mb_self"] = round(run["peak_rss_kb"] / 1000, 1)
    return Sample("reco_scale", "recommender --once (vendange, issue tracking), %d customers x "
                  "%d products, %d sales lines" % (meta["customers"], meta["products"],
                                                   meta["sales_lines"]),
                  seconds, int(run["customers"]), procs,
                  "%s customers, %s recommendations, %d issued; run's own %.2f s, peak RSS "
                  "%.1f MB" % (run["customers"], run["recommendations"], issued,
                               float(run["seconds"]), run["peak_rss_kb"] / 1000),
                  {"run": run, "issued": issued, "top_statements": run.pop("top_statements")},
                  unit="customers/s", compare=False)
