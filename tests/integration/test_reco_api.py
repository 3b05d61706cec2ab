"""Recommendations through the API and the CLI (issue 10): customers,
their purchase history and recommendations with reasons, staff feedback,
reco jobs, precision, the campaign CSV, the run queued after a sync that
changed data, forget. The canonical and reco tables are seeded with SQL:
these tests do not need the recommender (it is not started, so queued
jobs stay queued and the seeded recommendations stay as they are)."""
import csv
import http.client
import io
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import SAMPLES, StackCase, copy_tree

TOKEN = "reco-api-token-1"

SEED = """
INSERT INTO canonical.customers (customer_key, source, source_id, connector, first_name,
  last_name, email, segment, email_opt_out, email_invalid, first_purchase_date,
  last_purchase_date, total_spent, purchase_count, avg_order_value, active) VALUES
 ('isavigne-T1', 'isavigne', 'T1', 'seed', 'Anne', 'Muller', 'anne.muller@example.fr', 'loyal',
  false, false, '2024-01-10', '2026-10-01', 150.00, 3, 50.00, true),
 ('isavigne-T2', 'isavigne', 'T2', 'seed', 'Bruno', 'Keller', 'bruno.keller@example.fr',
  'at_risk', true, false, '2022-03-01', '2023-12-20', 80.00, 2, 40.00, true),
 ('isavigne-T3', 'isavigne', 'T3', 'seed', 'Claire', 'Weiss', 'claire@invalid', 'regular',
  false, true, NULL, NULL, NULL, 0, NULL, true),
 ('isavigne-T4', 'isavigne', 'T4', 'seed', 'Denis', 'Roth', NULL, 'new', false, false,
  NULL, NULL, NULL, 0, NULL, true),
 ('isavigne-T5', 'isavigne', 'T5', 'seed', 'Eva, "la" Sommelière', 'Klein', 'eva.klein@example.fr',
  'regular', false, false, NULL, NULL, NULL, 0, NULL, true),
 ('isavigne-T6', 'isavigne', 'T6', 'seed', 'Fritz', 'Haas', 'fritz.haas@example.fr', 'regular',
  true, false, NULL, NULL, NULL, 0, NULL, true);
INSERT INTO canonical.product_catalog (product_key, source, source_id, connector, name,
  category, active) VALUES
 ('RIESLING-GC-2022', 'isavigne', 'R', 'seed', 'Riesling Grand Cru 2022', 'white', true),
 ('GEWURZ-2021', 'isavigne', 'G', 'seed', 'Gewurztraminer 2021', 'white', true),
 ('CREMANT-BRUT', 'isavigne', 'C', 'seed', 'Crémant d''Alsace Brut', 'sparkling', true),
 ('PINOT-NOIR-2020', 'isavigne', 'P', 'seed', 'Pinot Noir 2020', 'red', true);
INSERT INTO canonical.sales_lines (sale_line_key, source, source_id, connector, customer_key,
  product_key, order_id, date_sale, quantity_units, quantity_bottles_75cl_eq, price_total) VALUES
 ('isavigne-F1-1', 'isavigne', 'F1-1', 'seed', 'isavigne-T1', 'RIESLING-GC-2022', 'F1',
  '2024-01-10', 6, 6, 90.00),
 ('isavigne-F2-1', 'isavigne', 'F2-1', 'seed', 'isavigne-T1', 'GEWURZ-2021', 'F2',
  '2025-06-01', 1, 2, 30.00),
 ('isavigne-F3-1', 'isavigne', 'F3-1', 'seed', 'isavigne-T1', 'RIESLING-GC-2022', 'F3',
  '2026-10-01', 2, 2, 30.00);
INSERT INTO reco.runs (scope, status, trigger, model_version, customers, recommendations,
  started_at, finished_at) VALUES ('all', 'success', 'cli', 'test-1', 6, 7, now(), now());
INSERT INTO reco.recommendations (customer_key, rank, product_key, score, reasons, win_back,
  campaign_ok, campaign_block, run_id, model_version)
SELECT c, r, p, s, x::jsonb, w, ok, b, (SELECT max(id) FROM reco.runs), 'test-1' FROM (VALUES
 ('isavigne-T1', 1, 'CREMANT-BRUT', 0.8,
  '[{"signal":"taste","weight":0.5,"attribute":"grape","value":"Riesling","product_key":"RIESLING-GC-2022","text":"You often buy Riesling"},{"signal":"budget","weight":0.3,"attribute":"price_segment","value":"under 30","product_key":null,"text":"Within your usual budget (under 30 €)"}]',
  false, true, NULL),
 ('isavigne-T1', 2, 'PINOT-NOIR-2020', 0.5,
  '[{"signal":"popular","weight":0.5,"attribute":null,"value":null,"product_key":null,"text":"Popular with the estate''s customers this month"}]',
  false, true, NULL),
 ('isavigne-T2', 1, 'CREMANT-BRUT', 0.7,
  '[{"signal":"win_back","weight":0.7,"attribute":null,"value":null,"product_key":null,"text":"We have missed you"}]',
  true, false, 'email_opt_out'),
 ('isavigne-T3', 1, 'CREMANT-BRUT', 0.6, '[{"signal":"popular","weight":0.6,"text":"Popular"}]',
  false, false, 'email_invalid'),
 ('isavigne-T4', 1, 'CREMANT-BRUT', 0.6, '[{"signal":"popular","weight":0.6,"text":"Popular"}]',
  false, false, 'no_email'),
 ('isavigne-T5', 1, 'GEWURZ-2021', 0.9,
  '[{"signal":"taste","weight":0.6,"attribute":"flavor","value":"lychee","text":"Fruity, aromatic: like \\"your\\" last order"},{"signal":"season","weight":0.3,"attribute":"month","value":"12","text":"Often bought in December"}]',
  false, true, NULL),
 ('isavigne-T6', 1, 'PINOT-NOIR-2020', 0.4, '[{"signal":"popular","weight":0.4,"text":"Popular"}]',
  false, true, NULL)) v(c, r, p, s, x, w, ok, b);
INSERT INTO reco.issued (customer_key, product_key, first_at, last_at, top_signal, signals,
  run_id, followed, followed_at) VALUES
 ('isavigne-T1', 'CREMANT-BRUT', now() - interval '1 day', now(), 'taste', '{taste,budget}', 1,
  NULL, NULL),
 ('isavigne-T1', 'PINOT-NOIR-2020', now(), now(), 'popular', '{popular}', 1, NULL, NULL),
 ('isavigne-T1', 'GEWURZ-2021', now() - interval '90 days', now() - interval '80 days', 'taste',
  '{taste}', 1, 'purchase', now() - interval '85 days'),
 ('isavigne-T5', 'RIESLING-GC-2022', now() - interval '100 days', now() - interval '100 days',
  'taste', '{taste,budget}', 1, NULL, NULL),
 ('isavigne-T5', 'PINOT-NOIR-2020', now() - interval '10 days', now() - interval '10 days',
  'popular', '{popular}', 1, 'click', now() - interval '5 days'),
 ('isavigne-T4', 'CREMANT-BRUT', now(), now(), 'popular', '{popular}', 1, NULL, NULL);
INSERT INTO reco.feedback (customer_key, product_key, verdict, reason, signals) VALUES
 ('isavigne-T4', 'CREMANT-BRUT', 'good', 'seeded', '{popular}');
INSERT INTO reco.exports (campaign, customer_key, product_key) VALUES
 ('seed', 'isavigne-T4', 'CREMANT-BRUT');
"""


