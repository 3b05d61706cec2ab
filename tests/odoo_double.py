"""A test double of an Odoo server, Python standard library only.

It speaks Odoo's external API over HTTP the way Odoo itself does:
- XML-RPC at /xmlrpc/2/common (version, authenticate) and /xmlrpc/2/object
  (execute_kw), marshalled like Odoo: datetimes and dates are plain strings
  ("2025-11-25 10:00:00", never <dateTime.iso8601>), False for an empty
  value of any type, many2one as [id, "name"], binary as base64 text, never
  <nil/>; errors are faults with HTTP 200 (1 application error with a
  traceback, 2 user error, 3 access denied, 4 access error).
- JSON-2 at POST /json/2/<model>/<method> (Odoo 19 only): bearer API key,
  X-Odoo-Database, every argument by name; errors are HTTP statuses with
  Odoo's JSON error body (name, message, arguments, context, debug).
- GET /web/version.

version="17" or "19" switches behaviour: datetime comparison in domains to
the microsecond (17) or in whole seconds (19), sale.order.line.product_uom
(17) or product_uom_id (19), res.partner.mobile only on 17, JSON-2 only on
19 (17 answers 404 there).

Between syncs a test mutates the data (update, create, unlink, archive,
cancel an order), moves the server's clock (tick: the HTTP Date header and
every new write_date follow it), injects faults (every Nth request a 502,
a dropped connection or a truncated body) and reads the counters (records
transferred per model, requests). In-process through the OdooDouble
methods, or from another process through POST /__control__ with
{"op": "<method>", ...arguments} (python3 tests/odoo_double.py --port N).
"""
import base64
import bisect
import email.utils
import json
import socketserver
import sys
import random
import threading
import time
import traceback
import unicodedata
import xmlrpc.client
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

DT = "%Y-%m-%d %H:%M:%S"


