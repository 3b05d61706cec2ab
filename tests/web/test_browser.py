"""End-to-end tests of the web page in headless Chromium (Debian's
chromium + chromium-driver, driven over W3C WebDriver by webdriver.py)
against a running stack with real PostgreSQL: register an iSaVigne
connector through the form (and see a validation error), test it, sync
it, see the run's counts, open the rejects of the bad line
(ventes.csv:136), find the seeded duplicate email on the quality page;
screenshots at 1280 and 390 px in tests/artifacts/. Every test runs twice:
in an English browser (Page) and in a French one (PageFrench), each
checking the page's words and its dates and amounts in that locale."""
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
  'loyal', false, false, 2, 1473.57, 736.79, '2025-03-02', '2026-09-14');
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


# What the page says, in each language (its own words, and the formats of
# the browser's locale: U+202F groups thousands and U+00A0 comes before €
# in French). Messages of the API stay as the API writes them.
WORDS = {
    "en": {
        "no connector": "No connector yet", "idle": "idle", "test ok": "test ok",
        "success": "success", "records": "%d records", "healthy": "healthy", "bad": "bad",
        "campaign ok": "campaign ok", "line": "€16.00", "spent": "€1,473.57",
        "totals": "8 bottles 75 cl eq., €64.00", "verdicts": "staff verdicts: 0 good, 1 bad",
        "date": "09/14/2026", "time": r"\d\d/\d\d/\d{4}, \d\d:\d\d [AP]M",
        "alive": "Services alive: ", "nav quality": "Data quality",
        "nav alerts": "Alerts", "open alerts": "1 open alert(s)", "resolved": "resolved",
        "sent": "sent", "dead": "dead", "queued": "1 test notification(s) queued",
        "layout": "missing: mt_ht; added: montant_ht", "accepted": "columns of ventes.csv accepted",
        "pdf": "Download the report (PDF)",
    },
    "fr": {
        "no connector": "Aucun connecteur pour l’instant", "idle": "inactif",
        "test ok": "test réussi", "success": "réussi", "records": "%d enregistrements",
        "healthy": "sain", "bad": "mauvais", "campaign ok": "campagne possible",
        "line": "16,00\u00a0€", "spent": "1\u202f473,57\u00a0€",
        "totals": "8 bouteilles éq. 75 cl, 64,00\u00a0€",
        "verdicts": "avis de l’équipe : 0 bons, 1 mauvais",
        "date": "14/09/2026", "time": r"\d\d/\d\d/\d{4} \d\d:\d\d",
        "alive": "Services en marche : ", "nav quality": "Qualité des données",
        "nav alerts": "Alertes", "open alerts": "1 alerte(s) ouverte(s)", "resolved": "résolue",
        "sent": "envoyée", "dead": "abandonnée", "queued": "1 notification(s) de test en file",
        "layout": "manquantes : mt_ht ; ajoutées : montant_ht",
        "accepted": "colonnes de ventes.csv acceptées",
        "pdf": "Télécharger le rapport (PDF)",
    },
}


