"""The references for the iSaVigne sales file: what PostgreSQL and
pgloader do with it, without vendange.

R1  psql \\copy into a logged table of text columns (no parsing, no typing)
R2  \\copy into a temporary staging table, then one INSERT ... SELECT ...
    ON CONFLICT DO UPDATE into the typed, keyed table (by hand, in SQL)
R3  pgloader, a load file doing the same typing into the same table

Each run starts from empty target tables (emptied before the clock
starts) and is checked afterwards: the table holds every sales line.
"""
import os

from benchlib import Sample, case, run_measured

DB = "refs"
COLUMNS = ("client_code", "date_livraison", "document_type", "document_no", "order_detail_no",
           "article", "produit_label", "qty_line", "unite", "pu_ht", "mt_ht", "mt_ttc", "marge")

TABLES = """
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.sales_text (%s);
CREATE TABLE IF NOT EXISTS bench.sales_typed (
  sale_line_key text PRIMARY KEY,
  customer_key text,
  product_key text,
  order_id text,
  document_type text,
  date_sale date NOT NULL,
  quantity_units numeric NOT NULL,
  unit text,
  price_unit numeric,
  price_total numeric,
  price_total_incl_vat numeric,
  margin numeric);
""" % ", ".join("%s text" % c for c in COLUMNS)

TYPED = ("sale_line_key", "customer_key", "product_key", "order_id", "document_type", "date_sale",
         "quantity_units", "unit", "price_unit", "price_total", "price_total_incl_vat", "margin")

COPY_OPTIONS = "(FORMAT csv, DELIMITER ';', HEADER true, ENCODING 'WIN1252')"


def _number(col):
    """French number text to numeric: '1 234,50' (spaces, no-break spaces)."""
    return "translate(%s, ', ' || chr(160), '.')::numeric" % col


# What a careful SQL person writes: key derivation, typing, and an upsert
# that rewrites a row only when its content changed.
R2_INSERT = """
INSERT INTO bench.sales_typed AS t (%s)
SELECT 'isavigne-' || document_no || '-' || order_detail_no,
       'isavigne-' || client_code,
       upper(article),
       document_no,
       lower(document_type),
       to_date(date_livraison, 'DD/MM/YYYY'),
       %s, lower(unite), %s, %s, %s, %s
FROM sales_stage
ON CONFLICT (sale_line_key) DO UPDATE SET %s
WHERE (%s) IS DISTINCT FROM (%s)
""" % (", ".join(TYPED), _number("qty_line"), _number("pu_ht"), _number("mt_ht"),
       _number("mt_ttc"), _number("marge"),
       ", ".join("%s = EXCLUDED.%s" % (c, c) for c in TYPED[1:]),
       ", ".join("t.%s" % c for c in TYPED[1:]), ", ".join("EXCLUDED.%s" % c for c in TYPED[1:]))

# pgloader: the same typing as R2, in its load-file language (Lisp forms).
R3_LOAD = """LOAD CSV
  FROM '{file}' WITH ENCODING windows-1252
  HAVING FIELDS ({fields})
  INTO postgresql://postgres@unix:{socket}:{port}/{db}
  TARGET TABLE bench.sales_typed
  TARGET COLUMNS (
    sale_line_key text using (format nil "isavigne-~a-~a" document_no order_detail_no),
    customer_key text using (format nil "isavigne-~a" client_code),
    product_key text using (string-upcase article),
    order_id text using (identity document_no),
    document_type text using (string-downcase document_type),
    date_sale date using (fr-date date_livraison),
    quantity_units numeric using (fr-number qty_line),
    unit text using (string-downcase unite),
    price_unit numeric using (fr-number pu_ht),
    price_total numeric using (fr-number mt_ht),
    price_total_incl_vat numeric using (fr-number mt_ttc),
    margin numeric using (fr-number marge))
  WITH skip header = 1,
       fields optionally enclosed by '"',
       fields escaped by double-quote,
       fields terminated by ';',
       lines terminated by '0x0a';
"""
# The load file's helpers, loaded with --load as pgloader's manual shows
# for user-defined transformation functions.
R3_TRANSFORMS = """(in-package #:pgloader.transforms)

(defun fr-number (s)
  "'1 234,50' (spaces, no-break spaces, the CR of CRLF) to \\"1234.50\\"."
  (when s
    (substitute #\\. #\\, (remove-if (lambda (c) (member c '(#\\Space #\\No-break_space #\\Return)))
                                   s))))

(defun fr-date (s)
  "dd/mm/yyyy, with an optional time after it, to yyyy-mm-dd."
  (when s
    (format nil "~a-~a-~a" (subseq s 6 10) (subseq s 3 5) (subseq s 0 2))))
"""


