"""Keys with `/`, `?`, `#`, `%` or spaces (customer codes are free text in
iSaVigne) in every route that takes a key: the API, the CLI (issue 15,
point 9). The page's URLs are checked in tests/web/test_browser.py."""
import json
import urllib.parse

from harness import StackCase

CODE = "C/01 ?#%2F x"
KEY = "isavigne-" + CODE
SEED = """
INSERT INTO canonical.customers (customer_key, source, source_id, connector, last_name, email,
  segment, email_opt_out, email_invalid, purchase_count, active) VALUES
 ('{key}', 'isavigne', '{code}', 'seed', 'Slash', 'slash@example.fr', 'standard', false,
  false, 1, true);
INSERT INTO canonical.product_catalog (product_key, source, source_id, connector, name, active)
  VALUES ('RIES-22', 'isavigne', 'RIES-22', 'seed', 'Riesling 2022', true);
INSERT INTO canonical.sales_lines (sale_line_key, source, source_id, connector, customer_key,
  product_key, order_id, date_sale, quantity_units, price_total) VALUES
 ('isavigne-F/1-1', 'isavigne', 'F/1-1', 'seed', '{key}', 'RIES-22', 'F/1', '2026-01-10', 1, 10);
INSERT INTO reco.runs (scope, status, trigger, model_version, customers, recommendations,
  started_at, finished_at) VALUES ('all', 'success', 'cli', 'test-1', 1, 1, now(), now());
INSERT INTO reco.recommendations (customer_key, rank, product_key, score, reasons, win_back,
  campaign_ok, run_id, model_version) SELECT '{key}', 1, 'RIES-22', 0.5,
  '[{{"signal":"popular","weight":0.5,"text":"Popular"}}]', false, true, max(id), 'test-1'
  FROM reco.runs;
INSERT INTO reco.issued (customer_key, product_key, first_at, last_at, top_signal, signals,
  run_id) SELECT '{key}', 'RIES-22', now(), now(), 'popular', '{{popular}}', max(id)
  FROM reco.runs;
""".format(key=KEY.replace("'", "''"), code=CODE)


class Keys(StackCase):
    NAME = "keys"
    RECOMMENDER = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.psql(SEED)

    def path(self, *parts):
        return "/api/customers/" + "/".join(urllib.parse.quote(p, safe="") for p in parts)

    def test_api_routes_with_a_key(self):
        status, c = self.stack.api_call("GET", self.path(KEY))
        self.assertEqual(status, 200, c)
        self.assertEqual(c["customer"]["customer_key"] if "customer" in c else c["customer_key"],
                         KEY)
        status, r = self.stack.api_call("GET", self.path(KEY, "recommendations"))
        self.assertEqual((status, r["customer_key"]), (200, KEY), r)
        self.assertEqual([x["product_key"] for x in r["recommendations"]], ["RIES-22"])
        status, q = self.stack.api_call("POST", self.path(KEY, "recommendations"), {})
        self.assertEqual(status, 202, q)
        status, f = self.stack.api_call("POST", self.path(KEY, "recommendations", "RIES-22",
                                                          "feedback"), {"verdict": "good"})
        self.assertEqual(status, 201, f)
        self.assertEqual(self.pg.value("SELECT customer_key FROM reco.feedback"), KEY)
        # a key that differs only by an escaped character is another key
        status, _ = self.stack.api_call("GET", self.path("isavigne-C/01 ?#/ x"))
        self.assertEqual(status, 404)
        status, found = self.stack.api_call("GET", "/api/customers?q=" +
                                            urllib.parse.quote("C/01 ?#%", safe=""))
        self.assertEqual([c["customer_key"] for c in found], [KEY])

    def test_cli_with_a_key(self):
        _, out, _ = self.stack.cli("reco", KEY, "--json")
        self.assertEqual(json.loads(out)["customer_key"], KEY)
        _, out, _ = self.stack.cli("reco", "feedback", KEY, "RIES-22", "bad", "--reason", "x")
        self.assertEqual(self.pg.value("SELECT count(*) FROM reco.feedback WHERE customer_key = "
                                       "'%s' AND verdict = 'bad'" % KEY.replace("'", "''")), "1")