class Page(StackCase):
    """The page in an English browser (Chromium's --lang, Accept-Language)."""
    NAME = "web"
    LANG = "en-US"
    RECOMMENDER = False  # the seeded recommendations stay as they are

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.psql(CUSTOMER_SEED)
        cls.folder = seed_export()
        cls.words = WORDS[cls.LANG.split("-")[0]]
        cls.browser = Browser(os.path.join(ARTIFACTS, "%s-chromedriver.log" % cls.NAME),
                              lang=cls.LANG)

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        super().tearDownClass()

    def shot(self, name):
        self.browser.screenshot(os.path.join(ARTIFACTS, "%s-%s.png" % (self.NAME, name)))

    def w(self, key):
        return self.words[key]

    def content(self, css):
        """The textContent of an element: the exact characters (WebDriver's
        element text turns no-break spaces into spaces)."""
        return self.browser.js("return document.querySelector(arguments[0]).textContent;", css)

    def open(self, hash_):
        b = self.browser
        b.go("about:blank")
        b.go(self.stack.api + "/" + hash_)
        main = b.wait("main[data-ready]", timeout=30)
        if b.js("return document.getElementById('main').dataset.ready;") == "error":
            raise AssertionError("page %s failed: %s" % (hash_, b.wait("#error").text))
        self.assertEqual(b.js("return document.documentElement.lang;"), self.LANG.split("-")[0])
        missing = b.js("return [...MISSING];")
        self.assertEqual(missing, [], "words of the page without a translation")
        return main

    def no_horizontal_overflow(self):
        w = self.browser.js("return [document.documentElement.scrollWidth, window.innerWidth];")
        self.assertLessEqual(w[0], w[1] + 1, "page wider than the window: %r" % w)

    def test_1_register_sync_rejects_quality(self):
        b = self.browser
        self.open("#/sources")
        b.wait("#cards", self.w("no connector"))
        self.assertEqual(b.wait("#nav-quality").text, self.w("nav quality"))
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
        self.assertIn(self.w("idle"), card.text)
        api = self.stack.get("/api/connectors/isv")
        self.assertEqual(api["settings"], {"export_path": self.folder})
        # test, then sync with live progress
        card.find(".btn-test").click()
        b.wait("#card-isv .card-msg", self.w("test ok"))
        b.wait("#card-isv .btn-sync").click()
        b.wait("#card-isv .card-msg", self.w("success"), timeout=180)
        run = self.stack.get("/api/runs?connector=isv")[0]
        self.assertEqual(run["status"], "success")
        self.assertIn(self.w("records") % run["records_done"],
                      b.wait("#card-isv .card-msg").text)
        b.wait("#card-isv .badge", self.w("healthy"))
        self.open("#/sources")
        b.wait("#card-isv .badge", self.w("healthy"))
        # the last run's time as the browser's locale writes it
        self.assertRegex(b.wait("#card-isv .last-run").text, self.w("time"))
        self.assertIn(self.w("alive"), b.wait("#services-alive").text)
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
        # the run's warnings: a line per kind (table, file, field, reason,
        # how many lines), as the API's summaries
        box = row.find("details.warnings")
        box.find("summary").click()
        items = box.find_all("li")
        self.assertEqual(len(items), len(run["warnings"]))
        self.assertIn("sales_lines · ventes.csv · product_key · unknown product", box.text)
        # quality: the seeded duplicate email
        b.wait("#nav-quality").click()
        check = b.wait('#q-customers tr.check[data-check="duplicate_email"]')
        self.assertEqual(check.find("td.count").text, "2")
        check.find("summary").click()
        self.assertIn(DUP_EMAIL, check.find("td.examples").text)
        self.assertIn("isavigne-C9999", check.find("td.examples").text)
        pdf = b.wait("#pdf-link")  # the one-page report (test_quality reads its content)
        self.assertEqual(pdf.text, self.w("pdf"))
        self.assertEqual(pdf.attribute("href"), "/api/quality.pdf")
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
        b.wait('main[data-ready="#/customers?q=schmitt"]')  # the list of the search
        b.wait('#customers tr[data-key="isavigne-W1"] a', "Odile Schmitt").click()
        card = b.wait('.card.reco[data-product="W-CREMANT"]', "Crémant Rosé")
        self.assertIn("Customers who buy Riesling Vieilles Vignes also buy it", card.text)
        self.assertIn("Often bought in December", card.text)
        self.assertIn(self.w("campaign ok"), b.wait("#campaign-flag").text)
        history = b.wait("#history", "FW2")
        self.assertIn("Riesling Vieilles Vignes", history.text)
        self.assertIn(self.w("line"), self.content("#history"))
        self.assertIn(self.w("date"), history.text)
        self.assertIn(self.w("totals"), self.content("main"))
        self.assertIn(self.w("spent"), self.content("#aggregates"))
        self.shot("customer-1280")
        card.find("input.reason").type("she only drinks still wines")
        card.find(".btn-bad").click()
        b.wait('.card.reco[data-product="W-CREMANT"] .badge', self.w("bad"))
        reco = self.stack.get("/api/customers/isavigne-W1/recommendations")
        self.assertEqual(reco["recommendations"][0]["verdict"], "bad")
        self.assertEqual(self.pg.psql("SELECT verdict, reason, signals::text FROM reco.feedback "
                                      "WHERE customer_key = 'isavigne-W1'"),
                         [["bad", "she only drinks still wines", "{copurchase,season}"]])
        self.assertEqual(self.pg.value("SELECT count(*) FROM reco.runs WHERE customer_key = "
                                       "'isavigne-W1' AND trigger = 'feedback'"), "1")
        # the precision panel and the CSV link
        self.open("#/customers")
        self.assertIn(self.w("verdicts"), b.wait("#precision").text)
        self.assertEqual(b.js("return document.getElementById('campaign-csv')"
                              ".getAttribute('href');"), "/api/reco/campaign.csv")
        self.no_horizontal_overflow()

    def test_5_services_line(self):
        """The live services, then a dead one whose run failed recently."""
        b = self.browser
        run = self.pg.value(
            "INSERT INTO ops.sync_runs (connector, connector_type, status, finished_at, errors) "
            "VALUES ('gone', 'isavigne', 'failed', now(), '[{\"reason\": \"loader "
            "loader:gone:1:x stopped sending heartbeats\", \"service\": \"loader\", \"instance\": \"loader:gone:1:x\"}]') "
            "RETURNING id")
        self.pg.psql("INSERT INTO ops.services (instance, role, alive, last_heartbeat) VALUES "
                     "('loader:gone:1:x', 'loader', false, now() - interval '1 minute'), "
                     "('loader:old:2:y', 'loader', false, now() - interval '2 hours')")
        self.open("#/sources")
        self.assertIn("loader, normalizer", b.wait("#services-alive").text)
        dead = b.wait("#services-dead").text
        self.assertIn("loader:gone:1:x", dead)
        self.assertIn(run, dead)
        self.assertNotIn("loader:old", dead)

    def test_6_language_switch(self):
        """The switch in the header changes the page's language (kept in
        the browser), and back."""
        b = self.browser
        other = "fr" if self.LANG.startswith("en") else "en"
        self.open("#/quality")
        b.js("const s = document.getElementById('lang'); s.value = arguments[0];"
             "s.dispatchEvent(new Event('change'));", other)
        b.wait("#nav-quality", WORDS[other]["nav quality"])
        self.assertEqual(b.js("return document.documentElement.lang;"), other)
        b.js("localStorage.removeItem('vendange_lang');")
        self.open("#/quality")
        self.assertEqual(b.wait("#nav-quality").text, self.w("nav quality"))

    def test_7_keys_in_urls(self):
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

    def test_8_alerts_page(self):
        """The Alerts tab: open and resolved alerts with their deliveries,
        the channels (secrets by name), the rules, the test button."""
        self.pg.psql(
            "INSERT INTO ops.alert_channels (name, type, settings, secret_names) VALUES"
            " ('ops-mail', 'smtp', '{\"url\": \"smtp://127.0.0.1:1\", \"from\": \"a@x.fr\","
            " \"to\": \"b@x.fr\"}', '{password}') ON CONFLICT DO NOTHING;"
            "INSERT INTO ops.alerts (id, rule, subject, connector, detail, opened_at, resolved_at)"
            " VALUES (9001, 'run_failed', 'isv-web', 'isv-web', 'run 7 ended failed',"
            " now() - interval '2 hours', now() - interval '1 hour'),"
            " (9002, 'service_dead', 'loader:web:1', NULL, 'loader has sent no heartbeat', now(),"
            " NULL) ON CONFLICT DO NOTHING;"
            "INSERT INTO ops.outbox (origin, origin_id, target, idempotency_key, payload, status,"
            " attempts, last_error) VALUES ('alert', 9001, 'ops-mail', 'web:1', '{\"event\":"
            " \"opened\"}', 'sent', 1, NULL), ('alert', 9001, 'ops-mail', 'web:2', '{\"event\":"
            " \"resolved\"}', 'dead', 10, 'cannot reach smtp://127.0.0.1:1')"
            " ON CONFLICT DO NOTHING;")
        b = self.browser
        self.open("#/alerts")
        self.assertEqual(b.wait("#nav-alerts").text, self.w("nav alerts"))
        self.assertEqual(b.wait("#alerts-open").text, self.w("open alerts"))
        row = b.wait('#alerts tr[data-subject="isv-web"]')
        self.assertIn(self.w("resolved"), row.text)
        self.assertIn("run 7 ended failed", row.text)
        self.assertIn(self.w("sent"), row.text)
        self.assertIn(self.w("dead"), row.text)
        self.assertIn("cannot reach smtp://127.0.0.1:1", row.text)
        b.wait('#alerts tr[data-subject="loader:web:1"]', "service_dead")
        b.wait('#alert-channels tr[data-channel="ops-mail"]', "password")
        self.assertEqual(b.js("return document.querySelectorAll('#alert-rules tr[data-rule]')"
                              ".length;"), 9)
        b.wait("#alert-test").click()
        b.wait("#alert-test-msg", self.w("queued"))
        self.shot("alerts")
        self.no_horizontal_overflow()

    def test_9_layout_change(self):
        """An export file left unread because its columns changed: listed on
        the connector's page with its columns, accepted by its button."""
        name = "isv-layout-" + self.LANG
        self.stack.add_isavigne(name, self.folder)
        self.pg.psql(
            "UPDATE ops.connectors SET cursor = '{\"files\": {}, \"layouts\": {\"ventes.csv\":"
            " [\"mt_ht\"]}, \"pending_layouts\": {\"ventes.csv\": {\"columns\":"
            " [\"montant_ht\"], \"added\": [\"montant_ht\"], \"missing\": [\"mt_ht\"]}}}'"
            " WHERE name = '%s'" % name)
        b = self.browser
        self.open("#/connector/" + name)
        b.wait('#layout-changes .layout-change[data-file="ventes.csv"]', self.w("layout"))
        b.wait("#layout-changes .btn-accept-layout").click()
        b.wait('#layout-changes .layout-change.msg-ok', self.w("accepted"))
        self.shot("layout-accepted")
        cursor = self.pg.value("SELECT cursor FROM ops.connectors WHERE name = '%s'" % name)
        self.assertIn('"layouts":{"ventes.csv":["montant_ht"]}', cursor.replace(" ", ""))
        self.assertNotIn("montant_ht", cursor.split('"pending_layouts"')[1])
        self.stack.cli("connector", "remove", name)


class PageFrench(Page):
    """The same tests in a French browser."""
    NAME = "web-fr"
    LANG = "fr-FR"


if __name__ == "__main__":
    unittest.main(verbosity=2)
