/*  load_index - secondary indexes built once after a first load. */
#include "load_index.h"

/*  The non-unique btree indexes of the table, kept as they are defined,
    when the table is empty; their names (regclass text: quoted as SQL
    needs them) for the DROP. */
static const char s_defer[] =
    "WITH t AS (SELECT ('canonical.' || quote_ident($1))::regclass AS oid),"
    " kept AS (INSERT INTO ops.deferred_indexes (name, definition)"
    "  SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
    "  FROM t JOIN pg_index i ON i.indrelid = t.oid"
    "  JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
    "  WHERE NOT i.indisunique AND NOT i.indisprimary AND a.amname = 'btree'"
    "  AND NOT EXISTS (SELECT 1 FROM canonical.%s)"
    "  ON CONFLICT (name) DO NOTHING RETURNING name)"
    " SELECT name FROM kept";

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

int
load_index_restore (PGconn *conn, vd_error_t *err)
{
    bool own = PQtransactionStatus (conn) == PQTRANS_IDLE; /* definitions and builds: one commit */
    if (own && vd_db_command (conn, "BEGIN", 0, NULL, err) < 0)
        return -1;
    PGresult *res =
        vd_db_exec (conn,
                    "DELETE FROM ops.deferred_indexes RETURNING"
                    " replace(definition, 'CREATE INDEX ', 'CREATE INDEX IF NOT EXISTS ')",
                    0, NULL, err);
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
