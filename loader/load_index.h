/*  load_index - secondary indexes built once after a first load.

    Filling an empty canonical table row by row costs a random insertion
    per row into each of its secondary indexes (sales_lines_customer: a
    third of a full load's server time). When the loader's first COPY of a
    run goes into an empty table, its non-unique btree indexes are dropped
    in that COPY's transaction, their definitions kept in
    ops.deferred_indexes in the same transaction; the run's end builds
    them again (one sort each), and so does the loader's next connection
    after a crash. Primary keys stay: they catch the keys a COPY must not
    duplicate.
*/
#ifndef LOAD_INDEX_H_INCLUDED
#define LOAD_INDEX_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"

/*  In the caller's transaction: drops the deferrable indexes of canonical
    table `table` when it holds no row. Returns how many, -1 with err. */
int load_index_defer (PGconn *conn, const char *table, vd_error_t *err);
/*  Builds the deferred indexes of canonical table `only` (NULL: every
    table) again, in the caller's transaction or in its own when there is
    none. Returns how many, -1 with err. */
int load_index_restore (PGconn *conn, const char *only, vd_error_t *err);
/*  The same for every table but `except`, on a connection of its own
    (dsn) and in the background, so the server builds them while the run's
    last transaction computes the aggregates: returns that connection, NULL
    when there is nothing to build or it could not start (logged; the
    definitions stay for the next start). load_index_wait ends it:
    returns how many were built, -1 when the build failed (logged, the
    definitions stay for the next start). */
PGconn *load_index_start (const char *dsn, const char *except);
int load_index_wait (PGconn **side_p);

int load_index_test (bool verbose);

#endif
