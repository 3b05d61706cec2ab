"""Every fixture set through the real pipeline: the demo export, the
second dialect, Excel files, malformed input and binary garbage. Expected
figures come from tests/fixtures/README.md."""
import os
import shutil
import unittest

from harness import ARTIFACTS, BIN, FIXTURES, ROOT, SAMPLES, StackCase, copy_tree


class SourceCase(StackCase):
    """One PostgreSQL and one stack per class, so counts are the class's."""

    def load(self, folder, name=None):
        name = name or self.NAME
        self.stack.add_isavigne(name, folder)
        return self.stack.sync(name)

    def counts(self, run, table):
        c = run["tables"][table]
        self.assertEqual(c["extracted"], c["inserted"] + c["updated"] + c["unchanged"]
                         + c["rejected"], (table, c))
        return c["extracted"], c["inserted"], c["rejected"]

    def warnings(self, run):
        return sorted((w[0], int(w[1]), w[2]) for w in self.pg.psql(
            "SELECT file, line, reason FROM ops.run_warnings WHERE run_id = %d" % run["id"]))

    def rejects(self, run):
        return [(r[0], int(r[1]), r[2], r[3]) for r in self.pg.psql(
            "SELECT file, line, reason, raw FROM ops.rejects WHERE run_id = %d ORDER BY line"
            % run["id"])]


class Demo(SourceCase):
    NAME = "demo"

    def test_demo_export(self):
        status, run = self.load(os.path.join(SAMPLES, "isavigne"))
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.counts(run, "customers"), (60, 60, 0))
        self.assertEqual(self.counts(run, "product_catalog"), (40, 40, 0))
        self.assertEqual(self.counts(run, "sales_lines"), (300, 299, 1))
        self.assertEqual(self.counts(run, "stock_levels"), (50, 50, 0))
        rejects = self.rejects(run)
        self.assertEqual([(r[0], r[1]) for r in rejects], [("ventes.csv", 136)])
        self.assertIn("31/02/2025", rejects[0][3])
        self.assertEqual(self.warnings(run), [
            ("clients.csv", 18, "invalid email address"),
            ("ventes.csv", 174, "unknown unit: 75 cl equivalent left empty")])
        self.assertEqual(self.pg.value("SELECT sum(price_total) FROM canonical.sales_lines"),
                         "49602.06")
        self.assertEqual(self.pg.value("SELECT sum(quantity_bottles_75cl_eq)::numeric(10,1) "
                                       "FROM canonical.sales_lines"), "2851.0")
        self.assertEqual(self.pg.value("SELECT string_agg(customer_key, ',' ORDER BY customer_key) FROM "
                                       "canonical.customers WHERE segment = 'prospect'"),
                         ",".join("isavigne-" + c for c in (
                             "C0004", "C0007", "C0032", "C0051", "C0052", "C0055", "C0057", "C0058")))
        # aggregates agree with the sales, for every customer
        self.assertEqual(self.pg.value(
            "SELECT count(*) FROM canonical.customers c LEFT JOIN (SELECT customer_key, "
            "sum(price_total) s FROM canonical.sales_lines GROUP BY 1) x USING (customer_key) "
            "WHERE c.total_spent IS DISTINCT FROM coalesce(x.s, 0)"), "0")
        self.assertEqual(self.pg.value("SELECT product_key FROM canonical.product_catalog "
                                       "WHERE source_id = 'GEW-VT-2018'"), "GEW-VT-2018")


class DialectB(SourceCase):
    NAME = "dialectb"

    def test_second_dialect(self):
        status, run = self.load(os.path.join(FIXTURES, "dialect_b"))
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.counts(run, "customers"), (5, 5, 0))
        self.assertEqual(self.counts(run, "product_catalog"), (4, 4, 0))
        self.assertEqual(self.counts(run, "sales_lines"), (10, 10, 0))
        self.assertEqual(self.counts(run, "stock_levels"), (4, 4, 0))
        self.assertEqual(self.warnings(run), [])
        self.assertEqual(self.pg.psql(
            "SELECT quantity_units, quantity_bottles_75cl_eq, price_unit, price_total "
            "FROM canonical.sales_lines WHERE unit = 'mag150'"), [["3", "6", "25.00", "75.00"]])
        self.assertEqual(self.pg.psql(
            "SELECT list_price, price_segment, category, vintage FROM canonical.product_catalog "
            "WHERE product_key = 'CREMANT-D-ALSACE-BRUT'"), [["12.42", "entry", "mousseux", None]])


