/*  load_copy - the COPY round trip (psql's copy.c
    rules: check every PQputCopyData, abort with PQputCopyEnd(errmsg),
    drain PQgetResult to NULL).
*/
#ifndef LOAD_COPY_H_INCLUDED
#define LOAD_COPY_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"
#include "vd_copy.h"

/*  Runs `sql` (a COPY ... FROM STDIN) with data. Returns 0, -1 with err. */
int load_copy_run (PGconn *conn, const char *sql, const char *data, size_t len, vd_error_t *err);
/*  The same in steps, for data sent as it comes: begin (0, -1 with err),
    send (0, -1: the connection failed), end (ok false aborts the COPY;
    0 when it is ok and the server took every row, -1 with err). */
int load_copy_begin (PGconn *conn, const char *sql, vd_error_t *err);
int load_copy_send (PGconn *conn, const char *data, size_t len);
int load_copy_end (PGconn *conn, bool ok, vd_error_t *err);

int load_copy_test (bool verbose);

#endif
