/*  orch_runs - what the orchestrator's loop writes in ops.sync_runs and
    ops.services. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_runs.h"
#include "orch_secrets.h"

#define RESTART_REASON "orchestrator restarted while the run was in progress"

static void
s_id_text (int64_t id, char *out, size_t size)
{
    snprintf (out, size, "%" PRId64, id);
}

/*  Number of rows a command touched. */
static int
s_affected (PGresult *res)
{
    int64_t n = 0;
    if (vd_parse_int (PQcmdTuples (res), 0, INT_MAX, &n) < 0)
        n = 0;
    return (int)n;
}

int
orch_runs_recover (PGconn *conn, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn,
                                "UPDATE ops.sync_runs SET status = 'failed', finished_at = now(), "
                                "errors = errors || jsonb_build_array(jsonb_build_object("
                                "'reason', $1::text)) WHERE status = 'running' "
                                /* webhook runs belong to their gateway, which closes them */
                                "AND trigger <> 'webhook'",
                                1, (const char *[]){RESTART_REASON}, err);
    if (!res)
        return -1;
    int n = s_affected (res);
    PQclear (res);
    return n;
}

PGresult *
orch_runs_queued (PGconn *conn, vd_error_t *err)
{
    return vd_db_exec (conn,
                       "SELECT r.id, r.connector, r.connector_type, r.full_sync, "
                       "c.settings::text, encode(c.secrets, 'hex'), c.cursor "
                       "FROM ops.sync_runs r LEFT JOIN ops.connectors c ON c.name = r.connector "
                       "WHERE r.status = 'queued' ORDER BY r.id",
                       0, NULL, err);
}

json_t *
orch_runs_start_message (const PGresult *res, int i, int64_t id, const vd_secret_key_t *key,
                         vd_error_t *err)
{
    const char *name = PQgetvalue (res, i, 1);
    json_t *settings = json_loads (PQgetvalue (res, i, 4), 0, NULL);
    if (!json_is_object (settings)) {
        json_decref (settings);
        vd_error_set (err, VD_ERR_PERMANENT, "the connector's settings are not a JSON object");
        return NULL;
    }
    json_t *secrets =
        orch_secrets_open (key, name, PQgetisnull (res, i, 5) ? NULL : PQgetvalue (res, i, 5), err);
    if (!secrets) {
        json_decref (settings);
        return NULL;
    }
    json_object_update (settings, secrets);
    json_decref (secrets);
    const char *cursor = PQgetisnull (res, i, 6) ? NULL : PQgetvalue (res, i, 6);
    return json_pack ("{s:s, s:I, s:s, s:s, s:o, s:o, s:b}", "type", "start", "run_id",
                      (json_int_t)id, "connector", PQgetvalue (res, i, 1), "kind",
                      PQgetvalue (res, i, 2), "settings", settings, "cursor",
                      orch_json_text (cursor), "full", strcmp (PQgetvalue (res, i, 3), "t") == 0);
}

int
orch_runs_start (PGconn *conn, int64_t id, const char *extractor, const char *cursor,
                 vd_error_t *err)
{
    char text[24];
    s_id_text (id, text, sizeof text);
    const char *params[] = {text, extractor, cursor};
    PGresult *res = vd_db_exec (conn,
                                "UPDATE ops.sync_runs SET status = 'running', started_at = now(), "
                                "last_progress_at = now(), extractor = $2, cursor_before = $3 "
                                "WHERE id = $1::bigint AND status = 'queued'",
                                3, params, err);
    if (!res)
        return -1;
    int n = s_affected (res);
    PQclear (res);
    return n > 0 ? 1 : 0;
}

int
orch_runs_fail (PGconn *conn, int64_t id, const json_t *error, vd_error_t *err)
{
    char text[24];
    s_id_text (id, text, sizeof text);
    char *json = json_dumps (error, JSON_COMPACT);
    if (!json)
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    const char *params[] = {text, json};
    PGresult *res = vd_db_exec (conn,
                                "UPDATE ops.sync_runs SET status = 'failed', finished_at = now(), "
                                "errors = errors || jsonb_build_array($2::jsonb) "
                                "WHERE id = $1::bigint AND status IN ('queued', 'running')",
                                2, params, err);
    free (json);
    if (!res)
        return -1;
    int n = s_affected (res);
    PQclear (res);
    return n > 0 ? 1 : 0;
}

