"""The data-quality report (GET /api/quality, the anomalies CSV, `vendange
quality`) against SQL counts on a seeded dataset, and as a PDF (`vendange
quality --pdf`: its text, its page, page 1 against tests/expected/);
authentication of the API (token, basic auth, refusal off loopback without
credentials)."""
import base64
import csv
import io
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request

from harness import ARTIFACTS, BIN, ROOT, SAMPLES, StackCase, copy_tree
from png_image import mean_difference, read_png

DUP_EMAIL = "deniswagner76@hotmail.fr"  # C0002's, given again to C9999
# Page 1 of the PDF at PAGE_DPI, as it looked when it was last checked by eye;
# VD_UPDATE_EXPECTED=1 writes it again from the run (then look at it).
EXPECTED_PAGE = os.path.join(ROOT, "tests", "expected", "quality-page1.png")
PAGE_DPI = "75"
# Mean difference per channel (0-255) allowed with the expected page: the
# date, the run's start and duration and the chart's dates change from run
# to run (0.03 a minute apart, 0.3 on another day); a missing or moved
# section is over 5.
PAGE_TOLERANCE = 1.0
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def long_date(local):
    """"2026-12-06 08:27" as the PDF writes it: "6 December 2026, 08:27"."""
    day, time = local.split(" ")
    y, m, d = (int(v) for v in day.split("-"))
    return "%d %s %d, %s" % (d, MONTHS[m - 1], y, time)


