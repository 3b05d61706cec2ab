#!/usr/bin/python3
"""Writes the committed seed corpora of the fuzz targets
(tests/fuzz/corpus/NAME/), from the tests' own files and a few inputs
written here. Deterministic; run it again after changing it. Kept small:
libFuzzer grows its own corpus under build/fuzz/corpus."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAX = 4096  # bytes of a text seed


def pack(v):
    """A minimal msgpack encoder: None, bool, int, str, bytes, list, dict."""
    if v is None:
        return b"\xc0"
    if v is True or v is False:
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return (bytes([0xa0 | len(v)]) if len(v) < 32 else b"\xda" + struct.pack(">H", len(v))) + v
    if isinstance(v, list):
        return b"\xdc" + struct.pack(">H", len(v)) + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        return b"\xde" + struct.pack(">H", len(v)) + b"".join(pack(k) + pack(x)
                                                               for k, x in v.items())
    raise TypeError(v)


def envelope(kind, table, body, run=7, seq=1):
    return pack([1, kind, run, seq, table, body])


def write(name, seeds):
    folder = os.path.join(HERE, "corpus", name)
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        if old.startswith("seed-"):
            os.remove(os.path.join(folder, old))
    for i, data in enumerate(seeds):
        with open(os.path.join(folder, "seed-%02d" % i), "wb") as f:
            f.write(data)


def read(*path, limit=MAX):
    with open(os.path.join(ROOT, *path), "rb") as f:
        return f.read(limit)


def xls_stream(rows, end=b"Z"):
    """The stream the .xls reader's child writes (isv_xls_child.h) for
    rows of cells: None, int, float, str, or bytes as a raw record."""
    out = b"O" + struct.pack("<IH", len(rows), max((len(r) for r in rows), default=0))
    for row in rows:
        out += b"R"
        for cell in row:
            if cell is None:
                out += b"N"
            elif isinstance(cell, int):
                out += b"I" + struct.pack("<i", cell)
            elif isinstance(cell, float):
                out += b"D" + struct.pack("<d", cell)
            elif isinstance(cell, str):
                text = cell.encode()
                out += b"T" + struct.pack("<I", len(text)) + text
            else:
                out += cell
    return out + end


def xls_streams():
    """Seeds of fuzz_xls's stream side: a worksheet, a refusal, a cell fault."""
    sheet = [["Code", "D\u00e9signation", "Mill\u00e9sime", "Prix TTC", "Mise en vente"],
             ["RIES-22", "Riesling R\u00e9serve", 2022, 12.5, "2024-03-15"],
             ["CREM-BR", b"T\x05\x00\x00\x00Cuv\xe9e", None, 9.9, "2023-11-02 10:30:00"],
             [None, b"L", -3, float("nan"), "10:30:00"]]
    return [xls_stream(sheet),
            b"E\x00" + struct.pack("<i", -26),
            xls_stream([["a", None], [None, b"F" + struct.pack("<i", -22)]], end=b"")]


