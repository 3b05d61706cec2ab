"""The load path: new rows COPYed straight into their table, known rows
merged, unknown references found per batch, aggregates true at the end of
every run whichever way the rows went.

The expectations are computed here from the export files themselves (the
rules of README "Interpretations"), not from what the loader says."""
import csv
import io
import os
import re
import subprocess
import sys
import tempfile

from harness import ARTIFACTS, ROOT, StackCase
from test_backbone import checksum
from test_lossfree import wait_for
from test_incremental import WRONG_AGGREGATES

GEN = os.path.join(ROOT, "bench", "gen_isavigne.py")


def generate(folder, sales, customers, products=300, stock=600, change=0):
    args = [sys.executable, GEN, folder, "--sales", str(sales), "--customers", str(customers),
            "--products", str(products), "--stock", str(stock)]
    if change:
        args += ["--change-percent", str(change)]
    subprocess.run(args, check=True, capture_output=True)


def read_rows(path):
    with open(path, encoding="cp1252", newline="") as f:
        return list(csv.DictReader(io.StringIO(f.read()), delimiter=";"))


# the secondary indexes a first load builds after its rows (load_index)
INDEXES = [("customers", "customers_email"), ("customers", "customers_person"),
           ("sales_lines", "sales_lines_customer"), ("stock_levels", "stock_levels_product")]


