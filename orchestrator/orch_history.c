/*  orch_history - the run history endpoints of the HTTP API. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_history.h"
#include "orch_json.h"
#include "orch_runview.h"
#include "orch_settings.h"

#define REJECTS_DEFAULT 100
#define REJECTS_MAX 1000

void
orch_history_list (PGconn *conn, const orch_request_t *req, orch_answer_t *a)
{
    int64_t limit;
    if (orch_request_int (req->q_limit, "limit", ORCH_RUNS_DEFAULT_LIMIT, 1, ORCH_RUNS_MAX_LIMIT,
                          &limit, a) < 0)
        return;
    const char *connector = req->q_connector && *req->q_connector ? req->q_connector : NULL;
    if (connector && !orch_settings_name_valid (connector)) {
        orch_answer_error (a, 400, "invalid connector name", connector, NULL);
        return;
    }
    vd_error_t err;
    vd_error_clear (&err);
    json_t *runs = orch_runview_list (conn, connector, (int)limit, &err);
    if (runs)
        orch_answer_json (a, 200, runs);
    else
        orch_answer_fail (a, &err);
}

void
orch_history_get (PGconn *conn, int64_t id, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    json_t *run = orch_runview_get (conn, id, &err);
    if (run)
        orch_answer_json (a, 200, run);
    else if (err.http_status == 404)
        orch_answer_error (a, 404, err.msg, NULL, "vendange runs lists the runs");
    else
        orch_answer_fail (a, &err);
}

static json_t *
s_reject (const PGresult *res, int i)
{
    int64_t line = 0;
    bool has_line = !PQgetisnull (res, i, 2) &&
                    vd_parse_int (PQgetvalue (res, i, 2), INT64_MIN, INT64_MAX, &line) == 0;
    json_t *r = json_object ();
    if (!r)
        return NULL;
    json_object_set_new (r, "table",
                         orch_json_text (PQgetisnull (res, i, 0) ? NULL : PQgetvalue (res, i, 0)));
    json_object_set_new (r, "file",
                         orch_json_text (PQgetisnull (res, i, 1) ? NULL : PQgetvalue (res, i, 1)));
    json_object_set_new (r, "line", has_line ? json_integer (line) : json_null ());
    json_object_set_new (r, "reason", orch_json_text (PQgetvalue (res, i, 3)));
    json_object_set_new (r, "raw",
                         orch_json_text (PQgetisnull (res, i, 4) ? NULL : PQgetvalue (res, i, 4)));
    return r;
}

void
orch_history_rejects (PGconn *conn, int64_t id, const orch_request_t *req, orch_answer_t *a)
{
    int64_t limit, offset;
    if (orch_request_int (req->q_limit, "limit", REJECTS_DEFAULT, 1, REJECTS_MAX, &limit, a) < 0 ||
        orch_request_int (req->q_offset, "offset", 0, 0, INT64_MAX, &offset, a) < 0)
        return;
    char ids[24], lim[24], off[24];
    snprintf (ids, sizeof ids, "%" PRId64, id);
    snprintf (lim, sizeof lim, "%" PRId64, limit);
    snprintf (off, sizeof off, "%" PRId64, offset);
    const char *params[] = {ids, lim, off};
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res = vd_db_exec (conn,
                                "SELECT x.table_name, x.file, x.line, x.reason, x.raw, r.id "
                                "FROM ops.sync_runs r LEFT JOIN LATERAL (SELECT * FROM "
                                "ops.rejects j WHERE j.run_id = r.id ORDER BY j.id "
                                "LIMIT $2::bigint OFFSET $3::bigint) x ON true "
                                "WHERE r.id = $1::bigint ORDER BY x.id",
                                3, params, &err);
    if (!res) {
        orch_answer_fail (a, &err);
        return;
    }
    if (PQntuples (res) == 0) {
        PQclear (res);
        char msg[64];
        snprintf (msg, sizeof msg, "no run %" PRId64, id);
        orch_answer_error (a, 404, msg, NULL, NULL);
        return;
    }
    json_t *list = json_array ();
    for (int i = 0; list && i < PQntuples (res); i++)
        if (!PQgetisnull (res, i, 3)) /* the LEFT JOIN's empty row has no reason */
            json_array_append_new (list, s_reject (res, i));
    PQclear (res);
    orch_answer_json (a, 200, list);
}
