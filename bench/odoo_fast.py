"""A fast Odoo double for `make bench`: the wire protocol of the test double
(tests/odoo_double.py: its HTTP handler, JSON-2 and XML-RPC, the same
fields_get answers for Odoo 17 or 19), but data made by arithmetic and
answers that cost next to nothing, so that an Odoo sync measures
vendange and not the double.

    python3 bench/odoo_fast.py --lines 100000 [--customers N] [--products N]
        [--per-second 10] [--lines-per-order 4] [--version 19] [--port 0]

prints one JSON line when it listens ({"url", "db", "login", "api_key",
"records": {model: count}}) and serves until SIGTERM. POST /__control__
{"op": "counters"} gives the records transferred per model and the calls.

The data: --products products (product.product, default codes
FAST-00001...), two stock quants each (internal locations of two
warehouses), --customers customers (res.partner, customer_rank 1), and
--lines sales lines (sale.order.line) on confirmed orders (sale.order,
--lines-per-order lines each). Every record of a model has id 1..n and
a write_date that grows with its id, --per-second records a second, all
in the past; so the answer to any keyset query of the sync (write_date
>= / <, id > / <= / in, ordered by id or by write_date, id) is a range
of ids, computed, never searched. Domain leaves on other fields are
answered from what is true of every record of the model (every customer
has customer_rank > 0, every quant is in an internal location, every
order is confirmed); anything else (the '|' of an incremental run, an
order by another field) is refused with Odoo's 422, so a change of the
extractor's queries fails the bench instead of being answered wrongly.

Answers are rendered before the server listens: every record of every
model, once, as JSON-2 (Odoo 19) or XML-RPC (Odoo 17) text, for the
field lists the built-in mapping reads (READS below); a page is then
the join of its records' text. A read of other fields (another mapping,
the other transport) is still answered, rendered on request, and
counted (counters()["rendered_on_request"]), so a result says when the
double did more than copy bytes.
"""
import argparse
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import HTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import odoo_double  # noqa: E402  (the wire protocol: handler, fields, marshalling)

DT = "%Y-%m-%d %H:%M:%S"
UOMS = {1: "Bouteille", 2: "Magnum", 3: "Carton 6"}
CATEGORIES = {1: "Vins / Blancs", 2: "Vins / Rouges", 3: "Vins / Effervescents",
              4: "Vins / Rosés"}
WAREHOUSES = {1: ("WH/Stock", "Cave de Ribeauvillé"), 2: ("DS/Stock", "Dépôt Strasbourg")}
# what is true of every record of a model, for the domain leaves of the
# built-in mapping and of the related reads
CONSTANT = {
    "res.partner": {"customer_rank": 1, "active": True},
    "product.product": {"active": True},
    "stock.quant": {"location_id.usage": "internal"},
    "sale.order": {"state": "sale"},
    "sale.order.line": {"order_id.state": "sale", "display_type": False},
}
# the fields the built-in mapping (extractors/odoo/odoo_mapping.c) reads:
# pages of each model (with id and write_date), then the related reads of
# a page (the answer always holds id); as Odoo 19 names them
PAGE = ("id", "write_date")
READS = {
    "product.product": [PAGE + ("default_code", "name", "list_price", "standard_price",
                                "categ_id", "active"), ("default_code",)],
    "res.partner": [PAGE + ("ref", "name", "email", "phone", "mobile", "street", "zip", "city",
                            "country_id", "active")],
    "stock.quant": [PAGE + ("product_id", "warehouse_id", "quantity", "product_uom_id",
                            "reserved_quantity", "available_quantity", "last_count_date")],
    "sale.order.line": [PAGE + ("order_id", "order_partner_id", "product_id", "product_uom_qty",
                                "product_uom_id", "price_unit", "price_subtotal", "price_total",
                                "margin")],
    "sale.order": [("name", "date_order")],
}
OPS = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "in": lambda a, b: a in b,
       "not in": lambda a, b: a not in b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
       "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


def _seconds(text):
    """Domain datetime "yyyy-mm-dd HH:MM:SS[.ffffff]" -> microseconds."""
    return odoo_double._parse_dt(text)