class LoadPath(StackCase):
    NAME = "loadpath"
    RECOMMENDER = False
    # small batches: many transactions, both ways, references across batches
    ENV = {"VENDANGE_BATCH_ROWS": "700"}

    def loader_ways(self):
        """(copied, merged) of the last run the loader finished, from its log."""
        with open(os.path.join(ARTIFACTS, "loadpath-loader.log"), encoding="utf-8") as f:
            ways = re.findall(r"\((\d+) rows copied straight into their table, (\d+) merged\)",
                              f.read())
        return int(ways[-1][0]), int(ways[-1][1])

    def indexes(self):
        return [tuple(r) for r in self.pg.psql(
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'canonical' AND"
            " tablename IN ('customers', 'sales_lines', 'stock_levels') AND indexdef LIKE"
            " '%USING btree%' AND indexname NOT LIKE '%pkey' ORDER BY 1, 2")]

    def sync(self, name, *flags):
        status, run = self.stack.sync(name, *flags)
        self.assertEqual((status, run["status"]), (0, "success"), run)
        for table, c in run["tables"].items():
            self.assertEqual(c["extracted"], c["inserted"] + c["updated"] + c["unchanged"]
                             + c["rejected"], (table, c))
        return run

    def test_1_customers_after_their_sales(self):
        """Sales loaded before their customers: one 'unknown customer'
        warning per line (file and line as in the export), then the
        customers arrive by COPY and their aggregates are right."""
        folder = tempfile.mkdtemp(prefix="vd-loadpath-")
        generate(folder, sales=3000, customers=900)
        hidden = os.path.join(folder + "-later")
        os.makedirs(hidden)
        os.rename(os.path.join(folder, "clients.csv"), os.path.join(hidden, "clients.csv"))
        self.stack.add_isavigne("early", folder)
        run = self.sync("early")
        sales = read_rows(os.path.join(folder, "ventes.csv"))
        self.assertEqual(run["tables"]["sales_lines"]["inserted"], len(sales))
        warned = self.pg.psql("SELECT id, count, example_lines, example_values FROM "
                              "ops.warning_summaries WHERE run_id = %d AND reason = "
                              "'unknown customer'" % run["id"])
        # the header is line 1: line n + 2 of the file is row n
        expected = [(i + 2, "isavigne-" + r["client_code"]) for i, r in enumerate(sales)]
        self.assertEqual(len(warned), 1, warned)  # one summary, every line in it
        self.assertEqual(int(warned[0][1]), len(sales))
        self.assertEqual(warned[0][2:], ["{%s}" % ",".join(str(e[0]) for e in expected[:5]),
                                         "{%s}" % ",".join(e[1] for e in expected[:5])])
        lines = self.pg.psql("SELECT line FROM ops.run_warnings WHERE warning_id = %s "
                             "ORDER BY line" % warned[0][0])
        self.assertEqual([int(w[0]) for w in lines], [e[0] for e in expected])
        # the sales line of each holds the unknown key, as the examples do
        self.assertEqual(sorted(e[1] for e in expected), [r[0] for r in self.pg.psql(
            "SELECT customer_key FROM canonical.sales_lines ORDER BY customer_key")])
        os.rename(os.path.join(hidden, "clients.csv"), os.path.join(folder, "clients.csv"))
        run = self.sync("early")
        self.assertEqual(run["tables"]["customers"]["inserted"], 900)
        self.assertEqual(self.loader_ways(), (900, 0))
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers "
                                       "WHERE person_key IS DISTINCT FROM customer_key"), "0")

    def test_2_full_load_by_copy_then_resync_by_merge(self):
        """30,000 customers (past the point where every customer is marked
        at once) and 12,000 lines by COPY; then `sync --full` resends every
        row: they are merged, none written, the tables unchanged."""
        # the generator's keys are those of test 1's export: its rows go first
        self.stack.cli("connector", "remove", "early", "--purge")
        folder = tempfile.mkdtemp(prefix="vd-loadpath-")
        generate(folder, sales=12000, customers=30000)
        self.stack.add_isavigne("big", folder)
        run = self.sync("big")
        counts = {t: c["inserted"] for t, c in run["tables"].items()}
        self.assertEqual(counts["sales_lines"], 12000)
        self.assertEqual(counts["customers"], 30000)
        copied, merged = self.loader_ways()
        # products always merge (their keys are kept in ops.key_map)
        self.assertEqual(copied, 12000 + 30000 + counts["stock_levels"])
        self.assertEqual(merged, counts["product_catalog"])
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.dirty_all"), "0")
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.dirty_customers"), "0")
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers WHERE "
                                       "person_key IS DISTINCT FROM customer_key"), "0")
        # the tables were empty: their secondary indexes were built after the load
        self.assertEqual(self.indexes(), INDEXES)
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.deferred_indexes"), "0")
        with open(os.path.join(ARTIFACTS, "loadpath-loader.log"), encoding="utf-8") as f:
            self.assertIn("sales_lines is empty: 1 of its indexes are built after", f.read())
        before = {t: checksum(self.pg, t) for t in ("sales_lines", "customers")}
        run = self.sync("big", "--full")
        for table, c in run["tables"].items():
            self.assertEqual((c["inserted"], c["updated"]), (0, 0), (table, c))
        copied, merged = self.loader_ways()
        self.assertEqual(copied, 0)
        self.assertEqual({t: checksum(self.pg, t) for t in before}, before)

    def test_3_changed_lines_merge_and_new_lines_copy(self):
        """1 % of the lines changed and lines appended: the changed rows
        are updated (their customers recomputed), the new ones inserted."""
        folder = tempfile.mkdtemp(prefix="vd-loadpath-")
        generate(folder, sales=6000, customers=2000)
        self.stack.add_isavigne("grow", folder)
        self.sync("grow")
        changed = tempfile.mkdtemp(prefix="vd-loadpath-")
        generate(changed, sales=6000, customers=2000, change=1)
        old = read_rows(os.path.join(folder, "ventes.csv"))
        new = read_rows(os.path.join(changed, "ventes.csv"))
        n_changed = sum(a != b for a, b in zip(old, new))
        with open(os.path.join(changed, "ventes.csv"), "rb") as f:
            text = f.read()
        # 1,500 new lines at the end: copies of the first ones under new documents
        extra = text.split(b"\r\n")[1:1501]
        extra = [re.sub(rb";(FA|AV)-(\d+);", rb";\1-X\2;", line) for line in extra]
        with open(os.path.join(folder, "ventes.csv"), "wb") as f:
            f.write(text.rstrip(b"\r\n") + b"\r\n" + b"\r\n".join(extra) + b"\r\n")
        run = self.sync("grow")
        s = run["tables"]["sales_lines"]
        self.assertEqual((s["inserted"], s["updated"]), (1500, n_changed))
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])

    def test_4_loader_killed_while_indexes_wait(self):
        """The loader SIGKILLed during a first load, after the commit that
        dropped the secondary indexes: its next start builds them again;
        the next run loads every record once, aggregates right."""
        for name in ("early", "big", "grow"):
            self.stack.cli("connector", "remove", name, "--purge", check=False)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines"), "0")
        folder = tempfile.mkdtemp(prefix="vd-loadpath-")
        generate(folder, sales=60000, customers=3000)
        self.stack.add_isavigne("killed", folder)
        run_id = int(self.stack.cli("sync", "killed")[1].split()[1])
        wait_for(lambda: int(self.pg.value("SELECT count(*) FROM canonical.sales_lines")) > 0,
                 120, "the first sales lines committed")
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.deferred_indexes"), "4")
        self.stack.kill("loader")
        self.assertNotIn(("sales_lines", "sales_lines_customer"), self.indexes())
        self.stack.start("loader")
        wait_for(lambda: self.indexes() == INDEXES, 60, "the indexes built again")
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.deferred_indexes"), "0")
        wait_for(lambda: self.stack.get("/api/runs/%d" % run_id)["status"]
                 not in ("queued", "running"), 120, "run %d to end" % run_id)
        run = self.sync("killed")
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines"), "60000")
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])
        self.assertEqual(self.indexes(), INDEXES)

    def test_5_a_key_twice_in_a_first_load(self):
        """A first load whose export holds keys twice: in the same batch
        (the later line wins, with a warning) and 200 lines repeated at the
        end of the file (in a later batch: its COPY meets the key and the
        batch is merged). Every key once, with the later line's values;
        the indexes back, the aggregates right."""
        for name in ("early", "big", "grow", "killed"):
            self.stack.cli("connector", "remove", name, "--purge", check=False)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines"), "0")
        folder = tempfile.mkdtemp(prefix="vd-loadpath-")
        generate(folder, sales=20000, customers=1000)
        path = os.path.join(folder, "ventes.csv")
        with open(path, encoding="cp1252", newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
        head, body = rows[0], rows[1:]
        qty = head.index("qty_line")
        doc, line_no = head.index("document_no"), head.index("order_detail_no")
        key = lambda r: "isavigne-%s-%s" % (r[doc], r[line_no])  # noqa: E731
        twin = list(body[0])
        twin[qty] = "555"
        later = [list(r) for r in body[100:300]]
        for r in later:
            r[qty] = "777"
        with open(path, "w", encoding="cp1252", newline="") as f:
            w = csv.writer(f, delimiter=";", lineterminator="\r\n")
            w.writerows([head, body[0], twin] + body[1:] + later)
        self.stack.add_isavigne("twice", folder)
        run = self.sync("twice")
        s = run["tables"]["sales_lines"]
        self.assertEqual(s["extracted"], 20000 + 1 + 200)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines"), "20000")
        got = {k: int(q) for k, q in self.pg.psql(
            "SELECT sale_line_key, abs(quantity_units)::int FROM canonical.sales_lines"
            " WHERE abs(quantity_units) IN (555, 777)")}
        want = {key(r): 777 for r in later}
        want[key(twin)] = 555
        self.assertEqual(got, want)
        self.assertEqual(self.pg.value(
            "SELECT count FROM ops.warning_summaries WHERE run_id = %d AND reason ="
            " 'duplicate key in the same batch: the later line wins'" % run["id"]), "1")
        self.assertEqual(self.indexes(), INDEXES)
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.deferred_indexes"), "0")
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])


