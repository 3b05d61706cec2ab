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


class Page(StackCase):
    NAME = "web"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
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

    def test_2_narrow_screen(self):
        b = self.browser
        b.resize(390, 844)
        try:
            width = b.js("return window.innerWidth;")
            self.assertLessEqual(width, 420)
            for page, ready in (("#/sources", "#card-isv"), ("#/quality", "#q-customers"),
                                ("#/connector/isv", "tr.run")):
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