def _setup(ctx):
    ctx.pg.recreate(DB)
    ctx.pg.psql(TABLES, db=DB)
    return True


def _count(ctx, table):
    return int(ctx.pg.psql("SELECT count(*) FROM %s" % table, db=DB)[0][0])


def _reference(ctx, method, label, table, cmd, log):
    """Empties table, runs cmd under the clock, checks every line landed."""
    ctx.once("refs_tables", lambda: _setup(ctx))
    ctx.pg.psql("TRUNCATE %s" % table, db=DB)
    ctx.quiesce()
    seconds, procs = run_measured(cmd, ctx.log(log), pg=ctx.pg)
    n, want = _count(ctx, table), ctx.sizes["sales"]
    if n != want:
        raise AssertionError("%s: %d rows in %s, expected %d; see %s"
                             % (method, n, table, want, ctx.log(log)))
    check = "%d rows in %s" % (n, table)
    if table == "bench.sales_typed":
        check += _same_typing(ctx, method)
    return Sample(method, label, seconds, want, procs, check)


def _same_typing(ctx, method):
    """R2 and R3 must give the very same typed table: compared by checksum."""
    digest = ctx.pg.psql("SELECT md5(string_agg(t::text, '|' ORDER BY sale_line_key)) "
                         "FROM bench.sales_typed t", db=DB)[0][0]
    first = ctx.state.setdefault("typed_digest", (method, digest))
    if first[1] != digest:
        raise AssertionError("%s's typed table differs from %s's" % (method, first[0]))
    return ", same content as %s's" % first[0] if first[0] != method else ""


@case(order=10)
def r1_copy_text(ctx):
    sales = os.path.join(ctx.export, "ventes.csv")
    cmd = ctx.pg.psql_args(DB) + ["-c", "\\copy bench.sales_text FROM '%s' %s" % (sales, COPY_OPTIONS)]
    return _reference(ctx, "R1", "psql \\copy into a logged text table", "bench.sales_text",
                      cmd, "r1-psql.log")


@case(order=20)
def r2_copy_upsert(ctx):
    sales = os.path.join(ctx.export, "ventes.csv")
    cmd = ctx.pg.psql_args(DB) + [
        "-1",
        "-c", "CREATE TEMP TABLE sales_stage (LIKE bench.sales_text) ON COMMIT DROP",
        "-c", "\\copy sales_stage FROM '%s' %s" % (sales, COPY_OPTIONS),
        "-c", R2_INSERT]
    return _reference(ctx, "R2", "\\copy to staging + INSERT ... ON CONFLICT DO UPDATE (typed)",
                      "bench.sales_typed", cmd, "r2-psql.log")


@case(order=30)
def r3_pgloader(ctx):
    load = os.path.join(ctx.work, "r3-sales.load")
    with open(load, "w") as f:
        f.write(R3_LOAD.format(file=os.path.join(ctx.export, "ventes.csv"),
                               fields=", ".join(COLUMNS), socket=ctx.pg.dir, port=ctx.pg.port,
                               db=DB))
    transforms = os.path.join(ctx.work, "r3-transforms.lisp")
    with open(transforms, "w") as f:
        f.write(R3_TRANSFORMS)
    root = os.path.join(ctx.work, "pgloader")
    cmd = ["pgloader", "--root-dir", root, "--load-lisp-file", transforms, "--logfile", ctx.log("r3-pgloader-detail.log"), load]
    return _reference(ctx, "R3", "pgloader, same typing into the same typed table",
                      "bench.sales_typed", cmd, "r3-pgloader.log")