def pdf_fields(path):
    """pdfinfo's fields of a PDF file."""
    out = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in
            (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def seed_export():
    """The sample export plus a customer sharing C0002's email and phone,
    an invoice line of an unknown customer and product, stock of an
    unknown product."""
    folder = copy_tree(os.path.join(SAMPLES, "isavigne"))
    with open(os.path.join(folder, "clients.csv"), "ab") as f:
        f.write("C9999;Wagner;Denis;DenisWagner76@hotmail.fr;03 88 89 89 11;;1 rue Haute;"
                "67500;Haguenau;France\r\n".encode("cp1252"))
        f.write("C9998;Sans;Courriel;pas-un-email;;;;;;France\r\n".encode("cp1252"))
    with open(os.path.join(folder, "ventes.csv"), "ab") as f:
        f.write("C7777;05/01/2024;Facture;FA-2024-9999;1;NOPE-2020;Inconnu;2;BT;10,00;20,00;"
                "24,00;5,00\r\n".encode("cp1252"))
    with open(os.path.join(folder, "stock.csv"), "ab") as f:
        f.write("GHOST-2001;Cave principale;12;BT;30/09/2026\r\n".encode("cp1252"))
    return folder


class Quality(StackCase):
    NAME = "quality"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack.add_isavigne("isv", seed_export())
        status, run = cls.stack.sync("isv")
        assert status == 0, run
        cls.sync_run = run
        cls.report = cls.stack.get("/api/quality")
        cls.tables = {t["table"]: t for t in cls.report["tables"]}

    def count(self, sql):
        return int(self.pg.value(sql))

    def check(self, table, name):
        return [c for c in self.tables[table]["checks"] if c["check"] == name][0]

    def test_1_rows_and_completeness_match_sql(self):
        for table in ("customers", "product_catalog", "sales_lines", "stock_levels",
                      "contact_history"):
            self.assertEqual(self.tables[table]["rows"],
                             self.count("SELECT count(*) FROM canonical." + table), table)
        cust = {c["column"]: c for c in self.tables["customers"]["completeness"]}
        n = self.count("SELECT count(*) FROM canonical.customers")
        for col in ("email", "phone", "mobile", "city"):
            filled = self.count("SELECT count(*) FROM canonical.customers WHERE %s IS NOT NULL "
                                "AND %s <> ''" % (col, col))
            self.assertEqual(cust[col]["filled"], filled, col)
            self.assertAlmostEqual(cust[col]["percent"], round(100.0 * filled / n, 1), 1)
        self.assertNotIn("source_id", cust)
        grapes = [c for c in self.tables["product_catalog"]["completeness"]
                  if c["column"] == "grapes"][0]
        self.assertEqual(grapes["filled"], self.count(
            "SELECT count(*) FROM canonical.product_catalog WHERE cardinality(grapes) > 0"))

    def test_2_checks_match_sql(self):
        dup = self.check("customers", "duplicate_email")
        self.assertEqual(dup["count"], self.count(
            "SELECT count(*) FROM canonical.customers WHERE email IN (SELECT email FROM "
            "canonical.customers WHERE email <> '' GROUP BY email HAVING count(*) > 1)"))
        self.assertEqual(dup["count"], 2)
        self.assertEqual(sorted(s["key"] for s in dup["sample"]),
                         ["isavigne-C0002", "isavigne-C9999"])
        self.assertIn(DUP_EMAIL, dup["sample"][0]["detail"])
        phone = self.check("customers", "duplicate_phone")
        self.assertEqual(phone["count"], self.count(
            "SELECT count(*) FROM canonical.customers WHERE phone IN (SELECT phone FROM "
            "canonical.customers WHERE phone <> '' GROUP BY phone HAVING count(*) > 1)"))
        self.assertGreaterEqual(phone["count"], 2)
        invalid = self.check("customers", "invalid_email")
        self.assertEqual(invalid["count"], self.count(
            "SELECT count(*) FROM canonical.customers WHERE email_invalid"))
        self.assertGreaterEqual(invalid["count"], 1)
        oc = self.check("sales_lines", "orphan_customer")
        self.assertEqual(oc["count"], self.count(
            "SELECT count(*) FROM canonical.sales_lines s LEFT JOIN canonical.customers c "
            "USING (customer_key) WHERE c.customer_key IS NULL"))
        self.assertGreaterEqual(oc["count"], 1)
        op = self.check("sales_lines", "orphan_product")
        self.assertEqual(op["count"], self.count(
            "SELECT count(*) FROM canonical.sales_lines s LEFT JOIN canonical.product_catalog p "
            "USING (product_key) WHERE p.product_key IS NULL"))
        self.assertIn("isavigne-FA-2024-9999-1", [s["key"] for s in op["sample"]])
        so = self.check("stock_levels", "orphan_product")
        self.assertEqual(so["count"], self.count(
            "SELECT count(*) FROM canonical.stock_levels s LEFT JOIN canonical.product_catalog p "
            "USING (product_key) WHERE p.product_key IS NULL"))
        self.assertEqual(so["count"], 1)
        neg = self.check("sales_lines", "negative_quantity_invoice")
        self.assertEqual(neg["count"], self.count(
            "SELECT count(*) FROM canonical.sales_lines WHERE quantity_units < 0 AND "
            "document_type NOT LIKE 'avoir%'"))
        cust = self.tables["customers"]
        self.assertEqual(cust["duplicate"], dup["count"] + phone["count"])

    def test_3_score_formula(self):
        t = self.tables["customers"]
        bad = self.count(
            "SELECT count(*) FROM canonical.customers WHERE email_invalid OR email IN (SELECT "
            "email FROM canonical.customers WHERE email <> '' GROUP BY email HAVING count(*) > 1)"
            " OR phone IN (SELECT phone FROM canonical.customers WHERE phone <> '' GROUP BY "
            "phone HAVING count(*) > 1)")
        self.assertEqual(t["anomalous_rows"], bad)
        expect = 100 * (0.5 * t["completeness_mean"] / 100 + 0.5 * (1 - bad / t["rows"]))
        self.assertAlmostEqual(t["score"], expect, delta=0.2)
        self.assertIn("mean completeness", self.report["score_formula"])

    def test_4_csv_and_cli(self):
        with urllib.request.urlopen(self.stack.api + "/api/quality/anomalies.csv") as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/csv"))
            rows = list(csv.DictReader(io.StringIO(r.read().decode())))
        dups = [r for r in rows if r["check"] == "duplicate_email"]
        self.assertEqual(len(dups), self.check("customers", "duplicate_email")["count"])
        self.assertEqual(sum(1 for r in rows if r["table"] == "sales_lines"),
                         sum(c["count"] for c in self.tables["sales_lines"]["checks"]))
        _, out, _ = self.stack.cli("quality", "--csv")
        self.assertTrue(out.startswith("table,check,kind,key,detail"))
        self.assertIn("isavigne-C9999", out)
        _, out, _ = self.stack.cli("quality", "--json")
        self.assertEqual(json.loads(out)["tables"][1]["table"], "customers")
        _, out, _ = self.stack.cli("quality")
        self.assertIn("duplicate_email", out)
        status, _, err = self.stack.cli("quality", "--bogus", check=False)
        self.assertEqual(status, 64)

    def test_5_date_sources_and_runs(self):
        r = self.report
        self.assertEqual(r["timezone"], "Europe/Paris")  # VENDANGE_TIMEZONE's default
        self.assertEqual(r["generated_local"], self.pg.value(
            "SELECT to_char(timestamptz '%s' AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD HH24:MI')"
            % r["generated_at"]))
        self.assertLess(abs(float(self.pg.value(
            "SELECT extract(epoch FROM now() - timestamptz '%s')" % r["generated_at"]))), 300)
        self.assertEqual(r["runs_days"], 30)
        records, rejected = (int(v) for v in self.pg.psql(
            "SELECT sum(extracted), sum(rejected) FROM ops.run_tables WHERE run_id = %d"
            % self.sync_run["id"])[0])
        self.assertGreater(rejected, 0)
        [source] = r["sources"]
        self.assertEqual((source["name"], source["type"]), ("isv", "isavigne"))
        last = source["last_run"]
        self.assertEqual((last["id"], last["status"], last["records"], last["rejected"]),
                         (self.sync_run["id"], "success", records, rejected))
        self.assertEqual(last["started_at"], self.sync_run["started_at"])
        self.assertEqual(last["duration_s"], self.sync_run["duration_s"])
        [run] = r["runs"]
        self.assertEqual((run["id"], run["connector"], run["records"], run["rejected"]),
                         (self.sync_run["id"], "isv", records, rejected))
        self.assertEqual(run["started_local"], self.pg.value(
            "SELECT to_char(started_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD HH24:MI') "
            "FROM ops.sync_runs WHERE id = %d" % self.sync_run["id"]))

    def test_6_pdf(self):
        before = self.stack.get("/api/quality")
        folder = tempfile.mkdtemp(prefix="vd-pdf-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "quality.pdf")
        _, _, err = self.stack.cli("quality", "--pdf", path)
        after = self.stack.get("/api/quality")
        self.assertIn("wrote the quality report to " + path, err)
        info = pdf_fields(path)
        self.assertEqual(info["Pages"], "1")
        self.assertEqual(info["Page size"], "595.276 x 841.89 pts (A4)")
        self.assertEqual(info["Title"], "Data quality report")
        text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True,
                              text=True, check=True).stdout
        words = " ".join(text.split())
        # the date (the report's minute: the one before or after the CLI's)
        self.assertTrue(any(long_date(r["generated_local"]) in words for r in (before, after)),
                        words[:200])
        self.assertIn("time zone Europe/Paris", words)
        for source in before["sources"]:
            last = source["last_run"]
            self.assertIn("%s %s #%d success %s" % (source["name"], source["type"], last["id"],
                                                    last["started_local"]), words)
        for table in before["tables"]:
            self.assertIn(table["table"], words)
            if table["score"] is not None:
                self.assertIn("%.1f / 100" % table["score"], words)
            self.assertIn("%s rows, %.1f %% filled" % (table["rows"], table["completeness_mean"]),
                          words)
            for check in table["checks"]:
                self.assertIn("%s %s %d" % (check["label"], check["kind"], check["count"]), words)
                if check["sample"]:
                    self.assertIn(check["sample"][0]["key"], words)
        self.assertIn(DUP_EMAIL, words)
        total = sum(c["count"] for t in before["tables"] for c in t["checks"])
        self.assertIn("%d anomalies in all" % total, words)
        [run] = before["runs"]
        self.assertIn("Rejects per run, last 30 days 1 run, %d rejected of %d records"
                      % (run["rejected"], run["records"]), words)
        # page 1 against the one checked by eye
        png = os.path.join(ARTIFACTS, "quality-page1.png")
        subprocess.run(["pdftoppm", "-r", PAGE_DPI, "-png", "-singlefile", path, png[:-4]],
                       check=True)
        if os.environ.get("VD_UPDATE_EXPECTED") == "1":
            shutil.copyfile(png, EXPECTED_PAGE)
        diff = mean_difference(read_png(png), read_png(EXPECTED_PAGE))
        self.assertLess(diff, PAGE_TOLERANCE, "page 1 (%s) differs from %s by %.2f on average"
                        % (png, EXPECTED_PAGE, diff))

    def test_7_pdf_over_http(self):
        with urllib.request.urlopen(self.stack.api + "/api/quality.pdf", timeout=30) as r:
            self.assertEqual(r.headers["Content-Type"], "application/pdf")
            body = r.read()
            self.assertEqual(int(r.headers["Content-Length"]), len(body))
        self.assertTrue(body.startswith(b"%PDF-"))
        self.assertIn(b"%%EOF", body[-32:])
        out = subprocess.run([os.path.join(BIN, "vendange"), "quality", "--pdf", "-"],
                             env=self.stack.env, capture_output=True, timeout=60, check=True)
        self.assertTrue(out.stdout.startswith(b"%PDF-"))
        self.assertEqual(out.stderr, b"")
        status, _, err = self.stack.cli("quality", "--pdf", check=False)
        self.assertEqual(status, 64)
        self.assertIn("needs a value", err)
        status, _, err = self.stack.cli("quality", "--pdf", "/nonexistent/q.pdf", check=False)
        self.assertEqual(status, 1)
        self.assertIn("cannot write /nonexistent/q.pdf", err)


class Auth(StackCase):
    NAME = "auth"
    EXTRACTORS = 0
    TOKEN = "tok-" + "x9" * 16
    ENV = {"VENDANGE_API_TOKEN": TOKEN, "VENDANGE_API_USER": "ops",
           "VENDANGE_API_PASSWORD": "pa:ss"}

    def status_of(self, path, auth=None):
        req = urllib.request.Request(self.stack.api + path,
                                     headers={"Authorization": auth} if auth else {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.headers

    def test_1_token_and_basic(self):
        code, headers = self.status_of("/api/status")
        self.assertEqual(code, 401)
        self.assertIn("Basic", headers["WWW-Authenticate"])
        self.assertEqual(self.status_of("/api/status", "Bearer wrong")[0], 401)
        self.assertEqual(self.status_of("/api/quality", "Bearer " + self.TOKEN)[0], 200)
        self.assertEqual(self.status_of("/api/quality.pdf")[0], 401)
        self.assertEqual(self.status_of("/api/quality.pdf", "Bearer " + self.TOKEN)[0], 200)
        basic = "Basic " + base64.b64encode(b"ops:pa:ss").decode()
        self.assertEqual(self.status_of("/api/connectors", basic)[0], 200)
        bad = "Basic " + base64.b64encode(b"ops:nope").decode()
        self.assertEqual(self.status_of("/api/connectors", bad)[0], 401)
        # the static page and the liveness probe stay open
        self.assertEqual(self.status_of("/")[0], 200)
        self.assertEqual(self.status_of("/health")[0], 200)

    def test_2_cli_sends_the_token(self):
        _, out, _ = self.stack.cli("status", "--json")
        self.assertIn("services", json.loads(out))
        env = dict(self.stack.env, VENDANGE_API_TOKEN="wrong")
        out = subprocess.run([os.path.join(BIN, "vendange"), "status"], env=env,
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("authentication required", out.stderr)
        for path in self.stack.logs:
            with open(path, encoding="utf-8", errors="replace") as f:
                self.assertNotIn(self.TOKEN, f.read())

    def test_3_refuses_open_api_off_loopback(self):
        env = dict(self.stack.env, VENDANGE_HTTP_ADDR="0.0.0.0:1", VENDANGE_API_TOKEN="",
                   VENDANGE_API_USER="", VENDANGE_API_PASSWORD="")
        out = subprocess.run([os.path.join(BIN, "orchestrator")], env=env, capture_output=True,
                             text=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("without authentication", out.stderr + out.stdout)
