"""The reference model: what vendange must load from an iSaVigne export.

A second reading of the contract, written from SPEC.md and the README's
Interpretations only (never from the C code), as plainly as possible:

    expect(folder, mapping_text=None, vat=Decimal(20), today=None) -> Expected

reads every export file of the folder (CSV, XLSX, XLS) the way the
contract describes, and computes the canonical rows of each table (key ->
{column: value}), the rejects (file, line, reason), the warnings (file,
line, field), per file the values that were derived, and the customer
aggregates. Values are Python values: Decimal for numbers, date, bool,
list of str, str, None.

Where the contract leaves a choice open, the README's Interpretations say
what is chosen; each such place is marked "README:" below.
"""
import csv
import datetime as dt
import fnmatch
import io
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ---------------------------------------------------------------------------
# The built-in mapping: SPEC.md "Sources" (both dialects), with the
# normalizer's input names of the README (extractor-isavigne --print-mapping)

BUILTIN_MAPPING = """
[product_catalog]
files = *produit*
code = article | produit_key
name = produit | nom
vintage = millesime
colour = couleur | famille_crm
family = sous_famille
macro_category = macro_categorie
list_price_incl_vat = prix_ttc | prix
cost_price = cout
grapes = cepages
region = region
volume = contenance
pack_size = colisage

[customers]
files = *client*
customer_code = client_code | code_client
last_name = nom
first_name = prenom
email = email
phone = telephone
mobile = mobile
address = adresse
zip_code = code_postal
city = ville
country = pays

[stock_levels]
files = *stock*
product_code = article | produit_key
warehouse = entrepot
quantity_units = quantite
unit = unite
last_count_date = date_inventaire

[sales_lines]
files = *vente*
customer_code = client_code | code_client
date_sale = date_livraison | date
document_type = document_type
document_no = document_no
line_no = order_detail_no | num_ligne
product_code = article | produit_key
quantity_units = qty_line | quantite
unit = unite
price_unit = pu_ht | prix_unitaire
price_total = mt_ht
price_total_incl_vat = mt_ttc
margin = marge
"""

KEY_COLUMN = {"product_catalog": "product_key", "customers": "customer_key",
              "sales_lines": "sale_line_key", "stock_levels": "stock_key"}
TABLE_ORDER = ["product_catalog", "customers", "stock_levels", "sales_lines"]
KEY_PARTS = {"product_catalog": ["code"], "customers": ["customer_code"],
             "sales_lines": ["document_no", "line_no"],
             "stock_levels": ["product_code", "warehouse"]}

# README Interpretations, "Document types" (one list, SPEC: credit notes)
INVOICE_WORDS = ["facture", "factures", "invoice", "fa", "ticket", "vente", "bl",
                 "bon de livraison", "livraison"]
CREDIT_WORDS = ["avoir", "avoirs", "av", "credit", "retour", "remboursement", "refund"]

# README "Unit table file": built-in units, in 75 cl bottle equivalents
UNITS = {"bottle": 1, "bouteille": 1, "bt": 1, "75cl": 1, "demi": Decimal("0.5"),
         "375cl": Decimal("0.5"), "magnum": 2, "mag": 2, "mag150": 2, "jeroboam": 4, "jero": 4,
         "ct6": 6, "cs6": 6, "caisse6": 6, "carton6": 6, "ct12": 12, "cs12": 12, "caisse12": 12,
         "carton12": 12}


def parse_mapping(text):
    """{table: {"files": [patterns], "fields": [(input, [columns])]}}"""
    tables, cur = {}, None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            cur = tables.setdefault(line.strip("[]").strip(), {"files": [], "fields": []})
            continue
        key, _, value = line.partition("=")
        items = [v.strip() for v in value.split("|") if v.strip()]
        if key.strip() == "files":
            cur["files"] += [i.lower() for i in items]
        else:
            cur["fields"].append((key.strip(), [column_name(i) for i in items]))
    return tables


# ---------------------------------------------------------------------------
# Text rules (SPEC "Normalisation rules")


def strip_accents(s):
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def column_name(s):
    """`Code Client` -> `code_client`: lower case, accents removed, spaces
    and dashes (any other character) to `_`."""
    s = strip_accents(s.strip().lower())
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def clean(s):
    """Trimmed, inner white space collapsed; None when empty."""
    if s is None:
        return None
    s = " ".join(s.split())
    return s or None


