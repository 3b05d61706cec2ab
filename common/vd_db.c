/*  vd_db - PostgreSQL through libpq. */
#include "vendange.h"
#include "vd_db.h"
#include <poll.h>

#define WAIT_TICK_MS 200

static _Thread_local void (*s_wait_hook) (void *);
static _Thread_local void *s_wait_arg;

void
vd_db_set_wait_hook (void (*hook) (void *arg), void *arg)
{
    s_wait_hook = hook;
    s_wait_arg = arg;
}

int
vd_db_wait (PGconn *conn)
{
    while (PQisBusy (conn)) {
        struct pollfd pfd = {.fd = PQsocket (conn), .events = POLLIN};
        if (pfd.fd < 0)
            return -1;
        int n = poll (&pfd, 1, WAIT_TICK_MS);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && !PQconsumeInput (conn))
            return -1;
        if (s_wait_hook)
            s_wait_hook (s_wait_arg);
    }
    return 0;
}

static char s_role[64];

void
vd_db_set_role (const char *role)
{
    snprintf (s_role, sizeof s_role, "%s", role ? role : "");
}

int
vd_db_take_role (PGconn *conn, bool warn)
{
    static bool s_warned;
    if (!s_role[0])
        return 0;
    char sql[96];
    snprintf (sql, sizeof sql, "SET ROLE %s", s_role); /* a name of ours, not input */
    PGresult *res = PQexec (conn, sql);
    bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    if (!ok && warn && !s_warned)
        vd_warn ("cannot take the database role %s (%s): this service keeps the login role,"
                 " which may write canonical.*",
                 s_role, PQresultErrorMessage (res));
    s_warned |= !ok && warn;
    PQclear (res);
    return ok ? 0 : -1;
}

PGconn *
vd_db_connect (const char *dsn, const char *service, vd_error_t *err)
{
    const char *keys[] = {"dbname", "application_name", "client_encoding", NULL};
    const char *values[] = {dsn, service, "UTF8", NULL};
    /* expand_dbname=1: dsn may be a URL or key=value string */
    PGconn *conn = PQconnectdbParams (keys, values, 1);
    if (!conn) {
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory connecting to PostgreSQL");
        return NULL;
    }
    if (PQstatus (conn) != CONNECTION_OK) {
        char where[256];
        vd_redact_dsn (dsn, where, sizeof where);
        vd_error_set (err, VD_ERR_TRANSIENT, "could not connect to PostgreSQL");
        vd_error_detail (err, "%s (libpq: %s)", where, PQerrorMessage (conn));
        snprintf (err->hint, sizeof err->hint, "check DATABASE_URL and that the server is running");
        PQfinish (conn);
        return NULL;
    }
    vd_db_take_role (conn, false); /* before the first migration it may not exist yet */
    return conn;
}

static bool
s_transient (const char *sqlstate)
{
    static const char *codes[] = {"40001", "40P01", "57P01", "57P02",
                                  "57P03", "53300", "55P03", NULL};
    if (!sqlstate || !*sqlstate)
        return false;
    if (strncmp (sqlstate, "08", 2) == 0)
        return true;
    for (int i = 0; codes[i]; i++)
        if (strcmp (codes[i], sqlstate) == 0)
            return true;
    return false;
}

static void
s_trim_newline (char *s)
{
    size_t n = strlen (s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

int
vd_db_error (PGconn *conn, const PGresult *res, const char *what, vd_error_t *err)
{
    if (!err)
        return -1;
    const char *primary = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    bool lost = PQstatus (conn) != CONNECTION_OK;
    vd_error_set (err, lost || s_transient (state) ? VD_ERR_TRANSIENT : VD_ERR_PERMANENT, "%s: %s",
                  what, primary ? primary : PQerrorMessage (conn));
    s_trim_newline (err->msg);
    snprintf (err->sqlstate, sizeof err->sqlstate, "%s", state ? state : "");
    const char *detail = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_HINT) : NULL;
    snprintf (err->detail, sizeof err->detail, "%s", detail ? detail : "");
    snprintf (err->hint, sizeof err->hint, "%s", hint ? hint : "");
    return -1;
}

PGresult *
vd_db_exec (PGconn *conn, const char *sql, int nparams, const char *const *params, vd_error_t *err)
{
    return vd_db_exec_binary (conn, sql, nparams, params, NULL, false, err);
}

PGresult *
vd_db_exec_binary (PGconn *conn, const char *sql, int nparams, const char *const *params,
                   const int *lengths, bool binary_result, vd_error_t *err)
{
    int formats[16] = {0};
    for (int i = 0; lengths && i < nparams && i < 16; i++)
        formats[i] = lengths[i] >= 0;
    if (nparams > 16 ||
        !PQsendQueryParams (conn, sql, nparams, NULL, params, lengths, lengths ? formats : NULL,
                            binary_result) ||
        vd_db_wait (conn) < 0) {
        vd_db_error (conn, NULL, "query failed", err);
        return NULL;
    }
    /* one statement: one result, then NULL */
    PGresult *res = PQgetResult (conn);
    for (PGresult *extra = PQgetResult (conn); extra; extra = PQgetResult (conn))
        PQclear (extra);
    ExecStatusType st = PQresultStatus (res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    vd_db_error (conn, res, "query failed", err);
    PQclear (res);
    return NULL;
}

int
vd_db_command (PGconn *conn, const char *sql, int nparams, const char *const *params,
               vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, sql, nparams, params, err);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
vd_db_script (PGconn *conn, const char *sql, vd_error_t *err)
{
    PGresult *res = PQexec (conn, sql);
    ExecStatusType st = PQresultStatus (res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
                 ? 0
                 : vd_db_error (conn, res, "query failed", err);
    PQclear (res);
    return rc;
}
