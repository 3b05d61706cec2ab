/*  load_copy - the COPY round trip (the text encoding is vd_copy's). */
#include "load_copy.h"

int
load_copy_begin (PGconn *conn, const char *sql, vd_error_t *err)
{
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_COPY_IN) {
        vd_db_error (conn, res, "COPY failed to start", err);
        PQclear (res);
        return -1;
    }
    PQclear (res);
    return 0;
}

int
load_copy_send (PGconn *conn, const char *data, size_t len)
{
    const size_t chunk = 1024 * 1024;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (PQputCopyData (conn, data + off, (int)n) != 1)
            return -1;
    }
    return 0;
}

int
load_copy_run (PGconn *conn, const char *sql, const char *data, size_t len, vd_error_t *err)
{
    if (load_copy_begin (conn, sql, err) < 0)
        return -1;
    return load_copy_end (conn, load_copy_send (conn, data, len) == 0, err);
}

int
load_copy_end (PGconn *conn, bool ok, vd_error_t *err)
{
    int rc = ok ? 0 : -1;
    PGresult *res;
    if (PQputCopyEnd (conn, rc == 0 ? NULL : "could not send data") != 1)
        rc = -1;
    /* drain every result: the COPY's own status comes first */
    if (vd_db_wait (conn) < 0)
        rc = -1;
    while ((res = PQgetResult (conn)) != NULL) {
        if (PQresultStatus (res) != PGRES_COMMAND_OK && rc == 0)
            rc = vd_db_error (conn, res, "COPY failed", err);
        PQclear (res);
    }
    if (rc < 0 && err && !err->msg[0])
        vd_db_error (conn, NULL, "COPY failed", err);
    return rc;
}

int
load_copy_test (bool verbose)
{
    /* integers, as the COPY lines and the line numbers carry them */
    vd_buf_t b;
    vd_buf_init (&b, 4096);
    vd_buf_add_int (&b, 0);
    vd_buf_add_int (&b, -42);
    vd_buf_add_int (&b, INT64_MIN);
    vd_buf_add_int (&b, INT64_MAX);
    bool ok = strcmp (vd_buf_str (&b), "0-42-92233720368547758089223372036854775807") == 0;
    if (!ok || verbose)
        fprintf (ok ? stdout : stderr, "  load_copy: integers %s\n", vd_buf_str (&b));
    vd_buf_free (&b);
    return ok ? 0 : -1;
}