class Excel(SourceCase):
    NAME = "xlsx"

    def test_xlsx_export(self):
        status, run = self.load(os.path.join(FIXTURES, "xlsx"))
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.counts(run, "customers"), (3, 3, 0))
        self.assertEqual(self.counts(run, "product_catalog"), (3, 3, 0))
        self.assertEqual(self.counts(run, "sales_lines"), (5, 5, 0))
        self.assertEqual(self.warnings(run), [])
        self.assertEqual(self.pg.value("SELECT string_agg(DISTINCT date_sale::text, ',' ORDER BY "
                                       "date_sale::text) FROM canonical.sales_lines"),
                         "2024-03-15,2024-04-02,2024-05-17")
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.product_catalog WHERE "
                                       "product_key IN ('RIES-RES-2022', 'GEW-VT-2018', "
                                       "'CREMANT-D-ALSACE-BRUT')"), "3")


class Malformed(SourceCase):
    NAME = "malformed"

    def test_malformed_export(self):
        status, run = self.load(os.path.join(FIXTURES, "malformed"))
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.counts(run, "customers"), (4, 4, 0))
        self.assertEqual(self.counts(run, "sales_lines"), (12, 8, 4))
        files = {f["file"]: f["status"] for f in run["files"]}
        self.assertEqual(files["stock.csv"], "empty")
        rejects = self.rejects(run)
        self.assertEqual([(r[0], r[1]) for r in rejects],
                         [("ventes.csv", 7), ("ventes.csv", 8), ("ventes.csv", 10), ("ventes.csv", 13)])
        self.assertIn("wrong field count", rejects[0][2])
        self.assertIn("invalid date", rejects[1][2])
        self.assertIn("negative quantity on an invoice", rejects[2][2])
        self.assertIn("unterminated quoted field", rejects[3][2])
        self.assertIn("FA-2024-0099", rejects[3][3])
        self.assertEqual(self.warnings(run), [
            ("clients.csv", 3, "invalid email address"),
            ("ventes.csv", 9, "unknown unit: 75 cl equivalent left empty"),
            ("ventes.csv", 11, "unknown customer")])

    def test_wrong_encodings(self):
        # a UTF-8 export with one line saved in Windows-1252, and an
        # ISO-8859-15 export read through the connector's encoding setting
        mixed = copy_tree(os.path.join(FIXTURES, "garbage"))
        os.remove(os.path.join(mixed, "produits.csv"))
        with open(os.path.join(mixed, "clients.csv"), "wb") as f:
            f.write("client_code;nom;prenom\nE001;Hügel;Étienne\n".encode("utf-8"))
            f.write("E002;Zind-Humbrecht;Léonard\n".encode("cp1252"))
        status, run = self.load(mixed, "mixed")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.pg.psql("SELECT last_name, first_name FROM canonical.customers "
                                      "WHERE customer_key IN ('isavigne-E001', 'isavigne-E002') "
                                      "ORDER BY 1"), [["Hügel", "Étienne"], ["Zind-Humbrecht", "Léonard"]])
        latin9 = copy_tree(os.path.join(FIXTURES, "garbage"))
        os.remove(os.path.join(latin9, "produits.csv"))
        with open(os.path.join(latin9, "produits.csv"), "wb") as f:
            f.write("article;produit\nOEUV-1;Cœur de cuvée ¤\n".replace("¤", "€").encode("iso-8859-15"))
        self.stack.add_isavigne("latin9", latin9, "encoding=iso-8859-15")
        status, run = self.stack.sync("latin9")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.pg.value("SELECT name FROM canonical.product_catalog "
                                       "WHERE product_key = 'OEUV-1'"), "Cœur de cuvée €")

    def test_garbage_fails_the_file_not_the_run(self):
        folder = copy_tree(os.path.join(FIXTURES, "garbage"))
        with open(os.path.join(folder, "clients.csv"), "w", encoding="utf-8") as f:
            f.write("client_code;nom;prenom;email\nG001;Weber;Paul;paul.weber@example.fr\n")
        status, run = self.load(folder, "garbage")
        self.assertEqual((status, run["status"]), (2, "partial"), run)
        files = {f["file"]: f for f in run["files"]}
        self.assertEqual(files["produits.csv"]["status"], "failed")
        self.assertEqual(files["clients.csv"]["status"], "loaded")
        self.assertTrue(run["errors"] and "produits.csv" in str(run["errors"]))
        self.assertEqual(self.pg.value("SELECT email FROM canonical.customers "
                                       "WHERE customer_key = 'isavigne-G001'"), "paul.weber@example.fr")
        # the failed file's cursor did not move: the next run reads it again
        status, run = self.stack.sync("garbage")
        files = {f["file"]: f["status"] for f in run["files"]}
        self.assertEqual(files, {"produits.csv": "failed", "clients.csv": "unchanged"})

    def test_xls_reader_crash_fails_the_file_not_the_extractor(self):
        # libfreexl reads past a stack buffer on this workbook
        # (tests/fuzz/regressions/xls): under AddressSanitizer the reader's
        # child process dies, elsewhere libfreexl refuses the file; either
        # way the file fails, the CSV next to it loads, the extractor lives
        folder = copy_tree(os.path.join(FIXTURES, "garbage"))
        os.remove(os.path.join(folder, "produits.csv"))
        shutil.copy(os.path.join(ROOT, "tests", "fuzz", "regressions", "xls",
                                 "xls-freexl-iconv-overread"), os.path.join(folder, "produits.xls"))
        with open(os.path.join(folder, "clients.csv"), "w", encoding="utf-8") as f:
            f.write("client_code;nom;prenom\nX001;Trimbach;Anne\n")
        status, run = self.load(folder, "crashxls")
        self.assertEqual((status, run["status"]), (2, "partial"), run)
        files = {f["file"]: f for f in run["files"]}
        self.assertEqual(files["produits.xls"]["status"], "failed", run)
        self.assertEqual(files["clients.csv"]["status"], "loaded", run)
        with open(os.path.join(BIN, "extractor-isavigne"), "rb") as f:
            sanitized = b"__asan_init" in f.read()
        reasons = [e["reason"] for e in run["errors"] if e["file"] == "produits.xls"]
        self.assertEqual(len(reasons), 1, run)
        if sanitized:
            self.assertEqual(reasons[0], "the xls reader crashed", run)
        else:
            self.assertIn(reasons[0], ("the xls reader crashed", "not a valid xls file"), run)
        self.assertEqual(self.pg.value("SELECT last_name FROM canonical.customers "
                                       "WHERE customer_key = 'isavigne-X001'"), "Trimbach")
        # the extractor is the one that started, and runs the next sync
        self.assertIsNone(self.stack.procs["extractor-isavigne-0"].poll())
        status, run = self.stack.sync("crashxls")
        files = {f["file"]: f["status"] for f in run["files"]}
        self.assertEqual(files, {"produits.xls": "failed", "clients.csv": "unchanged"}, run)
        self.assertIsNone(self.stack.procs["extractor-isavigne-0"].poll())
        log = os.path.join(ARTIFACTS, "malformed-extractor-isavigne-0.log")
        with open(log, encoding="utf-8", errors="replace") as f:
            lines = [line for line in f if "produits.xls" in line and reasons[0] in line]
        self.assertTrue(lines, log)
        if sanitized:  # the child's report, summed up in the detail
            self.assertIn("its stderr: SUMMARY: AddressSanitizer: stack-buffer-underflow",
                          lines[0])


if __name__ == "__main__":
    unittest.main()