# every customer's average order against its total and purchases (the
# part of the aggregates WRONG_AGGREGATES leaves out)
WRONG_AVERAGES = """
SELECT customer_key FROM canonical.customers
WHERE avg_order_value IS DISTINCT FROM
  CASE WHEN purchase_count > 0 THEN round(total_spent / purchase_count, 2) END
ORDER BY 1"""


class FirstLoad(StackCase):
    """A first load counts its customers' aggregates while it copies the
    sales lines (load_agg); they must be those the sales give, computed
    here by SQL of our own. A run whose lines are not the table's whole
    content (a re-sync adding lines) reads the sales instead, and is
    right too."""
    NAME = "firstload"
    RECOMMENDER = False
    ENV = {"VENDANGE_BATCH_ROWS": "900"}

    def counted(self):
        with open(os.path.join(ARTIFACTS, "firstload-loader.log"), encoding="utf-8") as f:
            return re.findall(r"customer aggregates counted while loading (\d+) sales lines",
                              f.read())

    def test_1_counted_while_copied_then_read_again(self):
        folder = tempfile.mkdtemp(prefix="vd-firstload-")
        generate(folder, sales=12000, customers=1500)
        path = os.path.join(folder, "ventes.csv")
        with open(path, encoding="cp1252", newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
        head, body = rows[0], rows[1:]
        # the last 2000 lines come in a second run
        with open(path, "w", encoding="cp1252", newline="") as f:
            csv.writer(f, delimiter=";", lineterminator="\r\n").writerows([head] + body[:10000])
        self.stack.add_isavigne("first", folder)
        status, run = self.stack.sync("first")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.counted(), ["10000"])
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])
        self.assertEqual(self.pg.psql(WRONG_AVERAGES), [])
        buyers = int(self.pg.value("SELECT count(*) FROM canonical.customers"
                                   " WHERE purchase_count > 0"))
        self.assertGreater(buyers, 1000)  # the check above compared real figures
        credit = self.pg.value("SELECT count(*) FROM canonical.sales_lines"
                               " WHERE quantity_units < 0")
        self.assertGreater(int(credit), 0)
        with open(path, "w", encoding="cp1252", newline="") as f:
            csv.writer(f, delimiter=";", lineterminator="\r\n").writerows([head] + body)
        status, run = self.stack.sync("first")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(run["tables"]["sales_lines"]["inserted"], 2000)
        self.assertEqual(self.counted(), ["10000"])  # the table held other lines
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])
        self.assertEqual(self.pg.psql(WRONG_AVERAGES), [])


