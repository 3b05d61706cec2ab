/*  load_index - secondary indexes built once after a first load. */
#include "load_index.h"

/*  The non-unique btree indexes of the table, kept as they are defined,
    when the table is empty; their names (regclass text: quoted as SQL
    needs them) for the DROP. */
static const char s_defer[] =
    "WITH t AS (SELECT ('canonical.' || quote_ident($1))::regclass AS oid),"
    " kept AS (INSERT INTO ops.deferred_indexes (name, table_name, definition)"
    "  SELECT i.indexrelid::regclass::text, $1, pg_get_indexdef(i.indexrelid)"
    "  FROM t JOIN pg_index i ON i.indrelid = t.oid"
    "  JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
    "  WHERE NOT i.indisunique AND NOT i.indisprimary AND a.amname = 'btree'"
    "  AND NOT EXISTS (SELECT 1 FROM canonical.%s)"
    "  ON CONFLICT (name) DO NOTHING RETURNING name)"
    " SELECT name FROM kept";

/*  Memory of the sorts that build the indexes (the server's default,
    64 MB, makes the sort of a million keys spill to disk). */
#define SORT_MEMORY "256MB"

/*  Runs one statement per row of res (column 0 after prefix). */
static int
s_each (PGconn *conn, PGresult *res, const char *prefix, vd_error_t *err)
{
    for (int r = 0; r < PQntuples (res); r++) {
        vd_buf_t sql;
        vd_buf_init (&sql, 64 * 1024);
        int rc =
            vd_buf_addstr (&sql, prefix) < 0 || vd_buf_addstr (&sql, PQgetvalue (res, r, 0)) < 0
                ? vd_error_set (err, VD_ERR_PERMANENT, "out of memory")
                : vd_db_command (conn, vd_buf_str (&sql), 0, NULL, err);
        vd_buf_free (&sql);
        if (rc < 0)
            return -1;
    }
    return PQntuples (res);
}

int
load_index_defer (PGconn *conn, const char *table, vd_error_t *err)
{
    const vd_table_t *t = vd_schema_table (vd_schema_table_id (table));
    if (!t)
        return vd_error_set (err, VD_ERR_PERMANENT, "no canonical table %s", table);
    char sql[sizeof s_defer + 64];
    snprintf (sql, sizeof sql, s_defer, t->name); /* a name of the schema, not input */
    const char *params[] = {t->name};
    PGresult *res = vd_db_exec (conn, sql, 1, params, err);
    if (!res)
        return -1;
    int n = s_each (conn, res, "DROP INDEX ", err);
    PQclear (res);
    if (n > 0)
        vd_info ("%s is empty: %d of its indexes are built after this run's load", t->name, n);
    return n;
}

/*  The definitions of the deferred indexes chosen by $1 (table, NULL:
    all) and $2 (a table left out, NULL: none), made safe to run twice. */
#define PICK "($1::text IS NULL OR table_name = $1) AND ($2::text IS NULL OR table_name <> $2)"
#define IF_NOT_EXISTS "replace(definition, 'CREATE INDEX ', 'CREATE INDEX IF NOT EXISTS ')"

int
load_index_restore (PGconn *conn, const char *only, vd_error_t *err)
{
    bool own = PQtransactionStatus (conn) == PQTRANS_IDLE; /* definitions and builds: one commit */
    if (own && vd_db_command (conn, "BEGIN", 0, NULL, err) < 0)
        return -1;
    const char *params[] = {only, NULL};
    PGresult *res =
        vd_db_command (conn, "SET LOCAL maintenance_work_mem = '" SORT_MEMORY "'", 0, NULL, err) < 0
            ? NULL
            : vd_db_exec (
                  conn, "DELETE FROM ops.deferred_indexes WHERE " PICK " RETURNING " IF_NOT_EXISTS,
                  2, params, err);
    int n = res ? s_each (conn, res, "", err) : -1;
    PQclear (res);
    if (own && n >= 0 && vd_db_command (conn, "COMMIT", 0, NULL, err) < 0)
        n = -1;
    if (own && n < 0)
        PQclear (PQexec (conn, "ROLLBACK"));
    if (n > 0)
        vd_info ("%d deferred indexes built", n);
    return n;
}

PGconn *
load_index_start (const char *dsn, const char *except)
{
    vd_error_t err;
    vd_error_clear (&err);
    PGconn *side = vd_db_connect (dsn, "vendange-loader-indexes", &err);
    PGresult *res = side && vd_db_command (side, "SET maintenance_work_mem = '" SORT_MEMORY "'", 0,
                                           NULL, &err) == 0
                        ? vd_db_exec (side, "SELECT count(*) FROM ops.deferred_indexes WHERE " PICK,
                                      2, (const char *const[]){NULL, except}, &err)
                        : NULL;
    bool some = res && strcmp (PQgetvalue (res, 0, 0), "0") != 0;
    PQclear (res);
    /* one statement (a DO block takes no parameter: the table left out
       is a schema name, quoted as a literal): the definitions go with
       their builds, or stay */
    char *except_lit = some && except ? PQescapeLiteral (side, except, strlen (except)) : NULL;
    vd_buf_t sql;
    vd_buf_init (&sql, 4096);
    vd_buf_printf (&sql,
                   "DO $$ DECLARE d text; BEGIN FOR d IN DELETE FROM ops.deferred_indexes"
                   " WHERE table_name <> %s RETURNING " IF_NOT_EXISTS
                   " LOOP EXECUTE d; END LOOP; END $$",
                   except_lit ? except_lit : "''");
    if (some && (!vd_buf_str (&sql) || !PQsendQuery (side, vd_buf_str (&sql))))
        vd_error_set (&err, VD_ERR_TRANSIENT, "could not start building the deferred indexes");
    PQfreemem (except_lit);
    vd_buf_free (&sql);
    if (err.msg[0])
        vd_log_error (VD_LOG_WARN, &err);
    if (!some || err.msg[0]) {
        if (side)
            PQfinish (side);
        return NULL;
    }
    return side;
}

int
load_index_wait (PGconn **side_p)
{
    PGconn *side = side_p ? *side_p : NULL;
    if (!side)
        return 0;
    int rc = vd_db_wait (side) < 0 ? -1 : 0;
    PGresult *res;
    while ((res = PQgetResult (side)) != NULL) {
        if (PQresultStatus (res) != PGRES_COMMAND_OK && rc == 0) {
            vd_error_t err;
            vd_db_error (side, res, "building deferred indexes failed", &err);
            vd_log_error (VD_LOG_WARN, &err);
            rc = -1;
        }
        PQclear (res);
    }
    if (rc == 0)
        vd_info ("deferred indexes built");
    PQfinish (side);
    *side_p = NULL;
    return rc;
}

int
load_index_test (bool verbose)
{
    int failures = 0;
    /* the statement names the canonical table it is given, nothing else */
    char sql[sizeof s_defer + 64];
    snprintf (sql, sizeof sql, s_defer, "sales_lines");
    failures += strstr (sql, "FROM canonical.sales_lines)") == NULL;
    failures += vd_schema_table_id ("sales_lines") < 0;
    if (verbose)
        printf ("  load_index: %s\n", sql);
    return failures ? -1 : 0;
}
