/*  orch_lines - which per-line hashes an extractor may trust. */
#include "orch_lines.h"

#define LINE_HASH 16

int
orch_lines_trusted (PGconn *conn, const char *connector, const char *file, int64_t run_id,
                    uint8_t **hashes, size_t *n, char *rules, size_t rules_size, vd_error_t *err)
{
    *hashes = NULL;
    *n = 0;
    rules[0] = '\0';
    char run_text[24];
    snprintf (run_text, sizeof run_text, "%" PRId64, run_id);
    const char *params[] = {connector, file, run_text};
    /* binary result: the bytea as its bytes */
    PGresult *res = vd_db_exec_binary (
        conn,
        "SELECT h.hashes, h.rules FROM ops.line_hashes h JOIN ops.connectors c"
        " ON c.name = h.connector WHERE h.connector = $1 AND h.file = $2"
        " AND c.cursor IS NOT NULL AND c.cursor::jsonb -> 'lines' ->> $2 = h.run_id::text"
        " AND NOT " VD_SQL_FULL_SNAPSHOT (
            "c") " AND NOT EXISTS (SELECT 1 FROM ops.sync_runs r WHERE r.connector = $1"
                 "   AND r.id > h.run_id AND r.id <> $3::bigint AND r.status <> 'success')",
        3, params, NULL, true, err);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples (res) == 1 && PQgetlength (res, 0, 0) % LINE_HASH == 0) {
        size_t len = (size_t)PQgetlength (res, 0, 0);
        if ((*hashes = malloc (len + 1)) == NULL)
            rc = vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        else {
            memcpy (*hashes, PQgetvalue (res, 0, 0), len);
            *n = len / LINE_HASH;
            snprintf (rules, rules_size, "%.*s", PQgetlength (res, 0, 1), PQgetvalue (res, 0, 1));
        }
    }
    PQclear (res);
    return rc;
}