class FastDouble(odoo_double.OdooDouble):
    """The test double's server and protocol over computed data."""

    def __init__(self, lines, customers, products, per_second=10, lines_per_order=4,
                 version="19"):
        super().__init__(version)
        self.per_second, self.lines_per_order = per_second, lines_per_order
        self.count = {"product.product": products, "stock.quant": 2 * products,
                      "res.partner": customers, "sale.order.line": lines,
                      "sale.order": -(-lines // lines_per_order)}
        # every model's seconds, one after the other, ending an hour ago
        span = {m: -(-n // per_second) for m, n in self.count.items()}
        t = int(time.time()) - 3600 - sum(span.values()) - len(span)
        self.base = {}
        for model in ("product.product", "res.partner", "stock.quant", "sale.order",
                      "sale.order.line"):
            self.base[model] = t
            t += span[model] + 1
        self.transport = "json2" if self.version == "19" else "xmlrpc"
        self.local = threading.local()  # the transport and rendered answer of a request
        self.rendered = {}  # (model, frozenset of fields) -> [text of record id] (index 0 unused)
        self.on_request = 0
        self._render_ahead()

    def _reads(self, model, wanted):
        """A field list of READS as this version names it (Odoo 17:
        product_uom; fields the version lacks are not asked for)."""
        fields = ["product_uom" if f == "product_uom_id" and model == "sale.order.line"
                  and self.version == "17" else f for f in wanted]
        return frozenset(f for f in fields if f in self.fields(model))

    def _render(self, record):
        if self.transport == "json2":
            return json.dumps(record).encode()
        out = []
        odoo_double.marshal(record, out)
        return "".join(out).encode()

    def _render_ahead(self):
        for model, lists in READS.items():
            for wanted in lists:
                fields = self._reads(model, wanted)
                texts = [b""]
                for rid in range(1, self.count[model] + 1):
                    texts.append(self._render(self._record(model, rid, fields)))
                self.rendered[(model, fields)] = texts
        empty = odoo_double.xmlrpc_response([])
        head, tail = empty.split(b"<value><array><data></data></array></value>")
        self.xml_head, self.xml_tail = head + b"<value><array><data>", b"</data></array></value>" + tail

    def page_text(self, model, fields, ids):
        """The rendered answer of a page, or None (then rendered on request)."""
        texts = self.rendered.get((model, frozenset(fields)))
        if texts is None or getattr(self.local, "transport", None) != self.transport:
            return None
        if self.transport == "json2":
            return b"[" + b", ".join(texts[i] for i in ids) + b"]"
        return self.xml_head + b"".join(texts[i] for i in ids) + self.xml_tail

    def take_page(self):
        """The rendered answer call() left for this request's handler."""
        page, self.local.page = getattr(self.local, "page", None), None
        return page

    def counters(self):
        out = super().counters()
        out["rendered_on_request"] = self.on_request
        return out

    def records(self):
        return dict(self.count)

    # ---- the data, by arithmetic ------------------------------------------
    def _write_date(self, model, rid):
        return self.base[model] + (rid - 1) // self.per_second

    def _fmt(self, seconds):
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime(DT)

    def _partner_name(self, pid):
        first = odoo_double.FIRST[pid % len(odoo_double.FIRST)]
        last = odoo_double.LAST[(pid * 7) % len(odoo_double.LAST)]
        return first, last

    def _product(self, pid):
        p = odoo_double.PRODUCTS[(pid - 1) % 10]  # the first ten have a code
        return {"default_code": "FAST-%05d" % pid, "name": "%s n°%d" % (p[1], pid),
                "list_price": p[2], "standard_price": p[3], "categ_id": [p[8], CATEGORIES[p[8]]],
                "active": True}

    def _partner(self, pid):
        first, last = self._partner_name(pid)
        zipc, city = odoo_double.CITIES[pid % len(odoo_double.CITIES)]
        return {"name": "%s %s" % (first, last), "ref": "F%06d" % pid,
                "email": odoo_double._ascii("%s.%s.%d@example.fr" % (first, last, pid)).lower(),
                "phone": "+33 3 89 %02d %02d %02d" % (pid % 100, pid // 100 % 100, pid % 97),
                "mobile": False, "street": "%d rue des Vignes" % (pid % 300 + 1), "zip": zipc,
                "city": city, "country_id": [1, "France"], "customer_rank": 1, "active": True}

    def _quant(self, qid):
        product, wh = (qid - 1) // 2 + 1, (qid - 1) % 2 + 1
        qty = float(6 * (qid % 40) + wh)
        reserved = float(qid % 4)
        return {"product_id": [product, "FAST-%05d" % product],
                "location_id": [wh, WAREHOUSES[wh][0]], "warehouse_id": [wh, WAREHOUSES[wh][1]],
                "quantity": qty, "reserved_quantity": reserved, "available_quantity": qty - reserved,
                "product_uom_id": [1, UOMS[1]], "last_count_date": "2025-10-01"}

    def _order(self, oid):
        partner = (oid - 1) % self.count["res.partner"] + 1
        first = (oid - 1) * self.lines_per_order + 1
        last = min(first + self.lines_per_order, self.count["sale.order.line"] + 1)
        return {"name": "SF%07d" % oid, "partner_id": [partner, "%s %s" % self._partner_name(partner)],
                "date_order": self._fmt(self._write_date("sale.order", oid) - 60),
                "state": "sale", "order_line": list(range(first, last))}

    def _line(self, lid):
        oid = (lid - 1) // self.lines_per_order + 1
        partner = (oid - 1) % self.count["res.partner"] + 1
        product = (lid * 7919) % self.count["product.product"] + 1
        uom = 3 if lid % 10 == 0 else 2 if lid % 25 == 0 else 1
        qty = float(1 + lid % 6)
        price = odoo_double.PRODUCTS[(product - 1) % 10][2]
        return {"order_id": [oid, "SF%07d" % oid],
                "order_partner_id": [partner, "%s %s" % self._partner_name(partner)],
                "product_id": [product, "FAST-%05d" % product], "product_uom_qty": qty,
                "product_uom": [uom, UOMS[uom]], "price_unit": price,
                "price_subtotal": round(qty * price, 2), "price_total": round(qty * price * 1.2, 2),
                "margin": round(qty * price * 0.4, 2)}

    MAKERS = {"product.product": _product, "res.partner": _partner, "stock.quant": _quant,
              "sale.order": _order, "sale.order.line": _line}

    def _record(self, model, rid, fields):
        full = self.MAKERS[model](self, rid)
        out = {"id": rid}
        for f in fields:
            if f == "write_date":
                out[f] = self._fmt(self._write_date(model, rid))
            elif f == "product_uom_id" and model == "sale.order.line":
                out[f] = full["product_uom"]
            elif f != "id":
                out[f] = full[f]
        return out

    # ---- queries: ranges of ids -------------------------------------------
    def _unsupported(self, what):
        raise odoo_double.Fault(1, "ValueError: the bench double cannot answer %s" % what, 422,
                                "builtins.ValueError")

    def _date_bound(self, model, op, value):
        """The ids a write_date leaf keeps, as (lo, hi) inclusive."""
        us = _seconds(value)
        if self.version == "19":
            us = us // 1000000 * 1000000
        # write_date of id >= value  <=>  second index >= ceil((value - base) / 1 s)
        first_second = -(-(us - self.base[model] * 1000000) // 1000000)
        if op in (">", "<="):  # > value: from the first second strictly after it
            first_second = (us - self.base[model] * 1000000) // 1000000 + 1
        boundary = first_second * self.per_second + 1  # first id at or past the bound
        return (boundary, None) if op in (">=", ">") else (None, boundary - 1)

    def _ids(self, model, domain, order, offset, limit):
        if model not in self.count:
            self._unsupported("a search on %s" % model)
        if (order or "id asc").replace(" ", "") not in ("idasc", "id", "write_dateasc,idasc"):
            self._unsupported("the order %r" % order)
        lo, hi, only = 1, self.count[model], None
        for leaf in domain or []:
            if not isinstance(leaf, (list, tuple)) or len(leaf) != 3:
                self._unsupported("the domain operator %r" % (leaf,))
            path, op, value = leaf
            if op not in OPS:
                self._unsupported("the operator %r" % op)
            if path == "write_date" and op in (">=", ">", "<", "<="):
                a, b = self._date_bound(model, op, value)
            elif path == "id" and op in (">", ">=", "<", "<=", "="):
                a = value + (op == ">") if op in (">", ">=", "=") else None
                b = value - (op == "<") if op in ("<", "<=", "=") else None
            elif path == "id" and op == "in":
                only = set(value) if only is None else only & set(value)
                continue
            elif model == "sale.order.line" and leaf == ["product_id", "!=", False]:
                continue  # every line of the bench's orders has a product
            elif path in CONSTANT.get(model, {}):
                if not OPS[op](CONSTANT[model][path], value):
                    return []
                continue
            else:
                self._unsupported("the leaf %r on %s" % (leaf, model))
            lo, hi = max(lo, a) if a is not None else lo, min(hi, b) if b is not None else hi
        ids = (sorted(i for i in only if lo <= i <= hi) if only is not None
               else range(lo, hi + 1))
        ids = ids[offset or 0:]
        return ids[:limit] if limit else ids

    def call(self, model, method, kw):
        if method not in ("search", "search_read"):
            return super().call(model, method, kw)  # fields_get, context_get, errors
        if model not in self.count:
            self._unsupported("a %s of %s" % (method, model))
        with self.lock:
            self.calls[model] = self.calls.get(model, 0) + 1
        ids = self._ids(model, kw.get("domain"), kw.get("order"), kw.get("offset"),
                        kw.get("limit"))
        if method == "search":
            with self.lock:
                self.searched[model] = self.searched.get(model, 0) + len(ids)
            return list(ids)
        fields = kw.get("fields") or list(self.fields(model))
        known = self.fields(model)
        for f in fields:
            if f not in known:
                raise odoo_double.Fault(1, "ValueError: Invalid field %r on model %r" % (f, model),
                                        422, "builtins.ValueError")
        with self.lock:
            self.transferred[model] = self.transferred.get(model, 0) + len(ids)
        page = self.page_text(model, fields, ids)
        if page is not None:
            self.local.page = page
            return []  # the handler sends the rendered page instead
        with self.lock:
            self.on_request += len(ids)
        return [self._record(model, i, fields) for i in ids]

    def start(self, port=0):
        """The test double's server, with the handler below."""
        class Server(socketserver.ThreadingMixIn, HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", port), type("Handler", (_Handler,), {"double": self}))
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self


class _Handler(odoo_double._Handler):
    """The test double's handler; a page rendered ahead replaces the
    (empty) answer it encodes. TCP_NODELAY, as a real server's front
    sets it: without it the body, written after the headers, waits for
    the client's delayed ACK (about 40 ms a request)."""

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _json2(self, body):
        self.double.local.transport = "json2"
        return super()._json2(body)

    def _xmlrpc(self, body):
        self.double.local.transport = "xmlrpc"
        return super()._xmlrpc(body)

    def _send(self, status, body, ctype):
        page = self.double.take_page()
        super()._send(status, page if page is not None and status == 200 else body, ctype)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=100000)
    ap.add_argument("--customers", type=int, default=0, help="default: lines / 10")
    ap.add_argument("--products", type=int, default=2000)
    ap.add_argument("--per-second", type=int, default=10)
    ap.add_argument("--lines-per-order", type=int, default=4)
    ap.add_argument("--version", default="19", choices=("17", "19"))
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    double = FastDouble(args.lines, args.customers or max(1, args.lines // 10), args.products,
                        args.per_second, args.lines_per_order, args.version)
    double.start(args.port)
    print(json.dumps({"url": double.url, "db": double.db, "login": double.login,
                      "api_key": double.api_key, "version": args.version,
                      "records": double.records()}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    double.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
