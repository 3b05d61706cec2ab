/*  load_refs - references of a batch's rows to customers and products
    that do not exist (yet): one warning per row and column ("unknown
    customer", "unknown product"), with the row's file and line.

    A referenced table of at most 200,000 rows is read whole at the run's
    first check; then the batch's distinct keys not known yet are checked,
    one query per referenced table (index lookups), and the keys found are
    remembered for the rest of the run (up to LOAD_REFS_CACHE_MAX a
    table), so a run looks each key up about once whatever its size.
    A key found stays found: rows are only deleted at the run's end.

    The rows are the loader's COPY text lines (load_run): the carried
    columns in schema order, then content_hash, _ord, _file, _line.
*/
#ifndef LOAD_REFS_H_INCLUDED
#define LOAD_REFS_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"
#include "load_warn.h"

#define LOAD_REFS_CACHE_MAX 500000 /* keys remembered per referenced table */

typedef struct load_refs load_refs_t;

load_refs_t *load_refs_new (void);
void load_refs_destroy (load_refs_t **self_p);

/*  True when rows of table t reference another table. */
bool load_refs_any (const vd_table_t *t);

/*  Checks rows [0, n) of table t (line i at rows + start[i], the last
    ending at rows + end), leaving out rows whose skip[i] is true (skip may
    be NULL). Adds one warning per unknown reference to warnings (field:
    the column; raw value: the key). Returns the number of warnings, -1
    with err. */
int64_t load_refs_check (load_refs_t *self, PGconn *conn, const vd_table_t *t, const char *rows,
                         const size_t *start, size_t n, size_t end, const bool *skip,
                         load_warn_t *warnings, vd_error_t *err);

/*  The key text of a customer_key reference field of every row [0, n)
    (distinct, COPY-unescaped) as a PostgreSQL array literal into out;
    column: the carried index of the field. Returns the number of keys,
    -1 out of memory. */
int64_t load_refs_keys (const char *rows, const size_t *start, size_t n, size_t end, size_t column,
                        vd_buf_t *out);

/*  Field `index` (0-based, tab-separated) of the COPY line [line, eol):
    pointer and length, NULL when the line has fewer fields. */
const char *load_refs_field (const char *line, const char *eol, size_t index, size_t *len);

int load_refs_test (bool verbose);

#endif