def _fmt(us):
    return datetime.fromtimestamp(us // 1000000, tz=timezone.utc).strftime(DT)


def _parse_dt(text):
    """Domain value "yyyy-mm-dd HH:MM:SS[.ffffff]" -> microseconds."""
    frac = 0
    if "." in text:
        text, f = text.split(".", 1)
        frac = int((f + "000000")[:6])
    d = datetime.strptime(text, DT).replace(tzinfo=timezone.utc)
    return int(d.timestamp()) * 1000000 + frac


def _ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


class Fault(Exception):
    def __init__(self, code, message, status=500, name="odoo.exceptions.UserError"):
        super().__init__(message)
        self.code, self.message, self.status, self.name = code, message, status, name


# Field definitions: name -> (type, relation or None). "id" and
# "write_date" are on every model.
FIELDS = {
    "res.country": {"name": ("char", None)},
    "res.users": {"name": ("char", None), "login": ("char", None)},
    "res.partner": {
        "name": ("char", None), "ref": ("char", None), "email": ("char", None),
        "phone": ("char", None), "mobile": ("char", None), "street": ("char", None),
        "zip": ("char", None), "city": ("char", None), "country_id": ("many2one", "res.country"),
        "customer_rank": ("integer", None), "active": ("boolean", None),
        "image_128": ("binary", None),
    },
    "product.category": {"name": ("char", None)},
    "uom.uom": {"name": ("char", None)},
    "product.product": {
        "name": ("char", None), "default_code": ("char", None), "list_price": ("float", None),
        "standard_price": ("float", None), "categ_id": ("many2one", "product.category"),
        "active": ("boolean", None), "x_grapes": ("char", None), "x_vintage": ("integer", None),
        "x_colour": ("selection", None), "x_region": ("char", None),
    },
    "sale.order": {
        "name": ("char", None), "partner_id": ("many2one", "res.partner"),
        "date_order": ("datetime", None), "state": ("selection", None),
        "order_line": ("one2many", "sale.order.line"),
    },
    "sale.order.line": {
        "order_id": ("many2one", "sale.order"), "order_partner_id": ("many2one", "res.partner"),
        "product_id": ("many2one", "product.product"), "product_uom_qty": ("float", None),
        "product_uom": ("many2one", "uom.uom"), "price_unit": ("float", None),
        "price_subtotal": ("monetary", None), "price_total": ("monetary", None),
        "margin": ("float", None), "display_type": ("selection", None), "name": ("text", None),
    },
    "stock.location": {"name": ("char", None), "usage": ("selection", None)},
    "stock.warehouse": {"name": ("char", None)},
    "stock.quant": {
        "product_id": ("many2one", "product.product"), "location_id": ("many2one", "stock.location"),
        "warehouse_id": ("many2one", "stock.warehouse"), "quantity": ("float", None),
        "reserved_quantity": ("float", None), "available_quantity": ("float", None),
        "product_uom_id": ("many2one", "uom.uom"), "last_count_date": ("date", None),
    },
}

# Seeded French wine data: (default_code, name, list price excl. VAT, cost,
# grapes, vintage, colour, region, category)
PRODUCTS = [
    ("RIES-RES-2022", "Riesling Réserve 2022", 12.5, 5.1, "Riesling", 2022, "blanc",
     "Alsace", 1),
    ("GEW-VT-2018", "Gewurztraminer Vendanges Tardives 2018", 32.0, 14.0, "Gewurztraminer",
     2018, "blanc", "Alsace Grand Cru", 1),
    ("PN-2021", "Pinot Noir 2021", 14.9, 6.0, "Pinot Noir", 2021, "rouge", "Alsace", 2),
    ("CREMANT-BRUT", "Crémant d'Alsace Brut", 11.0, 4.2, "Pinot Blanc, Auxerrois", False,
     "mousseux", "Alsace", 3),
    ("PG-2020", "Pinot Gris 2020", 16.5, 7.0, "Pinot Gris", 2020, "blanc", "Alsace", 1),
    ("SYL-2023", "Sylvaner 2023", 8.9, 3.1, "Sylvaner", 2023, "blanc", "Alsace", 1),
    ("MUSC-2022", "Muscat d'Alsace 2022", 13.2, 5.5, "Muscat", 2022, "blanc", "Alsace", 1),
    ("RIES-GC-2019", "Riesling Grand Cru Schlossberg 2019", 45.0, 18.0, "Riesling", 2019,
     "blanc", "Alsace Grand Cru", 1),
    ("PN-MAG-2020", "Pinot Noir Magnum 2020", 38.0, 15.0, "Pinot Noir", 2020, "rouge",
     "Alsace", 2),
    ("ROSE-2023", "Pinot Noir Rosé 2023", 10.5, 4.0, "Pinot Noir", 2023, "rose", "Alsace", 4),
    (False, "Coffret dégustation", 59.0, 25.0, False, False, False, False, 5),
    ("EDEL-2022", "Edelzwicker 2022", 7.5, 2.9, "Sylvaner, Pinot Blanc", 2022, "blanc",
     "Alsace", 1),
]
FIRST = ["Jean", "Marie", "Pierre", "Anne", "Luc", "Claire", "Hugo", "Léa", "Paul", "Sophie",
         "Émile", "Chloé", "Louis", "Camille", "Jules", "Inès"]
LAST = ["Müller", "Schmitt", "Meyer", "Weber", "Klein", "Dupont", "Martin", "Fischer", "Koenig",
        "Wagner", "Bernard", "Hoffmann", "Roth", "Lévy", "Gérard", "Zimmermann"]
CITIES = [("67000", "Strasbourg"), ("68000", "Colmar"), ("68100", "Mulhouse"),
          ("75011", "Paris"), ("69002", "Lyon"), ("67600", "Sélestat")]


class OdooDouble:
    def __init__(self, version="19", db="vendange", login="bot@domaine.fr",
                 api_key="0123456789abcdef0123456789abcdef01234567", seed=None):
        """seed: random data of that seed (seed_random) instead of the
        fixed data set."""
        self.version = str(version)
        self.db, self.login, self.api_key = db, login, api_key
        self.uid = 2
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.tables = {m: {} for m in FIELDS}
        self.next_id = {m: 1 for m in FIELDS}
        self.faults_every, self.fault_kinds, self.fault_i = 0, [], 0
        self.requests = 0
        self.reset_counters()
        self.xmlrpc_clients_warned = 0
        self.generation, self._index = 0, {}
        if seed is None:
            self._seed()
        else:
            self.seed_random(seed)
        self.server = None

    # ---- clock, counters, faults ------------------------------------------
    def now_us(self):
        return int((time.time() + self.clock_offset) * 1000000)

    def tick(self, seconds=2):
        with self.lock:
            self.clock_offset += seconds
        return self.now_us()

    def reset_counters(self):
        with self.lock:
            self.transferred = {}
            self.searched = {}
            self.calls = {}

    def counters(self):
        with self.lock:
            return {"transferred": dict(self.transferred), "searched": dict(self.searched),
                    "calls": dict(self.calls), "requests": self.requests}

    def faults(self, every=0, kinds=("502", "drop", "truncate")):
        with self.lock:
            self.faults_every, self.fault_kinds, self.fault_i = int(every), list(kinds), 0
            self.requests = 0

    def _next_fault(self):
        with self.lock:
            self.requests += 1
            if self.faults_every and self.requests % self.faults_every == 0:
                kind = self.fault_kinds[self.fault_i % len(self.fault_kinds)]
                self.fault_i += 1
                return kind
        return None

    # ---- data -------------------------------------------------------------
    def fields(self, model):
        f = dict(FIELDS[model])
        if model == "res.partner" and self.version == "19":
            del f["mobile"]  # removed in Odoo 19
        if model == "sale.order.line" and self.version == "19":
            f["product_uom_id"] = f.pop("product_uom")  # renamed in 18.1
        f["id"] = ("integer", None)
        f["write_date"] = ("datetime", None)
        return f

    def _insert(self, model, values, us=None):
        self.generation += 1
        rid = self.next_id[model]
        self.next_id[model] += 1
        rec = {"id": rid, "write_date": us if us is not None else self.now_us()}
        for name, (ftype, _rel) in FIELDS[model].items():
            rec[name] = True if ftype == "boolean" else False
        rec.update(values)
        if model == "sale.order.line" and "product_uom_id" in rec:
            rec["product_uom"] = rec.pop("product_uom_id")
        self.tables[model][rid] = rec
        return rid

    def create(self, model, values, us=None):
        with self.lock:
            return self._insert(model, values, us)

    def update(self, model, ids, values, us=None):
        """Writes values on ids: write_date becomes the server's now."""
        with self.lock:
            stamp = us if us is not None else self.now_us()
            self.generation += 1
            for rid in ids:
                rec = self.tables[model][rid]
                rec.update(values)
                rec["write_date"] = stamp
            return len(ids)

    def unlink(self, model, ids):
        with self.lock:
            self.generation += 1
            for rid in ids:
                del self.tables[model][rid]
            return True

    def cancel_order(self, order_id):
        """Cancels an order: its state changes, its lines do not."""
        return self.update("sale.order", [order_id], {"state": "cancel"})

    def set_key(self, api_key):
        self.api_key = api_key

    def ids(self, model, **match):
        with self.lock:
            return sorted(r["id"] for r in self.tables[model].values()
                          if all(r.get(k) == v for k, v in match.items()))

    def record(self, model, rid):
        with self.lock:
            return dict(self.tables[model][rid])

    def add_lines(self, order_id, count, product_id=1, qty=1.0, price=10.0):
        """count lines on one order in one transaction: one write_date."""
        with self.lock:
            stamp = self.now_us()
            order = self.tables["sale.order"][order_id]
            for _ in range(count):
                self._insert("sale.order.line", {
                    "order_id": order_id, "order_partner_id": order["partner_id"],
                    "product_id": product_id, "product_uom_qty": qty, "product_uom": 1,
                    "price_unit": price, "price_subtotal": round(qty * price, 2),
                    "price_total": round(qty * price * 1.2, 2), "margin": round(qty * price * 0.4, 2),
                }, stamp)
            return stamp

    def _seed_common(self, base):
        for name in ("France", "Deutschland", "Suisse"):
            self._insert("res.country", {"name": name}, base)
        self._insert("res.users", {"name": "Bot", "login": self.login}, base)
        for name in ("Vins / Blancs", "Vins / Rouges", "Vins / Effervescents", "Vins / Rosés",
                     "Coffrets"):
            self._insert("product.category", {"name": name}, base)
        for name in ("Bouteille", "Magnum", "Carton 6", "Unité(s)"):
            self._insert("uom.uom", {"name": name}, base)
        self._insert("stock.warehouse", {"name": "Cave de Ribeauvillé"}, base)
        self._insert("stock.warehouse", {"name": "Dépôt Strasbourg"}, base)
        self._insert("stock.location", {"name": "WH/Stock", "usage": "internal"}, base)
        self._insert("stock.location", {"name": "DS/Stock", "usage": "internal"}, base)
        self._insert("stock.location", {"name": "Partners/Customers", "usage": "customer"}, base)

    def seed_random(self, seed):
        """A random but realistic data set (the Odoo differential test):
        products with and without default_code, archived ones, customers
        and suppliers (some archived, some sharing one write_date, emails
        valid, invalid or empty), stock in internal and customer
        locations, orders in every state with section and note lines, one
        big order whose lines share one write_date."""
        rng = random.Random(seed)
        self.rng = rng
        base = self.now_us() - 40 * 86400 * 1000000
        self._seed_common(base)
        for i in range(rng.randint(3, 12)):
            code = rng.choice(["R%d-%d" % (seed, i), "r%d %d gc" % (seed, i), False,
                               "Crémant %d-%d" % (seed, i)])
            price = round(rng.uniform(4, 95), 2)
            self._insert("product.product", {
                "default_code": code, "name": "Vin %d du lot %d" % (i, seed),
                "list_price": price, "standard_price": round(price * rng.uniform(0.2, 0.6), 2),
                "categ_id": rng.randint(1, 5),
                "x_grapes": rng.choice([False, "Riesling", "Pinot Blanc, Auxerrois"]),
                "x_vintage": rng.choice([0, 2019, 2021, 2023]),
                "x_colour": rng.choice([False, "blanc", "rouge", "rose", "mousseux"]),
                "x_region": rng.choice([False, "Alsace", "Alsace Grand Cru"]),
                "active": rng.random() < 0.85}, base + i * 1000000)
        products = list(self.tables["product.product"])
        shared = base + 3600 * 1000000
        for i in range(rng.randint(3, 30)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = _ascii("%s.%s%d@example.fr" % (first, last, i)).lower()
            self._insert("res.partner", {
                "name": "%s %s" % (first, last),
                "ref": rng.choice([False, "C%d%03d" % (seed, i)]),
                "email": rng.choice([email, email, False, email.replace("@", "@@")]),
                "phone": rng.choice([False, "+33 3 89 %02d %02d %02d" % (i, i + 1, i + 2)]),
                "mobile": rng.choice([False, "06 12 34 56 %02d" % i]),
                "street": "%d rue des Vignes" % (i + 1), "zip": "68000", "city": "Colmar",
                "country_id": rng.randint(1, 3), "customer_rank": rng.choice([0, 1, 1, 2, 3]),
                "active": rng.random() < 0.9,
            }, shared if rng.random() < 0.3 else base + (3600 + i * 60) * 1000000)
        partners = list(self.tables["res.partner"])
        for p in products:
            for loc in rng.sample([1, 2, 3], rng.randint(0, 2)):
                qty = float(rng.randint(0, 300))
                reserved = float(rng.randint(0, 10))
                self._insert("stock.quant", {
                    "product_id": p, "location_id": loc, "warehouse_id": loc if loc < 3 else False,
                    "quantity": qty, "reserved_quantity": reserved,
                    "available_quantity": qty - reserved, "product_uom_id": rng.randint(1, 3),
                    "last_count_date": "2025-10-0%d" % rng.randint(1, 9),
                }, base + (7200 + p) * 1000000)
        for o in range(rng.randint(2, 16)):
            self.random_order(rng, partners, products, base + (86400 * (o + 1)) * 1000000,
                              big=o == 0)

    def random_order(self, rng, partners, products, date, big=False, state=None, stamp=None):
        """One order (and its lines, one write_date: stamp, else a minute
        after the order's date) at date (us)."""
        stamp = stamp or date + 60 * 1000000
        oid = self._insert("sale.order", {
            "name": "S%05d" % (len(self.tables["sale.order"]) + 1),
            "partner_id": rng.choice(partners), "date_order": _fmt(date),
            "state": state or rng.choice(["sale", "sale", "done", "draft", "cancel", "sent"])},
            stamp)
        order = self.tables["sale.order"][oid]
        for k in range(rng.randint(20, 30) if big else rng.randint(1, 5)):
            if rng.random() < 0.12:
                self._insert("sale.order.line", {
                    "order_id": oid, "order_partner_id": order["partner_id"], "product_id": False,
                    "product_uom_qty": 0.0, "product_uom": False, "price_unit": 0.0,
                    "price_subtotal": 0.0, "price_total": 0.0, "margin": 0.0,
                    "display_type": rng.choice(["line_section", "line_note"]),
                    "name": "Section %d" % k}, stamp)
            qty = float(rng.randint(1, 12)) * (0.5 if rng.random() < 0.1 else 1)
            price = round(rng.uniform(4, 95), 2)
            subtotal = round(qty * price, 2)
            self._insert("sale.order.line", {
                "order_id": oid, "order_partner_id": order["partner_id"],
                "product_id": rng.choice(products), "product_uom_qty": qty,
                "product_uom": rng.randint(1, 4), "price_unit": price,
                "price_subtotal": subtotal, "price_total": round(subtotal * 1.2, 2),
                "margin": round(subtotal * rng.uniform(0.1, 0.6), 2)}, stamp)
        return oid

    def _seed(self):
        base = self.now_us() - 40 * 86400 * 1000000  # every record in the past
        self._seed_common(base)
        for i, (code, name, price, cost, grapes, vintage, colour, region, categ) in \
                enumerate(PRODUCTS):
            self._insert("product.product", {
                "default_code": code, "name": name, "list_price": price, "standard_price": cost,
                "categ_id": categ, "x_grapes": grapes, "x_vintage": vintage, "x_colour": colour,
                "x_region": region, "active": i != 11,  # Edelzwicker is archived
            }, base + i * 1000000)
        # 40 customers (5 share one write_date to the microsecond), 3 of
        # them archived, 4 suppliers (customer_rank 0)
        shared = base + 3600 * 1000000
        for i in range(44):
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            zipc, city = CITIES[i % len(CITIES)]
            self._insert("res.partner", {
                "name": "%s %s" % (first, last),
                "ref": "C%04d" % (i + 1) if i % 4 == 0 else False,
                "email": _ascii("%s.%s@example.fr" % (first, last)).lower() if i % 9 else False,
                "phone": "+33 3 89 %02d %02d %02d" % (i, i + 1, i + 2) if i % 3 else False,
                "mobile": "+33 6 12 34 56 %02d" % i if i % 5 == 0 else False,
                "street": "%d rue des Vignes" % (i + 1), "zip": zipc, "city": city,
                "country_id": 1 if i % 10 else 2,
                "customer_rank": 0 if i >= 40 else 1 + i % 3,
                "active": i not in (7, 21, 33),
                "image_128": base64.b64encode(b"\x89PNG\r\n" + bytes([i])).decode(),
            }, shared if i < 5 else base + (3600 + i * 60) * 1000000 + i * 37)
        for p in range(1, 11):
            for loc, wh in ((1, 1), (2, 2)):
                if p % 3 == 0 and loc == 2:
                    continue
                qty = float(12 * p + loc)
                self._insert("stock.quant", {
                    "product_id": p, "location_id": loc, "warehouse_id": wh, "quantity": qty,
                    "reserved_quantity": float(p % 4), "available_quantity": qty - p % 4,
                    "product_uom_id": 2 if p == 9 else 1, "last_count_date": "2025-10-01",
                }, base + (7200 + p) * 1000000)
        self._insert("stock.quant", {"product_id": 1, "location_id": 3, "warehouse_id": False,
                                     "quantity": -6.0, "reserved_quantity": 0.0,
                                     "available_quantity": -6.0, "product_uom_id": 1},
                     base + 7300 * 1000000)
        # 30 orders: 24 confirmed, 3 quotations, 3 cancelled; 1-4 lines each
        for o in range(30):
            state = "draft" if o % 10 == 3 else "cancel" if o % 10 == 7 else "sale"
            partner = 1 + (o * 3) % 40
            date = base + (86400 * (o + 1) + 3600 * 9) * 1000000
            oid = self._insert("sale.order", {"name": "S%05d" % (o + 1), "partner_id": partner,
                                              "date_order": _fmt(date), "state": state},
                               date + 60 * 1000000)
            for k in range(1 + o % 4):
                prod = 1 + (o + k) % 11
                uom = 2 if prod == 9 else 3 if (o + k) % 7 == 0 else 1
                qty = float(1 + (o * k) % 6)
                price = PRODUCTS[prod - 1][2]
                self._insert("sale.order.line", {
                    "order_id": oid, "order_partner_id": partner, "product_id": prod,
                    "product_uom_qty": qty, "product_uom": uom, "price_unit": price,
                    "price_subtotal": round(qty * price, 2),
                    "price_total": round(qty * price * 1.2, 2),
                    "margin": round(qty * (price - PRODUCTS[prod - 1][3]), 2),
                }, date + 60 * 1000000)
            if o % 6 == 0:  # a section title and a note: no product, not a sale
                for kind, text in (("line_section", "Vins d'Alsace"),
                                   ("line_note", "Livraison avant Noël")):
                    self._insert("sale.order.line", {
                        "order_id": oid, "order_partner_id": partner, "product_id": False,
                        "product_uom_qty": 0.0, "product_uom": False, "price_unit": 0.0,
                        "price_subtotal": 0.0, "price_total": 0.0, "margin": 0.0,
                        "display_type": kind, "name": text}, date + 60 * 1000000)

    # ---- the ORM subset ---------------------------------------------------
    def _value(self, model, rec, name):
        """A stored field as Odoo returns it."""
        ftype, rel = self.fields(model)[name]
        if name == "write_date":
            return _fmt(rec["write_date"])
        if model == "sale.order.line" and name in ("product_uom", "product_uom_id"):
            name = "product_uom"
        if name == "order_line":
            return sorted(r["id"] for r in self.tables["sale.order.line"].values()
                          if r["order_id"] == rec["id"])
        v = rec.get(name, False)
        if ftype == "many2one":
            if not v or v not in self.tables[rel]:
                return False
            target = self.tables[rel][v]
            return [v, target.get("name") or "%s,%d" % (rel, v)]
        if ftype == "integer":
            return v or 0  # Odoo: 0 for an empty integer
        if v is None:
            return False
        return v

    def _path(self, model, rec, path):
        """(type, raw value) of a dotted domain path ("order_id.state")."""
        name, _, rest = path.partition(".")
        f = self.fields(model)
        if name not in f:
            raise Fault(1, "ValueError: Invalid field %r in leaf %r" % (name, path), 422,
                        "builtins.ValueError")
        ftype, rel = f[name]
        if rest:
            target = self.tables[rel].get(rec.get(name))
            return self._path(rel, target, rest) if target else (None, None)
        if name == "write_date":
            return "datetime", rec["write_date"]
        if name == "id":
            return "integer", rec["id"]
        key = "product_uom" if model == "sale.order.line" and name == "product_uom_id" else name
        return ftype, rec.get(key, False)

    def _leaf(self, model, rec, leaf):
        path, op, value = leaf
        ftype, v = self._path(model, rec, path)
        if ftype == "datetime" and isinstance(value, str):
            value = _parse_dt(value)
            if self.version == "19":  # whole seconds on both sides
                value = value // 1000000 * 1000000
                v = v // 1000000 * 1000000
        if op == "=":
            return v == value
        if op == "!=":
            return v != value
        if op == "in":
            return v in value
        if op == "not in":
            return v not in value
        if v is False or v is None:
            return False
        return {">": v > value, ">=": v >= value, "<": v < value, "<=": v <= value}[op]

    def _match(self, model, rec, domain):
        """Odoo's prefix-notation domains: '&', '|', '!' and implicit and."""
        stack = []
        for item in reversed(domain):
            if item == "&" or item == "|":
                a, b = stack.pop(), stack.pop()
                stack.append(a and b if item == "&" else a or b)
            elif item == "!":
                stack.append(not stack.pop())
            else:
                if not isinstance(item, (list, tuple)) or len(item) != 3:
                    raise Fault(1, "ValueError: Invalid leaf %r" % (item,), 422,
                                "builtins.ValueError")
                stack.append(self._leaf(model, rec, item))
        return all(stack)

    def _ordered(self, model, by_date):
        """Records sorted by id or by (write_date, id), and their keys."""
        cached = self._index.get((model, by_date))
        if cached and cached[0] == self.generation:
            return cached[1], cached[2]
        recs = list(self.tables[model].values())
        if by_date:
            recs.sort(key=lambda r: (r["write_date"], r["id"]))
        keys = [(r["write_date"], r["id"]) if by_date else r["id"] for r in recs]
        self._index[(model, by_date)] = (self.generation, recs, keys)
        return recs, keys

    def _keyset(self, model, domain, limit, order, active_test):
        """A page in O(page) for the keyset queries of a sync (the whole
        domain is still checked on every record returned)."""
        by_date = order.replace(" ", "") == "write_dateasc,idasc"
        recs, keys = self._ordered(model, by_date)
        start, stop = 0, None
        for leaf in domain:
            if not isinstance(leaf, (list, tuple)) or len(leaf) != 3:
                continue
            if not by_date and tuple(leaf[:2]) == ("id", ">"):
                start = max(start, bisect.bisect_right(keys, leaf[2]))
            if by_date and tuple(leaf[:2]) == ("write_date", ">="):
                start = max(start, bisect.bisect_left(keys, (_parse_dt(leaf[2]), -1)))
            if by_date and tuple(leaf[:2]) == ("write_date", "<"):
                stop = _parse_dt(leaf[2])
        out = []
        for r in recs[start:] if start else recs:
            if stop is not None and r["write_date"] >= stop:
                break
            if ((not active_test or "active" not in FIELDS[model] or r["active"])
                    and self._match(model, r, domain)):
                out.append(r)
                if len(out) == limit:
                    break
        return out

    def _search(self, model, domain, offset, limit, order, context):
        if model not in FIELDS:
            raise Fault(1, "KeyError: %r" % model, 404, "werkzeug.exceptions.NotFound")
        active_test = (context or {}).get("active_test", True)
        if limit and not offset and (order or "").replace(" ", "") in ("idasc",
                                                                       "write_dateasc,idasc") \
                and all(isinstance(x, (list, tuple)) for x in domain or []):
            return self._keyset(model, domain or [], limit, order, active_test)
        recs = [r for r in self.tables[model].values()
                if (not active_test or "active" not in FIELDS[model] or r["active"])
                and self._match(model, r, domain or [])]
        for part in reversed([p.strip() for p in (order or "id").split(",") if p.strip()]):
            words = part.split()
            key, desc = words[0], len(words) > 1 and words[1].lower() == "desc"
            recs.sort(key=lambda r: (r[key] is False, r[key]), reverse=desc)
        recs = recs[offset or 0:]
        return recs[:limit] if limit else recs

    def call(self, model, method, kw):
        """One ORM call with every argument by name (both transports)."""
        context = kw.get("context") or {}
        with self.lock:
            self.calls[model] = self.calls.get(model, 0) + 1
            if model not in FIELDS:
                raise Fault(1, "KeyError: %r" % model, 404, "werkzeug.exceptions.NotFound")
            if method == "fields_get":
                attrs = kw.get("attributes") or ["type", "relation", "string"]
                out = {}
                for name, (ftype, rel) in self.fields(model).items():
                    d = {"type": ftype, "string": name.replace("_", " ").title()}
                    if rel:
                        d["relation"] = rel
                    out[name] = {k: v for k, v in d.items() if k in attrs}
                return out
            if method == "context_get":
                return {"lang": "fr_FR", "tz": "Europe/Paris", "uid": self.uid}
            if method == "search":
                recs = self._search(model, kw.get("domain"), kw.get("offset"), kw.get("limit"),
                                    kw.get("order"), context)
                self.searched[model] = self.searched.get(model, 0) + len(recs)
                return [r["id"] for r in recs]
            if method == "search_read":
                fields = kw.get("fields") or list(self.fields(model))
                known = self.fields(model)
                for f in fields:
                    if f not in known:
                        raise Fault(1, "ValueError: Invalid field %r on model %r" % (f, model),
                                    422, "builtins.ValueError")
                recs = self._search(model, kw.get("domain"), kw.get("offset"), kw.get("limit"),
                                    kw.get("order"), context)
                self.transferred[model] = self.transferred.get(model, 0) + len(recs)
                out = []
                for r in recs:
                    d = {"id": r["id"]}
                    for f in fields:
                        d[f] = self._value(model, r, f)
                    out.append(d)
                return out
            raise Fault(1, "AttributeError: The method '%s' does not exist on the model '%s'"
                        % (method, model), 404, "werkzeug.exceptions.NotFound")

    # ---- the server -------------------------------------------------------
    def start(self, port=0, tls=None):
        """Serves on 127.0.0.1 (port 0: a free one); tls = (certificate file,
        key file) serves HTTPS, as https://localhost:PORT."""
        double = self

        class Server(socketserver.ThreadingMixIn, HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        class Handler(_Handler):
            pass
        Handler.double = double
        self.server = Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        if tls:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls[0], tls[1])
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.url = "https://localhost:%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()


# ---- Odoo's XML-RPC marshalling ------------------------------------------
def _xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def marshal(v, out):
    """Like Odoo's marshaller: never nil (None is False), dates as strings."""
    if v is None or v is False:
        out.append("<value><boolean>0</boolean></value>")
    elif v is True:
        out.append("<value><boolean>1</boolean></value>")
    elif isinstance(v, int):
        out.append("<value><int>%d</int></value>" % v)
    elif isinstance(v, float):
        out.append("<value><double>%r</double></value>" % v)
    elif isinstance(v, str):
        out.append("<value><string>%s</string></value>" % _xml_escape(v))
    elif isinstance(v, (bytes, bytearray)):
        out.append("<value><string>%s</string></value>" % base64.b64encode(v).decode())
    elif isinstance(v, dict):
        out.append("<value><struct>")
        for k, item in v.items():
            out.append("<member><name>%s</name>" % _xml_escape(str(k)))
            marshal(item, out)
            out.append("</member>")
        out.append("</struct></value>")
    else:
        out.append("<value><array><data>")
        for item in v:
            marshal(item, out)
        out.append("</data></array></value>")


def xmlrpc_response(value):
    out = ["<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"]
    marshal(value, out)
    out.append("\n</param>\n</params>\n</methodResponse>\n")
    return "".join(out).encode()


def xmlrpc_fault(code, message):
    out = ["<?xml version='1.0'?>\n<methodResponse>\n<fault>\n"]
    marshal({"faultCode": code, "faultString": message}, out)
    out.append("\n</fault>\n</methodResponse>\n")
    return "".join(out).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double = None

    def log_message(self, fmt, *args):  # quiet
        pass

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.double.now_us() / 1000000, usegmt=True)

    def _send(self, status, body, ctype):
        fault = self.double._next_fault() if not self.path.startswith("/__control__") else None
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "502":
            status, body, ctype = 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", \
                "text/html"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault == "truncate":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _json_error(self, status, name, message):
        body = json.dumps({"name": name, "message": message, "arguments": [message, status],
                           "context": {}, "debug": "Traceback (most recent call last):\n"
                           "  File \"odoo/http.py\", line 2212\n%s: %s\n" % (name, message)})
        self._send(status, body.encode(), "application/json; charset=utf-8")

    def do_GET(self):
        d = self.double
        if self.path == "/web/version":
            info = [int(d.version), 0, 0, "final", 0, ""]
            self._send(200, json.dumps({"version": "%s.0" % d.version,
                                        "version_info": info}).encode(), "application/json")
        else:
            self._send(404, b"<html>Not Found</html>", "text/html")

    def do_POST(self):
        body = self._body()
        if self.path == "/__control__":
            return self._control(body)
        if self.path.startswith("/json/2/"):
            return self._json2(body)
        if self.path in ("/xmlrpc/2/common", "/xmlrpc/2/object"):
            return self._xmlrpc(body)
        self._send(404, b"<html>Not Found</html>", "text/html")

    def _control(self, body):
        req = json.loads(body or b"{}")
        op = req.pop("op")
        try:
            result = getattr(self.double, op)(**req)
            self._send(200, json.dumps({"result": result}).encode(), "application/json")
        except Exception as e:  # a test's mistake: say it
            self._send(400, json.dumps({"error": repr(e)}).encode(), "application/json")

    def _json2(self, body):
        d = self.double
        if d.version != "19":
            return self._send(404, b"<html><title>404 Not Found</title></html>", "text/html")
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or auth[7:].strip() != d.api_key:
            return self._json_error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")
        if self.headers.get("X-Odoo-Database", d.db) != d.db:
            return self._json_error(404, "werkzeug.exceptions.NotFound", "database not found")
        parts = self.path[len("/json/2/"):].split("/")
        if len(parts) != 2:
            return self._json_error(404, "werkzeug.exceptions.NotFound", "Not Found")
        try:
            kw = json.loads(body or b"{}")
            result = d.call(parts[0], parts[1], kw)
            self._send(200, json.dumps(result).encode(), "application/json; charset=utf-8")
        except Fault as f:
            self._json_error(f.status, f.name, f.message)
        except Exception as e:
            self._json_error(500, "builtins.Exception", repr(e))

    def _xmlrpc(self, body):
        d = self.double
        try:
            params, method = xmlrpc.client.loads(body)
        except Exception as e:
            return self._send(200, xmlrpc_fault(1, "xml.parsers.expat.ExpatError: %s" % e),
                              "text/xml")
        try:
            if d.version == "19":
                d.xmlrpc_clients_warned += 1  # Odoo 19 logs a deprecation warning
            result = self._xmlrpc_dispatch(self.path.endswith("common"), method, params)
            self._send(200, xmlrpc_response(result), "text/xml")
        except Fault as f:
            self._send(200, xmlrpc_fault(f.code, f.message if f.code != 1 else
                                         "Traceback (most recent call last):\n  File \"odoo/"
                                         "service/model.py\", line 62\n" + f.message + "\n"),
                       "text/xml")
        except Exception:
            self._send(200, xmlrpc_fault(1, traceback.format_exc()), "text/xml")

    def _xmlrpc_dispatch(self, common, method, params):
        d = self.double
        if common and method == "version":
            return {"server_version": "%s.0" % d.version,
                    "server_version_info": [int(d.version), 0, 0, "final", 0, ""],
                    "server_serie": "%s.0" % d.version, "protocol_version": 1}
        if common and method == "authenticate":
            db, login, key = params[0], params[1], params[2]
            return d.uid if (db, login, key) == (d.db, d.login, d.api_key) else False
        if not common and method == "execute_kw":
            db, uid, key, model, meth = params[:5]
            args = params[5] if len(params) > 5 else []
            kw = dict(params[6]) if len(params) > 6 else {}
            if db != d.db or uid != d.uid or key != d.api_key:
                raise Fault(3, "Access Denied")
            if args:  # positional domain, as most clients send it
                kw.setdefault("domain", args[0])
            return d.call(model, meth, kw)
        raise Fault(1, "Exception: method %r not found" % method)


def main():
    import argparse
    ap = argparse.ArgumentParser(description="Odoo test double")
    ap.add_argument("--port", type=int, default=8069)
    ap.add_argument("--version", default="19", choices=("17", "19"))
    ap.add_argument("--lines", type=int, default=0, help="extra sale.order.line rows (bench)")
    args = ap.parse_args()
    d = OdooDouble(args.version)
    if args.lines:
        d.add_lines(1, args.lines)
    d.start(args.port)
    print("odoo double %s on %s (db %s, user %s, key %s)" % (args.version, d.url, d.db, d.login,
                                                             d.api_key), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        d.stop()


if __name__ == "__main__":
    sys.exit(main())
