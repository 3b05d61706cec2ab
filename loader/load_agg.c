/*  load_agg - a first load's aggregates, counted as it copies. */
#include "load_agg.h"
#include "vd_copy.h"
#include "load_refs.h"
#include "load_customers.h"
#include "vd_schema.h"

enum { F_CUSTOMER, F_ORDER, F_KEY, F_DATE, F_QUANTITY, F_PRICE, F_COUNT };
static const char *s_fields[F_COUNT] = {"customer_key", "order_id",       "sale_line_key",
                                        "date_sale",    "quantity_units", "price_total"};

struct load_agg {
    load_customers_acc_t *acc;
    size_t column[F_COUNT]; /* the fields' places in a COPY line */
    int64_t *xids;          /* transactions that committed lines  */
    size_t nxids, cap_xids;
    int64_t pending; /* the batch being committed's, -1 none */
};

load_agg_t *
load_agg_new (void)
{
    load_agg_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->pending = -1;
    self->acc = load_customers_acc_new ();
    const vd_table_t *t = vd_schema_table (VD_TABLE_SALES);
    for (int f = 0; f < F_COUNT; f++) {
        int c = vd_schema_column (t, s_fields[f]);
        if (c < 0)
            load_customers_acc_drop (self->acc); /* not a schema it knows: never used */
        self->column[f] = c < 0 ? 0 : (size_t)c;
    }
    if (!self->acc)
        load_agg_destroy (&self);
    return self;
}

void
load_agg_destroy (load_agg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    load_customers_acc_destroy (&(*self_p)->acc);
    free ((*self_p)->xids);
    free (*self_p);
    *self_p = NULL;
}

void
load_agg_drop (load_agg_t *self)
{
    if (self && load_customers_acc_usable (self->acc)) {
        vd_debug ("sales lines merged or deleted: the aggregates read the sales at the end");
        load_customers_acc_drop (self->acc);
    }
}

int
load_agg_prepare (load_agg_t *self, PGconn *conn, const char *data, const size_t *start,
                  const size_t *len, size_t nrows, vd_error_t *err)
{
    self->pending = -1;
    if (!load_customers_acc_usable (self->acc) || nrows == 0)
        return 0;
    /* the COPY ran in a savepoint: its lines carry the subtransaction's
       id, found on one of them (by its key) */
    size_t key_len;
    const char *key =
        load_refs_field (data + start[0], data + start[0] + len[0], self->column[F_KEY], &key_len);
    vd_buf_t text;
    vd_buf_init (&text, 64 * 1024);
    const char *end = key ? key + key_len : NULL;
    if (!key || vd_copy_field (&key, end, &text) != 0) {
        vd_buf_free (&text);
        load_customers_acc_drop (self->acc);
        return 0;
    }
    const char *params[] = {vd_buf_str (&text)};
    PGresult *res = vd_db_exec (conn,
                                "SELECT xmin::text FROM canonical.sales_lines"
                                " WHERE sale_line_key = $1",
                                1, params, err);
    vd_buf_free (&text);
    if (!res)
        return -1;
    if (PQntuples (res) != 1 ||
        vd_parse_int (PQgetvalue (res, 0, 0), 0, UINT32_MAX, &self->pending) < 0)
        load_customers_acc_drop (self->acc);
    PQclear (res);
    return 0;
}

void
load_agg_committed (load_agg_t *self, const char *data, const size_t *start, const size_t *len,
                    size_t nrows)
{
    int64_t xid = self->pending;
    self->pending = -1;
    if (!load_customers_acc_usable (self->acc) || nrows == 0)
        return;
    if (self->nxids == self->cap_xids) {
        size_t cap = self->cap_xids ? self->cap_xids * 2 : 256;
        int64_t *xids = xid < 0 ? NULL : realloc (self->xids, cap * sizeof *xids);
        self->xids = xids ? xids : self->xids;
        self->cap_xids = xids ? cap : self->cap_xids;
    }
    if (xid < 0 || self->nxids == self->cap_xids) { /* no id, or no memory */
        load_customers_acc_drop (self->acc);
        return;
    }
    self->xids[self->nxids++] = xid;
    for (size_t i = 0; i < nrows; i++) {
        const char *line = data + start[i], *eol = line + len[i];
        const char *f[F_COUNT];
        size_t flen[F_COUNT];
        for (int k = 0; k < F_COUNT; k++)
            if (!(f[k] = load_refs_field (line, eol, self->column[k], &flen[k]))) {
                load_customers_acc_drop (self->acc);
                return;
            }
        load_customers_line_t l = {f[F_CUSTOMER], f[F_ORDER],   f[F_KEY],         f[F_DATE],
                                   f[F_QUANTITY], f[F_PRICE],   flen[F_CUSTOMER], flen[F_ORDER],
                                   flen[F_KEY],   flen[F_DATE], flen[F_QUANTITY], flen[F_PRICE]};
        if (load_customers_acc_add (self->acc, &l) < 0)
            return;
    }
}

