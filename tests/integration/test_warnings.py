"""Warnings that scale: a systematic problem (an unknown unit on nearly
every line of a 200,000-line sales export, an invalid email on every
customer) is stored as one summary per run, table, file, field and reason
(count, first examples) with every affected line findable (API, CLI, the
ops.run_warnings view), in a few rows and a few KB; and the counts stay
those of the committed rows when the loader is SIGKILLed mid-run, and are
whole again after the retry.

The expected lines are computed here from the export files themselves."""
import csv
import json
import os
import sys
import tempfile
import time

from harness import StackCase
from test_loadpath import generate

SALES = 200000
CUSTOMERS = 3000
KEEP_EVERY = 97  # every 97th sales line keeps its (known) unit
UNIT_REASON = "unknown unit: 75 cl equivalent left empty"
EQ = "quantity_bottles_75cl_eq"  # the column the unit's warning is of


def rewrite(path, column, value_of):
    """Rewrites one column of an iSaVigne CSV export (cp1252, ';', CRLF):
    value_of(row number, value) gives the new value."""
    with open(path, encoding="cp1252", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    at = rows[0].index(column)
    for i, row in enumerate(rows[1:]):
        row[at] = value_of(i, row[at])
    with open(path, "w", encoding="cp1252", newline="") as f:
        csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)


def expected_unit_lines():
    """File lines of the sales left with an unknown unit (header: line 1)."""
    return [i + 2 for i in range(SALES) if i % KEEP_EVERY != 0]


