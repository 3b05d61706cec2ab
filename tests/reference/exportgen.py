"""Random but realistic iSaVigne exports, for the differential tests.

    generate(seed, folder) -> dict   writes one export folder, returns its settings

One seed always writes the same folder (random.Random(seed), fixed zip
times). Every key holds the seed (customer C<seed>-007, product codes
"GEW VT <seed> 3", documents FA-<seed>-12), so the exports of many seeds
can be loaded side by side into one database, one connector each.

What varies from seed to seed: the column dialect (A and B of SPEC.md, or
a third one read through a mapping file), each file's format (CSV with
`;` `,` or tab, in UTF-8 with or without BOM, Windows-1252 or
ISO-8859-15, CRLF or LF, sometimes a title line before the header; XLSX;
XLS), French or plain numbers, date formats (with or without a time,
date cells in spreadsheets), optional columns present or absent (line
total excl. VAT, incl. VAT, unit, margin, packaging), margins as amounts
or percentages (written with `%`, or percent-formatted XLSX cells),
packaging in the product (`75 cl`, `6 x 75 cl`, `150 cl`, ...), credit
notes, duplicate lines, and bad lines of every documented kind.

Nothing here knows what vendange makes of the files: that is the
reference model's job (model.py).
"""
import datetime as dt
import os
import random
import sys
import zipfile
from decimal import ROUND_HALF_UP, Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "fixtures"))
from generate import NS_MAIN, NS_PKG, NS_REL, col_name, xml_escape  # noqa: E402

CENT = Decimal("0.01")
EXCEL_EPOCH = dt.date(1899, 12, 30)

# ---------------------------------------------------------------------------
# Dialects: logical field -> column name written in the header

DIALECTS = {
    "A": {
        "products": {"code": "article", "name": "produit", "vintage": "millesime",
                     "colour": "couleur", "family": "sous_famille", "price_ttc": "prix_ttc",
                     "cost": "cout", "grapes": "cepages", "region": "region",
                     "packaging": "contenance", "pack": "colisage"},
        "customers": {"code": "client_code", "last": "nom", "first": "prenom", "email": "email",
                      "phone": "telephone", "mobile": "mobile", "address": "adresse",
                      "zip": "code_postal", "city": "ville", "country": "pays"},
        "sales": {"customer": "client_code", "date": "date_livraison",
                  "doctype": "document_type", "doc": "document_no", "line": "order_detail_no",
                  "product": "article", "label": "produit_label", "qty": "qty_line",
                  "unit": "unite", "pu": "pu_ht", "total": "mt_ht", "total_ttc": "mt_ttc",
                  "margin": "marge"},
        "stock": {"product": "article", "warehouse": "entrepot", "qty": "quantite",
                  "unit": "unite", "date": "date_inventaire"},
        "files": {"products": "produits", "customers": "clients", "sales": "ventes",
                  "stock": "stock"},
    },
    "B": {
        "products": {"code": "produit_key", "name": "nom", "vintage": "millesime",
                     "colour": "famille_crm", "family": "sous_famille", "price_ttc": "prix",
                     "cost": "cout", "grapes": "cepages", "region": "region",
                     "packaging": "contenance", "pack": "colisage"},
        "customers": {"code": "code_client", "last": "nom", "first": "prenom", "email": "email",
                      "phone": "telephone", "mobile": "mobile", "address": "adresse",
                      "zip": "code_postal", "city": "ville", "country": "pays"},
        "sales": {"customer": "code_client", "date": "date", "doctype": "document_type",
                  "doc": "document_no", "line": "num_ligne", "product": "produit_key",
                  "label": "produit_label", "qty": "quantite", "unit": "unite",
                  "pu": "prix_unitaire", "total": "mt_ht", "total_ttc": "mt_ttc",
                  "margin": "marge"},
        "stock": {"product": "produit_key", "warehouse": "entrepot", "qty": "quantite",
                  "unit": "unite", "date": "date_inventaire"},
        "files": {"products": "export_produits", "customers": "export_clients",
                  "sales": "export_ventes", "stock": "export_stock"},
    },
    # A third dialect, read through a mapping file (written below)
    "C": {
        "products": {"code": "SKU", "name": "Wine Name", "vintage": "Vintage",
                     "colour": "Colour", "family": "Range", "price_ttc": "Retail Price",
                     "cost": "Unit Cost", "grapes": "Grapes", "region": "Appellation",
                     "packaging": "Packaging", "pack": "Pack Size"},
        "customers": {"code": "Customer No", "last": "Surname", "first": "Given Name",
                      "email": "E-Mail Address", "phone": "Phone", "mobile": "Cell",
                      "address": "Street", "zip": "Postcode", "city": "Town",
                      "country": "Country"},
        "sales": {"customer": "Customer No", "date": "Invoice Date", "doctype": "Doc Type",
                  "doc": "Doc Number", "line": "Line", "product": "SKU", "label": "Description",
                  "qty": "Qty", "unit": "UoM", "pu": "Net Unit Price", "total": "Net Amount",
                  "total_ttc": "Gross Amount", "margin": "Gross Margin"},
        "stock": {"product": "SKU", "warehouse": "Location", "qty": "On Hand", "unit": "UoM",
                  "date": "Counted On"},
        "files": {"products": "wines_produits", "customers": "crm_clients",
                  "sales": "invoice_ventes", "stock": "cellar_stock"},
    },
}

