"""Values derived from what an export leaves out (issue 15, points 1-3, 7):
a sales file without a line total, margins written as percentages (text
and percent-formatted .xlsx cells), lines without a unit whose product has
a packaging, and the one list of credit-note words shared by the
normalizer and the quality report."""
import json
import os
import sys
import tempfile

from harness import ROOT, StackCase

sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import exportgen  # noqa: E402

PRODUCTS = ("produit_key,nom,prix,contenance\n"
            "RIES-22,Riesling 2022,18.00,75 cl\n"
            "CRE-CT6,Crémant Brut (carton),90.00,6 x 75 cl\n"
            "PN-MAG,Pinot Noir Magnum,45.00,150 cl\n"
            "GEW-DEMI,Gewurztraminer demi,12.00,\"37,5 cl\"\n"
            "SANS,Sans contenance,10.00,\n")
CUSTOMERS = "code_client,nom,email\nB1,Muller,b1@example.fr\nB2,Weber,b2@example.fr\n"
# dialect B sales, no mt_ht and no unite: line totals and units are derived
SALES = ("code_client;date;document_type;document_no;num_ligne;produit_key;quantite;"
         "prix_unitaire;marge\n"
         "B1;2026-03-02;Facture;F1;1;RIES-22;3;15,00;63,8 %\n"
         "B1;2026-03-02;Facture;F1;2;CRE-CT6;2;75,00;40,00\n"
         "B2;2026-03-05;Facture;F2;1;PN-MAG;1;37,50;12,5%\n"
         "B2;2026-03-05;Facture;F2;2;GEW-DEMI;4;10,00;\n"
         "B2;2026-03-06;AV;A1;1;RIES-22;-1;15,00;\n"
         "B2;2026-03-07;Facture;F3;1;SANS;2;8,00;\n")


def write(folder, name, text):
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        f.write(text)


class Derived(StackCase):
    NAME = "derived"
    RECOMMENDER = False

    def line(self, key, columns):
        return self.pg.psql("SELECT %s FROM canonical.sales_lines WHERE sale_line_key = '%s'"
                            % (columns, key))[0]

    def test_1_line_total_margin_unit(self):
        folder = tempfile.mkdtemp(prefix="vd-derived-")
        write(folder, "export_produits.csv", PRODUCTS)
        write(folder, "export_clients.csv", CUSTOMERS)
        write(folder, "export_ventes.csv", SALES)
        self.stack.add_isavigne("derived", folder)
        _, out, _ = self.stack.cli("sync", "derived", "--wait")
        run = json.loads(self.stack.cli("runs", "derived", "--json")[1])[0]
        self.assertEqual(run["status"], "success", run)
        # the run says once per file what was derived
        self.assertIn("export_ventes.csv loaded (6 rows); derived: price_total, unit; 1 line(s) "
                      "without a unit or a product packaging", out)
        # 1: quantity x unit price when the export gives no line total
        self.assertEqual(self.line("isavigne-F1-1", "price_total"), ["45.00"])
        self.assertEqual(self.line("isavigne-A1-1", "price_total"), ["-15.00"])
        self.assertEqual(self.pg.psql(
            "SELECT total_spent, purchase_count, avg_order_value, segment FROM canonical.customers "
            "WHERE customer_key = 'isavigne-B1'"), [["195.00", "1", "195.00", "standard"]])
        # 2: "63,8 %" is a percentage, "40,00" an amount
        self.assertEqual(self.line("isavigne-F1-1", "margin_percent, cost_total"),
                         ["63.8", "16.29"])
        self.assertEqual(self.line("isavigne-F1-2", "margin_percent, cost_total"),
                         ["26.67", "110.00"])
        self.assertEqual(self.line("isavigne-F2-1", "margin_percent, cost_total"),
                         ["12.5", "32.81"])
        # 3: the unit from the product's packaging; pack size kept with the product
        self.assertEqual(self.line("isavigne-F1-2", "unit, quantity_bottles_75cl_eq"),
                         ["6 x 75 cl", "12"])
        self.assertEqual(self.line("isavigne-F2-1", "quantity_bottles_75cl_eq"), ["2"])
        self.assertEqual(self.line("isavigne-F2-2", "quantity_bottles_75cl_eq"), ["2.0"])
        self.assertEqual(self.line("isavigne-F3-1", "unit, quantity_bottles_75cl_eq"),
                         [None, None])
        self.assertEqual(self.pg.psql(
            "SELECT product_key, volume_cl, pack_size FROM canonical.product_catalog "
            "WHERE product_key IN ('CRE-CT6', 'PN-MAG') ORDER BY 1"),
            [["CRE-CT6", "75", "6"], ["PN-MAG", "150", "1"]])
        # once per file: what was derived, and the lines nobody knows the unit of
        files = {f["file"]: f for f in run["files"]}
        self.assertEqual(files["export_ventes.csv"]["derived"], ["price_total", "unit"])
        self.assertEqual(files["export_ventes.csv"]["unit_unknown"], 1)
        self.assertEqual(files["export_ventes.csv"]["unit_unknown_lines"], [7])
        self.assertEqual(self.pg.value(
            "SELECT count(*) FROM ops.warning_summaries WHERE run_id = %d" % run["id"]), "0")
        # 7: "AV" is a credit note for the normalizer and the quality report alike
        quality = json.loads(self.stack.cli("quality", "--json")[1])
        sales = [t for t in quality["tables"] if t["table"] == "sales_lines"][0]
        check = [c for c in sales["checks"] if c["check"] == "negative_quantity_invoice"][0]
        self.assertEqual(check["count"], 0, check)

    def test_2_xlsx_percent_cells(self):
        folder = tempfile.mkdtemp(prefix="vd-derived-x-")
        write(folder, "clients.csv", "client_code;nom\nX1;Muller\n")
        T, C = exportgen.T, exportgen.Cell
        style = exportgen.Style(__import__("random").Random(1), "xlsx")
        rows = [[T(h) for h in ("client_code", "date_livraison", "document_type", "document_no",
                                "order_detail_no", "article", "qty_line", "unite", "pu_ht",
                                "mt_ht", "marge")],
                [T("X1"), T("02/03/2026"), T("Facture"), T("FX"), C("n", 1), T("RIES-22"),
                 C("n", 3), T("BT"), C("n", 15), C("n", 45), C("p", __import__("decimal")
                                                                .Decimal("0.638"))]]
        exportgen.write_xlsx(os.path.join(folder, "ventes.xlsx"), rows, style,
                             __import__("random").Random(2))
        self.stack.add_isavigne("derivedx", folder)
        status, run = self.stack.sync("derivedx")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(self.line("isavigne-FX-1", "margin_percent, cost_total"),
                         ["63.8", "16.29"])