def fold(s):
    s = clean(s)
    return strip_accents(s).lower() if s else None


def code_key(s):
    """Product key: upper case, accents removed, runs of other characters
    to one `-`, none at either end."""
    if s is None:
        return None
    s = re.sub(r"[^A-Z0-9]+", "-", strip_accents(s).upper()).strip("-")
    return s or None


class Bad(Exception):
    pass


def number(s):
    """French (`1 234,50`, `12,5 %`) or plain (`1234.50`) -> Decimal; None
    when empty; Bad when not a number."""
    s = clean(s)
    if s is None:
        return None
    t = s.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if t.endswith("%") or t.endswith("€"):
        t = t[:-1]
    if "," in t and "." in t:
        dec = "," if t.rfind(",") > t.rfind(".") else "."
        t = t.replace("." if dec == "," else ",", "").replace(dec, ".")
    elif "," in t:
        if t.count(",") > 1:
            raise Bad("not a number")
        t = t.replace(",", ".")
    elif t.count(".") > 1:
        if not re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+", t):
            raise Bad("not a number")
        t = t.replace(".", "")
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)", t):
        raise Bad("not a number")
    return Decimal(t)


def is_number(s):
    try:
        return number(s) is not None
    except Bad:
        return False


def is_percent(s):
    """README: a value written with `%` (a percent-formatted spreadsheet
    cell is read as such) is a percentage."""
    return s is not None and "%" in s


DATE_RES = [(re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})"), "dmy"),
            (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), "ymd")]


def date(s):
    """dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, yyyy-mm-dd, with an optional time."""
    s = clean(s)
    if s is None:
        return None
    m = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?", s)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(3)), int(m.group(4))
    else:
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?", s)
        if not m:
            raise Bad("invalid date")
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise Bad("invalid date")


def email(s):
    """(lower-cased email, valid)"""
    s = clean(s)
    if s is None:
        return None, True
    s = s.lower()
    # README: an address is ASCII (a local part with accents is invalid)
    return s, s.isascii() and re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", s) is not None


def phone(s):
    """Digits and a leading +."""
    s = clean(s)
    if s is None:
        return None
    if re.search(r"[A-Za-z]", s) or not re.search(r"\d", s):
        raise Bad("invalid phone number")
    digits = re.sub(r"\D", "", s)
    return ("+" if s.startswith("+") else "") + digits


def round_to(d, places):
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def scale(d):
    return max(0, -d.as_tuple().exponent)


def money_scale(d):
    """README: derived money is rounded to the cent, or to the input's
    precision when finer."""
    return max(2, scale(d))


def volume_cl(s):
    """`75 cl`, `0,75 L`, `150 cl`, `Magnum`, `6 x 75 cl` -> (volume in cl,
    pack size). README: `6 x 75 cl` is a carton of six 75 cl bottles."""
    t = fold(s)
    if t is None:
        return None, None
    pack = 1
    m = re.fullmatch(r"(\d+)\s*x\s*(.+)", t)
    if m:
        pack, t = int(m.group(1)), m.group(2).strip()
    names = {"magnum": Decimal(150), "demi": Decimal("37.5"), "jeroboam": Decimal(300),
             "bouteille": Decimal(75)}
    if t in names:
        return names[t], pack
    m = re.fullmatch(r"([\d.,]+)\s*(cl|l|ml)?", t)
    if not m:
        raise Bad("unreadable volume")
    v = number(m.group(1))
    unit = m.group(2) or ("l" if v <= 10 else "cl")
    factor = {"cl": Decimal(1), "l": Decimal(100), "ml": Decimal("0.1")}[unit]
    return v * factor, pack


def unit_factor(unit):
    """The unit table (README): names compared without accents, case,
    spaces, dots and dashes."""
    k = re.sub(r"[\s.\-]", "", strip_accents(unit).lower())
    k = k.replace(",", "")
    return UNITS.get(k)


def document_sign(doctype):
    t = fold(doctype)
    if t is None:
        return 0
    words = re.findall(r"[a-z0-9]+", t)
    text = " ".join(words)
    for w in CREDIT_WORDS:
        if re.search(r"\b%s\b" % re.escape(w), text):
            return -1
    for w in INVOICE_WORDS:
        if re.search(r"\b%s\b" % re.escape(w), text):
            return 1
    return 0


