"""Backbone: an iSaVigne export through extractor -> normalizer -> loader
into PostgreSQL, with exact row contents, rejects, warnings, aggregates,
idempotent re-sync and a one-line change."""
import json
import os
import tempfile
import unittest

from harness import FIXTURES, StackCase, copy_tree

PRODUITS = (
    "article;produit;millesime;couleur;sous_famille;macro_categorie;prix_ttc;cout;cepages;region;contenance\r\n"
    "Crémant d'Alsace Brut;Crémant d'Alsace Brut;NV;Blanc;Crémant;Effervescent;14,90;5,10;Pinot Blanc, Auxerrois;Alsace;75 cl\r\n"
    "ries-res-2022;Riesling Réserve;2022;Blanc;;Vin tranquille;24,00;7,00;Riesling;Alsace;75 cl\r\n"
    "PN-2021;Pinot Noir Magnum;2021;Rouge;;Vin tranquille;\"1 234,50\";8;Pinot Noir;Alsace;150 cl\r\n")
CLIENTS = (
    "client_code;nom;prenom;email;telephone;mobile;adresse;code_postal;ville;pays\r\n"
    "C0001;Müller;Jean;Jean.Muller@Orange.fr;03 89 12 34 56;;\"12; rue des \"\"Vignes\"\"\";68340;Riquewihr;France\r\n"
    "C0002;Schmitt;Anne;anne@@x.fr;;06 12 34 56 78;;67000;Strasbourg;France\r\n")
VENTES = (
    "client_code;date_livraison;document_type;document_no;order_detail_no;article;produit_label;qty_line;unite;pu_ht;mt_ht;mt_ttc;marge\r\n"
    "C0001;15/03/2024;Facture;FA-1;1;ries-res-2022;Riesling;3;MAG150;40,00;120,00;144,00;50,00\r\n"
    "C0001;15/03/2024 10:30;Facture;FA-1;2;Crémant d'Alsace Brut;Crémant;12;BT;12,42;\"1 234,50\";\"1 481,40\";300\r\n"
    "C0002;31/02/2024;Facture;FA-2;1;PN-2021;PN;1;BT;10;10;12;2\r\n"
    "C0002;16/03/2024;Avoir;AV-1;1;PN-2021;PN;-1;BT;10;-10;-12;-2\r\n"
    "C0002;17/03/2024;Facture;FA-3;1;PN-2021;PN;-2;BT;10;-20;-24;-4\r\n"
    "C9999;17/03/2024;Facture;FA-4;1;PN-2021;PN;1;FUT;10;10;12;2\r\n")
STOCK = (
    "article;entrepot;quantite;unite;date_inventaire\r\n"
    "ries-res-2022;Cave principale;120;BT;01/03/2024\r\n"
    "PN-2021;Cave principale;10;CT6;01/03/2024\r\n")

TABLE_SUM = {
    "sales_lines": "sale_line_key", "customers": "customer_key",
    "product_catalog": "product_key", "stock_levels": "stock_key",
}


def write_export(folder):
    for name, text in (("produits.csv", PRODUITS), ("clients.csv", CLIENTS),
                       ("ventes.csv", VENTES), ("stock.csv", STOCK)):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(text.encode("cp1252"))


def checksum(pg, table):
    """md5 of a table's content, synced_at left out."""
    key = TABLE_SUM[table]
    return pg.value("SELECT md5(coalesce(string_agg((to_jsonb(t) - 'synced_at')::text, '|' "
                    "ORDER BY %s), '')) FROM canonical.%s t" % (key, table))