MAPPING_C = """# third dialect (an English-speaking export), written by tests/reference/exportgen.py
[product_catalog]
files = *produit*
code = SKU
name = Wine Name
vintage = Vintage
colour = Colour
family = Range
list_price_incl_vat = Retail Price
cost_price = Unit Cost
grapes = Grapes
region = Appellation
volume = Packaging
pack_size = Pack Size

[customers]
files = *client*
customer_code = Customer No
last_name = Surname
first_name = Given Name
email = E-Mail Address
phone = Phone
mobile = Cell
address = Street
zip_code = Postcode
city = Town
country = Country

[stock_levels]
files = *stock*
product_code = SKU
warehouse = Location
quantity_units = On Hand
unit = UoM
last_count_date = Counted On

[sales_lines]
files = *ventes*
customer_code = Customer No
date_sale = Invoice Date
document_type = Doc Type
document_no = Doc Number
line_no = Line
product_code = SKU
quantity_units = Qty
unit = UoM
price_unit = Net Unit Price
price_total = Net Amount
price_total_incl_vat = Gross Amount
margin = Gross Margin
"""

# Optional columns a file may leave out (the key parts never are)
OPTIONAL = {
    "products": ["vintage", "family", "cost", "grapes", "region", "packaging", "pack"],
    "customers": ["first", "phone", "mobile", "address", "zip", "city", "country"],
    "sales": ["label", "unit", "total", "total_ttc", "margin", "doctype"],
    "stock": ["unit", "date"],
}

FIRST = ["Jean", "Anne", "Marie", "Pierre", "Élise", "François", "Cécile", "Hélène", "Luc",
         "Thérèse", "Noël", "Zoé", "Günter", "Jérôme"]
LAST = ["Muller", "Schmitt", "Meyer", "Kieffer", "Weber", "Dupont", "Bécker", "Hoffmann",
        "Lefèvre", "Straße", "Rieffel", "Brûlé"]
CITIES = [("67000", "Strasbourg", "France"), ("68000", "Colmar", "France"),
          ("68340", "Riquewihr", "France"), ("75011", "Paris", "France"),
          ("79098", "Freiburg", "Allemagne"), ("4051", "Bâle", "Suisse")]
