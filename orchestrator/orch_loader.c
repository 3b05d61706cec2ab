/*  orch_loader - commands for the loader. */
#include "vendange.h"
#include "vd_ctl.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_loader.h"

static int64_t s_wait_ms = 15000;

void
orch_loader_set_wait (int64_t wait_ms)
{
    s_wait_ms = wait_ms;
}

int64_t
orch_loader_queue (PGconn *conn, const char *kind, json_t *args, vd_error_t *err)
{
    char *text = json_dumps (args, JSON_COMPACT);
    const char *params[] = {kind, text};
    PGresult *res = text ? vd_db_exec (conn,
                                       "INSERT INTO ops.loader_commands (kind, args)"
                                       " VALUES ($1, $2::jsonb) RETURNING id",
                                       2, params, err)
                         : NULL;
    free (text);
    if (!res)
        return err && err->msg[0] ? -1 : vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    int64_t id = -1;
    vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, &id);
    PQclear (res);
    return id;
}

int
orch_loader_wait (PGconn *conn, int64_t id, int wait_ms, json_t **result, vd_error_t *err)
{
    char text[24];
    snprintf (text, sizeof text, "%" PRId64, id);
    const char *params[] = {text};
    int64_t until = vd_clock_ms () + wait_ms;
    for (int pause_ms = 5;; pause_ms = pause_ms < 200 ? pause_ms * 2 : 200) {
        PGresult *res = vd_db_exec (conn,
                                    "SELECT status, result::text, error FROM ops.loader_commands"
                                    " WHERE id = $1::bigint",
                                    1, params, err);
        if (!res)
            return -1;
        const char *status = PQntuples (res) == 1 ? PQgetvalue (res, 0, 0) : "gone";
        int rc = 0;
        if (strcmp (status, "done") == 0) {
            *result = json_loads (PQgetvalue (res, 0, 1), 0, NULL);
            rc = *result ? 1 : vd_error_set (err, VD_ERR_PERMANENT, "unreadable command result");
        } else if (strcmp (status, "queued") != 0)
            rc = vd_error_set (err, VD_ERR_PERMANENT, "%s",
                               PQntuples (res) == 1 ? PQgetvalue (res, 0, 2) : "command gone");
        PQclear (res);
        if (rc != 0 || vd_clock_ms () >= until)
            return rc;
        zclock_sleep (pause_ms);
    }
}

json_t *
orch_loader_call (PGconn *conn, const char *kind, json_t *args, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    json_t *result = NULL;
    int64_t id = orch_loader_queue (conn, kind, args, &err);
    int rc = id < 0 ? -1 : orch_loader_wait (conn, id, (int)s_wait_ms, &result, &err);
    if (rc == 1)
        return result;
    if (rc == 0)
        orch_answer_json (a, 202,
                          json_pack ("{s:I, s:s, s:s}", "command_id", (json_int_t)id, "status",
                                     "queued", "hint",
                                     "the loader has not run it yet (busy or not running): it runs"
                                     " when the loader is up"));
    else
        orch_answer_fail (a, &err);
    return NULL;
}