int
orch_runs_touch (PGconn *conn, int64_t id, vd_error_t *err)
{
    char text[24];
    s_id_text (id, text, sizeof text);
    const char *params[] = {text};
    return vd_db_command (conn,
                          "UPDATE ops.sync_runs SET last_progress_at = now() "
                          "WHERE id = $1::bigint AND status = 'running'",
                          1, params, err);
}

int
orch_runs_check_counts (const orch_table_count_t *t, size_t n, int64_t extracted_records,
                        int64_t loaded_records, char *reason, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        int64_t sum = t[i].inserted + t[i].updated + t[i].unchanged + t[i].rejected;
        if (sum != t[i].extracted) {
            snprintf (reason, size,
                      "counts do not balance for table %s: extracted %" PRId64
                      " but inserted %" PRId64 " + updated %" PRId64 " + unchanged %" PRId64
                      " + rejected %" PRId64 " = %" PRId64,
                      t[i].name, t[i].extracted, t[i].inserted, t[i].updated, t[i].unchanged,
                      t[i].rejected, sum);
            return -1;
        }
    }
    if (loaded_records != extracted_records) {
        snprintf (reason, size,
                  "the loader committed %" PRId64 " records but the extractor sent %" PRId64,
                  loaded_records, extracted_records);
        return -1;
    }
    return 0;
}

const char *
orch_runs_outcome_status (const json_t *extracted)
{
    size_t i;
    json_t *file;
    json_array_foreach (json_object_get (extracted, "files"), i, file)
    {
        const char *status = orch_json_str (file, "status");
        if (status && strcmp (status, "failed") == 0)
            return "partial";
    }
    return json_array_size (json_object_get (extracted, "errors")) > 0 ? "partial" : "success";
}

/*  The run's table counts, checked; -1 with err on a query failure, else
    0 and reason[0] != '\0' when they do not balance. */
static int
s_check_tables (PGconn *conn, const char *id, const json_t *extracted, int64_t loaded, char *reason,
                size_t size, vd_error_t *err)
{
    const char *params[] = {id};
    PGresult *res = vd_db_exec (conn,
                                "SELECT table_name, extracted, inserted, updated, unchanged, "
                                "rejected FROM ops.run_tables WHERE run_id = $1::bigint "
                                "ORDER BY table_name",
                                1, params, err);
    if (!res)
        return -1;
    int n = PQntuples (res);
    orch_table_count_t *t = calloc ((size_t)n + 1, sizeof *t);
    if (!t) {
        PQclear (res);
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        int64_t *v[] = {&t[i].extracted, &t[i].inserted, &t[i].updated, &t[i].unchanged,
                        &t[i].rejected};
        t[i].name = PQgetvalue (res, i, 0);
        for (int c = 0; c < 5; c++)
            if (vd_parse_int (PQgetvalue (res, i, c + 1), INT64_MIN, INT64_MAX, v[c]) < 0)
                *v[c] = -1;
    }
    int64_t records = 0;
    orch_json_int (extracted, "records", &records);
    reason[0] = '\0';
    orch_runs_check_counts (t, (size_t)n, records, loaded, reason, size);
    free (t);
    PQclear (res);
    return 0;
}

