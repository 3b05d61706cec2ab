/*  load_agg - the customer aggregates of a first load, counted while its
    sales lines are copied (load_customers_acc), so that the end of the run does
    not read a million lines again to compute them.

    Only COPY batches straight into canonical.sales_lines are counted,
    after their commit; a merged batch or a deletion makes the count
    unusable. At the end of the run, the count is used only when the table
    holds exactly the lines counted: as many, each written by one of the
    transactions that committed them (their xmin), which no other writer,
    no earlier run and no update since can fake. Else the aggregates come
    from the sales as always.
*/
#ifndef LOAD_AGG_H_INCLUDED
#define LOAD_AGG_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"

typedef struct load_agg load_agg_t;

load_agg_t *load_agg_new (void);
void load_agg_destroy (load_agg_t **self_p);

/*  Before the commit of a batch of sales lines copied straight into the
    table (row i is data[start[i] .. start[i] + len[i]), a COPY line in
    the table's column order): the id its lines carry (one lookup). 0, -1
    with err. */
int load_agg_prepare (load_agg_t *self, PGconn *conn, const char *data, const size_t *start,
                      const size_t *len, size_t nrows, vd_error_t *err);
/*  After that commit: counts the batch's lines. */
void load_agg_committed (load_agg_t *self, const char *data, const size_t *start, const size_t *len,
                         size_t nrows);
/*  The lines loaded are no longer those counted (a merged batch, a
    deletion). */
void load_agg_drop (load_agg_t *self);

/*  In the run's last transaction: when the table holds exactly the lines
    counted, fills the temporary table LOAD_CUSTOMERS_GIVEN for load_customers_update and
    frees the count. 1 filled, 0 not (the aggregates read the sales), -1
    with err. */
int load_agg_given (load_agg_t *self, PGconn *conn, vd_error_t *err);

int load_agg_test (bool verbose);

#endif
