/*  load_refs - unknown customers and products, per batch. */
#include "load_refs.h"
#include "vd_copy.h"
#include "vd_hashset.h"

#define PREFILL_MAX 200000 /* a table up to this size is read whole once */

struct load_refs {
    vd_hashset_t *found[VD_TABLE_COUNT]; /* keys known to exist, per referenced table */
    bool prefilled[VD_TABLE_COUNT];      /* its keys read at the first check      */
};

/*  At a run's first check of a table: every key it holds when it holds
    at most PREFILL_MAX of them (one read instead of a lookup per key;
    keys written later in the run are looked up as they come). 0, -1. */
static int
s_prefill (load_refs_t *self, PGconn *conn, const vd_table_t *target, int target_id,
           vd_error_t *err)
{
    if (self->prefilled[target_id])
        return 0;
    self->prefilled[target_id] = true;
    char sql[160];
    snprintf (sql, sizeof sql, "SELECT %s FROM canonical.%s LIMIT %d", target->key, target->name,
              PREFILL_MAX + 1);
    PGresult *res = vd_db_exec (conn, sql, 0, NULL, err);
    if (!res)
        return -1;
    int rc = 0;
    uint8_t h[VD_HASH_SIZE];
    for (int r = 0; PQntuples (res) <= PREFILL_MAX && r < PQntuples (res) && rc >= 0; r++) {
        vd_hashset_of (PQgetvalue (res, r, 0), (size_t)PQgetlength (res, r, 0), h);
        rc = vd_hashset_add (self->found[target_id], h);
    }
    PQclear (res);
    return rc < 0 ? vd_error_set (err, VD_ERR_PERMANENT, "out of memory") : 0;
}

load_refs_t *
load_refs_new (void)
{
    load_refs_t *self = calloc (1, sizeof *self);
    for (int t = 0; self && t < VD_TABLE_COUNT; t++)
        if (!(self->found[t] = vd_hashset_new ()))
            load_refs_destroy (&self);
    return self;
}

void
load_refs_destroy (load_refs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int t = 0; t < VD_TABLE_COUNT; t++)
        vd_hashset_destroy (&(*self_p)->found[t]);
    free (*self_p);
    *self_p = NULL;
}

/*  The table a column references, -1 when none. */
static int
s_target (const vd_column_t *c)
{
    return c->rule == VD_RULE_CUSTOMER_REF  ? VD_TABLE_CUSTOMERS
           : c->rule == VD_RULE_PRODUCT_REF ? VD_TABLE_PRODUCTS
                                            : -1;
}

bool
load_refs_any (const vd_table_t *t)
{
    for (size_t c = 0; c < t->ncolumns; c++)
        if (s_target (&t->columns[c]) >= 0)
            return true;
    return false;
}

const char *
load_refs_field (const char *line, const char *eol, size_t index, size_t *len)
{
    const char *p = line;
    for (size_t i = 0; i < index; i++) {
        p = memchr (p, '\t', (size_t)(eol - p));
        if (!p)
            return NULL;
        p++;
    }
    const char *tab = memchr (p, '\t', (size_t)(eol - p));
    *len = (size_t)((tab ? tab : eol) - p);
    return p;
}

/*  A COPY text field (len bytes at f, no tab) back to its text: 1 for \N
    (NULL), 0, -1 out of memory. */
static int
s_unescape (const char *f, size_t len, vd_buf_t *out)
{
    return vd_copy_field (&f, f + len, out);
}

/*  Appends one element of an array literal ("..." with " and \ escaped). */
static int
s_array_add (vd_buf_t *b, const char *s)
{
    int rc = vd_buf_addstr (b, b->len > 1 ? ",\"" : "\"");
    for (; *s; s++)
        rc |= (*s == '"' || *s == '\\' ? vd_buf_addc (b, '\\') : 0) | vd_buf_addc (b, *s);
    return rc | vd_buf_addc (b, '"');
}

/*  Line i's bounds. */
static const char *
s_line (const char *rows, const size_t *start, size_t n, size_t end, size_t i, const char **eol)
{
    *eol = rows + (i + 1 < n ? start[i + 1] : end) - 1; /* the '\n' */
    return rows + start[i];
}

/*  The carried index of every column, -1 for a derived one. */
static size_t
s_carried_index (const vd_table_t *t, size_t column)
{
    size_t k = 0;
    for (size_t c = 0; c < column; c++)
        k += vd_schema_carried (&t->columns[c]);
    return k;
}

