"""The Odoo connector against the Odoo double (tests/odoo_double.py), with
the real services and a real PostgreSQL, over both transports and both
version behaviours (Odoo 17: XML-RPC, microsecond datetime comparison;
Odoo 19: JSON-2 or XML-RPC, whole-second comparison, renamed fields).

Every test of a class builds on the previous one (one double, one
database per class), in name order."""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from decimal import Decimal

from harness import BIN, Postgres, Stack

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "reference"))
import odoo_double  # noqa: E402
import odoo_model  # noqa: E402

MAPPING = odoo_model.FIELD_MAPPING  # the custom wine fields
UNITS = odoo_model.UNIT_TABLE
UNIT_FACTOR = {"Bouteille": Decimal(1), "Magnum": Decimal(2), "Carton 6": Decimal(6),
               "Unité(s)": Decimal(1)}


def dec(v):
    if v is None:
        return None
    return (v if isinstance(v, Decimal) else Decimal(repr(v))).normalize()


class OdooCase(unittest.TestCase):
    VERSION = None
    TRANSPORT = "auto"
    NAME = None
    ONLY = None  # test numbers this class runs (None: all)
    ISAVIGNE = 0  # iSaVigne extractors (the cross-source test needs one)

    def setUp(self):
        number = int(self._testMethodName.split("_")[1])
        if self.ONLY and number not in self.ONLY:
            self.skipTest("covered by the other classes (kept short)")

    @classmethod
    def setUpClass(cls):
        cls.odoo = odoo_double.OdooDouble(cls.VERSION).start()
        cls.pg = Postgres()
        cls.dir = tempfile.mkdtemp(prefix="vd-odoo-")  # file settings: under a files root
        cls.api_key = cls.odoo.api_key  # the key the connector is given
        cls.stack = Stack(cls.pg, cls.NAME, extractors=cls.ISAVIGNE, odoo_extractors=1,
                          env={"VENDANGE_FILES_ROOT": cls.dir,
                               "VD_TEST_ODOO_KEY": cls.odoo.api_key})
        for name, text in (("mapping.ini", MAPPING), ("units.txt", UNITS)):
            with open(os.path.join(cls.dir, name), "w") as f:
                f.write(text)
        cls.settings = {"url": cls.odoo.url, "database": cls.odoo.db, "user": cls.odoo.login,
                        "api_key": "env:VD_TEST_ODOO_KEY", "transport": cls.TRANSPORT,
                        "allow_insecure": "true",  # the double speaks http://
                        "field_mapping": os.path.join(cls.dir, "mapping.ini"),
                        "unit_table": os.path.join(cls.dir, "units.txt"),
                        "safety_lag_s": "0", "page_size": "1000", "reconcile": "always"}
        args = ["connector", "add", cls.NAME, "--type", "odoo"]
        for k, v in cls.settings.items():
            args += ["--set", "%s=%s" % (k, v)]
        cls.stack.cli(*args)

    @classmethod
    def tearDownClass(cls):
        bad = cls.stack.close()
        reports = cls.stack.sanitizer_reports()
        cls.pg.close()
        cls.odoo.stop()
        assert not bad, bad
        assert not reports, reports

    # ---- helpers -----------------------------------------------------------
    def sync(self, *flags, expect="success"):
        self.odoo.tick(2)  # what changed is now older than the server's clock
        self.odoo.reset_counters()
        status, run = self.stack.sync(self.NAME, *flags)
        self.assertEqual(run["status"], expect, run)
        for table, c in run.get("tables", {}).items():
            self.assertEqual(c["extracted"], c["inserted"] + c["updated"] + c["unchanged"]
                             + c["rejected"], (table, c))
        return run

    def count(self, run, table, key="extracted"):
        return run["tables"].get(table, {}).get(key, 0)

    def deleted(self, run, table):
        return int(self.pg.value("SELECT coalesce(sum(deleted), 0) FROM ops.run_tables WHERE "
                                 "run_id = %d AND table_name = '%s'" % (run["id"], table)))

    def rows(self, sql):
        return sorted(tuple(r) for r in self.pg.psql(sql))

    def expected(self):
        """The canonical rows the double's data must give."""
        o = self.odoo
        with o.lock:
            t = o.tables
            customers = sorted(("odoo-%d" % p["id"], p["email"] or None, p["active"])
                               for p in t["res.partner"].values() if p["customer_rank"] > 0)
            products = []
            for p in t["product.product"].values():
                key = p["default_code"] or "ODOO-%d" % p["id"]
                products.append((key, p["name"], p["active"]))
            lines = []
            for ln in t["sale.order.line"].values():
                order = t["sale.order"][ln["order_id"]]
                if order["state"] not in ("sale", "done"):
                    continue
                if ln.get("display_type") or not ln.get("product_id"):
                    continue  # section titles and notes are not sales
                uom = t["uom.uom"][ln["product_uom"]]["name"]
                prod = t["product.product"][ln["product_id"]]
                lines.append(("odoo-%d" % ln["id"], order["name"], "odoo-%d" % ln["order_partner_id"],
                              prod["default_code"] or "ODOO-%d" % prod["id"],
                              order["date_order"][:10], dec(ln["product_uom_qty"]),
                              dec(ln["price_subtotal"]),
                              dec(Decimal(repr(ln["product_uom_qty"])) * UNIT_FACTOR[uom])))
            stock = []
            for q in t["stock.quant"].values():
                if t["stock.location"][q["location_id"]]["usage"] != "internal":
                    continue
                stock.append(("odoo-%d" % q["id"], t["stock.warehouse"][q["warehouse_id"]]["name"],
                              dec(q["quantity"])))
        return sorted(customers), sorted(products), sorted(lines), sorted(stock)

    def assert_exact_copy(self):
        customers, products, lines, stock = self.expected()
        got_c = [(k, e, a == "t") for k, e, a in self.pg.psql(
            "SELECT customer_key, email, active FROM canonical.customers WHERE source = 'odoo' "
            "AND active ORDER BY 1")]
        self.assertEqual(got_c, [c for c in customers if c[2]])
        got_p = self.rows("SELECT product_key, name, active FROM canonical.product_catalog "
                          "WHERE source = 'odoo' AND active")
        self.assertEqual([(k, n, a == "t") for k, n, a in got_p], [p for p in products if p[2]])
        got_l = [(k, o, c, p, d, dec(Decimal(q)), dec(Decimal(t)), dec(Decimal(b)) if b else None)
                 for k, o, c, p, d, q, t, b in self.pg.psql(
                     "SELECT sale_line_key, order_id, customer_key, product_key, date_sale, "
                     "quantity_units, price_total, quantity_bottles_75cl_eq "
                     "FROM canonical.sales_lines WHERE source = 'odoo' ORDER BY 1")]
        self.assertEqual(sorted(got_l), lines)
        got_s = [(k, w, dec(Decimal(q))) for k, w, q in self.pg.psql(
            "SELECT stock_key, warehouse, quantity_units FROM canonical.stock_levels "
            "WHERE source = 'odoo' ORDER BY 1")]
        self.assertEqual(sorted(got_s), stock)

    # ---- the tests ---------------------------------------------------------
    def test_1_full_sync_exact_contents(self):
        run = self.sync()
        customers, products, lines, stock = self.expected()
        self.assertEqual(self.count(run, "customers"), len(customers))
        self.assertEqual(self.count(run, "customers", "inserted"), len(customers))
        self.assertEqual(self.count(run, "product_catalog"), len(products))
        self.assertEqual(self.count(run, "sales_lines"), len(lines))
        self.assertEqual(self.count(run, "stock_levels"), len(stock))
        self.assert_exact_copy()
        # archived records are read and inactive
        self.assertEqual(self.pg.value("SELECT string_agg(customer_key, ',' ORDER BY customer_key)"
                                       " FROM canonical.customers WHERE NOT active"),
                         "odoo-22,odoo-34,odoo-8")
        self.assertEqual(self.pg.value("SELECT active FROM canonical.product_catalog "
                                       "WHERE product_key = 'EDEL-2022'"), "f")
        # wire conventions: False is empty, many2one names, datetimes UTC,
        # custom wine fields through the field mapping
        r = self.pg.psql("SELECT grapes, vintage, category, region, list_price, price_segment "
                         "FROM canonical.product_catalog WHERE product_key = 'RIES-RES-2022'")
        self.assertEqual(r, [["{Riesling}", "2022", "blanc", "Alsace", "12.5", "standard"]])
        self.assertEqual(self.pg.value("SELECT product_key FROM canonical.product_catalog "
                                       "WHERE name = 'Coffret dégustation'"), "ODOO-11")
        p1 = self.odoo.record("res.partner", 1)
        r = self.pg.psql("SELECT last_name, country, external_ref, last_updated = '%s+00' "
                         "FROM canonical.customers WHERE customer_key = 'odoo-1'"
                         % odoo_double._fmt(p1["write_date"]))
        self.assertEqual(r, [[p1["name"], "Deutschland", "C0001", "t"]])
        mobile = self.pg.value("SELECT mobile FROM canonical.customers WHERE customer_key = "
                               "'odoo-1'")
        self.assertEqual(mobile, "+33612345600" if self.VERSION == "17" else None)
        # cancelled orders and quotations are not sales; internal stock only
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines WHERE "
                                       "order_id IN ('S00004', 'S00008')"), "0")
        self.assertEqual(self.pg.value("SELECT count(DISTINCT warehouse) FROM "
                                       "canonical.stock_levels"), "2")
        # section and note lines are not sales; one loaded by an older
        # version is removed (reconcile: it is not among the listed lines)
        with self.odoo.lock:
            notes = sorted(i for i, ln in self.odoo.tables["sale.order.line"].items()
                           if ln.get("display_type"))
        self.assertTrue(notes)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines WHERE "
                                       "source_id IN (%s)" % ",".join("'%d'" % i for i in notes)),
                         "0")
        self.pg.psql("INSERT INTO canonical.sales_lines (sale_line_key, source, source_id, "
                     "connector, date_sale, quantity_units, customer_key) VALUES ('odoo-%d', "
                     "'odoo', '%d', '%s', '2025-01-01', 0, 'odoo-1')" % (notes[0], notes[0],
                                                                          self.NAME))
        run = self.sync()
        self.assertEqual(self.deleted(run, "sales_lines"), 1)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines WHERE "
                                       "sale_line_key = 'odoo-%d'" % notes[0]), "0")
        # aggregates follow the Odoo sales
        self.assertEqual(self.pg.value(
            "SELECT count(*) FROM canonical.customers c LEFT JOIN (SELECT customer_key, "
            "sum(price_total) s FROM canonical.sales_lines GROUP BY 1) x USING (customer_key) "
            "WHERE c.total_spent IS DISTINCT FROM coalesce(x.s, 0)"), "0")

    def test_2_nothing_changed_nothing_transferred(self):
        run = self.sync()
        self.assertEqual(run["records"] if "records" in run else 0, 0)
        for table in ("customers", "product_catalog", "sales_lines", "stock_levels"):
            self.assertEqual(self.count(run, table), 0, table)
        self.assertEqual(self.odoo.counters()["transferred"].get("res.partner", 0), 0)

    def test_3_37_updated_partners(self):
        ids = self.odoo.ids("res.partner")[:37]
        for i in ids:
            self.odoo.update("res.partner", [i], {"phone": "+33 3 88 00 00 %02d" % i})
        run = self.sync()
        self.assertEqual(self.odoo.counters()["transferred"]["res.partner"], 37)
        self.assertEqual(self.count(run, "customers"), 37)
        self.assertEqual(self.count(run, "customers", "updated"), 37)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers WHERE phone "
                                       "LIKE '+3338800000%' OR phone LIKE '+333880000%'"), "37")
        self.assertEqual(self.count(run, "sales_lines"), 0)

    def test_4_lines_sharing_one_write_date(self):
        order = self.odoo.ids("sale.order", state="sale")[0]
        before = int(self.pg.value("SELECT count(*) FROM canonical.sales_lines"))
        self.odoo.add_lines(order, 2500, product_id=3, qty=2.0, price=14.9)
        run = self.sync()
        self.assertEqual(self.count(run, "sales_lines"), 2500)
        self.assertEqual(self.count(run, "sales_lines", "inserted"), 2500)
        self.assertEqual(int(self.pg.value("SELECT count(*) FROM canonical.sales_lines")),
                         before + 2500)
        self.assert_exact_copy()

    def test_5_archive_delete_cancel_propagate(self):
        o = self.odoo
        o.update("res.partner", [2], {"active": False})
        o.update("product.product", [2], {"active": False})
        o.unlink("res.partner", [40])
        gone_line = o.ids("sale.order.line", order_id=1)[0]
        o.unlink("sale.order.line", [gone_line])
        o.unlink("stock.quant", [1])
        cancelled = o.ids("sale.order", state="sale")[1]
        n_cancelled = len(o.ids("sale.order.line", order_id=cancelled))
        o.cancel_order(cancelled)
        run = self.sync()
        self.assertEqual(self.pg.value("SELECT active FROM canonical.customers WHERE "
                                       "customer_key = 'odoo-2'"), "f")
        self.assertEqual(self.pg.value("SELECT active FROM canonical.product_catalog WHERE "
                                       "source_id = '2' AND source = 'odoo'"), "f")
        self.assertEqual(self.pg.value("SELECT active FROM canonical.customers WHERE "
                                       "customer_key = 'odoo-40'"), "f")  # deleted: marked
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines WHERE "
                                       "sale_line_key = 'odoo-%d'" % gone_line), "0")
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines WHERE "
                                       "order_id = 'S%05d'" % cancelled), "0")
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.stock_levels WHERE "
                                       "stock_key = 'odoo-1'"), "0")
        self.assertEqual(self.deleted(run, "sales_lines"), 1 + n_cancelled)
        self.assertEqual(run["tables"]["sales_lines"]["deleted"], 1 + n_cancelled)
        self.assertEqual(self.deleted(run, "stock_levels"), 1)
        self.assertEqual(self.deleted(run, "customers"), 1)
        self.assert_exact_copy()
        # the order comes back confirmed: its lines come back
        o.update("sale.order", [cancelled], {"state": "sale"})
        run = self.sync()
        self.assertEqual(self.count(run, "sales_lines", "inserted"), n_cancelled)
        self.assert_exact_copy()

    def test_6_faults_still_an_exact_copy(self):
        o = self.odoo
        o.update("res.partner", o.ids("res.partner")[:5], {"city": "Riquewihr"})
        o.add_lines(o.ids("sale.order", state="sale")[2], 30, product_id=5, qty=1.0, price=16.5)
        o.faults(every=5)
        try:
            run = self.sync()
            self.assertGreaterEqual(o.counters()["requests"], 5)
            self.assert_exact_copy()
            run = self.sync("--full")
            for table in ("customers", "product_catalog", "sales_lines", "stock_levels"):
                self.assertEqual(self.count(run, table, "inserted"), 0, table)
            self.assertEqual(self.count(run, "sales_lines", "updated"), 0)
            self.assert_exact_copy()
        finally:
            o.faults(every=0)

    def test_7_wrong_api_key_fails_clearly(self):
        good = self.odoo.api_key
        self.odoo.set_key("a-rotated-key-the-connector-does-not-have")
        try:
            run = self.sync(expect="failed")
            text = json.dumps(run)
            want = ("rotate the API key" if self.TRANSPORT != "xmlrpc" and self.VERSION == "19"
                    else "refused the user or API key")
            self.assertIn(want, text)
            self.assertNotIn(good, text)
            # connector test: the extractor's answer, checks and hint
            answer, status = self.probe()
            self.assertEqual(status, 1)
            self.assertFalse(answer["ok"])
            self.assertIn("rotate the API key", answer["error"]["hint"])
            self.assertNotIn(good, json.dumps(answer))
            # the same through the orchestrator: a clear failure, and no run
            runs = self.pg.value("SELECT count(*) FROM ops.sync_runs")
            status, out, err = self.stack.cli("connector", "test", self.NAME, check=False)
            self.assertEqual(status, 1, out + err)
            self.assertIn("connector %s: FAILED" % self.NAME, out)
            self.assertIn("rotate the API key", out)
            self.assertNotIn(good, out + err)
            self.assertEqual(self.pg.value("SELECT count(*) FROM ops.sync_runs"), runs)
        finally:
            self.odoo.set_key(good)
        answer, status = self.probe()
        self.assertEqual(status, 0, answer)
        self.assertTrue(answer["ok"])
        checks = {c["check"]: c["ok"] for c in answer["checks"]}
        for check in ("reach", "version", "authenticate", "model:res.partner",
                      "model:product.product", "model:sale.order.line", "model:stock.quant"):
            self.assertTrue(checks.get(check), (check, answer))
        transport = "json2" if self.VERSION == "19" and self.TRANSPORT != "xmlrpc" else "xmlrpc"
        self.assertEqual(answer["details"]["transport"], transport)
        self.assertIn("transport %s" % transport, answer["summary"])
        self.assertEqual(bool(answer["warnings"]), transport == "xmlrpc")
        self.assertNotIn(good, json.dumps(answer))
        status, out, err = self.stack.cli("connector", "test", self.NAME, check=False)
        self.assertEqual(status, 0, out + err)
        self.assertIn("transport %s" % transport, out)
        self.assertNotIn(good, out + err)

    def test_8_person_key_across_sources(self):
        if not self.ISAVIGNE:
            self.skipTest("needs an iSaVigne extractor (one class has it)")
        p2 = self.odoo.record("res.partner", 2)
        folder = tempfile.mkdtemp(prefix="vd-isv-")
        with open(os.path.join(folder, "clients.csv"), "w", encoding="utf-8") as f:
            f.write("client_code;nom;prenom;email\n"
                    "C0001;Müller;Jean;jean.m@example.org\n"
                    "C0099;Fischer;Marie;%s\n"
                    "C0100;Roth;Paul;paul.roth@example.org\n" % p2["email"].upper())
        with open(os.path.join(folder, "ventes.csv"), "w", encoding="utf-8") as f:
            f.write("client_code;date;document_type;document_no;num_ligne;article;quantite;unite;"
                    "prix_unitaire;mt_ht\n"
                    "C0001;15/03/2024;Facture;F1;1;RIES-RES-2022;6;BT;10;60\n")
        self.stack.add_isavigne("isv", folder)
        status, run = self.stack.sync("isv")
        self.assertEqual(run["status"], "success", run)
        keys = dict(self.pg.psql("SELECT customer_key, person_key FROM canonical.customers "
                                 "WHERE customer_key IN ('odoo-1', 'odoo-2', 'odoo-3', "
                                 "'isavigne-C0001', 'isavigne-C0100')"))
        self.assertEqual(keys, {"odoo-1": "isavigne-C0001", "odoo-2": "isavigne-C0099",
                                "odoo-3": "odoo-3", "isavigne-C0001": "isavigne-C0001",
                                "isavigne-C0100": "isavigne-C0100"})
        self.assertEqual(self.rows("SELECT customer_key, matched_by FROM ops.person_matches "
                                   "WHERE customer_key IN ('odoo-1', 'odoo-2', 'odoo-3')"),
                         [("odoo-1", "ref"), ("odoo-2", "email"), ("odoo-3", "none")])
        odoo_spent = Decimal(self.pg.value("SELECT total_spent FROM canonical.customers WHERE "
                                           "customer_key = 'odoo-1'"))
        row = self.pg.psql("SELECT customer_keys, sources, total_spent FROM canonical.persons "
                           "WHERE person_key = 'isavigne-C0001'")
        self.assertEqual(row[0][:2], ["{isavigne-C0001,odoo-1}", "{isavigne,odoo}"])
        self.assertEqual(Decimal(row[0][2]), odoo_spent + 60)

    def probe(self):
        path = os.path.join(self.dir, "settings.json")
        with open(path, "w") as f:
            json.dump(dict(self.settings, api_key=self.api_key), f)
        out = subprocess.run([os.path.join(BIN, "extractor-odoo"), "--test", path],
                             capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1"))
        self.assertNotIn("Sanitizer", out.stderr)
        return json.loads(out.stdout), out.returncode


class Odoo17XmlRpc(OdooCase):
    VERSION = "17"
    NAME = "odoo17"
    ISAVIGNE = 1


class Odoo19Json2(OdooCase):
    VERSION = "19"
    NAME = "odoo19"


class Odoo19XmlRpc(OdooCase):
    """XML-RPC still works on 19 (deprecated): the paging and the key."""
    VERSION = "19"
    TRANSPORT = "xmlrpc"
    NAME = "odoo19x"
    ONLY = (1, 3, 4, 7)


del OdooCase  # the base class is not a test

if __name__ == "__main__":
    unittest.main()
