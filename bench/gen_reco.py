"""Writes a deterministic wine-estate history for the recommender bench, as
COPY files of the canonical tables (standard library only).

usage: gen_reco.py FOLDER [--customers N] [--products N] [--seed S]
       [--end YYYY-MM-DD] [--years Y] [--holdout-days H]

An Alsace estate that also sells wines bought in from other regions:
families of wines (a name: "Riesling Grand Cru Schlossberg"), some listed
in several vintages (product_key CODE-2021, same name), the others under
one code whose vintage is the current one. Customers have latent tastes:
1 or 2 colours, 1 to 3 grapes of those colours, 1 or 2 regions, a price
band and a tolerance, sometimes a body. Each line of an order is one of:
a repeat of a wine bought before (its vintage on sale that day: new
vintages reach those who liked the old one), a pick following the tastes
(a grape, a colour or a region of the customer, then a wine of it by
popularity, kept or not by its price, colour, region and body), or noise
(a wine of the whole catalogue by popularity). Each wine has companions
(the same range, a tasting case) added to the basket now and then, so
baskets co-occur beyond shared tastes. Orders follow the seasons (more in
November and December, fewer in January), Crémant and Champagne join
December baskets, rosé the summer ones. Customers arrive over the years
and some stop buying (at_risk, inactive); a few are restaurants (frequent,
large, loyal). About 1 % of orders get a credit note.

Time: the history ends at --end; D = end - holdout-days is the evaluation
day. The catalogue and the stock are the state on day D (no release after
D). After D each customer who bought before D places at most one order
(their last, the one the evaluation holds out); later ones are not
written. meta.json holds D, the end, the counts and the columns.

The same arguments always give the same bytes.
"""
import argparse
import bisect
import datetime
import json
import math
import os
import random
import unicodedata

# colour -> share of the estate's families
COLOURS = {"blanc": 0.50, "rouge": 0.18, "mousseux": 0.13, "rose": 0.08, "petillant": 0.06,
           "fortifie": 0.05}

# grape: (code, colours it makes, popularity among customers, body, flavours)
GRAPES = {
    "Riesling": ("RIES", ("blanc", "mousseux"), 1.6, ("light", "medium"),
                 ("citron", "pamplemousse", "minéral", "pétrole", "pomme verte", "fleurs blanches")),
    "Gewurztraminer": ("GEW", ("blanc",), 1.4, ("full",),
                       ("litchi", "rose", "épices", "mangue", "gingembre", "miel")),
    "Pinot Gris": ("PG", ("blanc", "petillant"), 1.3, ("medium", "full"),
                   ("fumé", "miel", "poire", "sous-bois", "abricot", "brioche")),
    "Pinot Noir": ("PN", ("rouge", "rose", "mousseux", "petillant"), 1.2, ("light", "medium"),
                   ("cerise", "framboise", "sous-bois", "épices", "fraise", "violette")),
    "Sylvaner": ("SYL", ("blanc",), 0.6, ("light",),
                 ("pomme verte", "herbes", "agrumes", "fleurs blanches")),
    "Muscat": ("MUS", ("blanc", "petillant", "fortifie"), 0.6, ("light", "medium"),
               ("raisin frais", "fleur d'oranger", "rose", "agrumes")),
    "Pinot Blanc": ("PB", ("blanc", "mousseux"), 0.7, ("light", "medium"),
                    ("fleurs blanches", "amande", "pêche", "pomme")),
    "Auxerrois": ("AUX", ("blanc", "mousseux"), 0.4, ("medium",),
                  ("amande", "fleurs blanches", "poire", "beurre frais")),
    "Chardonnay": ("CHA", ("blanc", "mousseux", "fortifie"), 0.9, ("medium", "full"),
                   ("beurre", "brioche", "noisette", "agrumes", "vanille")),
    "Chenin": ("CHE", ("blanc", "petillant", "mousseux"), 0.4, ("medium",),
               ("coing", "miel", "pomme", "tilleul")),
    "Sauvignon": ("SAU", ("blanc",), 0.6, ("light",),
                  ("buis", "agrumes", "pierre à fusil", "cassis")),
    "Savagnin": ("SAV", ("blanc",), 0.2, ("full",), ("noix", "curry", "épices")),
    "Cabernet Franc": ("CF", ("rouge", "rose"), 0.5, ("medium",),
                       ("poivron", "framboise", "violette", "graphite")),
    "Syrah": ("SYR", ("rouge", "rose"), 0.6, ("full",),
              ("poivre", "mûre", "olive noire", "violette", "réglisse")),
    "Grenache": ("GRE", ("rouge", "rose", "fortifie"), 0.5, ("full",),
                 ("fruits confits", "garrigue", "cacao", "fraise")),
    "Merlot": ("MER", ("rouge",), 0.5, ("medium", "full"), ("prune", "cassis", "cacao", "boisé")),
    "Cabernet Sauvignon": ("CS", ("rouge",), 0.4, ("full",),
                           ("cassis", "cèdre", "tabac", "boisé")),
    "Gamay": ("GAM", ("rouge",), 0.4, ("light",), ("fraise", "banane", "pivoine", "groseille")),
    "Touriga Nacional": ("TN", ("fortifie",), 0.2, ("full",), ("figue", "pruneau", "chocolat")),
}