WINES = [("ries-res", "Riesling Réserve", "Blanc", "", "Riesling", "Alsace"),
         ("GEW VT", "Gewurztraminer Vendanges Tardives", "Blanc", "moelleux",
          "Gewurztraminer", "Alsace Grand Cru"),
         ("Crémant Brut", "Crémant d'Alsace Brut", "Blanc", "Crémant", "Pinot Blanc, Auxerrois",
          "Crémant d'Alsace"),
         ("PN", "Pinot Noir", "Rouge", "", "Pinot Noir", "Alsace"),
         ("PG GC", "Pinot Gris Grand Cru", "Blanc", "", "Pinot Gris", "Schlossberg"),
         ("ROSE-PN", "Rosé de Pinot Noir", "Rosé", "", "Pinot Noir", "Alsace"),
         ("SYLV", "Sylvaner", "Blanc", "", "Sylvaner", "Alsace")]
# packaging text of a product, its pack size (None: no pack size column value)
PACKAGINGS = ["75 cl", "75 cl", "6 x 75 cl", "12 x 75 cl", "150 cl", "37,5 cl", "0,75 L",
              "Magnum", "6x75cl", "300 cl"]
# units a sales line may give (built-in table of the README), and unknown ones
UNITS = ["BT", "BT", "bouteille", "75cl", "CT6", "CT12", "CS6", "caisse 6", "MAG", "MAG150",
         "magnum", "DEMI", "demi", "37,5cl", "JERO", "jéroboam"]
UNKNOWN_UNITS = ["FUT", "BIB5", "pack"]
WAREHOUSES = ["Cave principale", "Caveau Riquewihr", "Dépôt Colmar"]


def cents(x):
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# Cells: what a spreadsheet holds; CSV writes them as text


class Cell:
    """kind: 's' text, 'n' number (Decimal), 'd' date or datetime, 'p' a
    percent-formatted number (the fraction, 0.638 for 63.8 %)."""

    def __init__(self, kind, value):
        self.kind, self.value = kind, value


def T(v):
    return Cell("s", v)


class Style:
    """How one file writes numbers and dates."""

    def __init__(self, rng, fmt):
        self.fmt = fmt
        self.french = rng.random() < 0.6
        self.thousands = self.french and rng.random() < 0.5
        self.date_fmt = rng.choice(["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"])
        self.with_time = rng.random() < 0.2
        # spreadsheets: numbers as number cells, or as text like a CSV
        self.number_cells = fmt != "csv" and rng.random() < 0.8
        self.date_cells = fmt != "csv" and rng.random() < 0.7

    def number(self, d, places=2):
        """A money or quantity value as this file writes it."""
        d = Decimal(d)
        if places is not None:
            d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if self.number_cells:
            return Cell("n", d)
        return T(self.number_text(d))

    def number_text(self, d):
        text = format(d, "f")
        if not self.french:
            return text
        sign = "-" if text.startswith("-") else ""
        whole, _, frac = text.lstrip("-").partition(".")
        if self.thousands and len(whole) > 3:
            groups = []
            while len(whole) > 3:
                groups.insert(0, whole[-3:])
                whole = whole[:-3]
            whole = " ".join([whole] + groups)
        return sign + whole + ("," + frac if frac else "")

    def date(self, d):
        if self.date_cells:
            return Cell("d", d)
        text = d.strftime(self.date_fmt)
        if isinstance(d, dt.datetime):
            text += d.strftime(" %H:%M")
        return T(text)


# ---------------------------------------------------------------------------
# Writers


