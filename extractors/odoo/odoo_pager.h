/*  odoo_pager - incremental reading of one Odoo model by write_date,
    right on every Odoo version.

    Odoo 17 compares datetimes in domains to the microsecond, Odoo 19 in
    whole seconds (there `write_date > S` skips all of second S), and
    offset paging over a changing table returns a record on two pages. So
    the pager only ever writes `>=` and `<` on whole seconds, and pages
    with a keyset:

      mark (S, id): every record with write_date < S is done, and those
      of second S with an id <= id.
      1. finish second S: [S <= write_date < S+1, id > id] ordered by id,
         page after page (the id keyset);
      2. then [S+1 <= write_date < upper] ordered by write_date, id: a
         short page ends the run (mark = (upper, 0)); a full page whose
         last record is of second L hands over the records of seconds
         < L (all of them are in the page) and goes back to 1 with
         mark (L, 0) for second L, whose records a page could split.

    upper is the server's time minus the safety lag: rows committed late
    with an older write_date are still read. The mark moves only after
    the records before it were handed over (emit returned 0), so a
    failure anywhere loses nothing and a re-run repeats little.
*/
#ifndef ODOO_PAGER_H_INCLUDED
#define ODOO_PAGER_H_INCLUDED

#include "vendange.h"
#include <jansson.h>
#include <time.h>

#define ODOO_SECOND_LEN 20 /* "yyyy-mm-dd HH:MM:SS" and its NUL */

typedef struct {
    char second[ODOO_SECOND_LEN]; /* "" before the first run            */
    int64_t id;
} odoo_mark_t;

/*  Reads the records of model matching kwargs (domain, fields, order,
    limit, context) into page (an array the reader clears first). */
typedef int (odoo_read_fn) (void *arg, const char *model, const json_t *kwargs, json_t *page,
                            vd_error_t *err);
/*  Hands over the first n records of page. */
typedef int (odoo_emit_fn) (void *arg, const json_t *page, size_t n, vd_error_t *err);

typedef struct {
    odoo_read_fn *read;
    void *read_arg;
    const char *model;
    const json_t *domain; /* the model's own domain (borrowed)           */
    const json_t *fields;
    int page_size;
    odoo_emit_fn *emit;
    void *emit_arg;
} odoo_pager_t;

/*  Reads what changed since mark, up to upper (a whole second). Returns
    0 with mark = (upper, 0), -1 with err (mark where it got to). */
int odoo_pager_run (const odoo_pager_t *p, odoo_mark_t *mark, const char *upper, vd_error_t *err);

/*  "yyyy-mm-dd HH:MM:SS" (UTC) <-> seconds since the epoch. -1 when the
    text is not that. */
time_t odoo_pager_epoch (const char *second);
void odoo_pager_format (time_t t, char out[ODOO_SECOND_LEN]);

/*  The mark as {"after": second, "id": id}, and back (-1 when malformed). */
json_t *odoo_pager_mark_json (const odoo_mark_t *mark);
int odoo_pager_mark_parse (const json_t *doc, odoo_mark_t *mark);

int odoo_pager_test (bool verbose);

#endif