int64_t
load_refs_keys (const char *rows, const size_t *start, size_t n, size_t end, size_t column,
                vd_buf_t *out)
{
    vd_hashset_t *seen = vd_hashset_new ();
    vd_buf_t key;
    vd_buf_init (&key, 64 * 1024);
    int rc = seen ? vd_buf_addc (out, '{') : -1;
    int64_t count = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *eol, *line = s_line (rows, start, n, end, i, &eol);
        size_t len;
        const char *f = load_refs_field (line, eol, column, &len);
        int u = f ? s_unescape (f, len, &key) : 1;
        uint8_t h[VD_HASH_SIZE];
        if (u == 0)
            vd_hashset_of (key.data, key.len, h);
        int added = u == 0 ? vd_hashset_add (seen, h) : 0;
        if (u < 0 || added < 0)
            rc = -1;
        else if (added) {
            rc = s_array_add (out, vd_buf_str (&key));
            count++;
        }
    }
    if (rc == 0)
        rc = vd_buf_addc (out, '}');
    vd_buf_free (&key);
    vd_hashset_destroy (&seen);
    return rc < 0 ? -1 : count;
}

/*  The keys of `asked` (an array literal) that table `target` lacks, as
    a set (NULL with err). */
static vd_hashset_t *
s_unknown (PGconn *conn, const vd_table_t *target, const vd_buf_t *asked, vd_error_t *err)
{
    char sql[256];
    snprintf (sql, sizeof sql,
              "SELECT k FROM unnest($1::text[]) k"
              " WHERE NOT EXISTS (SELECT 1 FROM canonical.%s x WHERE x.%s = k)",
              target->name, target->key);
    const char *params[] = {vd_buf_str (asked)};
    PGresult *res = vd_db_exec (conn, sql, 1, params, err);
    if (!res)
        return NULL;
    vd_hashset_t *unknown = vd_hashset_new ();
    uint8_t h[VD_HASH_SIZE];
    for (int r = 0; unknown && r < PQntuples (res); r++) {
        vd_hashset_of (PQgetvalue (res, r, 0), (size_t)PQgetlength (res, r, 0), h);
        if (vd_hashset_add (unknown, h) < 0)
            vd_hashset_destroy (&unknown);
    }
    PQclear (res);
    if (!unknown)
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    return unknown;
}

/*  The key field `field` of line i as COPY text (NULL for a line left
    out, *len its length), and that field as text with its hash in h: 0,
    1 when none (NULL, or no field), -1 out of memory. */
static const char *
s_raw (const char *rows, const size_t *start, size_t n, size_t end, size_t i, size_t field,
       const bool *skip, size_t *len)
{
    const char *eol, *line = s_line (rows, start, n, end, i, &eol);
    *len = 0;
    return skip && skip[i] ? NULL : load_refs_field (line, eol, field, len);
}

static int
s_hash_key (const char *f, size_t len, vd_buf_t *key, uint8_t *h)
{
    int u = f ? s_unescape (f, len, key) : 1;
    if (u == 0)
        vd_hashset_of (key->data, key->len, h);
    return u;
}

/*  One referencing column: looks up the keys not known yet, then writes a
    warning for each row naming an unknown one. */