/*  Marks the locked run success or partial and moves the cursor. */
static int
s_complete (PGconn *conn, const char *id, const json_t *extracted, const char *status,
            vd_error_t *err)
{
    char *files = json_dumps (json_object_get (extracted, "files"), JSON_COMPACT);
    char *errors = json_dumps (json_object_get (extracted, "errors"), JSON_COMPACT);
    const char *cursor = orch_json_str (extracted, "cursor_after");
    int rc = -1;
    if (!files || !errors) {
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        goto done;
    }
    const char *params[] = {id, status, files, errors, cursor};
    if (vd_db_command (conn,
                       "UPDATE ops.sync_runs SET status = $2, finished_at = now(), "
                       "files = $3::jsonb, errors = errors || $4::jsonb, cursor_after = $5, "
                       "extract_done = true, load_done = true, last_progress_at = now() "
                       "WHERE id = $1::bigint",
                       5, params, err) < 0)
        goto done;
    rc = vd_db_command (conn,
                        "UPDATE ops.connectors c SET cursor = coalesce($2, c.cursor), "
                        "updated_at = now() FROM ops.sync_runs r "
                        "WHERE r.id = $1::bigint AND c.name = r.connector",
                        2, (const char *[]){id, cursor}, err);
done:
    free (files);
    free (errors);
    return rc;
}

/*  Queues a recommendation run (scope 'all') when run id changed what
    recommendations are made of; nothing when one is queued already. */
static int
s_queue_reco (PGconn *conn, const char *id, vd_error_t *err)
{
    return vd_db_command (conn,
                          "INSERT INTO reco.runs (scope, trigger, sync_run_id) "
                          "SELECT 'all', 'sync', $1::bigint WHERE EXISTS (SELECT 1 FROM "
                          "ops.run_tables t WHERE t.run_id = $1::bigint AND t.table_name IN "
                          "('sales_lines', 'product_catalog', 'stock_levels', 'customers') AND "
                          "t.inserted + t.updated + coalesce(t.deleted, 0) > 0) "
                          "ON CONFLICT DO NOTHING",
                          1, (const char *[]){id}, err);
}

/*  The body of the finalize transaction (BEGIN done by the caller). */
static int
s_finalize (PGconn *conn, const char *id, const json_t *extracted, int64_t loaded,
            bool reco_after_sync, orch_outcome_t *out, vd_error_t *err)
{
    const char *params[] = {id};
    PGresult *res = vd_db_exec (conn,
                                "SELECT status FROM ops.sync_runs WHERE id = $1::bigint "
                                "FOR UPDATE",
                                1, params, err);
    if (!res)
        return -1;
    bool running = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "running") == 0;
    PQclear (res);
    if (!running) {
        snprintf (out->status, sizeof out->status, "gone");
        return 0;
    }
    if (s_check_tables (conn, id, extracted, loaded, out->reason, sizeof out->reason, err) < 0)
        return -1;
    if (out->reason[0]) {
        snprintf (out->status, sizeof out->status, "failed");
        json_t *error = json_pack ("{s:s}", "reason", out->reason);
        int64_t run_id = 0;
        vd_parse_int (id, 1, INT64_MAX, &run_id);
        int rc = error ? orch_runs_fail (conn, run_id, error, err)
                       : vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        json_decref (error);
        return rc < 0 ? -1 : 0;
    }
    snprintf (out->status, sizeof out->status, "%s", orch_runs_outcome_status (extracted));
    if (s_complete (conn, id, extracted, out->status, err) < 0)
        return -1;
    return reco_after_sync ? s_queue_reco (conn, id, err) : 0;
}

int
orch_runs_finalize (PGconn *conn, int64_t id, const json_t *extracted, int64_t loaded_records,
                    bool reco_after_sync, orch_outcome_t *out, vd_error_t *err)
{
    memset (out, 0, sizeof *out);
    orch_json_int (extracted, "records", &out->records);
    char text[24];
    s_id_text (id, text, sizeof text);
    if (vd_db_command (conn, "BEGIN", 0, NULL, err) < 0)
        return -1;
    if (s_finalize (conn, text, extracted, loaded_records, reco_after_sync, out, err) < 0 ||
        vd_db_command (conn, "COMMIT", 0, NULL, err) < 0) {
        /* the error is in err already; a failed ROLLBACK changes nothing */
        (void)vd_db_command (conn, "ROLLBACK", 0, NULL, NULL);
        return -1;
    }
    return 0;
}

