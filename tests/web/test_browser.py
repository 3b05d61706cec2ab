"""End-to-end tests of the web page in headless Chromium (Debian's
chromium + chromium-driver, driven over W3C WebDriver by webdriver.py)
against a running stack with real PostgreSQL: register an iSaVigne
connector through the form (and see a validation error), test it, sync
it, see the run's counts, open the rejects of the bad line
(ventes.csv:136), find the seeded duplicate email on the quality page;
screenshots at 1280 and 390 px in tests/artifacts/."""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
sys.path.insert(0, HERE)

from harness import ARTIFACTS, StackCase  # noqa: E402
from test_quality import DUP_EMAIL, seed_export  # noqa: E402
from webdriver import Browser  # noqa: E402


CUSTOMER_SEED = """
INSERT INTO canonical.customers (customer_key, source, source_id, connector, first_name,
  last_name, email, segment, email_opt_out, email_invalid, purchase_count, total_spent,
  avg_order_value, first_purchase_date, last_purchase_date) VALUES
 ('isavigne-W1', 'isavigne', 'W1', 'seed', 'Odile', 'Schmitt', 'odile.schmitt@example.fr',
  'loyal', false, false, 2, 64.00, 32.00, '2025-03-02', '2026-09-14');
INSERT INTO canonical.product_catalog (product_key, source, source_id, connector, name, active)
VALUES ('W-RIESLING', 'isavigne', 'WR', 'seed', 'Riesling Vieilles Vignes', true),
       ('W-CREMANT', 'isavigne', 'WC', 'seed', 'Crémant Rosé', true);
INSERT INTO canonical.sales_lines (sale_line_key, source, source_id, connector, customer_key,
  product_key, order_id, date_sale, quantity_units, quantity_bottles_75cl_eq, price_total) VALUES
 ('isavigne-W-1', 'isavigne', 'W-1', 'seed', 'isavigne-W1', 'W-RIESLING', 'FW1', '2025-03-02',
  6, 6, 48.00),
 ('isavigne-W-2', 'isavigne', 'W-2', 'seed', 'isavigne-W1', 'W-RIESLING', 'FW2', '2026-09-14',
  1, 2, 16.00);
INSERT INTO canonical.customers (customer_key, source, source_id, connector, first_name,
  last_name, segment, purchase_count) VALUES
 ('isavigne-W/2 ?#%', 'isavigne', 'W/2 ?#%', 'seed', 'Slash', 'Sharp', 'standard', 1);
INSERT INTO canonical.sales_lines (sale_line_key, source, source_id, connector, customer_key,
  product_key, order_id, date_sale, quantity_units, price_total) VALUES
 ('isavigne-W/2-1', 'isavigne', 'W/2-1', 'seed', 'isavigne-W/2 ?#%', 'W-RIESLING', 'FW/3',
  '2026-01-05', 1, 8.00);
INSERT INTO reco.recommendations (customer_key, rank, product_key, score, reasons, campaign_ok,
  run_id, model_version) VALUES
 ('isavigne-W1', 1, 'W-CREMANT', 0.75, '[{"signal":"copurchase","weight":0.5,"text":"Customers who buy Riesling Vieilles Vignes also buy it"},{"signal":"season","weight":0.25,"text":"Often bought in December"}]', true, 1, 'web-1');
INSERT INTO reco.issued (customer_key, product_key, first_at, last_at, top_signal, signals, run_id)
VALUES ('isavigne-W1', 'W-CREMANT', now(), now(), 'copurchase', '{copurchase,season}', 1);
"""