def main():
    csvs = [read("samples", "isavigne", n) for n in ("clients.csv", "produits.csv", "ventes.csv")]
    fixtures = os.path.join(ROOT, "tests", "fixtures")
    for sub in ("dialect_b", "malformed", "garbage"):
        for n in sorted(os.listdir(os.path.join(fixtures, sub)))[:4]:
            if n.endswith((".csv", ".txt")):
                csvs.append(read("tests", "fixtures", sub, n))
    csvs.append("nom;pr\u00e9nom\n\"Muller\";\"J\u00e9r\u00f4me\"\n".encode("cp1252"))
    csvs.append(b"\xef\xbb\xbfa,b\r\n\"x\"\"y\",\"multi\nline\"\r\n")
    write("csv", [b"\x00" + c for c in csvs] + [b"\x03" + csvs[0]])
    write("xlsx", [read("tests", "fixtures", "xlsx", n, limit=1 << 20)
                   for n in ("ventes.xlsx", "produits.xlsx")])
    write("xls", [read("tests", "fixtures", "isavigne_xls", "produits.xls", limit=1 << 20)]
          + xls_streams())

    member = ("<member><name>%s</name><value>%s</value></member>")
    record = ("<value><struct>" + member % ("id", "<int>42</int>") +
              member % ("name", "<string>Riesling &amp; co</string>") +
              member % ("list_price", "<double>12.5</double>") +
              member % ("active", "<boolean>1</boolean>") +
              member % ("default_code", "<boolean>0</boolean>") +
              member % ("tag_ids", "<array><data><value><int>3</int></value></data></array>") +
              member % ("write_date", "<string>2024-03-15 10:30:00</string>") +
              "</struct></value>")
    ok = ("<?xml version='1.0'?><methodResponse><params><param><value><array><data>%s%s"
          "</data></array></value></param></params></methodResponse>" % (record, record))
    fault = ("<?xml version='1.0'?><methodResponse><fault><value><struct>" +
             member % ("faultCode", "<int>3</int>") +
             member % ("faultString", "<string>Access Denied</string>") +
             "</struct></value></fault></methodResponse>")
    uid = ("<?xml version='1.0'?><methodResponse><params><param><value><int>2</int></value>"
           "</param></params></methodResponse>")
    write("xmlrpc", [b"\x10" + ok.encode(), b"\x81" + ok.encode(), b"\x05" + fault.encode(),
                     b"\x20" + uid.encode()])

    write("json2", [b"\x00" + b'[{"id": 1, "name": "Riesling", "list_price": 12.5, '
                              b'"default_code": false, "tag_ids": [1, 2]}]',
                    b"\x00" + b'{"server_version": "19.0", "uid": 2}',
                    b"\x04" + b'{"name": "odoo.exceptions.AccessDenied", "message": '
                              b'"Access Denied", "arguments": [], "debug": "..."}',
                    b"\x07" + b'{"message": "could not serialize access"}',
                    b"\x09" + b"<html>Bad Gateway</html>"])

    brevo = [b'{"event": "delivered", "email": "jean.muller@orange.fr", "id": 101, '
             b'"date": "2024-03-15 10:30:00", "ts": 1710495000, "message-id": "<m1@x>", '
             b'"tag": "promo", "subject": "Nouveaut\\u00e9s"}',
             b'[{"event": "click", "email": "a@b.fr", "camp_id": 12, "link": "https://x/y", '
             b'"date_event": "2024-03-15 10:31:00", "ts_event": 1710495060, "id": 7},'
             b'{"event": "hard_bounce", "email": "bad@b.fr", "camp_id": 12, "id": 8, '
             b'"date_event": "2024-03-15 10:32:00", "reason": "unknown user"}]',
             b'{"event": "unsubscribed", "email": "x@y.fr", "id": 3, "date": "2024-01-01 00:00:00"}',
             b'{"event": "spam", "email": "x@y.fr", "id": 4, "ts": 1}']
    write("brevo", brevo)
    write("powerautomate", [
        b'{"event_id": "e1", "action": "click", "email": "Jean@Orange.fr", '
        b'"timestamp": "2024-03-15T10:30:00.1234567Z", "campaign": "noel", '
        b'"metadata": {"product": "RIES-2022", "n": 1}}',
        b'[{"event_id": "e2", "action": "purchase", "client_code": "C0001", '
        b'"timestamp": "2024-03-15T10:30:00+01:00"}, {"event_id": "e3", '
        b'"action": "resubscribe", "email": "a@b.fr", "timestamp": "2024-03-16T00:00:00Z"}]',
        b'{"event_id": "e4", "action": "unsubscribe", "email": "a@b.fr", '
        b'"timestamp": "2024-03-15T10:30:00"}'])

    products = envelope(1, 0, {
        "source": "isavigne", "connector": "fuzz", "file": "produits.csv",
        "cols": ["code", "name", "vintage", "colour", "list_price_incl_vat", "cost_price",
                 "grapes", "volume", None],
        "units": "mag150 = 2\nbib5 = 6,6667\n",
        "rows": [[2, ["RIES-RES-2022", "Riesling R\u00e9serve", "2022", "Blanc", "14,90", "4,10",
                      "Riesling", "75 cl", "x"]],
                 [3, ["GEW VT 2018", "Gew", "mill\u00e9sime 2018", "Blanc", "1 234,50", "",
                      "Gewurztraminer et Muscat", "150 cl", ""]],
                 [4, None, "wrong field count", "a;b"]]})
    sales = envelope(1, 2, {
        "source": "isavigne", "connector": "fuzz", "file": "ventes.csv",
        "cols": ["customer_code", "date_sale", "document_type", "document_no", "line_no",
                 "product_code", "quantity_units", "unit", "price_unit", "price_total",
                 "price_total_incl_vat", "margin"],
        "rows": [[2, ["C0001", "15/03/2024", "facture", "F1", "1", "RIES-2022", "6", "bouteille",
                      "8,50", "", "61,20", "12,5 %"]],
                 [3, ["C0002", "2024-03-15 10:30", "avoir", "A1", "1", "CREM", "-1", "magnum",
                      "", "-20", "", "3"]]]})
    customers = envelope(1, 1, {
        "source": "isavigne", "connector": "fuzz", "file": "clients.csv",
        "cols": ["customer_code", "last_name", "first_name", "email", "phone", "zip_code"],
        "rows": [[2, ["C0001", "Muller", "Jean", "Jean.Muller@Orange.fr", "03 89 00 00 00",
                      "68000"]], [3, ["C0002", "", "", "not-an-email", "+33 6 12", ""]]]})
    end = envelope(3, -1, {"connector": "fuzz", "extracted": {"customers": 2}, "records": 2})
    write("norm_msg", [products, sales, customers, end])
    canon = envelope(2, 1, {"source": "isavigne", "connector": "fuzz", "file": "clients.csv",
                            "rows": [[2, None, "invalid key", "a;b", None],
                                     [3, None, "impossible date", "x", [["date", "bad", "31/02"]]]]})
    fields = ["isavigne-C1", "isavigne", "C1", "fuzz", "Jean", "M\\\\uller\\tX", "a@b.fr", "\\N",
              "\\N", "1 rue", "68000", "Colmar", "FR", "f", "t", "f", "2024-03-15 10:30:00+01",
              "\\N", "t"]
    values = envelope(2, 1, {"source": "isavigne", "connector": "fuzz", "file": "clients.csv",
                             "rules": "0123456789abcdef",
                             "rows": [[2, "\t".join(fields), None, None, None],
                                      [3, "\t".join(fields[:5]), None, None, None]]})
    delete = envelope(4, 2, {"source": "odoo", "connector": "fuzz", "file": "sale.order",
                             "mode": "present", "ids": ["1", "2", "3"]})
    end2 = envelope(3, -1, {"connector": "fuzz", "extracted": {"sales_lines": 3}, "records": 3,
                            "deletes": 1, "reconciled": ["sales_lines"]})
    ack = envelope(2, 4, {"source": "brevo", "connector": "fuzz", "file": "webhook",
                          "ack": True, "rows": [[1, None, "no usable date", "{}", None]]})
    write("load_msg", [canon, values, delete, end2, ack])

    write("number", [b"1 234,50", b"12,5 %", b"1234.50", b"-0,75", b"\xc2\xa01\xc2\xa0000,5",
                     b"1.234.567,89", b"9999999999999999999", b"+3e5", b"(12,00)"])
    write("date", [b"15/03/2024", b"15-03-2024 10:30", b"15.03.2024 10:30:45",
                   b"2024-03-15", b"2024-03-15T10:30:00.1234567Z",
                   b"2024-03-15T10:30:00+01:00", b"29/02/2023", b" 2024-12-31 23:59:59 ",
                   struct.pack("<d", 45366.4375)])
    write("units", [b"magnum = 2\n# comment\nbib5 = 6,6667\nCarton 6 = 6\n",
                    b"units = 1\nbouteille\nmagnum\n", b"x = -1\n= 2\n"])
    rules = []
    for rule, inputs in ((0, [b"75 cl"]), (0, [b"0,75 L"]), (0, [b"Magnum"]),
                         (1, [b"6", b"carton 6"]), (1, [b"2", b"mag150"]),
                         (2, [b"-3", b"facture"]), (3, [b"", b"14,90"]), (6, [b"mill 2018"]),
                         (8, [b"15/03/2024 10:30"]), (10, [b"Riesling, Pinot et Muscat / Sylvaner"]),
                         (11, [b"Cr\xc3\xa9mant", b"Mousseux", b""]), (12, [b"A@B.FR"]),
                         (13, [b"+33 (0)6 12 34 56 78"]), (14, [b"", b"80"]),
                         (16, [b"", b"100", b"25"]), (20, [b'{"a": [1, 2]}'])):
        rules.append(bytes([rule]) + b"\x00".join(inputs))
    write("rules", rules)


if __name__ == "__main__":
    main()
