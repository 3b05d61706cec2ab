"""The recommender (build/bin/recommender) on a seeded dataset with known
tastes: a customer who buys Riesling and Gewurztraminer under 30 EUR, one
who buys Crémant for the year's end, opted-out, invalid-email, prospect and
at-risk customers. Checks the top recommendations follow the tastes, never
hold a product bought within the recent window, an inactive or an
out-of-stock one, carry the right reasons, flag who may not receive a
campaign; that a bad verdict drops the product and lowers its signals for
that customer at the next run; that purchases and clicks after a
recommendation are recorded (reco.issued, contact_history); and the
service mode: a queued run is taken, SIGTERM exits 0."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import ARTIFACTS, BIN, Postgres

AS_OF = "2026-11-20"

# key, name, category, price excl. VAT, grapes, flavors, vintage, body, active, available
PRODUCTS = [
    ("RIES-RES-2021", "Riesling Réserve 2021", "blanc", 14, ["Riesling"], ["citrus", "mineral"], 2021, "light", True, 40),
    ("RIES-RES-2022", "Riesling Réserve 2022", "blanc", 14, ["Riesling"], ["citrus", "mineral"], 2022, "light", True, 60),
    ("RIES-GC-2020", "Riesling Grand Cru Schlossberg 2020", "blanc", 40, ["Riesling"], ["mineral", "petrol"], 2020, "medium", True, 12),
    ("GEW-TRAD-2022", "Gewurztraminer Tradition 2022", "blanc", 15, ["Gewurztraminer"], ["lychee", "rose"], 2022, "medium", True, 50),
    ("GEW-RES-2023", "Gewurztraminer Réserve 2023", "blanc", 17, ["Gewurztraminer"], ["lychee", "spice"], 2023, "medium", True, 30),
    ("GEW-VT-2018", "Gewurztraminer Vendanges Tardives 2018", "blanc", 45, ["Gewurztraminer"], ["honey", "lychee"], 2018, "full", True, 10),
    ("GEW-SGN-2017", "Gewurztraminer Sélection de Grains Nobles 2017", "blanc", 20, ["Gewurztraminer"], ["honey"], 2017, "full", True, 0),
    ("RIES-VV-2019", "Riesling Vieilles Vignes 2019", "blanc", 16, ["Riesling"], ["citrus"], 2019, "light", False, 30),
    ("PG-2022", "Pinot Gris 2022", "blanc", 13, ["Pinot Gris"], ["smoky", "pear"], 2022, "medium", True, 40),
    ("SYL-2023", "Sylvaner 2023", "blanc", 8, ["Sylvaner"], ["green apple"], 2023, "light", True, 80),
    ("MUSC-2022", "Muscat 2022", "blanc", 12, ["Muscat"], ["grape", "floral"], 2022, "light", True, 30),
    ("PN-2022", "Pinot Noir 2022", "rouge", 18, ["Pinot Noir"], ["cherry"], 2022, "light", True, 40),
    ("PN-FUT-2020", "Pinot Noir Fût de Chêne 2020", "rouge", 35, ["Pinot Noir"], ["cherry", "oak"], 2020, "medium", True, 20),
    ("CREM-BRUT", "Crémant d'Alsace Brut", "mousseux", 10, ["Pinot Blanc", "Auxerrois"], ["brioche", "apple"], None, "light", True, 200),
    ("CREM-ROSE", "Crémant d'Alsace Rosé", "mousseux", 12, ["Pinot Noir"], ["red berries"], None, "light", True, 100),
    ("CREM-PREST", "Crémant d'Alsace Prestige 2019", "mousseux", 22, ["Chardonnay", "Pinot Blanc"], ["brioche", "toast"], 2019, "medium", True, 60),
]

# key, segment, email, opt-out, invalid
CUSTOMERS = [
    ("isavigne-A", "standard", "anne@example.fr", False, False),
    ("isavigne-B", "standard", "bruno@example.fr", False, False),
    ("isavigne-C", "standard", "claire@example.fr", True, False),
    ("isavigne-D", "standard", "pas-un-email", False, True),
    ("isavigne-E", "prospect", "emile@example.fr", False, False),
    ("isavigne-F", "at_risk", "fanny@example.fr", False, False),
] + [("isavigne-G%d" % i, "standard", "g%d@example.fr" % i, False, False) for i in range(8)]

# customer, product, date, bottles
SALES = [
    ("isavigne-A", "RIES-RES-2021", "2025-03-14", 6), ("isavigne-A", "RIES-RES-2021", "2025-06-02", 6),
    ("isavigne-A", "GEW-TRAD-2022", "2025-05-20", 3), ("isavigne-A", "GEW-TRAD-2022", "2026-11-02", 6),
    ("isavigne-B", "CREM-BRUT", "2023-12-18", 12), ("isavigne-B", "CREM-BRUT", "2024-12-20", 12),
    ("isavigne-B", "CREM-ROSE", "2024-12-20", 6), ("isavigne-B", "CREM-BRUT", "2025-12-19", 12),
    ("isavigne-C", "PN-2022", "2026-02-10", 6),
    ("isavigne-D", "PG-2022", "2026-03-10", 6),
    ("isavigne-F", "PN-FUT-2020", "2024-01-15", 12), ("isavigne-F", "PN-FUT-2020", "2024-06-15", 6),
    ("isavigne-F", "PN-2022", "2024-06-15", 6),
]
# co-purchase and popularity: customers who buy Pinot Noir and Pinot Gris together
for i in range(8):
    SALES += [("isavigne-G%d" % i, "PN-2022", "2026-0%d-05" % (i % 8 + 1), 6),
              ("isavigne-G%d" % i, "PG-2022", "2026-0%d-05" % (i % 8 + 1), 6)]
    if i < 4:
        SALES.append(("isavigne-G%d" % i, "SYL-2023", "2026-0%d-09" % (i + 1), 6))


def sql_text(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "ARRAY[%s]::text[]" % ",".join(sql_text(x) for x in v)
    return "'" + str(v).replace("'", "''") + "'"


def segment_of(price):
    incl = price * 1.2
    return "entry" if incl < 15 else "standard" if incl < 30 else "premium" if incl < 75 else "luxury"


class Recommender(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        cls.env = dict(os.environ, DATABASE_URL=cls.pg.dsn, VENDANGE_ENV_FILE="/nonexistent",
                       VENDANGE_LOG_LEVEL="debug", VENDANGE_HEARTBEAT_MS="200",
                       ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
        cls.first = cls.once()  # migrates an empty database: nothing to recommend
        cls.seed()

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()

    @classmethod
    def once(cls, *args, check=True):
        out = subprocess.run([os.path.join(BIN, "recommender"), "--once"] + list(args),
                             env=cls.env, capture_output=True, text=True, timeout=120)
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in out.stderr, out.stderr
        if check:
            assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().split("\n")[-1]) if out.stdout.strip() else None

    @classmethod
    def seed(cls):
        rows = []
        for k, name, cat, price, grapes, flavors, vintage, body, active, avail in PRODUCTS:
            rows.append("INSERT INTO canonical.product_catalog (product_key, source, source_id,"
                        " name, category, price_segment, list_price, grapes, flavors, vintage,"
                        " region, body, active) VALUES (%s)" % ",".join(sql_text(v) for v in (
                            k, "isavigne", k, name, cat, segment_of(price), price, grapes,
                            flavors, vintage, "Alsace", body, active)))
            rows.append("INSERT INTO canonical.stock_levels (stock_key, source, source_id,"
                        " product_key, warehouse, quantity_units, available_qty) VALUES"
                        " (%s)" % ",".join(sql_text(v) for v in (
                            "isavigne-%s-cave" % k, "isavigne", k, k, "cave", avail, avail)))
        for k, seg, email, opt_out, invalid in CUSTOMERS:
            rows.append("INSERT INTO canonical.customers (customer_key, source, source_id,"
                        " segment, email, email_opt_out, email_invalid) VALUES (%s)" % ",".join(
                            sql_text(v) for v in (k, "isavigne", k, seg, email, opt_out, invalid)))
        for i, (c, p, d, q) in enumerate(SALES):
            price = [x[3] for x in PRODUCTS if x[0] == p][0]
            rows.append("INSERT INTO canonical.sales_lines (sale_line_key, source, source_id,"
                        " customer_key, product_key, order_id, date_sale, quantity_units,"
                        " quantity_bottles_75cl_eq, price_total) VALUES (%s)" % ",".join(
                            sql_text(v) for v in ("isavigne-L%d" % i, "isavigne", "L%d" % i, c, p,
                                                  "FA-%d" % i, d, q, q, q * price)))
        cls.pg.psql(";".join(rows))

    def recos(self, customer):
        rows = self.pg.psql("SELECT rank, product_key, score, reasons, win_back, campaign_ok,"
                            " campaign_block FROM reco.recommendations WHERE customer_key = '%s'"
                            " ORDER BY rank" % customer)
        return [{"rank": int(r[0]), "product": r[1], "score": float(r[2]),
                 "reasons": json.loads(r[3]), "win_back": r[4] == "t",
                 "campaign_ok": r[5] == "t", "block": r[6]} for r in rows]

    def test_0_empty_database(self):
        self.assertEqual(self.first["status"], "success")
        self.assertEqual(self.first["recommendations"], 0)
        self.assertEqual(self.first["model_version"], "vendange-1")

    def test_1_full_run_counts(self):
        out = self.once("--as-of", AS_OF, "--no-issue")
        self.assertEqual(out["customers"], len(CUSTOMERS))
        n = int(self.pg.value("SELECT count(*) FROM reco.recommendations"))
        self.assertEqual(out["recommendations"], n)
        self.assertLessEqual(int(self.pg.value(
            "SELECT max(c) FROM (SELECT count(*) c FROM reco.recommendations GROUP BY 1) x"
            .replace("GROUP BY 1", "GROUP BY customer_key"))), 5)
        run = self.pg.psql("SELECT status, model_version, weights->>'taste', customers"
                           " FROM reco.runs WHERE id = %d" % out["run_id"])[0]
        self.assertEqual(run[:2], ["success", "vendange-1"])
        self.assertEqual(float(run[2]), 2.0)  # no feedback yet: base weight

    def test_2_never_recent_inactive_or_out_of_stock(self):
        self.once("--as-of", AS_OF, "--no-issue")
        bad = self.pg.psql("SELECT customer_key, product_key FROM reco.recommendations"
                           " WHERE product_key IN ('RIES-VV-2019', 'GEW-SGN-2017')")
        self.assertEqual(bad, [])
        # bought within 90 days of the as-of day, by the same customer
        recent = self.pg.psql(
            "SELECT r.customer_key, r.product_key FROM reco.recommendations r"
            " JOIN canonical.sales_lines s USING (customer_key, product_key)"
            " WHERE s.date_sale > date '%s' - 90" % AS_OF)
        self.assertEqual(recent, [])
        self.assertNotIn("GEW-TRAD-2022", [r["product"] for r in self.recos("isavigne-A")])

    def test_3_riesling_gewurztraminer_under_30(self):
        self.once("--as-of", AS_OF, "--no-issue")
        recos = self.recos("isavigne-A")
        grapes = {p[0]: p[4] for p in PRODUCTS}
        price = {p[0]: p[3] * 1.2 for p in PRODUCTS}
        top = [r["product"] for r in recos]
        for p in top[:3]:
            self.assertTrue({"Riesling", "Gewurztraminer"} & set(grapes[p]), top)
        for p in top[:3]:
            self.assertLess(price[p], 30, top)
        self.assertEqual(top[0], "RIES-RES-2022", top)
        reasons = recos[0]["reasons"]
        signals = {r["signal"]: r for r in reasons}
        self.assertIn("taste", signals)
        self.assertIn("novelty", signals)
        self.assertEqual(signals["novelty"]["product_key"], "RIES-RES-2021")
        grape = [r for r in reasons if r["signal"] == "taste" and r["attribute"] == "grape"]
        self.assertEqual(grape[0]["value"], "Riesling")
        self.assertIn("Riesling Réserve 2021", grape[0]["text"])
        weights = [r["weight"] for r in reasons]
        self.assertEqual(weights, sorted(weights, reverse=True))
        # the reasons kept (4 at most) explain most of the score, never more
        self.assertLessEqual(sum(weights), recos[0]["score"] + 0.001)
        self.assertGreater(sum(weights), 0.8 * recos[0]["score"])

    def test_4_cremant_for_the_years_end(self):
        self.once("--as-of", AS_OF, "--no-issue")
        recos = self.recos("isavigne-B")
        category = {p[0]: p[2] for p in PRODUCTS}
        self.assertEqual(category[recos[0]["product"]], "mousseux", recos)
        season = [r for r in recos[0]["reasons"] if r["signal"] == "season"]
        self.assertTrue(season, recos[0])
        self.assertEqual(season[0]["value"], "mousseux")
        self.assertIn("you usually buy mousseux", season[0]["text"])
        # in June the same customer's Crémant habit gives no season reason
        self.once("--as-of", "2026-06-10", "--no-issue")
        june = self.recos("isavigne-B")
        self.assertFalse([r for x in june for r in x["reasons"] if r["signal"] == "season"
                          and "usually" in r["text"]], june)

    def test_5_campaign_flags_and_win_back(self):
        self.once("--as-of", AS_OF, "--no-issue")
        for key, block in (("isavigne-C", "email_opt_out"), ("isavigne-D", "email_invalid")):
            recos = self.recos(key)
            self.assertTrue(recos, key)
            self.assertTrue(all(not r["campaign_ok"] and r["block"] == block for r in recos))
        self.assertTrue(all(r["campaign_ok"] for r in self.recos("isavigne-A")))
        prospect = self.recos("isavigne-E")
        self.assertTrue(prospect)
        self.assertIn("popular", {x["signal"] for x in prospect[0]["reasons"]})
        at_risk = self.recos("isavigne-F")
        self.assertTrue(all(r["win_back"] for r in at_risk))
        wb = [r for r in at_risk if r["product"] == "PN-FUT-2020"]
        self.assertTrue(wb, at_risk)
        self.assertIn("win_back", {x["signal"] for x in wb[0]["reasons"]})
        self.assertFalse(any(r["win_back"] for r in self.recos("isavigne-A")))

    def test_6_baselines(self):
        pop = self.once("--as-of", AS_OF, "--no-issue", "--model", "popularity")
        self.assertEqual(pop["model_version"], "popularity-1")
        # the most popular eligible product, same filters: PN-2022 (10 buyers)
        top = self.recos("isavigne-A")
        self.assertEqual(top[0]["product"], "PN-2022")
        self.assertEqual(top[0]["reasons"][0]["signal"], "popular")
        rnd = self.once("--as-of", AS_OF, "--no-issue", "--model", "random")
        again = self.recos("isavigne-A")
        self.once("--as-of", AS_OF, "--no-issue", "--model", "random")
        self.assertEqual(again, self.recos("isavigne-A"))  # deterministic
        self.assertEqual(rnd["status"], "success")

    def test_7_bad_feedback_drops_the_product_at_once(self):
        self.once("--as-of", AS_OF, "--no-issue")
        before = {r["product"]: r for r in self.recos("isavigne-A")}
        top = self.recos("isavigne-A")[0]
        signals = sorted({r["signal"] for r in top["reasons"]})
        self.pg.psql("INSERT INTO reco.feedback (customer_key, product_key, verdict, reason,"
                     " signals) VALUES ('isavigne-A', '%s', 'bad', 'too acidic', %s)"
                     % (top["product"], sql_text(signals)))
        out = self.once("--as-of", AS_OF, "--no-issue", "--customer", "isavigne-A")
        self.assertEqual(out["customers"], 1)
        after = {r["product"]: r for r in self.recos("isavigne-A")}
        self.assertNotIn(top["product"], after)
        # the signals of the bad recommendation weigh half for this customer
        for p in set(before) & set(after):
            self.assertLess(after[p]["score"], before[p]["score"], p)
        # other customers are untouched by a run for one
        self.assertTrue(self.recos("isavigne-B"))
        self.pg.psql("DELETE FROM reco.feedback")

    def test_8_outcomes_recorded(self):
        self.pg.psql("DELETE FROM reco.issued; DELETE FROM reco.feedback")
        self.once("--as-of", AS_OF)
        issued = int(self.pg.value("SELECT count(*) FROM reco.issued"))
        self.assertEqual(issued, int(self.pg.value("SELECT count(*) FROM reco.recommendations")))
        a = self.recos("isavigne-A")[0]["product"]
        b = self.recos("isavigne-B")[0]["product"]
        first = self.pg.value("SELECT first_at FROM reco.issued WHERE customer_key = 'isavigne-A'"
                              " AND product_key = '%s'" % a)
        self.pg.psql(
            "INSERT INTO canonical.sales_lines (sale_line_key, source, source_id, customer_key,"
            " product_key, order_id, date_sale, quantity_units) VALUES ('isavigne-X1',"
            " 'isavigne', 'X1', 'isavigne-A', '%s', 'FA-X1', current_date + 1, 6);"
            "INSERT INTO canonical.contact_history (contact_key, source, source_id, customer_key,"
            " date_contact, channel, status, product_key_suggested) VALUES ('brevo-click-1',"
            " 'brevo', 'c1', 'isavigne-B', now() + interval '1 second', 'email', 'click', '%s')"
            % (a, b))
        time.sleep(1.1)
        self.once("--as-of", AS_OF)
        rows = dict((r[0], r[1:]) for r in self.pg.psql(
            "SELECT customer_key, product_key, followed, first_at FROM reco.issued"
            " WHERE followed IS NOT NULL"))
        self.assertEqual(rows["isavigne-A"][:2], [a, "purchase"])
        self.assertEqual(rows["isavigne-A"][2], first)  # first_at kept across runs
        self.assertEqual(rows["isavigne-B"][:2], [b, "click"])
        # their contact events: queued for the loader (the only writer of
        # canonical.*; its side is test_lifecycle's), in the job's transaction
        pairs = "SELECT p->>'customer', p->>'product', p->>'followed' FROM ops.loader_commands," \
                " jsonb_array_elements(args->'pairs') p WHERE kind = 'reco_followed' ORDER BY 1"
        self.assertEqual(self.pg.psql(pairs), [["isavigne-A", a, "purchase"],
                                               ["isavigne-B", b, "click"]])
        self.once("--as-of", AS_OF)  # a re-run records nothing twice
        self.assertEqual(len(self.pg.psql(pairs)), 2)

    def test_9_service_takes_queued_runs_and_stops_cleanly(self):
        log = open(os.path.join(ARTIFACTS, "reco-service.log"), "wb")
        keys = tempfile.mkdtemp(prefix="vd-reco-keys-")  # every service needs its CURVE key
        self.addCleanup(shutil.rmtree, keys, True)
        subprocess.run([os.path.join(BIN, "vendange"), "keys", "init", "--dir", keys],
                       env=self.env, check=True, capture_output=True)
        env = dict(self.env, VENDANGE_ORCHESTRATOR_ENDPOINT="tcp://127.0.0.1:1",
                   VENDANGE_RECO_POLL_S="60", VENDANGE_KEYS_DIR=keys)
        proc = subprocess.Popen([os.path.join(BIN, "recommender")], env=env, stdout=log,
                                stderr=log, stdin=subprocess.DEVNULL)
        try:
            time.sleep(1.0)
            rid = self.pg.value("INSERT INTO reco.runs (scope, customer_key, trigger) VALUES"
                                " ('customer', 'isavigne-B', 'manual') RETURNING id")
            deadline = time.time() + 30
            status = None
            while time.time() < deadline:
                status = self.pg.value("SELECT status FROM reco.runs WHERE id = %s" % rid)
                if status in ("success", "failed"):
                    break
                time.sleep(0.2)
            self.assertEqual(status, "success")  # woken by the notification, not the 60 s poll
            self.assertTrue(self.recos("isavigne-B"))
            rid = self.pg.value("INSERT INTO reco.runs (scope, customer_key) VALUES"
                                " ('customer', 'nobody') RETURNING id")
            deadline = time.time() + 30
            while time.time() < deadline and self.pg.value(
                    "SELECT status FROM reco.runs WHERE id = %s" % rid) in ("queued", "running"):
                time.sleep(0.2)
            self.assertEqual(self.pg.psql("SELECT status, error FROM reco.runs WHERE id = %s"
                                          % rid)[0], ["failed", "unknown customer nobody"])
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=10)
            log.close()
        self.assertEqual(code, 0)
        with open(os.path.join(ARTIFACTS, "reco-service.log"), "rb") as f:
            text = f.read().decode("utf-8", "replace")
        self.assertNotIn("AddressSanitizer", text)
        self.assertNotIn("runtime error:", text)


if __name__ == "__main__":
    unittest.main()