/*  Whether canonical.sales_lines holds exactly the lines counted: every
    line's xmin one of the counted commits, and as many lines. 1, 0, -1. */
static int
s_exact (load_agg_t *self, PGconn *conn, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn,
                                "SELECT xmin::text, count(*) FROM canonical.sales_lines"
                                " GROUP BY xmin",
                                0, NULL, err);
    if (!res)
        return -1;
    int64_t lines = 0;
    bool ours = true;
    for (int r = 0; r < PQntuples (res) && ours; r++) {
        int64_t xid = -1, n = 0;
        ours = vd_parse_int (PQgetvalue (res, r, 0), 0, UINT32_MAX, &xid) == 0 &&
               vd_parse_int (PQgetvalue (res, r, 1), 0, INT64_MAX, &n) == 0;
        size_t i = 0;
        while (ours && i < self->nxids && self->xids[i] != xid)
            i++;
        ours = ours && i < self->nxids;
        lines += n;
    }
    PQclear (res);
    return ours && lines == load_customers_acc_lines (self->acc);
}

int
load_agg_given (load_agg_t *self, PGconn *conn, vd_error_t *err)
{
    if (!self || !load_customers_acc_usable (self->acc) ||
        load_customers_acc_lines (self->acc) == 0)
        return 0;
    int exact = s_exact (self, conn, err);
    if (exact <= 0) {
        if (exact == 0)
            vd_debug ("canonical.sales_lines holds other lines than this run's: the aggregates"
                      " read the sales");
        return exact;
    }
    int64_t lines = load_customers_acc_lines (self->acc);
    vd_buf_t text;
    vd_buf_init (&text, (size_t)1 << 30);
    int rc = load_customers_acc_text (self->acc, &text) < 0
                 ? vd_error_set (err, VD_ERR_PERMANENT, "out of memory")
                 : vd_db_command (conn, load_customers_given_ddl, 0, NULL, err);
    if (rc == 0)
        rc = vd_copy_run (conn, "COPY " LOAD_CUSTOMERS_GIVEN " FROM STDIN", text.data, text.len,
                          err);
    vd_buf_free (&text);
    load_customers_acc_destroy (&self->acc); /* used: its memory back before the line hashes' */
    if (rc == 0)
        vd_info ("customer aggregates counted while loading %" PRId64 " sales lines", lines);
    return rc < 0 ? -1 : 1;
}

int
load_agg_test (bool verbose)
{
    int failures = 0;
    load_agg_t *self = load_agg_new ();
    VD_CHECK (&failures, self && load_customers_acc_usable (self->acc));
    /* two lines of the schema's own column order; the second of another
       transaction, committed after an unusable one */
    const vd_table_t *t = vd_schema_table (VD_TABLE_SALES);
    vd_buf_t rows;
    vd_buf_init (&rows, 4096);
    size_t start[2], len[2];
    for (int r = 0; r < 2; r++) {
        start[r] = rows.len;
        for (size_t c = 0; c < t->ncolumns; c++) {
            const char *v = c == self->column[F_CUSTOMER] ? "isavigne-C1"
                            : c == self->column[F_ORDER]  ? (r ? "\\N" : "F1")
                            : c == self->column[F_KEY]    ? (r ? "isavigne-F2-1" : "isavigne-F1-1")
                            : c == self->column[F_DATE]   ? (r ? "2024-03-01" : "2024-01-31")
                            : c == self->column[F_QUANTITY] ? "6"
                            : c == self->column[F_PRICE]    ? (r ? "10.5" : "-0.25")
                                                            : "x";
            vd_buf_printf (&rows, "%s%s", c ? "\t" : "", v);
        }
        len[r] = rows.len - start[r];
    }
    self->pending = 7;
    load_agg_committed (self, rows.data, start, len, 2);
    VD_CHECK (&failures, self->nxids == 1 && load_customers_acc_lines (self->acc) == 2);
    vd_buf_t out;
    vd_buf_init (&out, 4096);
    VD_CHECK (&failures, load_customers_acc_text (self->acc, &out) == 0 &&
                             strcmp (vd_buf_str (&out),
                                     "isavigne-C1\t2024-01-31\t2024-03-01\t10.25\t2\n") == 0);
    if (verbose)
        printf ("  load_agg: %s", vd_buf_str (&out));
    /* no transaction id (a failed prepare): never used */
    load_agg_committed (self, rows.data, start, len, 1);
    VD_CHECK (&failures, !load_customers_acc_usable (self->acc));
    vd_buf_free (&out);
    vd_buf_free (&rows);
    load_agg_destroy (&self);
    return failures ? -1 : 0;
}