static int64_t
s_check_column (load_refs_t *self, PGconn *conn, const vd_table_t *t, size_t column,
                const char *rows, const size_t *start, size_t n, size_t end, const bool *skip,
                load_warn_t *warnings, vd_error_t *err)
{
    const vd_column_t *c = &t->columns[column];
    int target_id = s_target (c);
    const vd_table_t *target = vd_schema_table (target_id);
    vd_hashset_t *found = self->found[target_id];
    if (s_prefill (self, conn, target, target_id, err) < 0)
        return -1;
    size_t field = s_carried_index (t, column), ncarried = vd_schema_ncarried (t);
    vd_hashset_t *asked = vd_hashset_new ();
    vd_buf_t key, list, file;
    vd_buf_init (&key, 64 * 1024);
    vd_buf_init (&file, 64 * 1024);
    vd_buf_init (&list, 256 * 1024 * 1024);
    int rc = asked ? vd_buf_addc (&list, '{') : -1;
    uint8_t h[VD_HASH_SIZE];
    const char *prev = NULL; /* the line before's key field */
    size_t prev_len = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len;
        const char *f = s_raw (rows, start, n, end, i, field, skip, &len);
        if (f && prev && len == prev_len && memcmp (f, prev, len) == 0)
            continue; /* the same key (an order's lines come one after the other) */
        prev = f;
        prev_len = len;
        int u = s_hash_key (f, len, &key, h);
        int added = u == 0 && !vd_hashset_has (found, h) ? vd_hashset_add (asked, h) : 0;
        if (u < 0 || added < 0)
            rc = -1;
        else if (added)
            rc = s_array_add (&list, vd_buf_str (&key));
    }
    rc |= vd_buf_addc (&list, '}');
    vd_hashset_t *unknown = NULL;
    int64_t warned = 0;
    if (rc < 0)
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    else if (vd_hashset_size (asked) && !(unknown = s_unknown (conn, target, &list, err)))
        rc = -1;
    /* remember what exists; warn for what does not */
    size_t cursor = 0;
    for (const uint8_t *k; rc == 0 && (k = vd_hashset_next (asked, &cursor)) != NULL;)
        if (!vd_hashset_has (unknown, k) && vd_hashset_size (found) < LOAD_REFS_CACHE_MAX &&
            vd_hashset_add (found, k) < 0)
            rc = vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    for (size_t i = 0; unknown && vd_hashset_size (unknown) && i < n && rc == 0; i++) {
        size_t len;
        const char *f = s_raw (rows, start, n, end, i, field, skip, &len);
        if (s_hash_key (f, len, &key, h) != 0 || !vd_hashset_has (unknown, h))
            continue;
        const char *eol, *line = s_line (rows, start, n, end, i, &eol);
        size_t flen, llen;
        const char *fname = load_refs_field (line, eol, ncarried + 2, &flen);
        const char *lno = load_refs_field (line, eol, ncarried + 3, &llen);
        char number[24];
        int64_t line_no = 0;
        int in_file = fname ? s_unescape (fname, flen, &file) : -1;
        if (lno && llen < sizeof number)
            snprintf (number, sizeof number, "%.*s", (int)llen, lno);
        if (in_file < 0 || !lno || llen >= sizeof number ||
            vd_parse_int (number, INT64_MIN, INT64_MAX, &line_no) < 0) {
            rc = vd_error_set (err, VD_ERR_PERMANENT, "malformed staged row");
            break;
        }
        static const char *const reasons[] = {"unknown customer", "unknown product"};
        const char *reason = reasons[target_id == VD_TABLE_CUSTOMERS ? 0 : 1];
        rc = load_warn_add (warnings, t->name, in_file ? NULL : vd_buf_str (&file), file.len,
                            line_no, c->name, strlen (c->name), reason, strlen (reason),
                            vd_buf_str (&key), key.len);
        if (rc < 0)
            vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        warned++;
    }
    vd_hashset_destroy (&unknown);
    vd_hashset_destroy (&asked);
    vd_buf_free (&key);
    vd_buf_free (&file);
    vd_buf_free (&list);
    return rc < 0 ? -1 : warned;
}

int64_t
load_refs_check (load_refs_t *self, PGconn *conn, const vd_table_t *t, const char *rows,
                 const size_t *start, size_t n, size_t end, const bool *skip, load_warn_t *warnings,
                 vd_error_t *err)
{
    int64_t total = 0;
    for (size_t c = 0; c < t->ncolumns; c++) {
        if (s_target (&t->columns[c]) < 0)
            continue;
        int64_t w = s_check_column (self, conn, t, c, rows, start, n, end, skip, warnings, err);
        if (w < 0)
            return -1;
        total += w;
    }
    return total;
}

int
load_refs_test (bool verbose)
{
    int failures = 0;
    /* two sales-shaped lines: key, ..., then hash, ord, file, line */
    const char rows[] = "k1\ta\\tb\t\\N\n"
                        "k2\ta\\tb\tc\"d\n";
    size_t start[] = {0, 11};
    vd_buf_t out;
    vd_buf_init (&out, 4096);
    int64_t n = load_refs_keys (rows, start, 2, sizeof rows - 1, 1, &out);
    if (n != 1 || strcmp (vd_buf_str (&out), "{\"a\tb\"}") != 0)
        failures++;
    vd_buf_reset (&out);
    n = load_refs_keys (rows, start, 2, sizeof rows - 1, 2, &out);
    if (n != 1 || strcmp (vd_buf_str (&out), "{\"c\\\"d\"}") != 0)
        failures++;
    size_t len;
    const char *f = load_refs_field (rows, rows + 10, 2, &len);
    if (!f || len != 2 || memcmp (f, "\\N", 2) != 0 || load_refs_field (rows, rows + 10, 3, &len))
        failures++;
    if (!load_refs_any (vd_schema_table (VD_TABLE_SALES)) ||
        load_refs_any (vd_schema_table (VD_TABLE_CUSTOMERS)))
        failures++;
    if (verbose)
        printf ("  load_refs: %s\n", vd_buf_str (&out));
    vd_buf_free (&out);
    return failures ? -1 : 0;
}
