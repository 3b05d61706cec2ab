"""Differential test of the Odoo connector: random order sets in the Odoo
double (tests/odoo_double.py seed_random: section and note lines,
archived records, orders in every state, many lines sharing one
write_date read across pages of 7), synced by vendange and compared value
by value with the reference model (tests/reference/odoo_model.py); then
the data set changes (an order cancelled, a quotation confirmed, a line
and a stock row deleted, a customer archived, a price changed, a new
order) and the next sync is compared again.

VD_ODOO_SEEDS picks the seeds ("1-6" by default; the double speaks Odoo
17 over XML-RPC for odd seeds, Odoo 19 over JSON-2 for even ones); a
failure prints the seed; replay with VD_ODOO_SEEDS=<seed>."""
import json
import os
import sys
import tempfile
from decimal import Decimal

from harness import ROOT, StackCase

sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import compare  # noqa: E402
import odoo_double  # noqa: E402
import odoo_model  # noqa: E402
from test_differential import seed_list  # noqa: E402

TABLES = {"product_catalog": "product_key", "customers": "customer_key",
          "stock_levels": "stock_key", "sales_lines": "sale_line_key"}


class OdooDifferential(StackCase):
    NAME = "odoo-diff"
    EXTRACTORS = 0
    ODOO_EXTRACTORS = 1
    RECOMMENDER = False
    # the field mapping and unit table are in a temp folder of the test's
    ENV = {"VENDANGE_LOG_LEVEL": "info", "VENDANGE_FILES_ROOT": tempfile.gettempdir()}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="vd-odoo-diff-")
        for name, text in (("mapping.ini", odoo_model.FIELD_MAPPING),
                           ("units.txt", odoo_model.UNIT_TABLE)):
            with open(os.path.join(cls.dir, name), "w") as f:
                f.write(text)

    def loaded(self):
        out = {}
        for table, key in TABLES.items():
            for (text,) in self.pg.psql("SELECT row_to_json(t) FROM canonical.%s t WHERE "
                                        "source = 'odoo'" % table):
                row = json.loads(text, parse_float=Decimal)
                out.setdefault(table, {})[row[key]] = row
        return out

    def differences(self, double):
        with double.lock:
            expected = odoo_model.expect(double.tables, double.version)
        got = self.loaded()
        diff = []
        for table, rows in expected.rows.items():
            have = got.get(table, {})
            for key in sorted(set(rows) ^ set(have)):
                diff.append("%s %s: %s" % (table, key, "expected, not loaded" if key in rows
                                           else "loaded, not expected"))
            for key in sorted(set(rows) & set(have)):
                for col, want in sorted(rows[key].items()):
                    if col in compare.IGNORED:
                        continue
                    if not compare.same(want, have[key].get(col), col):
                        diff.append("%s %s.%s: model %r, vendange %r"
                                    % (table, key, col, want, have[key].get(col)))
        return diff

    def sync(self, name, double):
        double.tick(2)  # what changed is older than the server's clock
        status, run = self.stack.sync(name)
        return run

    def mutate(self, double):
        """What happens in Odoo between two syncs."""
        rng = double.rng
        with double.lock:
            t = double.tables
            confirmed = [o for o, r in t["sale.order"].items() if r["state"] in ("sale", "done")]
            drafts = [o for o, r in t["sale.order"].items() if r["state"] in ("draft", "sent")]
            customers = [p for p, r in t["res.partner"].items()
                         if r["customer_rank"] > 0 and r["active"]]
            lines = list(t["sale.order.line"])
            quants = list(t["stock.quant"])
            products = list(t["product.product"])
            partners = list(t["res.partner"])
        if confirmed:
            double.cancel_order(rng.choice(confirmed))
        if drafts:
            double.update("sale.order", [rng.choice(drafts)], {"state": "sale"})
        if customers:
            double.update("res.partner", [rng.choice(customers)], {"active": False})
        if lines:
            double.unlink("sale.order.line", [rng.choice(lines)])
        if quants:
            double.unlink("stock.quant", [rng.choice(quants)])
        double.update("product.product", [rng.choice(products)],
                      {"list_price": round(rng.uniform(4, 95), 2)})
        with double.lock:
            double.random_order(rng, partners, products, double.now_us() - 3600 * 1000000,
                                big=True, state="sale", stamp=double.now_us())

    def run_seed(self, seed):
        version = "17" if seed % 2 else "19"
        double = odoo_double.OdooDouble(version, seed=seed).start()
        name = "o%d" % seed
        try:
            self.stack.env["VD_TEST_ODOO_KEY"] = double.api_key
            settings = {"url": double.url, "database": double.db, "user": double.login,
                        "api_key": "env:VD_TEST_ODOO_KEY",
                        "allow_insecure": "true",  # the double speaks http://
                        "transport": "xmlrpc" if seed % 2 else "json2",
                        "field_mapping": os.path.join(self.dir, "mapping.ini"),
                        "unit_table": os.path.join(self.dir, "units.txt"),
                        "safety_lag_s": "0", "page_size": "7", "reconcile": "always"}
            args = ["connector", "add", name, "--type", "odoo"]
            for k, v in settings.items():
                args += ["--set", "%s=%s" % (k, v)]
            self.stack.cli(*args)
            problems = []
            for phase in ("first sync", "after changes"):
                if phase == "after changes":
                    self.mutate(double)
                run = self.sync(name, double)
                if run["status"] != "success":
                    problems.append("%s: run %s %s" % (phase, run["status"], run.get("errors")))
                diff = self.differences(double)
                if diff:
                    problems.append("%s:\n      %s" % (phase, "\n      ".join(diff[:30])))
            return problems
        finally:
            self.stack.cli("connector", "remove", name, check=False)
            for table in TABLES:
                self.pg.psql("DELETE FROM canonical.%s WHERE source = 'odoo'" % table)
            self.pg.psql("DELETE FROM ops.key_map WHERE source = 'odoo'")
            double.stop()

    def test_random_order_sets(self):
        failures = []
        for seed in seed_list(os.environ.get("VD_ODOO_SEEDS", "1-6")):
            problems = self.run_seed(seed)
            if problems:
                failures.append("seed %d: %s" % (seed, "\n    ".join(problems)))
        self.assertFalse(failures, "Odoo data sets differ from the reference model (replay: "
                         "VD_ODOO_SEEDS=<seed>):\n%s" % "\n".join(failures))


if __name__ == "__main__":
    unittest.main()