int
orch_services_reset (PGconn *conn, vd_error_t *err)
{
    if (vd_db_command (conn, "UPDATE ops.services SET alive = false WHERE alive", 0, NULL, err) < 0)
        return -1;
    return vd_db_command (conn,
                          "DELETE FROM ops.services WHERE NOT alive "
                          "AND last_heartbeat < now() - interval '7 days'",
                          0, NULL, err);
}

int
orch_services_upsert (PGconn *conn, const orch_service_t *s, vd_error_t *err)
{
    char pid[24], run[24];
    snprintf (pid, sizeof pid, "%" PRId64, s->hb.pid);
    snprintf (run, sizeof run, "%" PRId64, s->hb.reported_run);
    const char *params[] = {s->hb.instance,
                            s->hb.role,
                            s->hb.kind[0] ? s->hb.kind : NULL,
                            s->hb.host[0] ? s->hb.host : NULL,
                            pid,
                            s->hb.state,
                            s->hb.reported_run ? run : NULL,
                            s->hb.version[0] ? s->hb.version : NULL};
    return vd_db_command (conn,
                          "INSERT INTO ops.services (instance, role, kind, host, pid, state, "
                          "run_id, version, last_heartbeat, alive) VALUES ($1, $2, $3, $4, "
                          "$5::int, $6, $7::bigint, $8, now(), true) ON CONFLICT (instance) DO "
                          "UPDATE SET role = $2, kind = $3, host = $4, pid = $5::int, state = $6, "
                          "run_id = $7::bigint, version = $8, last_heartbeat = now(), alive = true",
                          8, params, err);
}

int
orch_services_mark_dead (PGconn *conn, const char *instance, vd_error_t *err)
{
    const char *params[] = {instance};
    return vd_db_command (conn, "UPDATE ops.services SET alive = false WHERE instance = $1", 1,
                          params, err);
}

int
orch_runs_test (bool verbose)
{
    int failed = 0;
    char reason[512];
    orch_table_count_t ok[] = {{"customers", 5, 5, 0, 0, 0}, {"sales_lines", 20, 18, 1, 1, 0}};
    VD_CHECK (&failed, orch_runs_check_counts (ok, 2, 25, 25, reason, sizeof reason) == 0);
    VD_CHECK (&failed, orch_runs_check_counts (ok, 0, 0, 0, reason, sizeof reason) == 0);
    orch_table_count_t bad[] = {{"customers", 5, 5, 0, 0, 0}, {"sales_lines", 20, 18, 1, 0, 0}};
    VD_CHECK (&failed, orch_runs_check_counts (bad, 2, 25, 25, reason, sizeof reason) < 0);
    VD_CHECK (&failed, strstr (reason, "sales_lines") && strstr (reason, "extracted 20") &&
                           strstr (reason, "= 19"));
    VD_CHECK (&failed, orch_runs_check_counts (ok, 2, 25, 24, reason, sizeof reason) < 0);
    VD_CHECK (&failed, strstr (reason, "committed 24") != NULL);

    json_t *m = json_loads ("{\"files\":[{\"file\":\"a\",\"status\":\"loaded\"},"
                            "{\"file\":\"b\",\"status\":\"unchanged\"}],\"errors\":[]}",
                            0, NULL);
    VD_CHECK (&failed, strcmp (orch_runs_outcome_status (m), "success") == 0);
    json_decref (m);
    m = json_loads ("{\"files\":[{\"file\":\"a\",\"status\":\"failed\"}]}", 0, NULL);
    VD_CHECK (&failed, strcmp (orch_runs_outcome_status (m), "partial") == 0);
    json_decref (m);
    m = json_loads ("{\"files\":[],\"errors\":[{\"reason\":\"x\"}]}", 0, NULL);
    VD_CHECK (&failed, strcmp (orch_runs_outcome_status (m), "partial") == 0);
    json_decref (m);
    VD_CHECK (&failed, strcmp (orch_runs_outcome_status (NULL), "success") == 0);
#undef CHECK
    if (verbose)
        printf ("orch_runs_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
