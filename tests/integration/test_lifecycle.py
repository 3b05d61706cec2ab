"""Data lifecycle: `vendange forget` erases a person everywhere (a dump of
the database and every log holds them nowhere) while their sales still
count in product figures; retention erases old raw content."""
import os
import subprocess
import time
import unittest

from harness import SAMPLES, StackCase, pg_bindir

# customers of samples/isavigne: C0005 has a rejected sales line (invalid
# date, ventes.csv:136); C0017's invalid email is a warning's raw value
EMAIL = "isabellelorentz75@gmail.com"
MOBILE = "0624678486"


class Lifecycle(StackCase):
    NAME = "lifecycle"

    def dump(self):
        return subprocess.run([os.path.join(pg_bindir(), "pg_dump"), "-h", self.pg.dir, "-p",
                               str(self.pg.port), "-U", "postgres", "vendange"],
                              capture_output=True, check=True).stdout.decode("utf-8")

    def product_figures(self):
        return self.pg.psql("SELECT product_key, count(*), sum(quantity_units), sum(price_total) "
                            "FROM canonical.sales_lines GROUP BY 1 ORDER BY 1")

    def test_1_forget(self):
        self.stack.add_isavigne("demo", os.path.join(SAMPLES, "isavigne"))
        status, run = self.stack.sync("demo")
        self.assertEqual(run["status"], "success")
        before = self.product_figures()
        dump = self.dump()
        for value in (EMAIL, "Lorentz", MOBILE, "jean.muller@@orange.fr"):
            self.assertIn(value, dump)
        _, out, _ = self.stack.cli("forget", EMAIL)
        self.assertIn("1 customer row(s) erased, 4 sales line(s) kept under forgotten-1", out)
        self.assertIn("1 reject(s)", out)
        _, out, _ = self.stack.cli("forget", "isavigne-C0017")
        self.assertIn("1 customer row(s) erased, 3 sales line(s) kept under forgotten-2", out)
        self.assertIn("1 warning(s) cleared", out)
        dump = self.dump()
        for value in (EMAIL, "Lorentz", MOBILE, "06 24 67 84 86",
                      "jean.muller@@orange.fr", "isavigne-C0005", "isavigne-C0017"):
            self.assertNotIn(value, dump)
        for log in self.stack.logs:
            with open(log, encoding="utf-8", errors="replace") as f:
                text = f.read()
            self.assertNotIn(EMAIL, text, log)
            self.assertNotIn("jean.muller@@orange.fr", text, log)
        # product-level figures unchanged; the sales under anonymous keys
        self.assertEqual(self.product_figures(), before)
        self.assertEqual(self.pg.psql("SELECT customer_key, count(*) FROM canonical.sales_lines "
                                      "WHERE customer_key LIKE 'forgotten-%' GROUP BY 1 ORDER BY 1"),
                         [["forgotten-1", "4"], ["forgotten-2", "3"]])
        # the log keeps counts, not values
        self.assertEqual(self.pg.psql("SELECT id, customers, sales_lines, rejects, warnings FROM "
                                      "ops.forget_log ORDER BY id"),
                         [["1", "1", "4", "1", "0"], ["2", "1", "3", "0", "1"]])
        # other customers untouched
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers"), "58")
        # a subject nobody matches is done, and says so with zeros
        _, out, _ = self.stack.cli("forget", "nobody@example.org")
        self.assertIn("0 customer row(s) erased", out)
        status, _, err = self.stack.cli("forget", "x", check=False)
        self.assertEqual(status, 1)
        self.assertIn("must be an email or a customer key", err)


class Retention(StackCase):
    NAME = "retention"
    ENV = {"VENDANGE_RETENTION_RAW_DAYS": "30", "VENDANGE_RETENTION_RUNS_DAYS": "60"}

    def wait_rows(self, sql, expected, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline and self.pg.psql(sql) != expected:
            time.sleep(0.2)
        self.assertEqual(self.pg.psql(sql), expected, sql)

    def test_old_raw_content_erased(self):
        self.stack.add_isavigne("demo", os.path.join(SAMPLES, "isavigne"))
        first = self.stack.sync("demo")[1]
        second = self.stack.sync("demo", "--full")[1]
        # age the first run: raw content 40 days old, the run 70 days old
        self.pg.psql("UPDATE ops.rejects SET created_at = now() - interval '40 days' "
                     "WHERE run_id = %d" % first["id"])
        self.pg.psql("UPDATE ops.run_warnings SET created_at = now() - interval '40 days' "
                     "WHERE run_id = %d" % first["id"])
        self.pg.psql("UPDATE ops.sync_runs SET finished_at = now() - interval '70 days' "
                     "WHERE id = %d" % first["id"])
        # the pass runs at start and hourly: restart the orchestrator
        self.stack.kill("orchestrator", 15)
        self.stack.start("orchestrator")
        self.stack.wait_ready(1)
        self.wait_rows("SELECT count(*) FROM ops.sync_runs WHERE id = %d" % first["id"], [["0"]])
        self.assertEqual(self.pg.psql("SELECT count(*), count(raw) FROM ops.rejects WHERE "
                                      "run_id = %d" % second["id"]), [["1", "1"]])
        # run 2's raw content is recent: kept; make it old, it goes
        self.pg.psql("UPDATE ops.rejects SET created_at = now() - interval '40 days'")
        self.stack.kill("orchestrator", 15)
        self.stack.start("orchestrator")
        self.stack.wait_ready(1)
        self.wait_rows("SELECT count(*), count(raw) FROM ops.rejects", [["1", "0"]])
        # the latest run of a connector is never deleted
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.sync_runs"), "1")


if __name__ == "__main__":
    unittest.main()
