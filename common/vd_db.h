/*  vd_db - PostgreSQL through libpq: connect, run parametrised SQL,
    migrate. SQL is never built by pasting values: parameters always, and
    PQescapeIdentifier for the rare identifier.
*/
#ifndef VD_DB_H_INCLUDED
#define VD_DB_H_INCLUDED

#include "vd_error.h"
#include <libpq-fe.h>
#include <stdbool.h>

/*  Connects (dsn: URL or key=value; "" means libpq's defaults), sets
    application_name to the service name and client_encoding UTF8. On
    failure returns NULL and err (kind TRANSIENT: the server may come back;
    the DSN's password is never in the message). */
PGconn *vd_db_connect (const char *dsn, const char *service, vd_error_t *err);

/*  The role of every service but the loader (vd_migrate makes it): reads
    canonical.*, writes ops.* and reco.*. */
#define VD_DB_SERVICE_ROLE "vendange_service"
/*  Every later vd_db_connect of this process takes role (SET ROLE), and
    so does vd_migrate's connection after migrating (as the login role).
    NULL (the default, the loader's): the login role. When the role
    cannot be taken (it is missing: the login role may not create roles)
    the connection keeps the login role; vd_migrate warns once. */
void vd_db_set_role (const char *role);
/*  Takes the role set on conn: 0, -1 (conn unchanged; with warn, said
    once). */
int vd_db_take_role (PGconn *conn, bool warn);

/*  While a query runs, call hook(arg) about every 200 ms (a service sends
    its heartbeats from there, so a long transaction does not look like a
    dead process). Per thread; NULL hook: none. */
void vd_db_set_wait_hook (void (*hook) (void *arg), void *arg);
/*  Waits until the connection's pending result is ready, calling the wait
    hook meanwhile. Returns 0, -1 when the connection broke. */
int vd_db_wait (PGconn *conn);

/*  Runs sql with text parameters (NULL entries are SQL NULL). Returns the
    result (TUPLES_OK or COMMAND_OK; the caller PQclear()s it), or NULL with
    err filled from the server: msg = primary, detail, hint, sqlstate; kind
    TRANSIENT for connection loss, serialization failure (40001), deadlock
    (40P01), shutdown (57P01..57P03), else PERMANENT. */
PGresult *vd_db_exec (PGconn *conn, const char *sql, int nparams, const char *const *params,
                      vd_error_t *err);
/*  Same, with binary parameters where lengths[i] >= 0 (its byte count;
    -1 for a text one; lengths may be NULL: all text), and the result in
    binary when binary_result (bytea as raw bytes). At most 16 parameters. */
PGresult *vd_db_exec_binary (PGconn *conn, const char *sql, int nparams, const char *const *params,
                             const int *lengths, bool binary_result, vd_error_t *err);
/*  Same, for a statement whose result is not needed. Returns 0, -1. */
int vd_db_command (PGconn *conn, const char *sql, int nparams, const char *const *params,
                   vd_error_t *err);
/*  Runs a script of several statements without parameters (migrations
    only: never with values from outside). Returns 0, -1 with err. */
int vd_db_script (PGconn *conn, const char *sql, vd_error_t *err);
/*  Fills err from a failed result or connection (used by vd_db_exec and by
    COPY code). Returns -1. */
int vd_db_error (PGconn *conn, const PGresult *res, const char *what, vd_error_t *err);

/*  Advisory lock (transaction scope) between `vendange forget`, which
    takes it exclusive, and a recommendation job writing its rows, which
    takes it shared: a job never writes back a person forgotten while it
    ran. */
#define VD_DB_FORGET_LOCK "7366472"

#endif