def category(*texts):
    texts = [fold(t) for t in texts if fold(t)]
    if not texts:
        return None
    for t in texts:
        if re.search(r"\b(cremant|champagne|mousseux|effervescent|sparkling)\b", t):
            return "mousseux"
    for t in texts:
        for word, cat in (("petillant", "petillant"), ("rose", "rose"), ("rouge", "rouge"),
                          ("blanc", "blanc"), ("fortifie", "fortifie")):
            if re.search(r"\b%s\b" % word, t):
                return cat
    return "autre"


def segment_of_price(incl):
    return ("entry" if incl < 15 else "standard" if incl < 30 else "premium" if incl < 75
            else "luxury")


def vintage(s):
    t = fold(s)
    if t is None or t in ("nv", "n.v.", "non millesime", "sans millesime"):
        return None
    years = re.findall(r"(?<!\d)\d{4}(?!\d)", t)
    if len(years) != 1 or re.search(r"\d", re.sub(r"(?<!\d)\d{4}(?!\d)", "", t)) \
            or not 1900 <= int(years[0]) <= 2100:
        raise Bad("unreadable vintage")
    return int(years[0])


# ---------------------------------------------------------------------------
# Reading the files


def fmt15(x):
    """A spreadsheet number as text: 15 significant digits, no exponent."""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return format(Decimal(format(x, ".15g")), "f")


def excel_date(serial):
    day = dt.date(1899, 12, 30) + dt.timedelta(days=int(serial))
    return day.isoformat()


def csv_variants(path):
    """[(separator, [(line, fields)])] for each separator (`;` `,` tab);
    README: encoding (UTF-8 with or without BOM, else Windows-1252) and
    separator are detected."""
    raw = open(path, "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        text = raw[3:].decode("utf-8")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
    lines = text.splitlines()
    out = []
    for sep in (";", ",", "\t"):
        out.append((sep, [(i, next(csv.reader([line], delimiter=sep, quotechar='"'), []))
                          for i, line in enumerate(lines, 1)]))
    return out


def read_xlsx(path):
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    z = zipfile.ZipFile(path)
    strings = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns):
            strings.append("".join(t.text or "" for t in si.iter("{%s}t" % ns["m"])))
    styles = ET.fromstring(z.read("xl/styles.xml"))
    custom = {int(f.get("numFmtId")): f.get("formatCode")
              for f in styles.iter("{%s}numFmt" % ns["m"])}
    kinds = []
    xfs = styles.find("m:cellXfs", ns)
    for xf in (xfs if xfs is not None else []):
        fid = int(xf.get("numFmtId", "0"))
        code = custom.get(fid, "")
        if fid in (9, 10) or "%" in re.sub(r'"[^"]*"', "", code):
            kinds.append("percent")
        elif 14 <= fid <= 22 or 45 <= fid <= 47 or re.search(r"[dmyh]", re.sub(
                r'"[^"]*"|\[[^]]*\]', "", code), re.I):
            kinds.append("date")
        else:
            kinds.append("number")
    sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter("{%s}row" % ns["m"]):
        r = int(row.get("r"))
        cells = {}
        for c in row.findall("m:c", ns):
            ref = c.get("r")
            col = 0
            for ch in re.match(r"[A-Z]+", ref).group(0):
                col = col * 26 + ord(ch) - 64
            t = c.get("t")
            v = c.find("m:v", ns)
            if t == "s":
                text = strings[int(v.text)]
            elif t == "inlineStr":
                text = "".join(x.text or "" for x in c.iter("{%s}t" % ns["m"]))
            elif v is None:
                text = ""
            else:
                x = float(v.text)
                kind = kinds[int(c.get("s", "0"))]
                if kind == "date":
                    text = excel_date(x)
                elif kind == "percent":
                    text = fmt15(x * 100) + " %"
                else:
                    text = fmt15(x)
            cells[col - 1] = text
        width = max(cells) + 1 if cells else 0
        rows.append((r, [cells.get(i, "") for i in range(width)]))
    return rows


def read_xls(path):
    import xlrd  # python3-xlrd (Debian)
    book = xlrd.open_workbook(path)
    sheet = book.sheet_by_index(0)
    rows = []
    for r in range(sheet.nrows):
        out = []
        for c in range(sheet.ncols):
            cell = sheet.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_TEXT:
                out.append(cell.value)
            elif cell.ctype == xlrd.XL_CELL_NUMBER:
                out.append(fmt15(cell.value))
            elif cell.ctype == xlrd.XL_CELL_DATE:
                out.append(excel_date(cell.value))
            else:
                out.append("")
        while out and out[-1] == "":
            out.pop()
        rows.append((r + 1, out))
    return rows