class Systematic(StackCase):
    NAME = "warnings"
    RECOMMENDER = False
    ENV = {"VENDANGE_BATCH_ROWS": "2000"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.mkdtemp(prefix="vd-warnings-")
        generate(cls.folder, sales=SALES, customers=CUSTOMERS)
        rewrite(os.path.join(cls.folder, "ventes.csv"), "unite",
                lambda i, v: v if i % KEEP_EVERY == 0 else "FUT")
        rewrite(os.path.join(cls.folder, "clients.csv"), "email",
                lambda i, v: v.replace("@", "@@"))

    def summaries(self, run_id):
        return self.pg.psql("SELECT id, table_name, file, field, reason, count, example_lines, "
                            "example_values FROM ops.warning_summaries WHERE run_id = %d "
                            "ORDER BY id" % run_id)

    def summary(self, run_id, table, field):
        rows = [s for s in self.summaries(run_id) if (s[1], s[3]) == (table, field)]
        self.assertEqual(len(rows), 1, self.summaries(run_id))  # one summary per file, field and reason
        return rows[0]

    def lines(self, warning_id):
        return [int(r[0]) for r in self.pg.psql(
            "SELECT line FROM ops.run_warnings WHERE warning_id = %s ORDER BY line" % warning_id)]

    def test_1_one_summary_per_kind(self):
        self.stack.add_isavigne("big", self.folder)
        status, printed, _ = self.stack.cli("sync", "big", "--wait", timeout=900)
        run = json.loads(self.stack.cli("runs", "big", "--json")[1])[0]
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(run["tables"]["sales_lines"]["extracted"], SALES)
        expected = expected_unit_lines()
        unit = self.summary(run["id"], "sales_lines", EQ)
        self.assertEqual(unit[2:6], ["ventes.csv", EQ, UNIT_REASON, str(len(expected))])
        self.assertEqual(unit[6], "{%s}" % ",".join(map(str, expected[:5])))
        self.assertEqual(unit[7], "{FUT,FUT,FUT,FUT,FUT}")
        email = self.summary(run["id"], "customers", "email")
        self.assertEqual((email[2], email[5]), ("clients.csv", str(CUSTOMERS)))
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers "
                                       "WHERE email_invalid"), str(CUSTOMERS))
        # O(1) rows, a few KB: one row per block of 65,536 lines
        self.assertLessEqual(len(self.summaries(run["id"])), 4, self.summaries(run["id"]))
        blocks, size = self.pg.psql(
            "SELECT count(*), sum(pg_column_size(l.*)) FROM ops.warning_lines l "
            "WHERE warning_id = %s" % unit[0])[0]
        self.assertEqual(blocks, "4")  # lines 2 .. 200,001
        self.assertLess(int(size), 16 * 1024)
        self.assertLess(int(self.pg.value(
            "SELECT pg_column_size(w.*) FROM ops.warning_summaries w WHERE id = %s"
            % unit[0])), 1024)
        # every line findable, in order
        self.assertEqual(self.lines(unit[0]), expected)
        self.assertEqual(self.lines(email[0]), list(range(2, CUSTOMERS + 2)))
        # the run as the API shows it: summaries with counts and examples
        shown = [w for w in run["warnings"] if w["id"] == int(unit[0])][0]
        self.assertEqual((shown["count"], shown["file"], shown["line"], shown["raw_value"]),
                         (len(expected), "ventes.csv", expected[0], "FUT"))
        self.assertEqual([e["line"] for e in shown["examples"]], expected[:5])
        self.assertEqual(run["warnings_total"],
                         sum(w["count"] for w in run["warnings"]))
        self.assertEqual(run["warning_summaries"], len(run["warnings"]))
        # the lines page by page
        page = self.stack.get("/api/warnings/%s/lines?limit=1000" % unit[0])
        self.assertEqual(page["lines"], expected[:1000])
        self.assertEqual(page["next_after"], expected[999])
        page = self.stack.get("/api/warnings/%s/lines?after=%d&limit=1000"
                              % (unit[0], expected[999]))
        self.assertEqual(page["lines"], expected[1000:2000])
        page = self.stack.get("/api/warnings/%s/lines?after=%d" % (unit[0], expected[-20]))
        self.assertEqual((page["lines"], page["next_after"]), (expected[-19:], None))
        status, body = self.stack.api_call("GET", "/api/warnings/999999/lines")
        self.assertEqual(status, 404, body)
        status, body = self.stack.api_call("GET", "/api/warnings/%s/lines?limit=0" % unit[0])
        self.assertEqual(status, 400, body)
        # the CLI: the summaries, then the lines of one
        _, out, _ = self.stack.cli("warnings", str(run["id"]))
        self.assertIn(str(len(expected)), out)
        self.assertIn(UNIT_REASON, out)
        _, out, err = self.stack.cli("warnings", "--lines", unit[0], "--limit", "3")
        self.assertEqual(out.split(), ["ventes.csv:%d" % n for n in expected[:3]])
        self.assertIn("--after %d" % expected[2], err)
        # sync --wait said it in one line per kind
        self.assertIn("ventes.csv:%d sales_lines.%s: %s (%d lines: vendange warnings --lines %s)"
                      % (expected[0], EQ, UNIT_REASON, len(expected), unit[0]), printed)

    def test_2_loader_killed_mid_run(self):
        """Warnings are committed with their rows: a run whose loader was
        SIGKILLed holds the warnings of the rows it committed, no more; the
        next run (every line compared after a failure) holds them all."""
        self.pg.psql("TRUNCATE canonical.sales_lines, canonical.customers, "
                     "canonical.product_catalog, canonical.stock_levels, ops.key_map, "
                     "ops.dirty_customers")
        self.stack.add_isavigne("killed", self.folder)
        run_id = int(self.stack.cli("sync", "killed")[1].split()[1])
        deadline = time.time() + 300
        while time.time() < deadline:
            run = self.stack.get("/api/runs/%d" % run_id)
            if run["tables"].get("sales_lines", {}).get("inserted", 0) > 0:
                break
            time.sleep(0.05)
        self.assertLess(run["records_done"], SALES + CUSTOMERS)
        self.stack.kill("loader")
        deadline = time.time() + 60
        while time.time() < deadline and run["status"] in ("queued", "running"):
            time.sleep(0.2)
            run = self.stack.get("/api/runs/%d" % run_id)
        self.assertEqual(run["status"], "failed", run)
        committed = int(self.pg.value("SELECT count(*) FROM canonical.sales_lines "
                                      "WHERE quantity_bottles_75cl_eq IS NULL"))
        self.assertGreater(committed, 0)
        self.assertLess(committed, len(expected_unit_lines()))
        unit = self.summary(run_id, "sales_lines", EQ)
        self.assertEqual(int(unit[5]), committed)
        self.assertEqual(len(self.lines(unit[0])), committed)
        self.assertEqual(self.pg.value(
            "SELECT sum(inserted) FROM ops.run_tables WHERE run_id = %d "
            "AND table_name = 'sales_lines'" % run_id),
            self.pg.value("SELECT count(*) FROM canonical.sales_lines"))
        # the retry
        self.stack.start("loader")
        self.stack.wait_ready(1)
        status, again = self.stack.sync("killed", timeout=900)
        self.assertEqual((status, again["status"]), (0, "success"), again)
        unit = self.summary(again["id"], "sales_lines", EQ)
        self.assertEqual(int(unit[5]), len(expected_unit_lines()))
        self.assertEqual(self.lines(unit[0]), expected_unit_lines())
        self.assertEqual(self.summary(again["id"], "customers", "email")[5], str(CUSTOMERS))


if __name__ == "__main__":
    sys.exit(__import__("unittest").main())
