"""The reference model for Odoo: what vendange must hold after syncing an
Odoo data set (the test double's tables), written from SPEC.md ("Odoo")
and the README (The Odoo connector, Odoo connector settings, the built-in
field mapping that `extractor-odoo --print-mapping` prints, and the
Interpretations on Odoo names, dates, money, units, empty integers and
deletions), never from the C code.

    expect(tables, version, units) -> model.Expected (rows and aggregates)

tables: {model: {id: record}} as the double stores them (many2one as an
id, False for empty, datetimes in microseconds or "YYYY-MM-DD HH:MM:SS"
UTC text); version "17" or "19" (Odoo 19 has no res.partner.mobile);
units: extra unit table entries (the connector's unit_table).
"""
from decimal import Decimal

import model as m

# the connector's field_mapping in the differential test (custom wine fields)
FIELD_MAPPING = """[product.product]
grapes = x_grapes
vintage = x_vintage
colour = x_colour
region = x_region
"""
UNIT_TABLE = "bouteille = 1\nunite(s) = 1\n"
ODOO_UNITS = {"unite(s)": 1}


def text(v):
    """Odoo's False is empty; anything else as text."""
    if v is False or v is None:
        return None
    if isinstance(v, float):
        return repr(v)
    return str(v)


def number(v):
    return None if v is False or v is None else Decimal(repr(float(v))).normalize()


def product_key(p):
    """SPEC: default_code normalised, or ODOO-<id> when empty."""
    return m.code_key(text(p["default_code"])) or "ODOO-%d" % p["id"]


def unit_of(uoms, uom_id, qty, units):
    """(unit as stored, 75 cl equivalents): the unit of measure's name
    through the unit table (built in plus the connector's)."""
    if not uom_id:
        return None, None
    name = uoms[uom_id]["name"]
    key = m.re.sub(r"[\s.\-,]", "", m.strip_accents(name).lower())
    factor = units.get(key, m.unit_factor(name))
    return m.fold(name), (qty * factor if factor is not None and qty is not None else None)


def expect(tables, version, units=ODOO_UNITS):
    out = m.Expected()
    rows = out.rows
    partners = tables["res.partner"]
    products = tables["product.product"]
    countries = tables["res.country"]
    categories = tables["product.category"]
    uoms = tables["uom.uom"]
    for p in partners.values():
        if not p["customer_rank"] or p["customer_rank"] <= 0:
            continue
        mail, valid = m.email(text(p["email"]))
        key = "odoo-%d" % p["id"]
        try:
            phone = m.phone(text(p["phone"]))
        except m.Bad:
            phone = None
        mobile = None
        if version != "19":
            try:
                mobile = m.phone(text(p["mobile"]))
            except m.Bad:
                mobile = None
        rows["customers"][key] = {
            "customer_key": key, "source": "odoo", "source_id": str(p["id"]),
            # README: res.partner.name is the whole name, in last_name
            "last_name": m.clean(text(p["name"])), "first_name": None, "email": mail,
            "email_invalid": not valid, "phone": phone, "mobile": mobile,
            "address": m.clean(text(p["street"])), "zip_code": m.clean(text(p["zip"])),
            "city": m.clean(text(p["city"])),
            "country": countries[p["country_id"]]["name"] if p["country_id"] else None,
            "external_ref": m.clean(text(p["ref"])), "active": bool(p["active"])}
    for p in products.values():
        key = product_key(p)
        price = number(p["list_price"])
        shown = m.round_to(price * Decimal("1.2"), 2) if price is not None else None
        grapes = [g for g in (m.clean(x) for x in m.re.split(r"[,;/+]| et ",
                                                                text(p["x_grapes"]) or "")) if g]
        family = categories[p["categ_id"]]["name"] if p["categ_id"] else None
        rows["product_catalog"][key] = {
            "product_key": key, "source": "odoo", "source_id": str(p["id"]),
            "name": m.clean(text(p["name"])), "list_price": price,
            "cost_price": number(p["standard_price"]),
            "price_segment": m.segment_of_price(shown) if shown is not None else None,
            # README: Odoo's 0 for an empty integer is no vintage
            "vintage": p["x_vintage"] or None, "grapes": grapes or None,
            "region": m.clean(text(p["x_region"])),
            "category": m.category(text(p["x_colour"]), family),
            "active": bool(p["active"])}
    orders = tables["sale.order"]
    for ln in tables["sale.order.line"].values():
        order = orders.get(ln["order_id"])
        # README: lines of confirmed orders; section and note lines are not sales
        if not order or order["state"] not in ("sale", "done") or ln.get("display_type") or \
                not ln["product_id"]:
            continue
        qty = number(ln["product_uom_qty"])
        unit, eq = unit_of(uoms, ln["product_uom"], qty, units)
        total = number(ln["price_subtotal"])
        margin = number(ln["margin"])
        key = "odoo-%d" % ln["id"]
        rows["sales_lines"][key] = {
            "sale_line_key": key, "source": "odoo", "source_id": str(ln["id"]),
            "customer_key": "odoo-%d" % ln["order_partner_id"],
            "product_key": product_key(products[ln["product_id"]]),
            "order_id": order["name"],
            # README: the UTC date of the order's date_order
            "date_sale": m.date(order["date_order"][:10]),
            "quantity_units": qty, "unit": unit, "quantity_bottles_75cl_eq": eq,
            "price_unit": number(ln["price_unit"]), "price_total": total,
            "cost_total": total - margin if margin is not None else None,
            "margin_percent": m.round_to(margin * 100 / total, 2)
            if margin is not None and total else None}
    locations = tables["stock.location"]
    for q in tables["stock.quant"].values():
        if locations[q["location_id"]]["usage"] != "internal":
            continue
        qty = number(q["quantity"])
        unit, eq = unit_of(uoms, q["product_uom_id"], qty, units)
        wh = tables["stock.warehouse"][q["warehouse_id"]]["name"] if q["warehouse_id"] else \
            locations[q["location_id"]]["name"]
        key = "odoo-%d" % q["id"]
        rows["stock_levels"][key] = {
            "stock_key": key, "source": "odoo", "source_id": str(q["id"]),
            "product_key": product_key(products[q["product_id"]]), "warehouse": wh,
            "quantity_units": qty, "unit": unit, "quantity_bottles_75cl_eq": eq,
            "reserved_qty": number(q["reserved_quantity"]),
            "available_qty": number(q["available_quantity"]),
            "last_count_date": m.date(text(q["last_count_date"]))}
    m.Model().aggregates(out)
    return out
