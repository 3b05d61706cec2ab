"""full_snapshot=true (issue 15, point 5): rows missing from a later export
go as Odoo's deleted records do: sales and stock rows removed, customers
and products active = false, counted in `deleted`, aggregates brought up
to date; only the connector's own rows, only tables read whole."""
import os
import shutil
import tempfile

from harness import StackCase

CLIENTS = ("client_code;nom;email\r\n"
           "S1;Muller;s1@example.fr\r\n"
           "S2;Weber;s2@example.fr\r\n"
           "S3;Kieffer;s3@example.fr\r\n")
PRODUCTS = "article;produit;prix_ttc\r\nRIES-S;Riesling;18,00\r\nPN-S;Pinot Noir;24,00\r\n"
SALES_HEAD = ("client_code;date_livraison;document_type;document_no;order_detail_no;article;"
              "qty_line;unite;pu_ht;mt_ht\r\n")
SALES = ["S1;02/03/2026;Facture;FS1;1;RIES-S;6;BT;15,00;90,00\r\n",
         "S1;02/03/2026;Facture;FS1;2;PN-S;2;BT;20,00;40,00\r\n",
         "S2;03/03/2026;Facture;FS2;1;PN-S;1;BT;20,00;20,00\r\n",
         "S3;04/03/2026;Facture;FS3;1;RIES-S;3;BT;15,00;45,00\r\n"]
STOCK = ("article;entrepot;quantite;unite\r\nRIES-S;Cave;120;BT\r\nPN-S;Cave;60;BT\r\n")


def write(folder, clients, sales, products=PRODUCTS, stock=STOCK):
    for name, text in (("clients.csv", clients), ("produits.csv", products),
                       ("ventes.csv", SALES_HEAD + "".join(sales)), ("stock.csv", stock)):
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)


class Snapshot(StackCase):
    NAME = "snapshot"
    RECOMMENDER = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.mkdtemp(prefix="vd-snap-")
        cls.other = tempfile.mkdtemp(prefix="vd-snap-other-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)
        shutil.rmtree(cls.other, ignore_errors=True)
        super().tearDownClass()

    def value(self, sql):
        return self.pg.value(sql)

    def deleted(self, run, table):
        return run["tables"].get(table, {}).get("deleted", 0)

    def test_1_missing_rows_go(self):
        write(self.folder, CLIENTS, SALES)
        # another iSaVigne connector, not a snapshot, with its own rows
        write(self.other, "client_code;nom\r\nO1;Other\r\n",
              ["O1;05/03/2026;Facture;FO1;1;RIES-S;1;BT;15,00;15,00\r\n"])
        self.stack.add_isavigne("snap", self.folder, "full_snapshot=true")
        self.stack.add_isavigne("other", self.other)
        for name in ("other", "snap"):
            status, run = self.stack.sync(name)
            self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.value("SELECT total_spent FROM canonical.customers "
                                    "WHERE customer_key = 'isavigne-S3'"), "45.00")
        # a later export without one of S1's lines, without S3 and its line
        clients = "".join(line for line in CLIENTS.splitlines(True) if not line.startswith("S3"))
        write(self.folder, clients, [SALES[0], SALES[2]],
              stock="article;entrepot;quantite;unite\r\nRIES-S;Cave;100;BT\r\n")
        status, run = self.stack.sync("snap")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.deleted(run, "sales_lines"), 2, run["tables"])
        self.assertEqual(self.deleted(run, "customers"), 1, run["tables"])
        self.assertEqual(self.deleted(run, "stock_levels"), 1, run["tables"])
        self.assertEqual(self.deleted(run, "product_catalog"), 0, run["tables"])
        self.assertEqual(self.value("SELECT string_agg(sale_line_key, ',' ORDER BY 1) FROM "
                                    "canonical.sales_lines WHERE connector = 'snap'"),
                         "isavigne-FS1-1,isavigne-FS2-1")
        self.assertEqual(self.pg.psql(
            "SELECT customer_key, active, total_spent, purchase_count, segment FROM "
            "canonical.customers WHERE connector = 'snap' ORDER BY 1"),
            [["isavigne-S1", "t", "90.00", "1", "standard"],
             ["isavigne-S2", "t", "20.00", "1", "standard"],
             ["isavigne-S3", "f", "0", "0", "prospect"]])
        self.assertEqual(self.value("SELECT count(*) FROM canonical.stock_levels "
                                    "WHERE connector = 'snap'"), "1")
        # the other connector's rows are not its business
        self.assertEqual(self.value("SELECT count(*) FROM canonical.sales_lines "
                                    "WHERE connector = 'other'"), "1")
        self.assertEqual(self.value("SELECT active FROM canonical.customers "
                                    "WHERE customer_key = 'isavigne-O1'"), "t")

    def test_2_a_table_not_read_whole_is_kept(self):
        # the clients file fails: no customer is marked gone; the sales file
        # was read whole, so a line missing from it goes
        with open(os.path.join(self.folder, "clients.csv"), "wb") as f:
            f.write(bytes(range(256)) * 4)
        write_sales = SALES_HEAD + SALES[0]
        with open(os.path.join(self.folder, "ventes.csv"), "w", encoding="utf-8") as f:
            f.write(write_sales)
        status, run = self.stack.sync("snap")
        self.assertEqual(run["status"], "partial", run)
        self.assertEqual(self.deleted(run, "customers"), 0, run["tables"])
        self.assertEqual(self.deleted(run, "sales_lines"), 1, run["tables"])
        self.assertEqual(self.value("SELECT count(*) FROM canonical.customers WHERE "
                                    "connector = 'snap' AND active"), "2")
        # the customer comes back with the next export that has it
        write(self.folder, CLIENTS, SALES)
        status, run = self.stack.sync("snap")
        self.assertEqual(run["status"], "success", run)
        self.assertEqual(self.value("SELECT count(*) FROM canonical.customers WHERE "
                                    "connector = 'snap' AND active"), "3")
        self.assertEqual(self.value("SELECT count(*) FROM canonical.sales_lines WHERE "
                                    "connector = 'snap'"), "4")