# region: (share of families, grapes grown there)
REGIONS = {
    "Alsace": (0.62, ("Riesling", "Gewurztraminer", "Pinot Gris", "Pinot Noir", "Sylvaner",
                      "Muscat", "Pinot Blanc", "Auxerrois", "Chardonnay")),
    "Bourgogne": (0.06, ("Chardonnay", "Pinot Noir")),
    "Loire": (0.07, ("Chenin", "Sauvignon", "Cabernet Franc")),
    "Rhône": (0.05, ("Syrah", "Grenache")),
    "Bordeaux": (0.04, ("Merlot", "Cabernet Sauvignon", "Sauvignon")),
    "Champagne": (0.04, ("Chardonnay", "Pinot Noir")),
    "Jura": (0.03, ("Chardonnay", "Savagnin", "Pinot Noir")),
    "Provence": (0.03, ("Grenache", "Syrah")),
    "Roussillon": (0.03, ("Grenache", "Muscat")),
    "Beaujolais": (0.02, ("Gamay",)),
    "Douro": (0.01, ("Touriga Nacional",)),
}

# tier: (share, median price excl. VAT, spread (log), popularity factor)
TIERS = {"Tradition": (0.30, 8.5, 0.15, 1.6), "Réserve": (0.28, 13.0, 0.18, 1.2),
         "Vieilles Vignes": (0.14, 18.0, 0.18, 0.9), "Lieu-dit": (0.12, 24.0, 0.2, 0.7),
         "Grand Cru": (0.10, 34.0, 0.25, 0.6), "Vendanges Tardives": (0.04, 38.0, 0.2, 0.35),
         "Sélection de Grains Nobles": (0.02, 70.0, 0.25, 0.2)}
LIEUX = ["Rosacker", "Schoenenbourg", "Mandelberg", "Kaefferkopf", "Sporen", "Rangen", "Altenberg",
         "Brand", "Hengst", "Zinnkoepflé", "Sonnenglanz", "Froehn", "Osterberg", "Kirchberg",
         "Gloeckelberg", "Muenchberg", "Pfersigberg", "Eichberg", "Geisberg", "Schlossberg",
         "Furstentum", "Wineck", "Florimont", "Marckrain", "Mambourg"]
FIRST = ["Jean", "Marie", "Pierre", "Anne", "Luc", "Claire", "Paul", "Sophie", "Michel", "Élise",
         "François", "Hélène", "André", "Céline", "Jérôme", "Noémie", "Théo", "Zoé", "Hugo",
         "Camille", "Louis", "Léa", "Nicolas", "Julie", "Thomas", "Laura", "Marc", "Émilie"]