class Backbone(StackCase):
    NAME = "backbone"

    def row(self, sql):
        rows = self.pg.psql(sql)
        self.assertEqual(len(rows), 1, sql)
        return rows[0]

    def assert_balanced(self, run):
        for table, c in run["tables"].items():
            self.assertEqual(c["extracted"], c["inserted"] + c["updated"] + c["unchanged"]
                             + c["rejected"], (table, c))

    def test_1_exact_contents(self):
        folder = tempfile.mkdtemp(prefix="vd-exact-")
        write_export(folder)
        type(self).folder = folder
        self.stack.add_isavigne("exact", folder)
        status, run = self.stack.sync("exact")
        self.assertEqual(status, 0, run)
        self.assertEqual(run["status"], "success")
        self.assert_balanced(run)
        t = run["tables"]
        self.assertEqual((t["product_catalog"]["inserted"], t["customers"]["inserted"],
                          t["stock_levels"]["inserted"]), (3, 2, 2))
        self.assertEqual(t["sales_lines"], {"extracted": 6, "inserted": 4, "updated": 0,
                                            "unchanged": 0, "rejected": 2})
        # products: stable keys from codes, VAT removed, segment from the price incl. VAT
        self.assertEqual(self.row("SELECT category, list_price, price_segment, grapes::text, vintage "
                                  "FROM canonical.product_catalog WHERE product_key = 'CREMANT-D-ALSACE-BRUT'"),
                         ["mousseux", "12.42", "entry", "{\"Pinot Blanc\",Auxerrois}", None])
        self.assertEqual(self.row("SELECT list_price, price_segment, vintage, source_id FROM "
                                  "canonical.product_catalog WHERE product_key = 'RIES-RES-2022'"),
                         ["20.00", "standard", "2022", "RIES-RES-2022"])
        self.assertEqual(self.row("SELECT list_price, price_segment, volume_cl, category FROM "
                                  "canonical.product_catalog WHERE product_key = 'PN-2021'"),
                         ["1028.75", "luxury", "150", "rouge"])
        # sales: 75 cl equivalents, French numbers, dates
        self.assertEqual(self.row("SELECT quantity_units, unit, quantity_bottles_75cl_eq, customer_key, "
                                  "product_key, date_sale, cost_total, margin_percent FROM "
                                  "canonical.sales_lines WHERE sale_line_key = 'isavigne-FA-1-1'"),
                         ["3", "mag150", "6", "isavigne-C0001", "RIES-RES-2022", "2024-03-15",
                          "70.00", "41.67"])
        self.assertEqual(self.row("SELECT price_total, product_key, date_sale FROM canonical.sales_lines "
                                  "WHERE sale_line_key = 'isavigne-FA-1-2'"),
                         ["1234.50", "CREMANT-D-ALSACE-BRUT", "2024-03-15"])
        self.assertEqual(self.row("SELECT quantity_units, price_total FROM canonical.sales_lines "
                                  "WHERE sale_line_key = 'isavigne-AV-1-1'"), ["-1", "-10"])
        self.assertEqual(self.row("SELECT quantity_units, quantity_bottles_75cl_eq, customer_key FROM "
                                  "canonical.sales_lines WHERE sale_line_key = 'isavigne-FA-4-1'"),
                         ["1", None, "isavigne-C9999"])
        self.assertEqual(self.row("SELECT quantity_bottles_75cl_eq FROM canonical.stock_levels "
                                  "WHERE stock_key = 'isavigne-PN-2021-Cave principale'"), ["60"])
        # customers: text cleaned, email flagged not dropped, phones digits only
        self.assertEqual(self.row("SELECT last_name, email, email_invalid, phone, address FROM "
                                  "canonical.customers WHERE customer_key = 'isavigne-C0001'"),
                         ["Müller", "jean.muller@orange.fr", "f", "0389123456",
                          "12; rue des \"Vignes\""])
        self.assertEqual(self.row("SELECT email, email_invalid, mobile FROM canonical.customers "
                                  "WHERE customer_key = 'isavigne-C0002'"),
                         ["anne@@x.fr", "t", "0612345678"])
        # aggregates (money excl. VAT; the credit note lowers the total)
        self.assertEqual(self.row("SELECT total_spent, purchase_count, first_purchase_date, "
                                  "last_purchase_date, avg_order_value, segment, person_key FROM "
                                  "canonical.customers WHERE customer_key = 'isavigne-C0001'"),
                         ["1354.50", "1", "2024-03-15", "2024-03-15", "1354.50", "inactive",
                          "isavigne-C0001"])
        self.assertEqual(self.row("SELECT total_spent, purchase_count, segment FROM canonical.customers "
                                  "WHERE customer_key = 'isavigne-C0002'"), ["-10", "0", "prospect"])
        # rejects keep reason, file, line and raw content
        rejects = self.pg.psql("SELECT file, line, reason, raw FROM ops.rejects WHERE run_id = %d "
                               "ORDER BY line" % run["id"])
        self.assertEqual([(r[0], r[1]) for r in rejects], [("ventes.csv", "4"), ("ventes.csv", "6")])
        self.assertIn("invalid date", rejects[0][2])
        self.assertIn("31/02/2024", rejects[0][3])
        self.assertIn("negative quantity on an invoice", rejects[1][2])
        # warnings: unknown unit, unknown customer, invalid email; one
        # summary per file, field and reason, counting the lines it holds
        summaries = self.pg.psql("SELECT id, file, field, reason, count FROM "
                                 "ops.warning_summaries WHERE run_id = %d" % run["id"])
        lines = self.pg.psql("SELECT warning_id, file, line, reason FROM ops.run_warnings "
                             "WHERE run_id = %d" % run["id"])
        warnings = {(w[1], w[2], w[3]) for w in lines}
        self.assertIn(("ventes.csv", "7", "unknown unit: 75 cl equivalent left empty"), warnings)
        self.assertIn(("ventes.csv", "7", "unknown customer"), warnings)
        self.assertIn(("clients.csv", "3", "invalid email address"), warnings)
        self.assertEqual(len({tuple(s[1:4]) for s in summaries}), len(summaries))
        for s in summaries:
            self.assertEqual(int(s[4]), len([w for w in lines if w[0] == s[0]]), s)

    def test_2_resync_is_idempotent(self):
        before = {t: checksum(self.pg, t) for t in TABLE_SUM}
        synced = self.pg.value("SELECT max(synced_at) FROM canonical.sales_lines")
        status, run = self.stack.sync("exact")
        self.assertEqual((status, run["status"]), (0, "success"))
        self.assertEqual({f["status"] for f in run["files"]}, {"unchanged"})
        for table, c in run["tables"].items():
            self.assertEqual(c, {"extracted": 0, "inserted": 0, "updated": 0, "unchanged": 0,
                                 "rejected": 0}, table)
        self.assertEqual(before, {t: checksum(self.pg, t) for t in TABLE_SUM})
        self.assertEqual(synced, self.pg.value("SELECT max(synced_at) FROM canonical.sales_lines"))

    def test_3_one_changed_line_updates_one_row(self):
        path = os.path.join(self.folder, "ventes.csv")
        text = VENTES.replace("FA-1;1;ries-res-2022;Riesling;3;MAG150;40,00;120,00",
                              "FA-1;1;ries-res-2022;Riesling;4;MAG150;40,00;160,00")
        with open(path, "wb") as f:
            f.write(text.encode("cp1252"))
        untouched = self.pg.value("SELECT md5(string_agg(sale_line_key || synced_at::text, ',' "
                                  "ORDER BY sale_line_key)) FROM canonical.sales_lines "
                                  "WHERE sale_line_key <> 'isavigne-FA-1-1'")
        status, run = self.stack.sync("exact")
        self.assertEqual((status, run["status"]), (0, "success"))
        self.assertEqual(run["tables"]["sales_lines"], {"extracted": 6, "inserted": 0, "updated": 1,
                                                        "unchanged": 3, "rejected": 2})
        self.assertEqual(run["tables"]["customers"]["extracted"], 0)
        self.assertEqual(self.row("SELECT quantity_bottles_75cl_eq, price_total FROM canonical.sales_lines "
                                  "WHERE sale_line_key = 'isavigne-FA-1-1'"), ["8", "160.00"])
        self.assertEqual(untouched, self.pg.value(
            "SELECT md5(string_agg(sale_line_key || synced_at::text, ',' ORDER BY sale_line_key)) FROM "
            "canonical.sales_lines WHERE sale_line_key <> 'isavigne-FA-1-1'"))
        self.assertEqual(self.row("SELECT total_spent FROM canonical.customers "
                                  "WHERE customer_key = 'isavigne-C0001'"), ["1394.50"])


if __name__ == "__main__":
    unittest.main()