# ---------------------------------------------------------------------------
# The model


class Expected:
    def __init__(self):
        self.rows = {t: {} for t in TABLE_ORDER}
        self.rejects = []      # (file, line, reason)
        self.warnings = []     # (file, line, field)
        self.extracted = {t: 0 for t in TABLE_ORDER}
        self.unchanged = {t: 0 for t in TABLE_ORDER}
        self.derived = {}      # file -> sorted list of derived columns
        self.unit_unknown = {}  # file -> lines without a unit nobody knows
        self.present = {}       # table -> keys of every line read (rejected ones too)
        self.files_read = {}    # table -> files read
        self.table_files = {}   # table -> names of its files
        self.deleted = {t: 0 for t in TABLE_ORDER}


def blank(fields):
    return all(not f.strip() for f in fields)


def find_header(rows, table_map):
    """README: the header is the first row (of the first 10 non-blank)
    that maps at least two columns, including every key part."""
    seen = 0
    for idx, (line, fields) in enumerate(rows):
        if blank(fields):
            continue
        seen += 1
        if seen > 10:
            return None
        names = [column_name(f) for f in fields]
        cols = {}
        for inp, columns in table_map["fields"]:
            for c in columns:
                if c in names:
                    cols[inp] = names.index(c)
                    break
        if len(cols) >= 2:
            return idx, cols, len(fields)
    return None


def records(path, table, table_map):
    """(line, {input: text} or None, reject reason, {input: text} of the
    fields there are, for a line rejected for its field count)"""
    ext = os.path.splitext(path)[1].lower()
    variants = csv_variants(path) if ext in (".csv", ".txt") else \
        [(None, read_xlsx(path) if ext == ".xlsx" else read_xls(path))]
    best = None
    for sep, rows in variants:
        found = find_header(rows, table_map)
        if found and (best is None or len(found[1]) > len(best[2][1])):
            best = (sep, rows, found)
    if best is None:
        return
    sep, rows, (idx, cols, width) = best
    if not all(p in cols for p in KEY_PARTS[table]):
        return
    for line, fields in rows[idx + 1:]:
        if blank(fields):
            continue
        partial = {inp: fields[i] for inp, i in cols.items() if i < len(fields)}
        if sep is not None and len(fields) != width:
            yield line, None, "wrong field count", partial
            continue
        if sep is None and any(f.strip() for f in fields[width:]):
            yield line, None, "wrong field count", partial
            continue
        fields = fields + [""] * (width - len(fields))
        yield line, {inp: fields[i] for inp, i in cols.items()}, None, partial