LAST = ["Muller", "Schmitt", "Meyer", "Weber", "Klein", "Wagner", "Fischer", "Hoffmann", "Kieffer",
        "Bauer", "Roth", "Frey", "Koenig", "Stoeckel", "Hügel", "Zind", "Béguin", "Lefèvre",
        "Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Simon", "Michel", "Garcia", "Roux"]
TOWNS = [("68340", "Riquewihr"), ("68000", "Colmar"), ("67000", "Strasbourg"),
         ("68750", "Bergheim"), ("67140", "Barr"), ("68240", "Kaysersberg"), ("75011", "Paris"),
         ("69003", "Lyon"), ("68100", "Mulhouse"), ("67600", "Sélestat"), ("13001", "Marseille"),
         ("54000", "Nancy"), ("59000", "Lille"), ("79098", "Freiburg")]
MONTH = [0.6, 0.6, 0.8, 0.9, 1.0, 1.0, 0.9, 0.7, 0.9, 1.0, 1.4, 2.2]  # orders per month, relative
WAREHOUSES = ("Cave Riquewihr", "Entrepôt Colmar")

COLUMNS = {
    "product_catalog": ("product_key", "source", "source_id", "connector", "name", "category",
                        "price_segment", "list_price", "cost_price", "grapes", "flavors",
                        "vintage", "region", "alcohol", "volume_cl", "body", "tannins", "active",
                        "last_updated", "synced_at"),
    "stock_levels": ("stock_key", "source", "source_id", "connector", "product_key", "warehouse",
                     "quantity_units", "unit", "quantity_bottles_75cl_eq", "reserved_qty",
                     "available_qty", "last_count_date", "synced_at"),
    "customers": ("customer_key", "source", "source_id", "connector", "person_key", "first_name",
                  "last_name", "email", "phone", "address", "zip_code", "city", "country",
                  "email_opt_out", "sms_opt_out", "email_invalid", "external_ref", "active",
                  "last_updated", "synced_at"),
    "sales_lines": ("sale_line_key", "source", "source_id", "connector", "customer_key",
                    "product_key", "order_id", "document_type", "date_sale", "quantity_units",
                    "unit", "quantity_bottles_75cl_eq", "price_unit", "price_total",
                    "cost_total", "margin_percent", "channel", "synced_at"),
}
SOURCE, CONNECTOR = "isavigne", "bench"


