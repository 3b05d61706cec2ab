/*  orch_status - GET /health and GET /api/status. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_runview.h"
#include "orch_status.h"

/* clang-format off */
/*  Every service row (dead ones are deleted after 7 days, see
    orch_services_reset), with the sync runs that failed in the last
    ORCH_STATUS_RECENT because it stopped sending heartbeats, the
    recommendation jobs of it that failed in that time, and whether it is
    shown by default: alive, or dead with such a failure. */
#define ORCH_STATUS_RECENT "24 hours"
static const char s_services_sql[] =
    "WITH failed AS (SELECT e ->> 'instance' AS instance, r.id FROM ops.sync_runs r, "
    "  jsonb_array_elements(r.errors) e WHERE r.status = 'failed' "
    "  AND r.finished_at > now() - interval '" ORCH_STATUS_RECENT "' AND e ? 'instance'), "
    "failed_jobs AS (SELECT worker AS instance, id FROM reco.runs WHERE status = 'failed' "
    "  AND finished_at > now() - interval '" ORCH_STATUS_RECENT "') "
    "SELECT s.instance, role, kind, host, pid, state, run_id, "
    ORCH_SQL_ISO ("last_heartbeat") ", alive, "
    "(SELECT json_agg(f.id ORDER BY f.id DESC) FROM failed f WHERE f.instance = s.instance), "
    "(SELECT json_agg(j.id ORDER BY j.id DESC) FROM failed_jobs j WHERE j.instance = s.instance) "
    "FROM ops.services s ORDER BY alive DESC, role, last_heartbeat DESC, instance";

/*  Each connector with its latest run and that run's last error (the
    failure reason, else the first failed file's error). */
static const char s_connectors_sql[] =
    "SELECT c.name, c.type, r.id, r.status, " ORCH_SQL_ISO ("r.finished_at") ", "
    "coalesce(r.errors -> -1 ->> 'reason', (SELECT f ->> 'error' "
    "FROM jsonb_array_elements(r.files) f WHERE f ->> 'status' = 'failed' LIMIT 1)) "
    "FROM ops.connectors c LEFT JOIN LATERAL (SELECT id, status, finished_at, errors, files "
    "FROM ops.sync_runs WHERE connector = c.name ORDER BY id DESC LIMIT 1) r ON true "
    "ORDER BY c.name";
/* clang-format on */

static const char *
s_cell (const PGresult *res, int row, int col)
{
    return PQgetisnull (res, row, col) ? NULL : PQgetvalue (res, row, col);
}

static json_t *
s_int_cell (const PGresult *res, int row, int col)
{
    int64_t n;
    const char *v = s_cell (res, row, col);
    if (!v || vd_parse_int (v, INT64_MIN, INT64_MAX, &n) < 0)
        return json_null ();
    return json_integer (n);
}

void
orch_status_health (PGconn *conn, bool full, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res =
        conn ? vd_db_exec (conn, "SELECT coalesce(max(version), 0) FROM ops.schema_migrations", 0,
                           NULL, &err)
             : NULL;
    if (!res) {
        if (conn)
            vd_log_error (VD_LOG_WARN, &err);
        orch_answer_json (a, 503, json_pack ("{s:s}", "status", "not ok"));
        return;
    }
    json_t *version = s_int_cell (res, 0, 0);
    PQclear (res);
    if (!full) {
        json_decref (version);
        orch_answer_json (a, 200, json_pack ("{s:s}", "status", "ok"));
        return;
    }
    orch_answer_json (a, 200,
                      json_pack ("{s:s, s:o, s:s}", "status", "ok", "schema_version", version,
                                 "version", VD_VERSION));
}

const char *
orch_status_health_of (const char *status)
{
    if (!status)
        return "idle";
    if (strcmp (status, "queued") == 0 || strcmp (status, "running") == 0)
        return "syncing";
    if (strcmp (status, "success") == 0)
        return "healthy";
    return "error";
}

/*  A cell holding a JSON array (json_agg), as an array ([] when NULL). */
static json_t *
s_array_cell (const PGresult *res, int row, int col)
{
    const char *v = s_cell (res, row, col);
    json_t *list = v ? json_loads (v, 0, NULL) : NULL;
    if (json_is_array (list))
        return list;
    json_decref (list);
    return json_array ();
}

static json_t *
s_service (const PGresult *res, int i)
{
    json_t *s = json_object ();
    json_object_set_new (s, "instance", orch_json_text (s_cell (res, i, 0)));
    json_object_set_new (s, "role", orch_json_text (s_cell (res, i, 1)));
    json_object_set_new (s, "kind", orch_json_text (s_cell (res, i, 2)));
    json_object_set_new (s, "host", orch_json_text (s_cell (res, i, 3)));
    json_object_set_new (s, "pid", s_int_cell (res, i, 4));
    json_object_set_new (s, "state", orch_json_text (s_cell (res, i, 5)));
    json_object_set_new (s, "run_id", s_int_cell (res, i, 6));
    json_object_set_new (s, "last_heartbeat", orch_json_text (s_cell (res, i, 7)));
    json_object_set_new (s, "alive", json_boolean (strcmp (PQgetvalue (res, i, 8), "t") == 0));
    json_object_set_new (s, "failed_runs", s_array_cell (res, i, 9));
    json_object_set_new (s, "failed_reco_runs", s_array_cell (res, i, 10));
    return s;
}

