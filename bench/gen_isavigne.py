"""Writes a deterministic, realistic iSaVigne export for benchmarks.

usage: gen_isavigne.py FOLDER [--sales N] [--customers N] [--products N] [--stock N]
       [--change-percent P]   rewrite ventes.csv with P % of its lines changed

Dialect A, Windows-1252, ';', CRLF, decimal commas with space-grouped
thousands ("1 234,50"), dd/mm/yyyy dates (some with a time), mixed units
(BT, 75cl, CT6, CT12, MAG150, DEMI, JERO), French labels with accents,
a few quoted labels holding ';' or '"', and about 2 % credit notes
(Avoir, negative quantities). Every sales line is valid (no reject), so
the hand-written SQL references load the same rows as vendange.
Sizes also come from BENCH_SALES, BENCH_CUSTOMERS, BENCH_PRODUCTS,
BENCH_STOCK. The same arguments always give the same bytes; with
--change-percent P the same lines come out, P % of them with another
quantity (and totals), so a re-sync writes only those.
"""
import argparse
import os
import random

FIRST = ["Jean", "Marie", "Pierre", "Anne", "Luc", "Claire", "Paul", "Sophie", "Michel", "Élise",
         "François", "Hélène", "André", "Céline", "Jérôme", "Noémie", "Théo", "Zoé"]
LAST = ["Muller", "Schmitt", "Meyer", "Weber", "Klein", "Wagner", "Fischer", "Hoffmann", "Kieffer",
        "Bauer", "Roth", "Frey", "Koenig", "Stoeckel", "Hügel", "Zind", "Béguin", "Lefèvre"]
TOWNS = [("68340", "Riquewihr"), ("68000", "Colmar"), ("67000", "Strasbourg"), ("68750", "Bergheim"),
         ("68630", "Bennwihr"), ("67140", "Barr"), ("68240", "Kaysersberg"), ("75011", "Paris")]
STYLES = [("RIES", "Riesling", "Blanc"), ("GEW", "Gewurztraminer", "Blanc"),
          ("PG", "Pinot Gris", "Blanc"), ("PN", "Pinot Noir", "Rouge"), ("SYL", "Sylvaner", "Blanc"),
          ("MUS", "Muscat", "Blanc"), ("PB", "Pinot Blanc", "Blanc"), ("CREM", "Crémant d'Alsace", "Blanc")]
UNITS = ["BT"] * 9 + ["75cl", "CT6", "CT6", "CT6", "CT12", "CT12", "MAG150", "DEMI", "JERO"]
FACTOR = {"BT": 1, "75cl": 1, "CT6": 6, "CT12": 12, "MAG150": 2, "DEMI": 0.5, "JERO": 4}
CUVEES = ["Réserve", "Grand Cru Schlossberg", "Vieilles Vignes", "Cuvée Théo", "Sélection de Grains Nobles",
          "Vendanges Tardives", "Lieu-dit Rosacker", "Tradition", "Prestige; Élevé en fût", 'Cuvée "Émile"']


def money(x):
    s = "%.2f" % x
    whole, frac = s.split(".")
    neg = whole.startswith("-")
    whole = whole.lstrip("-")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return ("-" if neg else "") + " ".join(groups) + "," + frac


def write(path, header, rows):
    with open(path, "w", encoding="cp1252", newline="") as f:
        f.write(header + "\r\n")
        for row in rows:
            f.write(row + "\r\n")


def products(n, rnd):
    out = []
    for i in range(n):
        code, grape, colour = STYLES[i % len(STYLES)]
        vintage = "NV" if code == "CREM" else str(2015 + i % 10)
        price = round(8 + rnd.random() * 60, 2)
        out.append((f"{code}-{i:05d}", f"{grape} cuvée {i}", vintage, colour, price))
    return out