def csv_field(text, sep):
    if any(c in text for c in (sep, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def cell_text(cell, style):
    if cell.kind == "s":
        return cell.value
    if cell.kind == "n":
        return style.number_text(cell.value)
    if cell.kind == "p":
        return style.number_text((cell.value * 100).normalize()) + " %"
    d = cell.value
    text = d.strftime(style.date_fmt)
    if isinstance(d, dt.datetime):
        text += d.strftime(" %H:%M")
    return text


def write_csv(path, rows, style, rng):
    sep = rng.choice([";", ";", ",", "\t"])
    eol = rng.choice(["\r\n", "\n"])
    encoding = rng.choice(["utf-8", "utf-8-sig", "cp1252", "cp1252", "iso-8859-15"])
    lines = []
    if rng.random() < 0.15:
        lines += ["Export iSaVigne du %s" % dt.date(2026, 3, 31).strftime("%d/%m/%Y"), ""]
    for row in rows:
        lines.append(sep.join(csv_field(cell_text(c, style), sep) for c in row))
    data = eol.join(lines) + (eol if rng.random() < 0.9 else "")
    with open(path, "wb") as f:
        f.write(data.encode(encoding))


# cellXfs: 0 general, 1 date (builtin 14), 2 money (custom 164), 3 percent
# (builtin 10, 0.00%), 4 percent (custom 165, 0.0 %), 5 date and time (builtin 22)
XLSX_STYLES = (
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="#,##0.00"/>'
    '<numFmt numFmtId="165" formatCode="0.0\\ %"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6"><xf numFmtId="0" xfId="0"/>'
    '<xf numFmtId="14" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="10" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="22" xfId="0" applyNumberFormat="1"/></cellXfs>')


def write_xlsx(path, rows, style, rng):
    strings, index, body = [], {}, []
    for r, row in enumerate(rows, 1):
        cells = []
        for c, cell in enumerate(row):
            ref = "%s%d" % (col_name(c), r)
            if cell.kind == "s":
                if cell.value == "":
                    continue
                if rng.random() < 0.1:
                    cells.append('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>'
                                 % (ref, xml_escape(cell.value)))
                    continue
                if cell.value not in index:
                    index[cell.value] = len(strings)
                    strings.append(cell.value)
                cells.append('<c r="%s" t="s"><v>%d</v></c>' % (ref, index[cell.value]))
            elif cell.kind == "n":
                cells.append('<c r="%s"%s><v>%s</v></c>'
                             % (ref, ' s="2"' if rng.random() < 0.5 else "", cell.value))
            elif cell.kind == "p":
                cells.append('<c r="%s" s="%d"><v>%s</v></c>'
                             % (ref, rng.choice([3, 4]), cell.value))
            else:
                d = cell.value
                day = (d.date() if isinstance(d, dt.datetime) else d) - EXCEL_EPOCH
                serial = Decimal(day.days)
                if isinstance(d, dt.datetime):
                    serial += Decimal(d.hour * 60 + d.minute) / Decimal(1440)
                    serial = serial.quantize(Decimal("0.0000000001"))
                cells.append('<c r="%s" s="%d"><v>%s</v></c>'
                             % (ref, 5 if isinstance(d, dt.datetime) else 1, serial))
        body.append('<row r="%d">%s</row>' % (r, "".join(cells)))
    decl = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    parts = [
        ("[Content_Types].xml", decl +
         '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
         '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
         '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
         '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
         '</Types>'),
        ("_rels/.rels", decl + '<Relationships xmlns="%s"><Relationship Id="rId1" '
         'Type="%s/officeDocument" Target="xl/workbook.xml"/></Relationships>' % (NS_PKG, NS_REL)),
        ("xl/workbook.xml", decl + '<workbook xmlns="%s" xmlns:r="%s"><sheets><sheet name="Export" '
         'sheetId="1" r:id="rId1"/></sheets></workbook>' % (NS_MAIN, NS_REL)),
        ("xl/_rels/workbook.xml.rels", decl + '<Relationships xmlns="%s">'
         '<Relationship Id="rId1" Type="%s/worksheet" Target="worksheets/sheet1.xml"/>'
         '<Relationship Id="rId2" Type="%s/styles" Target="styles.xml"/>'
         '<Relationship Id="rId3" Type="%s/sharedStrings" Target="sharedStrings.xml"/>'
         '</Relationships>' % (NS_PKG, NS_REL, NS_REL, NS_REL)),
        ("xl/styles.xml", decl + '<styleSheet xmlns="%s">%s</styleSheet>' % (NS_MAIN, XLSX_STYLES)),
        ("xl/sharedStrings.xml", decl + '<sst xmlns="%s" uniqueCount="%d">%s</sst>' % (
            NS_MAIN, len(strings),
            "".join('<si><t xml:space="preserve">%s</t></si>' % xml_escape(s) for s in strings))),
        ("xl/worksheets/sheet1.xml", decl + '<worksheet xmlns="%s"><sheetData>%s</sheetData>'
         '</worksheet>' % (NS_MAIN, "".join(body))),
    ]
    with zipfile.ZipFile(path, "w") as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=(2026, 3, 15, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))


def write_xls(path, rows, style, rng):
    import xlwt  # python3-xlwt (Debian)
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Export")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    datetime_style = xlwt.easyxf(num_format_str="DD/MM/YYYY HH:MM")
    money_style = xlwt.easyxf(num_format_str="#,##0.00")
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell.kind == "s":
                if cell.value != "":
                    sheet.write(r, c, cell.value)
            elif cell.kind == "n":
                value = int(cell.value) if cell.value == cell.value.to_integral() else float(
                    cell.value)
                if rng.random() < 0.5:
                    sheet.write(r, c, value, money_style)
                else:
                    sheet.write(r, c, value)
            elif cell.kind == "p":  # FreeXL does not say a cell is a percent: text
                sheet.write(r, c, cell_text(cell, style))
            else:
                sheet.write(r, c, cell.value,
                            datetime_style if isinstance(cell.value, dt.datetime) else date_style)
    book.save(path)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "xls": write_xls}