class Model:
    def __init__(self, vat=Decimal(20), today=None):
        self.vat = Decimal(1) + Decimal(vat) / 100
        self.today = today or dt.date.today()
        self.packaging = {}  # product key -> packaging text of its product file
        # rows already in the database (an earlier export): references to
        # them are not unknown, even when this export no longer has them
        self.known = {t: {} for t in TABLE_ORDER}

    def expect(self, folder, mapping_text=None):
        mapping = parse_mapping(mapping_text or BUILTIN_MAPPING)
        out = Expected()
        files = {t: [] for t in TABLE_ORDER}
        for name in sorted(os.listdir(folder)):
            ext = os.path.splitext(name)[1].lower()
            if name.startswith(".") or ext not in (".csv", ".txt", ".xlsx", ".xls"):
                continue
            for table in mapping:
                if any(fnmatch.fnmatch(name.lower(), p) for p in mapping[table]["files"]):
                    files[table].append(name)
                    break
        order = [t for t in mapping]  # README: tables in the mapping's order
        # README: the product file of the export gives every line its packaging
        for name in files.get("product_catalog", []):
            for line, rec, _, _ in records(os.path.join(folder, name), "product_catalog",
                                        mapping["product_catalog"]):
                if rec and code_key(rec.get("code")):
                    pack = clean(rec.get("volume"))
                    size = clean(rec.get("pack_size"))
                    if pack and size and size != "1" and not re.match(r"\d+\s*x", fold(pack)):
                        pack = "%s x %s" % (size, pack)
                    self.packaging[code_key(rec.get("code"))] = pack
        for table in order:
            for name in files[table]:
                self.load_file(out, table, name,
                               list(records(os.path.join(folder, name), table, mapping[table])))
        self.aggregates(out)
        return out

    def load_file(self, out, table, name, recs):
        batch = {}
        derived = set()
        self.unknown_unit = []
        for line, rec, reason, partial in recs:
            key = self.key_of(table, partial)
            if key:
                out.present.setdefault(table, set()).add(key)
        out.files_read.setdefault(table, 0)
        out.files_read[table] += 1
        out.table_files.setdefault(table, set()).add(name)
        checked = []  # every line loaded or superseded: references are checked
        for line, rec, reason, _ in recs:
            self.line = line
            out.extracted[table] += 1
            if rec is None:
                out.rejects.append((name, line, reason))
                continue
            warnings = []
            try:
                row = getattr(self, "row_" + table)(rec, warnings, derived, out, name, line)
            except Bad as e:
                out.rejects.append((name, line, str(e)))
                continue
            key = row["key"]
            if key in batch:
                # README: the later line wins, the earlier counts as unchanged
                out.unchanged[table] += 1
                out.warnings.append((name, batch[key][0], KEY_COLUMN[table]))
            batch[key] = (line, row, warnings)
            checked.append((line, row))
            for field in warnings:
                out.warnings.append((name, line, field))
        for key, (line, row, warnings) in batch.items():
            out.rows[table][key] = row
        # README: a reference to a customer or product not loaded is a
        # warning, on every line read (a superseded duplicate too)
        for line, row in checked:
            if table in ("sales_lines", "stock_levels"):
                if row.get("customer_key") and row["customer_key"] not in out.rows["customers"] \
                        and row["customer_key"] not in self.known["customers"]:
                    out.warnings.append((name, line, "customer_key"))
                if row.get("product_key") and row["product_key"] not in out.rows["product_catalog"] \
                        and row["product_key"] not in self.known["product_catalog"]:
                    out.warnings.append((name, line, "product_key"))
        # README: the run says once per file which values its lines derived
        # (every line read, a line rejected later included)
        derived = set()
        for line, rec, _, _ in recs:
            if rec is None or table not in ("sales_lines", "stock_levels"):
                continue
            if not clean(rec.get("unit")) and self.readable_packaging(
                    code_key(rec.get("product_code"))):
                derived.add("unit")
            if table == "sales_lines" and not is_number(rec.get("price_total")) and (
                    is_number(rec.get("price_total_incl_vat")) or (
                        is_number(rec.get("quantity_units")) and is_number(rec.get("price_unit")))):
                derived.add("price_total")
        if derived:
            out.derived[name] = sorted(derived)
        # README: lines read without a unit whose product has no readable
        # packaging: one summary per file (rejected lines included)
        if table in ("sales_lines", "stock_levels"):
            lines = [line for line, rec, _, _ in recs if rec is not None
                     and not clean(rec.get("unit")) and not self.readable_packaging(
                         code_key(rec.get("product_code")))]
            if lines:
                out.unit_unknown[name] = lines

    # --- one function per table: {input: text} -> row; Bad rejects

    def optional(self, fn, value, field, warnings):
        try:
            return fn(value)
        except Bad:
            warnings.append(field)
            return None

    def money(self, excl, incl):
        if excl is not None:
            return excl
        if incl is not None:
            return round_to(incl / self.vat, money_scale(incl))
        return None

    def row_product_catalog(self, rec, warnings, derived, out, name, line):
        key = code_key(rec.get("code"))
        if not key:
            raise Bad("missing or unusable code")
        incl = self.optional(number, rec.get("list_price_incl_vat"), "list_price", warnings)
        excl = self.optional(number, rec.get("list_price"), "list_price", warnings)
        list_price = self.money(excl, incl)
        shown = incl if incl is not None else (round_to(excl * self.vat, 2)
                                               if excl is not None else None)
        try:
            volume, pack = volume_cl(rec.get("volume"))
        except Bad:
            warnings.append("volume_cl")
            volume, pack = None, None
        size = self.optional(number, rec.get("pack_size"), "pack_size", warnings)
        grapes = [g for g in (clean(x) for x in re.split(r"[,;/+]| et ", rec.get("grapes") or ""))
                  if g]
        return {"key": key, "product_key": key, "source": "isavigne", "source_id": key,
                "name": clean(rec.get("name")),
                "category": category(rec.get("colour"), rec.get("family"),
                                     rec.get("macro_category")),
                "price_segment": segment_of_price(shown) if shown is not None else None,
                "list_price": list_price,
                "cost_price": self.optional(number, rec.get("cost_price"), "cost_price", warnings),
                "grapes": grapes or None,
                "vintage": self.optional(vintage, rec.get("vintage"), "vintage", warnings),
                "region": clean(rec.get("region")), "volume_cl": volume,
                # a pack size column wins; else the N of "N x 75 cl"
                "pack_size": size if size is not None else pack,
                "active": True}

    def row_customers(self, rec, warnings, derived, out, name, line):
        code = clean(rec.get("customer_code"))
        if not code:
            raise Bad("missing or unusable customer_code")
        mail, valid = email(rec.get("email"))
        if not valid:
            warnings.append("email")
        return {"key": "isavigne-" + code, "customer_key": "isavigne-" + code,
                "source": "isavigne", "source_id": code,
                "first_name": clean(rec.get("first_name")),
                "last_name": clean(rec.get("last_name")), "email": mail,
                "email_invalid": not valid,
                "phone": self.optional(phone, rec.get("phone"), "phone", warnings),
                "mobile": self.optional(phone, rec.get("mobile"), "mobile", warnings),
                "address": clean(rec.get("address")), "zip_code": clean(rec.get("zip_code")),
                "city": clean(rec.get("city")), "country": clean(rec.get("country")),
                "email_opt_out": False, "sms_opt_out": False, "active": True}

    def quantity(self, rec, doctype):
        try:
            qty = number(rec.get("quantity_units"))
        except Bad:
            raise Bad("not a number in quantity_units")
        if qty is None:
            raise Bad("missing quantity_units")
        sign = document_sign(doctype)
        if sign > 0 and qty < 0:
            raise Bad("negative quantity on an invoice")
        if sign < 0 and qty > 0:
            raise Bad("positive quantity on a credit note")
        return qty

    def key_of(self, table, rec):
        """The row key of a line as read (None when its key is unusable)."""
        if table == "product_catalog":
            return code_key(rec.get("code"))
        if table == "customers":
            code = clean(rec.get("customer_code"))
            return "isavigne-" + code if code else None
        if table == "sales_lines":
            doc, no = clean(rec.get("document_no")), clean(rec.get("line_no"))
            return "isavigne-%s-%s" % (doc, no) if doc and no else None
        product, wh = code_key(rec.get("product_code")), clean(rec.get("warehouse"))
        return "isavigne-%s-%s" % (product, wh) if product and wh else None

    def readable_packaging(self, product_key):
        try:
            return volume_cl(self.packaging.get(product_key))[0] is not None
        except Bad:
            return False

    def bottles(self, qty, unit, product_key, warnings, derived):
        """(unit, 75 cl equivalents). README: a line without a unit takes
        its product's packaging; else the 75 cl equivalent stays empty."""
        if clean(unit):
            factor = unit_factor(clean(unit))
            if factor is None:
                warnings.append("quantity_bottles_75cl_eq")
                return fold(unit), None
            return fold(unit), qty * factor
        pack = self.packaging.get(product_key)
        if pack:
            try:
                volume, size = volume_cl(pack)
            except Bad:
                volume = None
            if volume is not None:
                derived.add("unit")
                return fold(pack), qty * size * volume / 75
        self.unknown_unit.append(self.line)
        return None, None

    def row_sales_lines(self, rec, warnings, derived, out, name, line):
        doc, no = clean(rec.get("document_no")), clean(rec.get("line_no"))
        if not doc:
            raise Bad("missing or unusable document_no")
        if not no:
            raise Bad("missing or unusable line_no")
        day = date(rec.get("date_sale"))
        if day is None:
            raise Bad("missing date_sale")
        qty = self.quantity(rec, rec.get("document_type"))
        product = code_key(rec.get("product_code"))
        cust = clean(rec.get("customer_code"))
        unit, eq = self.bottles(qty, rec.get("unit"), product, warnings, derived)
        pu = self.optional(number, rec.get("price_unit"), "price_unit", warnings)
        total = self.optional(number, rec.get("price_total"), "price_total", warnings)
        incl = self.optional(number, rec.get("price_total_incl_vat"), "price_total", warnings)
        if total is None and incl is not None:
            total = round_to(incl / self.vat, money_scale(incl))
            derived.add("price_total")
        elif total is None and pu is not None:
            # README: quantity x unit price, rounded like the unit price
            total = round_to(qty * pu, money_scale(pu))
            derived.add("price_total")
        margin_text = clean(rec.get("margin"))
        cost = pct = None
        margin = self.optional(number, margin_text, "margin_percent", warnings)
        if margin is not None and is_percent(margin_text):
            pct = margin
            if total is not None:
                cost = round_to(total * (100 - pct) / 100, money_scale(total))
        elif margin is not None and total is not None:
            cost = total - margin
            if total != 0:
                pct = round_to(margin * 100 / total, 2)
        return {"key": "isavigne-%s-%s" % (doc, no), "sale_line_key": "isavigne-%s-%s" % (doc, no),
                "source": "isavigne", "source_id": "%s-%s" % (doc, no),
                "customer_key": "isavigne-" + cust if cust else None,
                "product_key": product, "order_id": doc,
                "document_type": fold(rec.get("document_type")), "date_sale": day,
                "quantity_units": qty, "unit": unit, "quantity_bottles_75cl_eq": eq,
                "price_unit": pu, "price_total": total, "cost_total": cost,
                "margin_percent": pct, "channel": None}

    def row_stock_levels(self, rec, warnings, derived, out, name, line):
        product = code_key(rec.get("product_code"))
        warehouse = clean(rec.get("warehouse"))
        if not product:
            raise Bad("missing or unusable product_code")
        if not warehouse:
            raise Bad("missing or unusable warehouse")
        try:
            qty = number(rec.get("quantity_units"))
        except Bad:
            raise Bad("not a number in quantity_units")
        if qty is None:
            raise Bad("missing quantity_units")
        unit, eq = self.bottles(qty, rec.get("unit"), product, warnings, derived)
        key = "isavigne-%s-%s" % (product, warehouse)
        return {"key": key, "stock_key": key, "source": "isavigne",
                "source_id": "%s-%s" % (product, warehouse), "product_key": product,
                "warehouse": warehouse, "quantity_units": qty, "unit": unit,
                "quantity_bottles_75cl_eq": eq, "reserved_qty": None, "available_qty": qty,
                "last_count_date": self.optional(date, rec.get("last_count_date"),
                                                 "last_count_date", warnings)}

    # --- README Interpretations: total_spent, purchase_count, segment

    def aggregates(self, out):
        lines = {}
        for row in out.rows["sales_lines"].values():
            lines.setdefault(row["customer_key"], []).append(row)
        for key, c in out.rows["customers"].items():
            mine = lines.get(key, [])
            spent = sum((r["price_total"] for r in mine if r["price_total"] is not None),
                        Decimal(0))
            purchases = [r for r in mine if r["quantity_units"] > 0]
            orders = {r["order_id"] for r in purchases}
            c["total_spent"] = spent
            c["purchase_count"] = len(orders)
            # README: no purchase, no average (empty, not 0)
            c["avg_order_value"] = round_to(spent / len(orders), 2) if orders else None
            c["first_purchase_date"] = min((r["date_sale"] for r in purchases), default=None)
            c["last_purchase_date"] = max((r["date_sale"] for r in purchases), default=None)
            if not orders:
                seg = "prospect"
            else:
                age = (self.today - c["last_purchase_date"]).days
                seg = ("inactive" if age > 730 else "at_risk" if age > 365
                       else "vip" if spent >= 1000 or len(orders) >= 10 else "standard")
            c["segment"] = seg


def expect(folder, mapping_text=None, vat=Decimal(20), today=None):
    return Model(vat, today).expect(folder, mapping_text)


def expect_snapshot(previous, folder, mapping_text=None, vat=Decimal(20), today=None):
    """A later export of a full_snapshot connector (README, iSaVigne
    settings): the rows of `previous` (what the earlier export loaded)
    missing from it go: sales and stock rows removed, customers and
    products kept with active = false; a line read but rejected still
    counts as present (its row stays as it was). Only tables whose files
    were read count."""
    model = Model(vat, today)
    model.known = previous.rows
    cur = model.expect(folder, mapping_text)
    for table in TABLE_ORDER:
        if not cur.files_read.get(table):
            continue
        for key, row in previous.rows[table].items():
            if key in cur.rows[table]:
                continue
            if key in cur.present.get(table, set()):
                cur.rows[table][key] = dict(row)  # rejected now: kept as loaded
                continue
            if table in ("customers", "product_catalog"):
                cur.rows[table][key] = dict(row, active=False)
            cur.deleted[table] += 1
    model.aggregates(cur)
    return cur