class Page(StackCase):
    NAME = "web"
    RECOMMENDER = False  # the seeded recommendations stay as they are

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.psql(CUSTOMER_SEED)
        cls.folder = seed_export()
        cls.browser = Browser(os.path.join(ARTIFACTS, "web-chromedriver.log"))

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        super().tearDownClass()

    def shot(self, name):
        self.browser.screenshot(os.path.join(ARTIFACTS, "web-%s.png" % name))

    def open(self, hash_):
        b = self.browser
        b.go("about:blank")
        b.go(self.stack.api + "/" + hash_)
        main = b.wait("main[data-ready]", timeout=30)
        if b.js("return document.getElementById('main').dataset.ready;") == "error":
            raise AssertionError("page %s failed: %s" % (hash_, b.wait("#error").text))
        return main

    def no_horizontal_overflow(self):
        w = self.browser.js("return [document.documentElement.scrollWidth, window.innerWidth];")
        self.assertLessEqual(w[0], w[1] + 1, "page wider than the window: %r" % w)

    def test_1_register_sync_rejects_quality(self):
        b = self.browser
        self.open("#/sources")
        b.wait("#cards", "No connector yet")
        # an API validation error is shown: export_path missing
        b.wait("#reg-name").type("isv")
        b.wait("#reg-submit").click()
        msg = b.wait("#reg-msg", '"export_path" is required')
        self.assertIn('"export_path" is required', b.wait("#error").text)
        self.assertTrue(msg.displayed())
        self.shot("register-error-1280")
        # registered through the form
        b.wait("#reg-export_path").type(self.folder)
        b.wait("#reg-submit").click()
        card = b.wait("#card-isv", "isavigne")
        self.assertIn("idle", card.text)
        api = self.stack.get("/api/connectors/isv")
        self.assertEqual(api["settings"], {"export_path": self.folder})
        # test, then sync with live progress
        card.find(".btn-test").click()
        b.wait("#card-isv .card-msg", "test ok")
        b.wait("#card-isv .btn-sync").click()
        b.wait("#card-isv .card-msg", "success", timeout=180)
        run = self.stack.get("/api/runs?connector=isv")[0]
        self.assertEqual(run["status"], "success")
        self.assertIn("%d records" % run["records_done"], b.wait("#card-isv .card-msg").text)
        b.wait("#card-isv .badge", "healthy")
        self.open("#/sources")
        b.wait("#card-isv .badge", "healthy")
        self.shot("sources-1280")
        # details: the run and its counts, as the API has them
        b.wait("#card-isv .btn-details").click()
        row = b.wait('tr.run[data-run="%d"]' % run["id"])
        for table, counts in run["tables"].items():
            for k in ("extracted", "inserted", "rejected"):
                cell = row.find('tr[data-table="%s"] td.%s' % (table, k))
                self.assertEqual(cell.text, str(counts[k]), (table, k))
        self.assertEqual(run["tables"]["sales_lines"]["rejected"], 1)
        self.assertEqual(len(b.find_all("svg.chart")), 2)
        # the rejects of the run: ventes.csv line 136, an impossible date
        row.find(".btn-rejects").click()
        reject = b.wait("tr.reject", "ventes.csv")
        self.assertEqual(reject.find("td.line").text, "136")
        self.assertIn("31/02/2025", reject.find("pre.raw").text)
        self.shot("detail-rejects-1280")
        # quality: the seeded duplicate email
        b.wait("#nav-quality").click()
        check = b.wait('#q-customers tr.check[data-check="duplicate_email"]')
        self.assertEqual(check.find("td.count").text, "2")
        check.find("summary").click()
        self.assertIn(DUP_EMAIL, check.find("td.examples").text)
        self.assertIn("isavigne-C9999", check.find("td.examples").text)
        self.shot("quality-1280")
        self.no_horizontal_overflow()
        # mapping: canonical columns vs the source columns of the built-in mapping
        self.open("#/mapping/isv")
        row = b.wait('tr[data-field="customer_code"]')
        self.assertIn("client_code", row.find("td.columns").text)
        row = b.wait('tr[data-field="list_price_incl_vat"]')
        self.assertIn("prix_ttc", row.find("td.columns").text)
        self.assertIn("list_price", row.find("td.canonical").text)
        self.shot("mapping-1280")
        # preview: the first rows of each file and what the normalizer makes
        # of them, nothing loaded
        runs = self.pg.value("SELECT count(*) FROM ops.sync_runs")
        b.wait("#preview-btn").click()
        row = b.wait('section.preview-file[data-file="ventes.csv"] tr.preview-row[data-line="2"]')
        self.assertIn("client_code: C0044", row.find("td.read").text)
        values = row.find("td.values").text
        self.assertIn("sale_line_key = isavigne-FA-2024-0001-1", values)
        self.assertIn("price_total = 31.67", values)
        self.assertIn("customer_key = isavigne-C0044", values)
        clients = b.wait('section.preview-file[data-file="clients.csv"]')
        self.assertEqual(len(clients.find_all("tr.preview-row")), 5)
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.sync_runs"), runs)
        b.js("document.querySelector('section.preview-file[data-file=\"ventes.csv\"]')"
             ".scrollIntoView();")
        self.shot("mapping-preview-1280")

    def test_2_narrow_screen(self):
        b = self.browser
        b.resize(390, 844)
        try:
            width = b.js("return window.innerWidth;")
            self.assertLessEqual(width, 420)
            for page, ready in (("#/sources", "#card-isv"), ("#/quality", "#q-customers"),
                                ("#/connector/isv", "tr.run"), ("#/customers", "#precision"),
                                ("#/customer/isavigne-W1", "#recommendations")):
                self.open(page)
                b.wait(ready)
                self.no_horizontal_overflow()
                self.shot("%s-390" % page.split("/")[1])
        finally:
            b.resize(1280, 900)

    def test_3_errors_are_visible(self):
        b = self.browser
        with self.assertRaises(AssertionError):
            self.open("#/connector/ghost")
        self.assertIn('no connector "ghost"', b.wait("#error").text)
        # registering a name already taken: the API's 409 is shown
        self.open("#/sources")
        b.wait("#reg-name").type("isv")
        b.wait("#reg-export_path").type(self.folder)
        b.wait("#reg-submit").click()
        text = b.wait("#reg-msg", "isv").text
        self.assertIn("already", text)
        self.assertTrue(b.wait("#error").displayed())


    def test_4_customer_page(self):
        """The customer page shows history and reasons; Bad (with a reason)
        reaches the API, and the page shows the verdict."""
        b = self.browser
        self.open("#/customers")
        b.wait("#cust-q").type("schmitt")
        b.wait("#cust-search").click()
        b.wait('#customers tr[data-key="isavigne-W1"] a', "Odile Schmitt").click()
        card = b.wait('.card.reco[data-product="W-CREMANT"]', "Crémant Rosé")
        self.assertIn("Customers who buy Riesling Vieilles Vignes also buy it", card.text)
        self.assertIn("Often bought in December", card.text)
        self.assertIn("campaign ok", b.wait("#campaign-flag").text)
        history = b.wait("#history", "FW2")
        self.assertIn("Riesling Vieilles Vignes", history.text)
        self.assertIn("16.00 €", history.text)
        self.assertIn("8 bottles 75 cl eq., 64.00 €", b.wait("main").text)
        self.shot("customer-1280")
        card.find("input.reason").type("she only drinks still wines")
        card.find(".btn-bad").click()
        b.wait('.card.reco[data-product="W-CREMANT"] .badge', "bad")
        reco = self.stack.get("/api/customers/isavigne-W1/recommendations")
        self.assertEqual(reco["recommendations"][0]["verdict"], "bad")
        self.assertEqual(self.pg.psql("SELECT verdict, reason, signals::text FROM reco.feedback "
                                      "WHERE customer_key = 'isavigne-W1'"),
                         [["bad", "she only drinks still wines", "{copurchase,season}"]])
        self.assertEqual(self.pg.value("SELECT count(*) FROM reco.runs WHERE customer_key = "
                                       "'isavigne-W1' AND trigger = 'feedback'"), "1")
        # the precision panel and the CSV link
        self.open("#/customers")
        self.assertIn("staff verdicts: 0 good, 1 bad", b.wait("#precision").text)
        self.assertEqual(b.js("return document.getElementById('campaign-csv')"
                              ".getAttribute('href');"), "/api/reco/campaign.csv")
        self.no_horizontal_overflow()

    def test_5_keys_in_urls(self):
        """A customer key with '/', '?', '#', '%' and a space: found by the
        search, its link opens its page, its history is there."""
        b = self.browser
        self.open("#/customers")
        b.wait("#cust-q").type("sharp")
        b.wait("#cust-search").click()
        b.wait('#customers tr[data-key="isavigne-W/2 ?#%"] a', "Slash Sharp").click()
        b.wait("#history", "FW/3")
        self.assertIn("isavigne-W/2 ?#%", b.wait("main").text)
        self.assertIn("isavigne-W%2F2%20%3F%23%25", b.js("return location.hash;"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