class RecoApi(StackCase):
    NAME = "reco-api"
    ENV = {"VENDANGE_API_TOKEN": TOKEN, "VENDANGE_RECO_FOLLOW_DAYS": "60"}
    RECOMMENDER = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.psql(SEED)

    def call(self, method, path, body=None, token=TOKEN):
        """(status, JSON or text) of one API request."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.stack.api + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, raw, ctype = r.status, r.read().decode(), r.headers["Content-Type"]
        except urllib.error.HTTPError as e:
            status, raw, ctype = e.code, e.read().decode(), e.headers["Content-Type"]
        return status, json.loads(raw) if "json" in (ctype or "") else raw

    def queued_jobs(self, key):
        return self.pg.psql("SELECT id, trigger FROM reco.runs WHERE scope = 'customer' AND "
                            "customer_key = '%s' AND status = 'queued'" % key)

    def finish_queued(self):
        """What the recommender would do: no job stays queued."""
        self.pg.psql("UPDATE reco.runs SET status = 'success', finished_at = now() "
                     "WHERE status = 'queued'")

    def test_auth(self):
        for token in (None, "wrong"):
            for path in ("/api/customers?q=anne", "/api/customers/isavigne-T1/recommendations",
                         "/api/reco/precision", "/api/reco/campaign.csv"):
                status, _ = self.call("GET", path, token=token)
                self.assertEqual(status, 401, path)
        status, _ = self.call("POST", "/api/reco/run", token=None)
        self.assertEqual(status, 401)

    def test_customer_search(self):
        status, found = self.call("GET", "/api/customers?q=MULLER")
        self.assertEqual(status, 200)
        self.assertEqual([c["customer_key"] for c in found], ["isavigne-T1"])
        self.assertEqual(found[0]["email"], "anne.muller@example.fr")
        self.assertTrue(found[0]["campaign_ok"])
        _, found = self.call("GET", "/api/customers?q=" + urllib.parse.quote("bruno.keller@"))
        self.assertEqual([(c["customer_key"], c["campaign_ok"]) for c in found],
                         [("isavigne-T2", False)])
        _, found = self.call("GET", "/api/customers?q=isavigne-T&limit=2")
        self.assertEqual(len(found), 2)
        # LIKE metacharacters are plain text
        _, found = self.call("GET", "/api/customers?q=%25")
        self.assertEqual(found, [])
        self.assertEqual(self.call("GET", "/api/customers?q=%FF")[0], 400)
        self.assertEqual(self.call("GET", "/api/customers?limit=201")[0], 400)
        self.assertEqual(self.call("GET", "/api/customers?limit=0")[0], 400)

    def test_customer_detail(self):
        status, c = self.call("GET", "/api/customers/isavigne-T1?limit=2")
        self.assertEqual(status, 200)
        self.assertEqual((c["first_name"], c["email"], c["campaign_ok"], c["campaign_block"]),
                         ("Anne", "anne.muller@example.fr", True, None))
        self.assertEqual(c["segment"], self.pg.value(
            "SELECT segment FROM canonical.customers WHERE customer_key = 'isavigne-T1'"))
        self.assertEqual(c["aggregates"]["purchase_count"], 3)
        self.assertEqual(c["totals"]["lines"], 3)
        self.assertEqual(c["totals"]["orders"], 3)
        self.assertEqual(c["totals"]["bottles_75cl_eq"], 10)
        self.assertEqual(c["totals"]["money"], 150)
        self.assertNotIn("content_hash", c)
        # newest first, limited
        self.assertEqual([(h["date"], h["order_id"], h["product_key"], h["product_name"],
                           h["quantity_bottles_75cl_eq"], h["price_total"]) for h in c["history"]],
                         [("2026-10-01", "F3", "RIESLING-GC-2022", "Riesling Grand Cru 2022", 2,
                           30), ("2025-06-01", "F2", "GEWURZ-2021", "Gewurztraminer 2021", 2, 30)])
        _, c = self.call("GET", "/api/customers/isavigne-T2")
        self.assertEqual((c["campaign_ok"], c["campaign_block"]), (False, "email_opt_out"))
        _, c = self.call("GET", "/api/customers/isavigne-T4")
        self.assertEqual(c["campaign_block"], "no_email")
        status, err = self.call("GET", "/api/customers/nobody-9")
        self.assertEqual(status, 404)
        self.assertIn("no customer \"nobody-9\"", err["error"])

    def test_recommendations(self):
        status, r = self.call("GET", "/api/customers/isavigne-T1/recommendations")
        self.assertEqual(status, 200)
        run = int(self.pg.value("SELECT max(id) FROM reco.runs WHERE trigger = 'cli'"))
        self.assertEqual((r["customer_key"], r["run_id"], r["model_version"], r["campaign_ok"],
                          r["campaign_block"], r["win_back"]),
                         ("isavigne-T1", run, "test-1", True, None, False))
        self.assertRegex(r["computed_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        recs = r["recommendations"]
        self.assertEqual([(x["rank"], x["product_key"], x["product_name"], x["score"])
                          for x in recs],
                         [(1, "CREMANT-BRUT", "Crémant d'Alsace Brut", 0.8),
                          (2, "PINOT-NOIR-2020", "Pinot Noir 2020", 0.5)])
        self.assertEqual([w["text"] for w in recs[0]["reasons"]],
                         ["You often buy Riesling", "Within your usual budget (under 30 €)"])
        self.assertEqual(recs[0]["reasons"][0]["value"], "Riesling")
        self.assertEqual(recs[0]["reasons"][0]["product_key"], "RIESLING-GC-2022")
        self.assertIn("verdict", recs[0])
        _, r = self.call("GET", "/api/customers/isavigne-T2/recommendations")
        self.assertEqual((r["campaign_ok"], r["campaign_block"], r["win_back"]),
                         (False, "email_opt_out", True))
        # opted out since the run: the customer's state wins
        _, r = self.call("GET", "/api/customers/isavigne-T6/recommendations")
        self.assertEqual((r["campaign_ok"], r["campaign_block"]), (False, "email_opt_out"))
        self.assertEqual(self.call("GET", "/api/customers/nobody-9/recommendations")[0], 404)

    def test_queue_customer_job(self):
        self.finish_queued()
        status, a = self.call("POST", "/api/customers/isavigne-T3/recommendations")
        self.assertEqual(status, 202)
        self.assertFalse(a["already_queued"])
        self.assertEqual(self.queued_jobs("isavigne-T3"), [[str(a["reco_run_id"]), "manual"]])
        # a second request gets the same queued job
        status, b = self.call("POST", "/api/customers/isavigne-T3/recommendations")
        self.assertEqual((status, b["reco_run_id"], b["already_queued"]),
                         (202, a["reco_run_id"], True))
        status, run = self.call("GET", "/api/reco/runs/%d" % a["reco_run_id"])
        self.assertEqual((status, run["scope"], run["customer_key"], run["status"]),
                         (200, "customer", "isavigne-T3", "queued"))
        _, r = self.call("GET", "/api/customers/isavigne-T3/recommendations")
        self.assertEqual(r["queued_run_id"], a["reco_run_id"])
        _, runs = self.call("GET", "/api/reco/runs?limit=1")
        self.assertEqual([x["id"] for x in runs], [a["reco_run_id"]])
        self.assertEqual(self.call("GET", "/api/reco/runs/999999")[0], 404)
        self.assertEqual(self.call("GET", "/api/reco/runs?limit=501")[0], 400)
        self.assertEqual(self.call("POST", "/api/customers/nobody-9/recommendations")[0], 404)
        self.finish_queued()

    def test_queue_all(self):
        self.finish_queued()
        status, a = self.call("POST", "/api/reco/run")
        self.assertEqual(status, 202)
        self.assertEqual(self.pg.psql("SELECT scope, status FROM reco.runs WHERE id = %d"
                                      % a["reco_run_id"]), [["all", "queued"]])
        status, b = self.call("POST", "/api/reco/run")
        self.assertEqual(status, 409)
        self.assertIn("already queued", b["error"])
        self.assertEqual(b["reco_run_id"], a["reco_run_id"])
        self.finish_queued()

    def rows_soon(self, sql, want=None, timeout=20):
        """The rows of sql once they are want (any rows when None), or at
        the timeout."""
        deadline = time.time() + timeout
        rows = self.pg.psql(sql)
        while time.time() < deadline and (rows == [] if want is None else rows != want):
            time.sleep(0.1)
            rows = self.pg.psql(sql)
        return rows

    def test_feedback(self):
        self.finish_queued()
        path = "/api/customers/isavigne-T5/recommendations/GEWURZ-2021/feedback"
        status, a = self.call("POST", path, {"verdict": "bad", "reason": "never drinks sweet"})
        self.assertEqual(status, 201)
        self.assertEqual(a["signals"], ["taste", "season"])
        self.assertEqual(self.pg.psql(
            "SELECT verdict, reason, signals::text, source FROM reco.feedback WHERE id = %d"
            % a["feedback_id"]), [["bad", "never drinks sweet", "{taste,season}", "staff"]])
        # the pair was not issued yet: the verdict is kept in feedback only
        self.assertEqual(self.pg.value("SELECT count(*) FROM reco.issued WHERE customer_key = "
                                       "'isavigne-T5' AND product_key = 'GEWURZ-2021'"), "0")
        # the verdict's contact event: written by the loader (a command
        # queued with the verdict)
        row = self.rows_soon(
            "SELECT source, source_id, customer_key, email, channel, campaign, subject, status, "
            "product_key_suggested, response, response_details FROM canonical.contact_history "
            "WHERE contact_key = 'vendange:isavigne-T5:GEWURZ-2021:bad'")
        self.assertEqual(row, [["vendange", "vendange:isavigne-T5:GEWURZ-2021:bad",
                                "isavigne-T5", "eva.klein@example.fr", "direct", "vendange-reco",
                                "recommendation", "recommended", "GEWURZ-2021", "bad",
                                "never drinks sweet"]])
        self.assertEqual(self.queued_jobs("isavigne-T5"), [[str(a["reco_run_id"]), "feedback"]])
        # the same verdict again updates the same contact row
        status, _ = self.call("POST", path, {"verdict": "bad", "reason": "really not"})
        self.assertEqual(status, 201)
        self.assertEqual(self.rows_soon(
            "SELECT count(*), max(response_details) FROM canonical.contact_history WHERE "
            "contact_key LIKE 'vendange:isavigne-T5:%'", [["1", "really not"]]),
            [["1", "really not"]])
        # an issued pair gets its verdict; the answer shows it
        status, _ = self.call("POST", "/api/customers/isavigne-T1/recommendations/"
                              "PINOT-NOIR-2020/feedback", {"verdict": "good"})
        self.assertEqual(status, 201)
        self.assertEqual(self.pg.psql("SELECT verdict, verdict_at IS NOT NULL FROM reco.issued "
                                      "WHERE customer_key = 'isavigne-T1' AND product_key = "
                                      "'PINOT-NOIR-2020'"), [["good", "t"]])
        _, r = self.call("GET", "/api/customers/isavigne-T1/recommendations")
        self.assertEqual(r["recommendations"][1]["verdict"], "good")
        # errors
        self.assertEqual(self.call("POST", path, {"verdict": "meh"})[0], 400)
        self.assertEqual(self.call("POST", path, {})[0], 400)
        self.assertEqual(self.call("POST", path, {"verdict": "bad", "reason": "x" * 501})[0], 400)
        self.assertEqual(self.call("POST", path, {"verdict": "bad", "reason": 5})[0], 400)
        status, err = self.call("POST", "/api/customers/isavigne-T5/recommendations/"
                                "CREMANT-BRUT/feedback", {"verdict": "bad"})
        self.assertEqual(status, 404)
        self.assertIn("never recommended", err["error"])
        self.assertEqual(self.pg.value("SELECT count(*) FROM reco.feedback WHERE customer_key = "
                                       "'isavigne-T5' AND product_key = 'CREMANT-BRUT'"), "0")
        self.finish_queued()

    def test_precision(self):
        status, p = self.call("GET", "/api/reco/precision")
        self.assertEqual(status, 200)
        # evaluated: T1/GEWURZ (purchase), T5/RIESLING (100 days, not followed),
        # T5/PINOT (click); pending: the recent unfollowed pairs (T4's goes with forget)
        pending = int(self.pg.value("SELECT count(*) FROM reco.issued WHERE followed IS NULL "
                                    "AND first_at > now() - interval '60 days'"))
        self.assertIn(pending, (2, 3))
        self.assertEqual((p["follow_days"], p["evaluated"], p["followed"], p["pending"]),
                         (60, 3, 2, pending))
        self.assertAlmostEqual(p["precision"], 0.6667)
        self.assertEqual(p["by_signal"]["taste"], {"evaluated": 2, "followed": 1, "precision": 0.5})
        self.assertEqual(p["by_signal"]["popular"],
                         {"evaluated": 1, "followed": 1, "precision": 1})
        self.assertEqual(p["by_signal"]["budget"]["precision"], 0)
        counts = dict(self.pg.psql("SELECT verdict, count(*) FROM reco.feedback WHERE source = "
                                   "'staff' GROUP BY 1"))
        self.assertEqual(p["feedback"], {"good": int(counts.get("good", 0)),
                                         "bad": int(counts.get("bad", 0))})

    def test_campaign_csv(self):
        status, text = self.call("GET", "/api/reco/campaign.csv")
        self.assertEqual(status, 200)
        self.assertTrue(text.startswith("customer_key,email,first_name,last_name,rank,"
                                        "product_key,product_name,score,reasons\r\n"))
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        # T2 opted out, T3 invalid, T4 no email, T6 opted out after the run
        self.assertEqual([(r["customer_key"], r["rank"], r["product_key"]) for r in rows],
                         [("isavigne-T1", "1", "CREMANT-BRUT"),
                          ("isavigne-T1", "2", "PINOT-NOIR-2020"),
                          ("isavigne-T5", "1", "GEWURZ-2021")])
        self.assertEqual(rows[0]["reasons"],
                         "You often buy Riesling; Within your usual budget (under 30 €)")
        self.assertEqual(rows[0]["product_name"], "Crémant d'Alsace Brut")
        self.assertEqual(rows[0]["score"], "0.8000")
        self.assertEqual(rows[2]["first_name"], 'Eva, "la" Sommelière')
        self.assertIn('"Eva, ""la"" Sommelière"', text)  # RFC 4180 quoting
        self.assertEqual(rows[2]["reasons"],
                         'Fruity, aromatic: like "your" last order; Often bought in December')
        self.assertEqual(self.pg.value("SELECT count(*) FROM reco.exports WHERE campaign <> "
                                       "'seed'"), "0")
        status, text2 = self.call("GET", "/api/reco/campaign.csv?campaign=noel-2026")
        self.assertEqual((status, text2), (200, text))
        self.assertEqual(self.pg.psql("SELECT customer_key, product_key FROM reco.exports WHERE "
                                      "campaign = 'noel-2026' ORDER BY 1, 2"),
                         [["isavigne-T1", "CREMANT-BRUT"], ["isavigne-T1", "PINOT-NOIR-2020"],
                          ["isavigne-T5", "GEWURZ-2021"]])
        self.assertEqual(self.call("GET", "/api/reco/campaign.csv?campaign=")[0], 400)

    def test_campaign_csv_streamed(self):
        """A large export is streamed from a connection of its own: the
        answer is chunked, the API answers other requests while it is half
        read, and every row arrives and is recorded once."""
        self.pg.psql(
            "INSERT INTO canonical.customers (customer_key, source, source_id, email, active)"
            " SELECT 'isavigne-S' || i, 'isavigne', 'S' || i, 's' || i || '@example.fr', true"
            " FROM generate_series(1, 2400) i;"
            "INSERT INTO reco.recommendations (customer_key, rank, product_key, score, reasons,"
            " campaign_ok, run_id, model_version) SELECT 'isavigne-S' || i, r, 'P-' || r,"
            " 1, '[{\"text\": \"streamed\"}]', true, 1, 'seed'"
            " FROM generate_series(1, 2400) i, generate_series(1, 5) r")
        try:
            conn = http.client.HTTPConnection(self.stack.api[len("http://"):], timeout=30)
            conn.request("GET", "/api/reco/campaign.csv?campaign=stream-1",
                         headers={"Authorization": "Bearer " + TOKEN})
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Transfer-Encoding"], "chunked")
            head = r.read(1000)
            status, precision = self.call("GET", "/api/reco/precision")  # not held up
            self.assertEqual(status, 200)
            rows = list(csv.DictReader(io.StringIO((head + r.read()).decode(), newline="")))
            conn.close()
            self.assertEqual(len(rows), 3 + 12000)
            self.assertEqual(len({(x["customer_key"], x["rank"]) for x in rows}), 12003)
            self.assertEqual(self.pg.value("SELECT count(*) FROM reco.exports WHERE campaign ="
                                           " 'stream-1'"), "12003")
        finally:
            self.pg.psql("DELETE FROM reco.recommendations WHERE customer_key LIKE 'isavigne-S%';"
                         "DELETE FROM canonical.customers WHERE customer_key LIKE 'isavigne-S%';"
                         "DELETE FROM reco.exports WHERE campaign = 'stream-1'")

    def test_cli(self):
        _, out, _ = self.stack.cli("reco", "isavigne-T1")
        segment = self.pg.value("SELECT segment FROM canonical.customers WHERE customer_key = "
                                "'isavigne-T1'")  # a sync's segment pass may have changed it
        self.assertIn("Anne Muller (isavigne-T1), segment %s\n" % segment, out)
        self.assertIn("bought 10.00 bottles (75 cl eq.) for 150.00 in 3 line(s)", out)
        self.assertIn("campaign: ok", out)
        self.assertIn("1. Crémant d'Alsace Brut (CREMANT-BRUT)  score 0.800", out)
        self.assertIn("       - You often buy Riesling\n", out)
        self.assertLess(out.index("CREMANT-BRUT"), out.index("PINOT-NOIR-2020"))
        _, out, _ = self.stack.cli("reco", "show", "isavigne-T2")
        self.assertIn("campaign: excluded (email_opt_out)", out)
        self.assertIn("win-back", out)
        _, out, _ = self.stack.cli("reco", "isavigne-T1", "--json")
        self.assertEqual(json.loads(out)["recommendations"][0]["product_key"], "CREMANT-BRUT")
        status, _, err = self.stack.cli("reco", "nobody-9", check=False)
        self.assertEqual(status, 1)
        self.assertIn("no customer \"nobody-9\"", err)
        status, _, err = self.stack.cli("reco", "feedback", "isavigne-T1", "CREMANT-BRUT", "meh",
                                        check=False)
        self.assertEqual(status, 64)
        self.assertIn("good or bad", err)
        status, _, err = self.stack.cli("reco", "run", "--reason", "x", check=False)
        self.assertEqual(status, 64)
        _, out, _ = self.stack.cli("reco", "precision")
        self.assertIn("66.7 % (2 followed of 3)", out)
        self.assertIn("within 60 days", out)
        _, out, _ = self.stack.cli("reco", "precision", "--json")
        self.assertEqual(json.loads(out)["evaluated"], 3)
        self.finish_queued()
        _, out, _ = self.stack.cli("reco", "run")
        self.assertRegex(out, r"^queued recommendation run \d+\n$")
        status, _, err = self.stack.cli("reco", "run", check=False)
        self.assertEqual(status, 1)
        self.assertIn("already queued", err)
        self.finish_queued()
        _, out, _ = self.stack.cli("reco", "feedback", "isavigne-T1", "CREMANT-BRUT", "bad",
                                   "--reason", "prefers still wines")
        self.assertIn("recorded a bad verdict on CREMANT-BRUT for isavigne-T1 "
                      "(signals: taste, budget)", out)
        self.assertEqual(self.pg.psql("SELECT verdict FROM reco.issued WHERE customer_key = "
                                      "'isavigne-T1' AND product_key = 'CREMANT-BRUT'"),
                         [["bad"]])
        status, _, err = self.stack.cli("reco", "feedback", "isavigne-T1", "NOPE", "bad",
                                        check=False)
        self.assertEqual(status, 1)
        self.assertIn("never recommended", err)
        with tempfile.TemporaryDirectory() as d:
            target = os.path.join(d, "campaign.csv")
            _, _, err = self.stack.cli("reco", "export", "--campaign", "cli-test", "--out", target)
            self.assertIn("wrote 3 row(s) to %s" % target, err)
            with open(target, newline="", encoding="utf-8") as f:
                self.assertEqual(len(list(csv.reader(f))), 4)
        self.assertEqual(self.pg.value("SELECT count(*) FROM reco.exports WHERE campaign = "
                                       "'cli-test'"), "3")
        _, out, _ = self.stack.cli("reco", "export")
        self.assertTrue(out.startswith("customer_key,email,"))
        self.finish_queued()

    def test_forget(self):
        counts = ("SELECT (SELECT count(*) FROM reco.recommendations WHERE customer_key = '{0}'), "
                  "(SELECT count(*) FROM reco.issued WHERE customer_key = '{0}'), "
                  "(SELECT count(*) FROM reco.feedback WHERE customer_key = '{0}'), "
                  "(SELECT count(*) FROM reco.exports WHERE customer_key = '{0}')")
        self.assertEqual(self.pg.psql(counts.format("isavigne-T4")), [["1", "1", "1", "1"]])
        others = self.pg.psql(counts.format("isavigne-T1"))
        _, out, _ = self.stack.cli("forget", "isavigne-T4")
        self.assertIn("1 customer row(s) erased", out)
        self.assertIn("1 recommendation(s) deleted", out)
        self.assertEqual(self.pg.psql(counts.format("isavigne-T4")), [["0", "0", "0", "0"]])
        self.assertEqual(self.pg.psql(counts.format("isavigne-T1")), others)

    def test_queued_after_sync(self):
        self.finish_queued()
        export = copy_tree(os.path.join(SAMPLES, "isavigne"))
        self.stack.add_isavigne("recosync", export)
        _, run = self.stack.sync("recosync")
        self.assertEqual(run["status"], "success")
        self.assertEqual(self.pg.psql("SELECT scope, trigger, status FROM reco.runs WHERE "
                                      "sync_run_id = %d" % run["id"]),
                         [["all", "sync", "queued"]])
        self.finish_queued()
        # unchanged export: no data changed, no job
        _, again = self.stack.sync("recosync")
        self.assertEqual(again["status"], "success")
        self.assertEqual(self.pg.value("SELECT count(*) FROM reco.runs WHERE sync_run_id = %d"
                                       % again["id"]), "0")
        # a changed sales file queues one again
        path = os.path.join(export, "ventes.csv")
        with open(path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        header, first = lines[0], lines[1]
        sep = b";" if header.count(b";") > header.count(b",") else b","
        cells = first.split(sep)
        # the last cell of the first sale changes (a total or a margin)
        cells[-1] = cells[-1].rstrip(b"\r") + (b"1\r" if first.endswith(b"\r") else b"1")
        lines[1] = sep.join(cells)
        with open(path, "wb") as f:
            f.write(b"\n".join(lines))
        _, changed = self.stack.sync("recosync")
        self.assertIn(changed["status"], ("success", "partial"))
        self.assertEqual(changed["tables"]["sales_lines"]["updated"]
                         + changed["tables"]["sales_lines"]["inserted"], 1)
        self.assertEqual(self.pg.psql("SELECT trigger FROM reco.runs WHERE sync_run_id = %d"
                                      % changed["id"]), [["sync"]])
        self.finish_queued()


class RecoRefresh(StackCase):
    """With the recommender running: the job queued after a sync runs,
    `vendange reco run --wait` and `vendange reco KEY --refresh` wait for
    their job and show its result."""
    NAME = "reco-refresh"

    def test_refresh(self):
        self.stack.add_isavigne("demo", copy_tree(os.path.join(SAMPLES, "isavigne")))
        _, run = self.stack.sync("demo")
        self.assertEqual(run["status"], "success")
        status, out, err = self.stack.cli("reco", "run", "--wait", check=False)
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r"recommendation run \d+ success: \d+ customer\(s\), "
                              r"\d+ recommendation\(s\)")
        self.assertEqual(self.pg.value("SELECT status FROM reco.runs WHERE sync_run_id = %d"
                                       % run["id"]), "success")
        key = self.pg.value("SELECT customer_key FROM reco.recommendations ORDER BY "
                            "customer_key LIMIT 1")
        self.assertIsNotNone(key)
        before = int(self.pg.value("SELECT max(id) FROM reco.runs"))
        _, out, _ = self.stack.cli("reco", key, "--refresh")
        self.assertIn("(%s)" % key, out)
        self.assertIn("recommendations (run ", out)
        self.assertEqual(self.pg.psql("SELECT scope, customer_key, status FROM reco.runs "
                                      "WHERE id > %d" % before), [["customer", key, "success"]])
        first = self.pg.psql("SELECT product_key, reasons->0->>'text' FROM "
                             "reco.recommendations WHERE customer_key = '%s' AND rank = 1" % key)
        self.assertIn("1. ", out)
        self.assertIn("- %s" % first[0][1], out)