def ascii(text):
    """'Hélène' -> 'helene', for e-mail addresses."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()


def csv_field(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (list, tuple)):
        v = "{" + ",".join('"%s"' % x.replace('"', '\\"') for x in v) + "}"
    v = str(v)
    if any(c in v for c in ',"\n') or v == "":
        return '"' + v.replace('"', '""') + '"'
    return v


class Writer:
    def __init__(self, folder, table):
        self.f = open(os.path.join(folder, table + ".csv"), "w", encoding="utf-8", newline="")
        self.f.write(",".join(COLUMNS[table]) + "\n")
        self.n = 0

    def row(self, values):
        self.f.write(",".join(csv_field(v) for v in values) + "\n")
        self.n += 1

    def close(self):
        self.f.close()


def pick(rnd, weights):
    """A key of a {key: weight} dict."""
    keys = list(weights)
    return rnd.choices(keys, [weights[k] for k in keys])[0]


def segment_of(price_excl):
    incl = round(price_excl * 1.2, 2)
    return "entry" if incl < 15 else "standard" if incl < 30 else "premium" if incl < 75 \
        else "luxury"


class Family:
    """A wine (one name); its products are its vintages in the catalogue."""

    def __init__(self, i):
        self.i = i
        self.products = []  # product indexes, by vintage
        self.companions = []


class Catalogue:
    """Families and products, with the indexes the shoppers pick from."""

    def __init__(self, n, rnd, start, day):
        self.rnd, self.start, self.day = rnd, start, day
        self.families, self.products, self.names = [], [], set()
        while len(self.products) < n:
            self._family(n)
        self._companions()
        self._indexes()

    def _grape_colour(self, region):
        rnd = self.rnd
        for _ in range(50):
            colour = pick(rnd, COLOURS)
            grapes = [g for g in REGIONS[region][1] if colour in GRAPES[g][1]]
            if grapes:
                return colour, grapes
        return "blanc", [REGIONS[region][1][0]]

    def _name(self, region, colour, grapes, tier):
        rnd = self.rnd
        g = grapes[0]
        base = {"mousseux": "Crémant d'Alsace" if region == "Alsace" else
                "Champagne" if region == "Champagne" else "Crémant de %s" % region,
                "petillant": "Pét-Nat %s" % g, "fortifie": "Vin de liqueur %s" % g,
                "rose": "Rosé de %s" % g}.get(colour, g if region == "Alsace" else
                                               "%s %s" % (region, g))
        label = "%s %s" % (base, tier)
        if tier in ("Lieu-dit", "Grand Cru"):
            label += " " + rnd.choice(LIEUX)
        if region != "Alsace":
            label += " Domaine %s" % rnd.choice(LAST)
        name, k = label, 2
        while name in self.names:
            name = "%s n°%d" % (label, k)
            k += 1
        self.names.add(name)
        return name

    def _family(self, n):
        rnd, start, day = self.rnd, self.start, self.day
        fam = Family(len(self.families))
        region = pick(rnd, {r: v[0] for r, v in REGIONS.items()})
        colour, grapes = self._grape_colour(region)
        grape = rnd.choice(grapes)
        blend = [grape]
        if colour == "mousseux" and rnd.random() < 0.5:
            blend = sorted(set([grape] + rnd.sample(grapes, min(2, len(grapes)))))
        tiers = {t: v[0] for t, v in TIERS.items()}
        if colour not in ("blanc",):  # VT, SGN and grands crus are whites
            for t in ("Vendanges Tardives", "Sélection de Grains Nobles", "Grand Cru"):
                tiers[t] = 0.01
        tier = pick(rnd, tiers)
        _, median, spread, pop = TIERS[tier]
        if region == "Champagne":
            median *= 2.3
        if colour == "fortifie":
            median *= 1.4
        name = self._name(region, colour, blend, tier)
        fam.region, fam.colour, fam.grapes, fam.tier = region, colour, blend, tier
        fam.popularity = rnd.lognormvariate(0, 1.0) * pop
        code = "%s%04d" % (GRAPES[grape][0], fam.i)
        g = GRAPES[grape]
        body = rnd.choice(g[3])
        if tier in ("Grand Cru", "Vendanges Tardives", "Sélection de Grains Nobles"):
            body = "full"
        flavors = sorted(rnd.sample(g[4], rnd.randint(2, min(4, len(g[4])))))
        volume = 50 if tier == "Sélection de Grains Nobles" or colour == "fortifie" else \
            150 if rnd.random() < 0.03 else 37.5 if rnd.random() < 0.03 else 75
        # when the wine came to the estate's list, when it left it (rarely)
        intro = start - 400 if rnd.random() < 0.85 else rnd.randint(start, day - 30)
        until = rnd.randint(start + 60, day - 30) if rnd.random() < 0.03 else None
        # vintages: the latest one released by day D, older ones sold alongside
        lag = {"blanc": 1, "rose": 1, "petillant": 1, "rouge": 2, "mousseux": 2,
               "fortifie": 3}[colour] + (1 if tier in ("Grand Cru", "Vendanges Tardives") else 0) \
            + (3 if tier == "Sélection de Grains Nobles" else 0)
        date_day = datetime.date.fromordinal(day)
        latest = date_day.year - lag - (1 if date_day.month < 5 else 0)
        nv = colour in ("mousseux", "petillant") and rnd.random() < 0.7
        several = not nv and rnd.random() < 0.25
        count = 1 if not several else rnd.choices((2, 3, 4), (0.75, 0.22, 0.03))[0]
        count = min(count, n - len(self.products))
        vintages = list(range(latest - count + 1, latest + 1))
        price = rnd.lognormvariate(math.log(median), spread)
        for k, v in enumerate(vintages):
            release = datetime.date(v + lag, 3, 1).toordinal() + rnd.randint(0, 75)
            on_from = max(intro, release) if several else intro
            on_until = None
            if several and k + 1 < len(vintages):  # sold until a while after the next one
                nxt = datetime.date(v + 1 + lag, 3, 1).toordinal()
                on_until = nxt + rnd.randint(90, 900)
            if until is not None:
                on_until = until if on_until is None else min(on_until, until)
            if on_until is not None and on_until < on_from:
                on_until = on_from
            key = code if not several else "%s-%d" % (code, v)
            p = price * (1 + 0.04 * (latest - v)) if several else price
            p = round(p * (1.01 ** (latest - v)), 2)
            idx = len(self.products)
            self.products.append({
                "key": key, "name": name, "colour": colour, "grapes": blend,
                "flavors": flavors, "vintage": None if nv else v, "region": region,
                "body": body, "price": p, "volume": volume, "family": fam.i,
                "from": on_from, "until": on_until, "tannins": None if colour != "rouge" else
                rnd.choice(("souples", "fondus", "présents"))})
            fam.products.append(idx)
        # a few wines on sale on day D are out of stock that day
        for idx in fam.products:
            if self.products[idx]["until"] is None and rnd.random() < 0.03:
                self.products[idx]["until"] = rnd.randint(day - 120, day - 1)
        self.families.append(fam)

    def _companions(self):
        """Each wine has 1 to 3 companions: same tier (a tasting case of the
        range) or same region and colour band."""
        rnd = self.rnd
        by_tier = {}
        for f in self.families:
            by_tier.setdefault((f.tier, f.region == "Alsace"), []).append(f.i)
        for f in self.families:
            pool = by_tier[(f.tier, f.region == "Alsace")]
            for _ in range(rnd.randint(1, 3)):
                c = rnd.choice(pool)
                if c != f.i and c not in f.companions:
                    f.companions.append(c)

    def _indexes(self):
        def index(keyfn):
            out = {}
            for f in self.families:
                for k in keyfn(f):
                    out.setdefault(k, []).append(f.i)
            return {k: (v, cumulative([self.families[i].popularity for i in v]))
                    for k, v in out.items()}

        self.by_grape = index(lambda f: f.grapes)
        self.by_colour = index(lambda f: [f.colour])
        self.by_region = index(lambda f: [f.region])
        self.all = index(lambda f: ["all"])["all"]

    def on_sale(self, fam, t):
        """The product of a family on sale on day t: the latest vintage,
        sometimes an older one still on sale; None if none."""
        ok = [idx for idx in self.families[fam].products
              if self.products[idx]["from"] <= t and (self.products[idx]["until"] is None
                                                       or t <= self.products[idx]["until"])]
        if not ok:
            return None
        if len(ok) > 1 and self.rnd.random() < 0.2:
            return self.rnd.choice(ok[:-1])
        return ok[-1]


def cumulative(weights):
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def draw(rnd, indexed):
    fams, cum = indexed
    return fams[bisect.bisect_left(cum, rnd.random() * cum[-1])]


class Shopper:
    """A customer's latent tastes and habits."""

    def __init__(self, rnd, cat):
        self.pro = rnd.random() < 0.02
        colours = [pick(rnd, COLOURS)]
        if rnd.random() < 0.45:
            colours.append(pick(rnd, COLOURS))
        self.colours = sorted(set(colours))
        pool = {g: v[2] for g, v in GRAPES.items() if set(v[1]) & set(self.colours)
                and g in cat.by_grape}
        grapes = set()
        for _ in range(rnd.choices((1, 2, 3), (0.35, 0.4, 0.25))[0]):
            grapes.add(pick(rnd, pool))
        self.grapes = sorted(grapes)
        regions = [pick(rnd, {r: v[0] for r, v in REGIONS.items()})]
        if rnd.random() < 0.4:
            regions.append(pick(rnd, {r: v[0] for r, v in REGIONS.items()}))
        self.regions = sorted(set(regions))
        self.price = rnd.lognormvariate(math.log(11 if self.pro else 14), 0.5)
        self.tolerance = rnd.uniform(0.25, 0.55)
        self.body = rnd.choice(("light", "medium", "full")) if rnd.random() < 0.35 else None
        self.repeat = min(0.85, rnd.betavariate(2, 4) + (0.35 if self.pro else 0))
        self.noise = rnd.uniform(0.05, 0.25)
        self.festive = rnd.random() < 0.12  # buys mostly for the year-end
        self.rate = rnd.lognormvariate(math.log(6 if self.pro else 2.3), 0.6)  # orders / year
        self.basket = 2.0 + (1.5 if self.pro else 0)  # wines per order, mean - 1

    def fit(self, p):
        """How well a product fits the tastes, 0..1 (kept or not by it)."""
        x = (math.log(p["price"]) - math.log(self.price)) / self.tolerance
        f = max(0.03, math.exp(-0.5 * x * x))
        if p["colour"] not in self.colours:
            f *= 0.35
        if p["region"] not in self.regions:
            f *= 0.5
        if not set(p["grapes"]) & set(self.grapes):
            f *= 0.6
        if self.body and p["body"] != self.body:
            f *= 0.6
        return f