def csv_field(text):
    """A ';' CSV field, quoted when it holds ';' or '"'."""
    if ";" in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def sales_rows(n, customers, prods, seed, change_percent=0):
    rnd = random.Random(seed)
    changed = random.Random(seed + 1)
    line = 0
    doc = 0
    while line < n:
        doc += 1
        client = "C%06d" % rnd.randrange(customers)
        date = "%02d/%02d/%d" % (1 + rnd.randrange(28), 1 + rnd.randrange(12), 2022 + rnd.randrange(5))
        if rnd.random() < 0.1:
            date += " %02d:%02d" % (9 + rnd.randrange(10), rnd.randrange(60))
        credit = rnd.random() < 0.02
        doc_type, doc_no = ("Avoir", "AV-%08d" % doc) if credit else ("Facture", "FA-%08d" % doc)
        for detail in range(1, 2 + rnd.randrange(6)):
            if line >= n:
                break
            line += 1
            code, name, vintage, _, price = prods[rnd.randrange(len(prods))]
            unit = UNITS[rnd.randrange(len(UNITS))]
            qty = 1 + rnd.randrange(6)
            if change_percent and changed.random() * 100 < change_percent:
                qty += 1
            if credit:
                qty = -qty
            label = csv_field(f"{name} {vintage} {CUVEES[rnd.randrange(len(CUVEES))]}")
            pu = price / 1.2 * FACTOR[unit]
            ht = qty * pu
            yield (f"{client};{date};{doc_type};{doc_no};{detail};{code};{label};{qty};{unit};"
                   f"{money(pu)};{money(ht)};{money(ht * 1.2)};{money(ht * 0.4)}")


def main():
    env = os.environ.get
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--sales", type=int, default=int(env("BENCH_SALES", 1000000)))
    p.add_argument("--customers", type=int, default=int(env("BENCH_CUSTOMERS", 100000)))
    p.add_argument("--products", type=int, default=int(env("BENCH_PRODUCTS", 2000)))
    p.add_argument("--stock", type=int, default=int(env("BENCH_STOCK", 10000)))
    p.add_argument("--change-percent", type=float, default=0)
    a = p.parse_args()
    os.makedirs(a.folder, exist_ok=True)
    rnd = random.Random(42)
    prods = products(a.products, rnd)
    write(os.path.join(a.folder, "ventes.csv"),
          "client_code;date_livraison;document_type;document_no;order_detail_no;article;"
          "produit_label;qty_line;unite;pu_ht;mt_ht;mt_ttc;marge",
          sales_rows(a.sales, a.customers, prods, 7, a.change_percent))
    if a.change_percent:
        return
    write(os.path.join(a.folder, "produits.csv"),
          "article;produit;millesime;couleur;sous_famille;macro_categorie;prix_ttc;cout;cepages;region;contenance",
          (f"{c};{name};{v};{col};;Vin tranquille;{money(pr)};{money(pr / 3)};{name.split(' cuvée')[0]};"
           f"Alsace;75 cl" for c, name, v, col, pr in prods))
    write(os.path.join(a.folder, "clients.csv"),
          "client_code;nom;prenom;email;telephone;mobile;adresse;code_postal;ville;pays",
          (f"C{i:06d};{LAST[i % len(LAST)]};{FIRST[i % len(FIRST)]};client{i}@example.fr;"
           f"03 89 {i % 100:02d} {i // 100 % 100:02d} {i % 97:02d};;{i % 90 + 1} rue des Vignes;"
           f"{TOWNS[i % len(TOWNS)][0]};{TOWNS[i % len(TOWNS)][1]};France" for i in range(a.customers)))
    write(os.path.join(a.folder, "stock.csv"), "article;entrepot;quantite;unite;date_inventaire",
          (f"{prods[i % len(prods)][0]};Entrepôt {i // len(prods) + 1};{(i * 37) % 500};BT;30/09/2026"
           for i in range(a.stock)))


if __name__ == "__main__":
    main()