/*  Sets "services" (every row when all, else those that matter) and
    "services_hidden" (how many were left out) in status. */
static int
s_services (PGconn *conn, bool all, json_t *status, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, s_services_sql, 0, NULL, err);
    if (!res)
        return -1;
    json_t *list = json_array ();
    json_int_t hidden = 0;
    for (int i = 0; list && i < PQntuples (res); i++) {
        json_t *s = s_service (res, i);
        if (all || orch_status_shown (s))
            json_array_append_new (list, s);
        else {
            hidden++;
            json_decref (s);
        }
    }
    PQclear (res);
    json_object_set_new (status, "services", list);
    json_object_set_new (status, "services_hidden", json_integer (hidden));
    return 0;
}

bool
orch_status_shown (const json_t *service)
{
    return json_is_true (json_object_get (service, "alive")) ||
           json_array_size (json_object_get (service, "failed_runs")) > 0 ||
           json_array_size (json_object_get (service, "failed_reco_runs")) > 0;
}

static json_t *
s_connector (const PGresult *res, int i)
{
    const char *status = s_cell (res, i, 3);
    const char *health = orch_status_health_of (status);
    json_t *last = json_null ();
    if (status)
        last =
            json_pack ("{s:o, s:o, s:o}", "id", s_int_cell (res, i, 2), "status",
                       orch_json_text (status), "finished_at", orch_json_text (s_cell (res, i, 4)));
    return json_pack ("{s:o, s:o, s:s, s:o, s:o}", "name", orch_json_text (s_cell (res, i, 0)),
                      "type", orch_json_text (s_cell (res, i, 1)), "health", health, "last_run",
                      last ? last : json_null (), "last_error",
                      orch_json_text (strcmp (health, "error") == 0 ? s_cell (res, i, 5) : NULL));
}

static json_t *
s_connectors (PGconn *conn, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, s_connectors_sql, 0, NULL, err);
    if (!res)
        return NULL;
    json_t *list = json_array ();
    for (int i = 0; list && i < PQntuples (res); i++)
        json_array_append_new (list, s_connector (res, i));
    PQclear (res);
    return list;
}

json_t *
orch_status_json (PGconn *conn, bool all, vd_error_t *err)
{
    json_t *status = json_object ();
    json_t *connectors = NULL;
    if (!status || s_services (conn, all, status, err) < 0 ||
        !(connectors = s_connectors (conn, err))) {
        json_decref (status);
        return NULL;
    }
    json_object_set_new (status, "connectors", connectors);
    return status;
}

void
orch_status_get (PGconn *conn, const orch_request_t *req, orch_answer_t *a)
{
    bool all = false;
    if (req->q_all && (strcmp (req->q_all, "true") == 0 || strcmp (req->q_all, "1") == 0))
        all = true;
    else if (req->q_all && strcmp (req->q_all, "false") != 0 && strcmp (req->q_all, "0") != 0) {
        orch_answer_error (a, 400, "all must be true or false", req->q_all, NULL);
        return;
    }
    vd_error_t err;
    vd_error_clear (&err);
    json_t *status = orch_status_json (conn, all, &err);
    if (status)
        orch_answer_json (a, 200, status);
    else
        orch_answer_fail (a, &err);
}

int
orch_status_test (bool verbose)
{
    int failed = 0;
    failed += strcmp (orch_status_health_of (NULL), "idle") != 0;
    failed += strcmp (orch_status_health_of ("running"), "syncing") != 0;
    failed += strcmp (orch_status_health_of ("queued"), "syncing") != 0;
    failed += strcmp (orch_status_health_of ("success"), "healthy") != 0;
    failed += strcmp (orch_status_health_of ("partial"), "error") != 0;
    failed += strcmp (orch_status_health_of ("failed"), "error") != 0;
    json_t *s = json_pack ("{s:b, s:[], s:[]}", "alive", 0, "failed_runs", "failed_reco_runs");
    failed += orch_status_shown (s);
    json_object_set_new (s, "failed_runs", json_pack ("[i]", 12));
    failed += !orch_status_shown (s);
    json_object_set_new (s, "failed_runs", json_array ());
    json_object_set_new (s, "failed_reco_runs", json_pack ("[i]", 3));
    failed += !orch_status_shown (s);
    json_object_set_new (s, "failed_reco_runs", json_array ());
    json_object_set_new (s, "alive", json_true ());
    failed += !orch_status_shown (s);
    json_decref (s);
    if (verbose)
        printf ("orch_status_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