# ---------------------------------------------------------------------------
# Content


class Export:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        rng = self.rng
        self.dialect = rng.choice(["A", "A", "B", "B", "C"])
        self.cols = DIALECTS[self.dialect]
        self.present = {}
        for table, optional in OPTIONAL.items():
            names = [f for f in self.cols[table] if f in optional or f not in OPTIONAL[table]]
            keep = [f for f in names if f not in optional or rng.random() < 0.75]
            self.present[table] = keep
        # each sales file has a margin written one way, sometimes mixed
        self.margin_kind = rng.choice(["amount", "amount", "percent", "mixed"])
        self.bad_rate = rng.choice([0.0, 0.03, 0.08])
        self.today = dt.date.today()

    def fmt(self):
        return self.rng.choice(["csv", "csv", "csv", "xlsx", "xls"])

    def products(self, style):
        rng, seed = self.rng, self.seed
        out = []
        for i in range(rng.randint(3, 9)):
            base, name, colour, family, grapes, region = rng.choice(WINES)
            code = "%s %d %d" % (base, seed, i) if " " in base else "%s-%d-%d" % (base, seed, i)
            vintage = rng.choice(["2019", "2020", "2021", "2022", "2023", "NV", "Millésime 2018"])
            if rng.random() < self.bad_rate:
                vintage = "20xx"
            ttc = cents(Decimal(rng.randint(690, 12000)) / 100)
            pack = rng.choice(PACKAGINGS)
            p = {"code": code, "name": "%s %s" % (name, "" if vintage == "NV" else vintage[-4:]),
                 "vintage": vintage, "colour": colour, "family": family,
                 "price_ttc": style.number(ttc), "cost": style.number(ttc / 4),
                 "grapes": grapes, "region": region, "packaging": pack, "pack": ""}
            if rng.random() < 0.3 and "x" not in pack:
                p["pack"] = rng.choice(["1", "6", "12"])
            if rng.random() < 0.15:
                p["packaging"] = ""
            out.append(p)
        return out

    def customers(self, style):
        rng, seed = self.rng, self.seed
        out = []
        for i in range(rng.randint(3, 10)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            zipc, city, country = rng.choice(CITIES)
            email = "%s.%s%d@%s" % (first.lower()[0], "x" if not last.isascii() else last.lower(),
                                    i, rng.choice(["orange.fr", "gmail.com", "free.fr"]))
            if rng.random() < self.bad_rate * 2:
                email = email.replace("@", "@@")
            phone = "03 89 %02d %02d %02d" % (rng.randint(10, 99), rng.randint(10, 99), i)
            if rng.random() < 0.3:
                phone = "+33 3 89 %02d %02d %02d" % (rng.randint(10, 99), rng.randint(10, 99), i)
            out.append({"code": "C%d-%03d" % (seed, i), "last": "  %s " % last
                        if rng.random() < 0.2 else last, "first": first, "email": email,
                        "phone": phone, "mobile": "06 %02d %02d %02d %02d" % (
                            i, rng.randint(10, 99), rng.randint(10, 99), rng.randint(10, 99)),
                        "address": "%d rue des Vignes" % rng.randint(1, 40), "zip": zipc,
                        "city": city, "country": country})
        return out

    def sales(self, style, customers, products):
        rng, seed = self.rng, self.seed
        rows = []
        ndocs = rng.randint(3, 14)
        for n in range(ndocs):
            credit = rng.random() < 0.12
            doc = ("AV-%d-%d" if credit else "FA-%d-%d") % (seed, n)
            doctype = rng.choice(["Avoir", "avoir", "AV"] if credit
                                 else ["Facture", "Facture", "facture", "FA", "Ticket"])
            cust = rng.choice(customers)["code"] if customers else "C%d-999" % seed
            day = self.today - dt.timedelta(days=rng.randint(1, 1100))
            when = day
            if style.with_time:
                when = dt.datetime(day.year, day.month, day.day, rng.randint(8, 19),
                                   rng.choice([0, 15, 30, 45]))
            for line in range(1, rng.randint(2, 5)):
                p = rng.choice(products) if products else {"code": "X-%d" % seed}
                qty = rng.randint(1, 24) * (-1 if credit else 1)
                pu = cents(Decimal(rng.randint(500, 9000)) / 100)
                total = cents(qty * pu)
                cost = cents(total * Decimal(rng.randint(25, 70)) / 100)
                margin_amount = total - cost
                kind = self.margin_kind
                if kind == "mixed":
                    kind = rng.choice(["amount", "percent"])
                if kind == "percent" and total:
                    pct = (margin_amount * 100 / total).quantize(Decimal("0.1"),
                                                                 rounding=ROUND_HALF_UP)
                    if style.number_cells and style.fmt == "xlsx" and rng.random() < 0.7:
                        margin = Cell("p", (pct / 100).normalize())
                    else:
                        margin = T(style.number_text(pct) + rng.choice([" %", "%", "\u00a0%"]))
                else:
                    margin = style.number(margin_amount)
                unit = rng.choice(UNITS)
                if rng.random() < 0.15:
                    unit = ""
                r = {"customer": cust, "date": style.date(when), "doctype": doctype,
                     "doc": doc, "line": str(line), "product": p["code"]
                     if rng.random() < 0.8 else p["code"].upper(),
                     "label": "Vin; remise 5 %" if rng.random() < 0.1 else "vin",
                     "qty": style.number(qty, 0), "unit": unit, "pu": style.number(pu),
                     "total": style.number(total), "total_ttc": style.number(cents(total * Decimal("1.2"))),
                     "margin": margin}
                rows.append(self.spoil(r, style, credit))
        # duplicate lines: the same document line again, later in the file
        for _ in range(rng.choice([0, 0, 1, 2])):
            if rows:
                dup = dict(rng.choice(rows))
                dup["pu"] = style.number(Decimal(rng.randint(500, 9000)) / 100)
                rows.append(dup)
        return rows

    def spoil(self, r, style, credit):
        """Makes a line bad, at the export's bad-line rate."""
        rng = self.rng
        if rng.random() >= self.bad_rate * 3:
            return r
        what = rng.choice(["date", "sign", "nokey", "width", "unit", "qty", "price",
                           "customer", "product"])
        if what == "date":
            r["date"] = T(rng.choice(["31/02/2025", "2025-13-01", "30.02.2024", "hier"]))
        elif what == "sign":  # a quantity whose sign contradicts the document type
            r["qty"] = style.number(Decimal(rng.randint(1, 5)) * (1 if credit else -1), 0)
        elif what == "nokey":
            r["doc" if rng.random() < 0.5 else "line"] = ""
        elif what == "width":
            r["_extra"] = ["x", "y"]
        elif what == "unit":
            r["unit"] = rng.choice(UNKNOWN_UNITS)
        elif what == "qty":
            r["qty"] = T(rng.choice(["douze", "n/a"]))
        elif what == "price":
            r["pu"] = T("n/a")
        elif what == "customer":
            r["customer"] = "C%d-999" % self.seed
        elif what == "product":
            r["product"] = "INCONNU-%d" % self.seed
        return r

    def stock(self, style, products):
        rng = self.rng
        out = []
        for p in products:
            for wh in rng.sample(WAREHOUSES, rng.randint(0, 2)):
                out.append({"product": p["code"], "warehouse": wh,
                            "qty": style.number(rng.randint(0, 600), 0),
                            "unit": rng.choice(["BT", "CT6", "BT", ""]),
                            "date": style.date(self.today - dt.timedelta(days=rng.randint(1, 90)))})
        return out

    def write_table(self, folder, table, records, style):
        fields = self.present[table]
        header = [T(self.cols[table][f]) for f in fields]
        rows = [header]
        for rec in records:
            row = []
            for f in fields:
                v = rec.get(f, "")
                row.append(v if isinstance(v, Cell) else T(v))
            if style.fmt == "csv" and rec.get("_extra"):
                row += [T(x) for x in rec["_extra"]]
            rows.append(row)
        name = "%s_%d.%s" % (self.cols["files"][table], self.seed, style.fmt)
        WRITERS[style.fmt](os.path.join(folder, name), rows, style, self.rng)
        return name

    def write(self, folder, version=1):
        """Writes the export; version 2 is a later full snapshot of the same
        data: the last product and the last customer (with their lines)
        gone, every fourth sales line gone, the first stock row gone."""
        os.makedirs(folder, exist_ok=True)
        styles = {t: Style(self.rng, self.fmt()) for t in ("products", "customers", "sales", "stock")}
        products = self.products(styles["products"])
        customers = self.customers(styles["customers"])
        sales = self.sales(styles["sales"], customers, products)
        stock = self.stock(styles["stock"], products) if self.rng.random() < 0.7 else None
        if version == 2:
            if len(products) > 1:
                products = products[:-1]
            if len(customers) > 1:
                gone = customers[-1]["code"]
                customers = customers[:-1]
                sales = [r for r in sales if r["customer"] != gone]
            sales = [r for i, r in enumerate(sales) if i % 4 != 3]
            stock = stock[1:] if stock else stock
        files = {}
        files["products"] = self.write_table(folder, "products", products, styles["products"])
        files["customers"] = self.write_table(folder, "customers", customers, styles["customers"])
        files["sales"] = self.write_table(folder, "sales", sales, styles["sales"])
        if stock is not None:
            files["stock"] = self.write_table(folder, "stock", stock, styles["stock"])
        settings = {}
        if self.dialect == "C":
            path = os.path.join(folder, "..", "mapping_%d.ini" % self.seed)
            with open(path, "w") as f:
                f.write(MAPPING_C)
            settings["mapping"] = os.path.abspath(path)
        # every fourth export is a full snapshot (its version 2 removes rows)
        if self.seed % 4 == 0:
            settings["full_snapshot"] = "true"
        return {"seed": self.seed, "dialect": self.dialect, "files": files,
                "formats": {t: s.fmt for t, s in styles.items()}, "settings": settings,
                "columns": {t: list(v) for t, v in self.present.items()}}


def generate(seed, folder, version=1):
    """Writes the export of `seed` into folder (created); returns its
    description: dialect, files, formats, settings (a mapping file for
    the third dialect, written beside the folder; full_snapshot for every
    fourth seed). version 2: a later full snapshot with rows gone."""
    return Export(seed).write(folder, version)


if __name__ == "__main__":
    import json
    import sys
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/vd-export-%d/export" % seed
    version = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    print(json.dumps(generate(seed, out, version), indent=1))