class BinaryCopy(StackCase):
    """New sales lines go into their table by binary COPY (the loader
    writes each value's binary form: vd_copy_bin_field). The server's own
    reading of the same rows as text is the reference: the same export,
    with awkward values added (scales, signs, zeros, leap days, escapes,
    non-ASCII text), is loaded by this stack (binary) and by a second one
    with VENDANGE_COPY_BINARY=0 (text), each on its own database; every
    row of every table must be the same, numeric scale included."""
    NAME = "binarycopy"
    RECOMMENDER = False
    ENV = {"VENDANGE_BATCH_ROWS": "800"}

    def awkward_lines(self, head, rng):
        """Lines whose values test the binary forms; the seed is printed."""
        col = {name: i for i, name in enumerate(head)}
        numbers = ["0", "0,000", "-0,0", "1", "-1", "0,0001", "-0,0001", "10000", "9999,9999",
                   "123456789012,123456", "-98765,4321", "1,5", "1,50", "0,10000", "12 345,6"]
        dates = ["29/02/2024", "01/01/2000", "31/12/1999", "01/03/1900", "28/02/2100",
                 "31/12/2099", "15/08/1985"]
        texts = ["A\\B", "tab\there", "Château – «cuvée» n°3", "x\\ty", "\\N", "plain"]
        lines = []
        for i in range(400):
            line = [""] * len(head)
            line[col["client_code"]] = "C%05d" % rng.randrange(1, 200)
            line[col["date_livraison"]] = rng.choice(dates)
            line[col["document_type"]] = rng.choice(["Facture", "Avoir", "Commande"])
            line[col["document_no"]] = "%s-%d" % (rng.choice(texts), i)
            line[col["order_detail_no"]] = str(rng.randrange(1, 5))
            line[col["article"]] = "P%04d" % rng.randrange(1, 50)
            line[col["produit_label"]] = rng.choice(texts)
            line[col["unite"]] = rng.choice(["BOUT", "Carton 6", "", "magnum"])
            for name in ("qty_line", "pu_ht", "mt_ht", "mt_ttc", "marge"):
                line[col[name]] = rng.choice(numbers)
            if line[col["document_type"]] != "Avoir":  # a negative invoice quantity is rejected
                line[col["qty_line"]] = line[col["qty_line"]].lstrip("-")
            lines.append(line)
        return lines

    def tables(self, pg):
        out = {}
        for table, key in (("sales_lines", "sale_line_key"), ("customers", "customer_key"),
                           ("stock_levels", "stock_key")):
            out[table] = pg.psql("SELECT %s, (to_jsonb(t) - 'synced_at')::text FROM canonical.%s t"
                                 " ORDER BY 1" % (key, table))
        return out

    def test_1_binary_rows_equal_text_rows(self):
        import random
        from harness import Postgres, Stack
        seed = int(os.environ.get("VD_SEED", random.randrange(1 << 30)))
        print("BinaryCopy seed %d (VD_SEED=%d reruns it)" % (seed, seed), file=sys.stderr)
        rng = random.Random(seed)
        folder = tempfile.mkdtemp(prefix="vd-binary-")
        generate(folder, sales=6000, customers=800)
        path = os.path.join(folder, "ventes.csv")
        with open(path, encoding="cp1252", newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
        rows += self.awkward_lines(rows[0], rng)
        with open(path, "w", encoding="cp1252", newline="") as f:
            csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)
        self.stack.add_isavigne("shop", folder)
        status, run = self.stack.sync("shop")
        self.assertEqual((status, run["status"]), (0, "success"), (seed, run))
        sales = run["tables"]["sales_lines"]
        self.assertGreater(sales["inserted"], 6000, seed)
        with open(os.path.join(ARTIFACTS, "binarycopy-loader.log"), encoding="utf-8") as f:
            ways = re.findall(r"\((\d+) rows copied straight into their table, (\d+) merged\)",
                              f.read())
        # every new line went by the binary COPY, none fell back to the merge
        # (products always merge)
        self.assertEqual(int(ways[-1][1]), run["tables"]["product_catalog"]["inserted"],
                         (seed, ways))
        pg = Postgres()
        text = Stack(pg, "binarycopy-text", env={"VENDANGE_BATCH_ROWS": "800",
                                                  "VENDANGE_COPY_BINARY": "0"},
                     recommender=False)
        try:
            text.add_isavigne("shop", folder)
            status, run2 = text.sync("shop")
            self.assertEqual((status, run2["status"]), (0, "success"), (seed, run2))
            self.assertEqual(run2["tables"], run["tables"], seed)
            binary, reference = self.tables(self.pg), self.tables(pg)
        finally:
            bad = text.close()
            pg.close()
        self.assertFalse(bad, bad)
        for table in binary:
            self.assertGreater(len(binary[table]), 0, table)
            diff = [(a, b) for a, b in zip(binary[table], reference[table]) if a != b]
            self.assertEqual((len(binary[table]), diff[:3]), (len(reference[table]), []),
                             "%s differs (seed %d)" % (table, seed))