def season(colour, month):
    if colour in ("mousseux",):
        return {12: 3.0, 11: 1.6, 1: 0.7}.get(month, 0.8)
    if colour == "rose":
        return {6: 2.2, 7: 2.5, 8: 2.0, 5: 1.4}.get(month, 0.5 if month in (11, 12, 1, 2) else 0.9)
    if colour == "fortifie":
        return 1.8 if month in (11, 12) else 0.8
    return 1.0


class History:
    def __init__(self, cat, rnd, start, day, end):
        self.cat, self.rnd = cat, rnd
        self.start, self.day, self.end = start, day, end
        self.doc = 0

    def product(self, sh, t, bought):
        """One line's product for shopper sh on day t, or None."""
        cat, rnd = self.cat, self.rnd
        month = datetime.date.fromordinal(t).month
        r = rnd.random()
        if bought and r < sh.repeat:
            fams = list(bought)
            fam = rnd.choices(fams, [bought[f] for f in fams])[0]
            idx = cat.on_sale(fam, t)
            if idx is not None:
                return idx
        if rnd.random() < sh.noise:
            for _ in range(6):
                fam = draw(rnd, cat.all)
                idx = cat.on_sale(fam, t)
                if idx is None:
                    continue
                if rnd.random() < season(cat.products[idx]["colour"], month) / 3:
                    return idx
            return None
        for _ in range(16):
            route = rnd.random()
            if route < 0.5:
                indexed = cat.by_grape[rnd.choice(sh.grapes)]
            elif route < 0.8:
                indexed = cat.by_colour[rnd.choice(sh.colours)]
            else:
                indexed = cat.by_region.get(rnd.choice(sh.regions)) or cat.all
            idx = cat.on_sale(draw(rnd, indexed), t)
            if idx is None:
                continue
            p = cat.products[idx]
            if rnd.random() < sh.fit(p) * min(1.0, season(p["colour"], month)):
                return idx
        return None

    def seasonal_extra(self, sh, t):
        """Crémant for the year-end, rosé for the summer."""
        cat, rnd = self.cat, self.rnd
        month = datetime.date.fromordinal(t).month
        colour = "mousseux" if month == 12 and rnd.random() < 0.35 else \
            "rose" if month in (6, 7, 8) and rnd.random() < 0.2 else None
        if colour is None or colour not in cat.by_colour:
            return None
        for _ in range(8):
            idx = cat.on_sale(draw(rnd, cat.by_colour[colour]), t)
            if idx is not None and rnd.random() < max(0.2, sh.fit(cat.products[idx])):
                return idx
        return None

    def order_days(self, sh):
        """Days of a customer's orders: arrival, then a seasonal Poisson
        process until they stop buying; at most one order after D."""
        rnd, start, day, end = self.rnd, self.start, self.day, self.end
        arrival = rnd.randint(start - 700, start) if rnd.random() < 0.4 else \
            rnd.randint(start, day)
        stop = arrival + int(rnd.expovariate(1 / (365 * 2.5)))
        days, t = [], max(arrival, start)
        if arrival >= start:
            days.append(arrival)
        peak = max(MONTH)
        while True:
            t += int(rnd.expovariate(sh.rate * peak / 365)) + 1
            if t > min(stop, end):
                break
            m = datetime.date.fromordinal(t).month
            w = MONTH[m - 1] * (4.0 if sh.festive and m in (11, 12) else
                                0.4 if sh.festive else 1.0)
            if rnd.random() < w / (peak * (4.0 if sh.festive else 1.0)) * \
                    (1.0 if not sh.festive else 2.2):
                days.append(t)
        out = [d for d in days if d <= day]
        after = [d for d in days if d > day]
        if out and after:
            out.append(after[0])
        return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--customers", type=int, default=100000)
    p.add_argument("--products", type=int, default=2000)
    p.add_argument("--seed", type=int, default=20261)
    p.add_argument("--end", default="2026-11-30")
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--holdout-days", type=int, default=56)
    a = p.parse_args()
    os.makedirs(a.folder, exist_ok=True)
    end_date = datetime.date.fromisoformat(a.end)
    end = end_date.toordinal()
    start = end_date.replace(year=end_date.year - a.years).toordinal() + 1
    day = end - a.holdout_days
    stamp = "%s 08:00:00+00" % datetime.date.fromordinal(day + 1).isoformat()
    rnd = random.Random(a.seed)
    cat = Catalogue(a.products, rnd, start, day)
    write_catalogue(a.folder, cat, day, stamp)
    counts = write_history(a.folder, cat, rnd, start, day, end, a.customers, stamp)
    meta = {"seed": a.seed, "start": datetime.date.fromordinal(start).isoformat(),
            "as_of": datetime.date.fromordinal(day).isoformat(), "end": end_date.isoformat(),
            "holdout_days": a.holdout_days, "customers": a.customers,
            "products": len(cat.products), "families": len(cat.families),
            "columns": COLUMNS}
    meta.update(counts)
    with open(os.path.join(a.folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps({k: v for k, v in meta.items() if k != "columns"}))


def write_catalogue(folder, cat, day, stamp):
    rnd = cat.rnd
    prods, stock = Writer(folder, "product_catalog"), Writer(folder, "stock_levels")
    inactive = out = 0
    count_day = datetime.date.fromordinal(day - rnd.randint(0, 20)).isoformat()
    for pr in cat.products:
        on_sale = pr["from"] <= day and (pr["until"] is None or day <= pr["until"])
        ended = not on_sale and pr["until"] is not None and pr["until"] < day - 120
        active = not (ended and rnd.random() < 0.9)
        inactive += not active
        out += active and not on_sale
        pr["active"] = active
        price = pr["price"]
        prods.row((pr["key"], SOURCE, pr["key"], CONNECTOR, pr["name"], pr["colour"],
                   segment_of(price), "%.2f" % price, "%.2f" % (price * rnd.uniform(0.3, 0.45)),
                   pr["grapes"], pr["flavors"], pr["vintage"], pr["region"],
                   "%.1f" % rnd.uniform(11.5, 14.5) if pr["colour"] != "fortifie" else "17.5",
                   pr["volume"], pr["body"], pr["tannins"], active, stamp, stamp))
        for w, warehouse in enumerate(WAREHOUSES):
            if w == 1 and rnd.random() < 0.6:
                continue
            avail = rnd.randint(6, 600) if on_sale else 0
            reserved = rnd.randint(0, 12) if avail else 0
            qty = avail + reserved
            sid = "%s-%s" % (pr["key"], warehouse)
            stock.row(("%s-%s" % (SOURCE, sid), SOURCE, sid, CONNECTOR, pr["key"], warehouse,
                       qty, "bt", "%.2f" % (qty * pr["volume"] / 75), reserved, avail,
                       count_day, stamp))
    prods.close()
    stock.close()
    cat.inactive, cat.out_of_stock = inactive, out


def write_history(folder, cat, rnd, start, day, end, n, stamp):
    customers, sales = Writer(folder, "customers"), Writer(folder, "sales_lines")
    hist = History(cat, rnd, start, day, end)
    doc = credits = heldout = 0
    for c in range(n):
        code = "C%06d" % c
        key = "%s-%s" % (SOURCE, code)
        sh = Shopper(rnd, cat)
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        r = rnd.random()
        email = None if r < 0.12 else "%s.%s%d@example.fr" % (
            ascii(first), ascii(last), c) if r >= 0.15 else "%s.%d@" % (ascii(first), c)
        invalid = email is not None and email.endswith("@")
        zip_code, city = rnd.choice(TOWNS)
        customers.row((key, SOURCE, code, CONNECTOR, key, first, last, email,
                       "03 89 %02d %02d %02d" % (c % 100, c // 100 % 100, c % 97),
                       "%d rue des Vignes" % (c % 90 + 1), zip_code, city,
                       "Germany" if zip_code == "79098" else "France",
                       email is not None and rnd.random() < 0.06, rnd.random() < 0.1, invalid,
                       "CHR" if sh.pro else None, True, stamp, stamp))
        bought = {}
        days = hist.order_days(sh)
        for t in days:
            after = t > day
            if after and not bought:  # held out only after an earlier order
                break
            basket = []
            target = 1 + int(rnd.expovariate(1 / sh.basket))
            for _ in range(target):
                idx = hist.product(sh, t, bought)
                if idx is not None and idx not in basket:
                    basket.append(idx)
                    comps = cat.families[cat.products[idx]["family"]].companions
                    if comps and rnd.random() < 0.2:
                        j = cat.on_sale(rnd.choice(comps), t)
                        if j is not None and j not in basket:
                            basket.append(j)
            extra = hist.seasonal_extra(sh, t)
            if extra is not None and extra not in basket:
                basket.append(extra)
            if not basket:
                continue
            doc += 1
            date = datetime.date.fromordinal(t)
            order = "FA-%s-%07d" % (date.strftime("%Y%m"), doc)
            heldout += after
            lines = []
            for line, idx in enumerate(basket, 1):
                pr = cat.products[idx]
                qty = rnd.choice((1, 1, 2, 2, 3, 6, 6, 12)) * (3 if sh.pro else 1)
                unit = "bt"
                units = qty
                if qty % 6 == 0 and rnd.random() < 0.5:
                    unit, units = "ct6", qty // 6
                lines.append((idx, qty))
                write_line(sales, key, order, "facture", date, line, pr, qty, unit, units, stamp)
                fam = pr["family"]
                bought[fam] = bought.get(fam, 0) + 1
            if not after and rnd.random() < 0.01 and t + 20 <= day:
                idx, qty = rnd.choice(lines)
                doc += 1
                cdate = datetime.date.fromordinal(t + rnd.randint(3, 20))
                credit = "AV-%s-%07d" % (cdate.strftime("%Y%m"), doc)
                write_line(sales, key, credit, "avoir", cdate, 1, cat.products[idx], -qty, "bt",
                           -qty, stamp)
                credits += 1
    customers.close()
    sales.close()
    return {"sales_lines": sales.n, "orders": doc - credits, "credit_notes": credits,
            "heldout_orders": heldout, "inactive_products": cat.inactive,
            "active_out_of_stock_products": cat.out_of_stock}


def write_line(sales, key, order, doc_type, date, line, pr, qty, unit, units, stamp):
    price = pr["price"] * (6 if unit == "ct6" else 1)
    total = round(price * units, 2)
    cost = round(total * 0.38, 2)
    sid = "%s-%d" % (order, line)
    sales.row(("%s-%s" % (SOURCE, sid), SOURCE, sid, CONNECTOR, key, pr["key"], order, doc_type,
               date.isoformat(), units, unit, "%.2f" % (qty * pr["volume"] / 75), "%.2f" % price,
               "%.2f" % total, "%.2f" % cost, "62.00", "cave" if line % 7 else "salon", stamp))


if __name__ == "__main__":
    main()
