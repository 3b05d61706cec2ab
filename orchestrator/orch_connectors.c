/*  orch_connectors - the connector registry endpoints of the HTTP API. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_connectors.h"
#include "orch_loader.h"
#include "orch_hooks.h"
#include "orch_json.h"
#include "orch_runview.h"
#include "orch_secrets.h"
#include "orch_settings.h"

/*  Columns of a connector and a summary of its latest run. Secrets: only
    their names. */
/* clang-format off */
#define CONNECTOR_SQL                                                                       \
    "SELECT c.name, c.type, c.settings::text, c.schedule, "                                 \
    ORCH_SQL_ISO ("c.created_at") ", " ORCH_SQL_ISO ("c.updated_at") ", "                  \
    "to_jsonb(c.secret_names)::text, "                                                     \
    "r.id, r.status, " ORCH_SQL_ISO ("r.started_at") ", " ORCH_SQL_ISO ("r.finished_at")    \
    ", c.cursor FROM ops.connectors c LEFT JOIN LATERAL (SELECT id, status, started_at, "  \
    "finished_at FROM ops.sync_runs WHERE connector = c.name ORDER BY id DESC LIMIT 1) r " \
    "ON true "
#define TEST_SQL                                                                            \
    "SELECT connector, status, extractor, " ORCH_SQL_ISO ("requested_at") ", "             \
    ORCH_SQL_ISO ("finished_at") ", result::text FROM ops.connector_tests "                \
    "WHERE id = $1::bigint"
/* clang-format on */

static const char *
s_cell (const PGresult *res, int row, int col)
{
    return PQgetisnull (res, row, col) ? NULL : PQgetvalue (res, row, col);
}

static json_t *
s_json_cell (const PGresult *res, int row, int col, json_t *fallback)
{
    const char *text = s_cell (res, row, col);
    json_t *j = text ? json_loads (text, JSON_DECODE_ANY, NULL) : NULL;
    if (!j)
        return fallback;
    json_decref (fallback);
    return j;
}

/*  Row i of a CONNECTOR_SQL result, last_run as a summary. */
static json_t *
s_connector (const PGresult *res, int i)
{
    json_t *c = json_object ();
    if (!c)
        return NULL;
    json_object_set_new (c, "name", orch_json_text (s_cell (res, i, 0)));
    json_object_set_new (c, "type", orch_json_text (s_cell (res, i, 1)));
    json_object_set_new (c, "settings", s_json_cell (res, i, 2, json_object ()));
    json_object_set_new (c, "secrets", s_json_cell (res, i, 6, json_array ()));
    json_object_set_new (c, "schedule", orch_json_text (s_cell (res, i, 3)));
    json_object_set_new (c, "created_at", orch_json_text (s_cell (res, i, 4)));
    json_object_set_new (c, "updated_at", orch_json_text (s_cell (res, i, 5)));
    json_t *last = json_null ();
    int64_t id = 0;
    if (!PQgetisnull (res, i, 7) && vd_parse_int (PQgetvalue (res, i, 7), 1, INT64_MAX, &id) == 0)
        last = json_pack ("{s:I, s:o, s:o, s:o}", "id", (json_int_t)id, "status",
                          orch_json_text (s_cell (res, i, 8)), "started_at",
                          orch_json_text (s_cell (res, i, 9)), "finished_at",
                          orch_json_text (s_cell (res, i, 10)));
    json_object_set_new (c, "last_run", last ? last : json_null ());
    return c;
}

void
orch_connectors_list (PGconn *conn, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res = vd_db_exec (conn, CONNECTOR_SQL "ORDER BY c.name", 0, NULL, &err);
    if (!res) {
        orch_answer_fail (a, &err);
        return;
    }
    json_t *list = json_array ();
    for (int i = 0; list && i < PQntuples (res); i++)
        json_array_append_new (list, s_connector (res, i));
    PQclear (res);
    orch_answer_json (a, 200, list);
}

static void
s_not_found (orch_answer_t *a, const char *name)
{
    char msg[160];
    snprintf (msg, sizeof msg, "no connector \"%s\"", name);
    orch_answer_error (a, 404, msg, NULL, "vendange connector list shows the connectors");
}

void
orch_connectors_get (PGconn *conn, const char *name, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    const char *params[] = {name};
    PGresult *res = vd_db_exec (conn, CONNECTOR_SQL "WHERE c.name = $1", 1, params, &err);
    if (!res) {
        orch_answer_fail (a, &err);
        return;
    }
    if (PQntuples (res) == 0) {
        PQclear (res);
        s_not_found (a, name);
        return;
    }
    json_t *c = s_connector (res, 0);
    int64_t last_id = 0;
    if (!PQgetisnull (res, 0, 7))
        vd_parse_int (PQgetvalue (res, 0, 7), 1, INT64_MAX, &last_id);
    if (c)
        json_object_set_new (c, "cursor", orch_json_text (s_cell (res, 0, 11)));
    PQclear (res);
    if (c && last_id > 0) {
        json_t *run = orch_runview_get (conn, last_id, &err);
        if (run)
            json_object_set_new (c, "last_run", run);
    }
    orch_answer_json (a, 200, c);
}

/*  Reads and validates a POST /api/connectors body. Returns 0 with the
    name and type (borrowed from body) and the split settings. */
static int
s_parse_create (json_t *body, const char *files_root, const char **name, const char **type,
                json_t **pub, json_t **sec, orch_answer_t *a)
{
    *name = orch_json_str (body, "name");
    *type = orch_json_str (body, "type");
    if (!*name || !orch_settings_name_valid (*name)) {
        orch_answer_error (a, 400, "invalid connector name", *name ? *name : "missing \"name\"",
                           "1 to 64 letters, digits, '_', '.' or '-', starting with a letter "
                           "or digit");
        return -1;
    }
    vd_error_t err;
    vd_error_clear (&err);
    if (!*type) {
        orch_answer_error (a, 400, "missing connector \"type\"", NULL,
                           "types: isavigne, odoo, brevo, powerautomate");
        return -1;
    }
    json_t *settings = json_object_get (body, "settings");
    if (orch_settings_validate (*type, settings, files_root, pub, sec, &err) < 0) {
        orch_answer_error (a, 400, err.msg, err.detail, err.hint);
        return -1;
    }
    return 0;
}

/*  The names of sec as a PostgreSQL text[] literal ("{a,b}"; names are
    setting keys: letters, digits and '_'). */
static void
s_names_literal (const json_t *sec, char *out, size_t size)
{
    size_t n = (size_t)snprintf (out, size, "{");
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)sec, k, v)
    {
        (void)v;
        if (n < size)
            n += (size_t)snprintf (out + n, size - n, "%s%s", n > 1 ? "," : "", k);
    }
    if (n < size)
        snprintf (out + n, size - n, "}");
}

/*  Writes a connector's settings: sql (INSERT or UPDATE) takes $1 name,
    $2 type, $3 public settings, $4 sealed secrets (hex), $5 schedule,
    $6 secret names. Returns 0; -1 with err, or with a 500 answered when
    the secrets cannot be sealed. */
static int
s_store (PGconn *conn, const char *sql, const vd_secret_key_t *key, const char *name,
         const char *type, json_t *pub, json_t *sec, orch_answer_t *a, vd_error_t *err)
{
    char *secrets = NULL, names[512];
    if (orch_secrets_seal (key, name, sec, &secrets, err) < 0) {
        vd_error_detail (err, "the connector has secret settings and they are never stored "
                              "in clear");
        orch_answer_error (a, 500, "cannot store the connector's secrets", err->detail, err->hint);
        return -1;
    }
    s_names_literal (sec, names, sizeof names);
    char *settings = json_dumps (pub, JSON_COMPACT);
    const char *schedule = orch_json_str (pub, "schedule");
    const char *params[] = {name, type, settings, secrets, schedule, names};
    int rc = settings ? vd_db_command (conn, sql, 6, params, err)
                      : vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    free (settings);
    free (secrets);
    return rc;
}

#define GATEWAY_ACK_MS 5000 /* how long an answer waits for the webhook gateways */

/*  A webhook connector was added or changed: the answer waits until every
    live gateway applied the new configuration (a sender posting right
    after never gets a 404 or a 401), at most GATEWAY_ACK_MS; then it says
    which gateway lags ("gateways_lagging" and a "warning"). */
static void
s_await_gateways (PGconn *conn, const char *type, orch_answer_t *a)
{
    if ((strcmp (type, "brevo") != 0 && strcmp (type, "powerautomate") != 0) || !a->json)
        return;
    json_t *lagging = NULL;
    vd_error_t err;
    vd_error_clear (&err);
    if (orch_hooks_await_config (conn, GATEWAY_ACK_MS, &lagging, &err) < 0) {
        vd_log_error (VD_LOG_WARN, &err);
        json_decref (lagging);
        return;
    }
    if (json_array_size (lagging)) {
        json_object_set_new (
            a->json, "warning",
            json_sprintf ("%zu webhook gateway(s) did not confirm the new configuration within "
                          "%d s (%s): until they do, a webhook to this connector may be refused",
                          json_array_size (lagging), GATEWAY_ACK_MS / 1000,
                          json_string_value (json_array_get (lagging, 0))));
        vd_warn ("webhook gateway %s lags behind the connector configuration",
                 json_string_value (json_array_get (lagging, 0)));
    }
    json_object_set_new (a->json, "gateways_lagging", lagging);
}

static void
s_insert (PGconn *conn, const vd_secret_key_t *key, const char *name, const char *type, json_t *pub,
          json_t *sec, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    int rc = s_store (conn,
                      "INSERT INTO ops.connectors (name, type, settings, secrets, schedule, "
                      "secret_names) VALUES ($1, $2, $3::jsonb, decode($4, 'hex'), $5, "
                      "$6::text[])",
                      key, name, type, pub, sec, a, &err);
    if (rc < 0 && a->status)
        return; /* answered */
    if (rc == 0) {
        vd_info ("connector %s added (type %s)", name, type);
        orch_connectors_get (conn, name, a);
        if (a->status == 200)
            a->status = 201;
        s_await_gateways (conn, type, a);
        return;
    }
    char msg[160];
    if (strcmp (err.sqlstate, "23505") == 0) {
        snprintf (msg, sizeof msg, "connector \"%s\" already exists", name);
        orch_answer_error (a, 409, msg, NULL, "remove it first, or choose another name");
    } else if (strcmp (err.sqlstate, "23514") == 0)
        orch_answer_error (a, 400, "invalid connector", err.msg, NULL);
    else
        orch_answer_fail (a, &err);
}

void
orch_connectors_create (PGconn *conn, const vd_secret_key_t *key, const char *files_root,
                        const orch_request_t *req, orch_answer_t *a)
{
    json_t *body = orch_request_json (req, a);
    if (!body)
        return;
    const char *name, *type;
    json_t *pub = NULL, *sec = NULL;
    if (s_parse_create (body, files_root, &name, &type, &pub, &sec, a) == 0)
        s_insert (conn, key, name, type, pub, sec, a);
    json_decref (pub);
    json_decref (sec);
    json_decref (body);
}

/*  Applies a PATCH body ({"settings": {...}, "unset": [...]}) to the
    connector's whole settings (secrets opened) in full. Returns 0, -1
    with a 400 answer. */
static int
s_apply_patch (json_t *body, json_t *full, orch_answer_t *a)
{
    json_t *set = json_object_get (body, "settings");
    json_t *unset = json_object_get (body, "unset");
    if ((set && !json_is_object (set)) || (unset && !json_is_array (unset))) {
        orch_answer_error (a, 400, "\"settings\" must be an object and \"unset\" a list", NULL,
                           "{\"settings\": {\"key\": \"value\"}, \"unset\": [\"key\"]}");
        return -1;
    }
    size_t i;
    json_t *k;
    json_array_foreach (unset, i, k)
    {
        if (!json_is_string (k) || json_object_del (full, json_string_value (k)) < 0) {
            char *text = json_dumps (k, JSON_ENCODE_ANY);
            orch_answer_error (a, 400, "cannot unset a setting the connector does not have", text,
                               NULL);
            free (text);
            return -1;
        }
    }
    json_object_update (full, set);
    return 0;
}

/*  A PATCH that changes where the secrets go (orch_settings_is_endpoint:
    an Odoo url, database or user, a webhook's user) drops the stored
    secrets it does not give again, so that a key is never sent to a
    server it was not given for. Returns the first changed setting (NULL:
    none) and the dropped secret names in *dropped (new reference). */
static const char *
s_drop_secrets (const char *type, json_t *before, json_t *full, json_t *stored, json_t *body,
                json_t **dropped)
{
    *dropped = json_array ();
    const char *changed = NULL, *k;
    json_t *v;
    json_object_foreach (before, k, v)
    {
        if (!changed && orch_settings_is_endpoint (type, k) &&
            !json_equal (v, json_object_get (full, k)))
            changed = k;
    }
    json_object_foreach (full, k, v)
    {
        if (!changed && orch_settings_is_endpoint (type, k) && !json_object_get (before, k))
            changed = k;
    }
    json_t *given = json_object_get (body, "settings");
    json_object_foreach (stored, k, v)
    {
        (void)v;
        if (changed && !json_object_get (given, k) && json_object_del (full, k) == 0)
            json_array_append_new (*dropped, json_string (k));
    }
    return changed;
}

/*  Validates the patched settings; the 400 of a validation that fails
    because secrets were dropped says so. Returns 0, -1 answered. */
static int
s_validate_patch (const char *type, json_t *full, const char *files_root, const char *changed,
                  json_t *dropped, json_t **pub, json_t **sec, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    if (orch_settings_validate (type, full, files_root, pub, sec, &err) == 0)
        return 0;
    if (json_array_size (dropped) == 0) {
        orch_answer_error (a, 400, err.msg, err.detail, err.hint);
        return -1;
    }
    char msg[160], detail[400];
    snprintf (msg, sizeof msg, "changing \"%s\" drops the connector's stored secrets", changed);
    char *names = json_dumps (dropped, JSON_COMPACT);
    snprintf (detail, sizeof detail, "give %.120s again in the same request (%.150s)",
              names ? names : "them", err.msg);
    free (names);
    orch_answer_error (a, 400, msg, detail,
                       "a secret is sent only where it was given: --set api_key=@FILE (or "
                       "token, password) with the new setting");
    return -1;
}

void
orch_connectors_update (PGconn *conn, const vd_secret_key_t *key, const char *files_root,
                        const char *name, const orch_request_t *req, orch_answer_t *a)
{
    json_t *body = orch_request_json (req, a);
    if (!body)
        return;
    vd_error_t err;
    vd_error_clear (&err);
    const char *params[] = {name};
    PGresult *res = vd_db_exec (conn,
                                "SELECT type, settings::text, encode(secrets, 'hex') FROM "
                                "ops.connectors WHERE name = $1",
                                1, params, &err);
    json_t *full = NULL, *sec = NULL, *pub = NULL, *new_sec = NULL, *before = NULL, *dropped = NULL;
    if (!res)
        orch_answer_fail (a, &err);
    else if (PQntuples (res) == 0)
        s_not_found (a, name);
    else if (!(sec = orch_secrets_open (key, name, s_cell (res, 0, 2), &err)))
        orch_answer_error (a, 500, "cannot open the connector's secrets", err.msg, err.hint);
    else if (!(full = json_loads (PQgetvalue (res, 0, 1), 0, NULL)) ||
             json_object_update (full, sec))
        orch_answer_error (a, 500, "the connector's settings are damaged", NULL, NULL);
    else if ((before = json_deep_copy (full)) && s_apply_patch (body, full, a) == 0) {
        const char *type = PQgetvalue (res, 0, 0);
        const char *changed = s_drop_secrets (type, before, full, sec, body, &dropped);
        if (s_validate_patch (type, full, files_root, changed, dropped, &pub, &new_sec, a) < 0)
            ; /* answered */
        else if (s_store (conn,
                          "UPDATE ops.connectors SET settings = $3::jsonb, secrets = "
                          "decode($4, 'hex'), schedule = $5, secret_names = $6::text[], "
                          "next_run_at = CASE WHEN schedule IS DISTINCT FROM $5 THEN NULL "
                          "ELSE next_run_at END, updated_at = now() WHERE name = $1 AND type = $2",
                          key, name, type, pub, new_sec, a, &err) == 0) {
            vd_info ("connector %s updated", name);
            orch_connectors_get (conn, name, a);
            if (a->status == 200 && json_array_size (dropped))
                json_object_set (a->json, "secrets_dropped", dropped);
            s_await_gateways (conn, type, a);
        } else if (!a->status)
            orch_answer_fail (a, &err);
    }
    if (res)
        PQclear (res);
    json_decref (sec);
    json_decref (full);
    json_decref (pub);
    json_decref (new_sec);
    json_decref (before);
    json_decref (dropped);
    json_decref (body);
}

void
orch_connectors_test (PGconn *conn, const char *name, const orch_request_t *req, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    /* {"preview": N}: also the first N rows of each file (the mapping page) */
    char preview[24] = "";
    if (req && req->body_len) {
        json_t *body = orch_request_json (req, a);
        if (!body)
            return;
        json_t *n = json_object_get (body, "preview");
        bool bad = n && (!json_is_integer (n) || json_integer_value (n) < 1 ||
                         json_integer_value (n) > 100);
        if (n && !bad)
            snprintf (preview, sizeof preview, "%" JSON_INTEGER_FORMAT, json_integer_value (n));
        json_decref (body);
        if (bad) {
            orch_answer_error (a, 400, "\"preview\" must be a number of rows from 1 to 100", NULL,
                               "{\"preview\": 5}");
            return;
        }
    }
    const char *params[] = {name, preview[0] ? preview : NULL};
    PGresult *res = vd_db_exec (conn,
                                "INSERT INTO ops.connector_tests (connector, preview) SELECT name, "
                                "$2::integer FROM ops.connectors WHERE name = $1 RETURNING id",
                                2, params, &err);
    if (!res) {
        orch_answer_fail (a, &err);
        return;
    }
    int64_t id = 0;
    if (PQntuples (res) == 1)
        vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, &id);
    PQclear (res);
    if (id == 0)
        s_not_found (a, name);
    else
        orch_answer_json (a, 202,
                          json_pack ("{s:I, s:s}", "test_id", (json_int_t)id, "status", "pending"));
}

void
orch_connectors_test_get (PGconn *conn, int64_t id, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    char ids[24];
    snprintf (ids, sizeof ids, "%" PRId64, id);
    const char *params[] = {ids};
    PGresult *res = vd_db_exec (conn, TEST_SQL, 1, params, &err);
    if (!res) {
        orch_answer_fail (a, &err);
        return;
    }
    if (PQntuples (res) == 0) {
        PQclear (res);
        orch_answer_error (a, 404, "no such connector test", ids, NULL);
        return;
    }
    json_t *t = json_pack (
        "{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)id, "connector",
        orch_json_text (s_cell (res, 0, 0)), "status", orch_json_text (s_cell (res, 0, 1)),
        "extractor", orch_json_text (s_cell (res, 0, 2)), "requested_at",
        orch_json_text (s_cell (res, 0, 3)), "finished_at", orch_json_text (s_cell (res, 0, 4)),
        "result", s_json_cell (res, 0, 5, json_null ()));
    PQclear (res);
    orch_answer_json (a, 200, t);
}

/*  The run queued or running for a connector, 0 when none, -1 on error. */
static int64_t
s_active_run (PGconn *conn, const char *name, vd_error_t *err)
{
    const char *params[] = {name};
    PGresult *res = vd_db_exec (conn,
                                "SELECT id FROM ops.sync_runs WHERE connector = $1 "
                                "AND status IN ('queued', 'running') AND trigger <> 'webhook'",
                                1, params, err);
    if (!res)
        return -1;
    int64_t id = 0;
    if (PQntuples (res) > 0)
        vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, &id);
    PQclear (res);
    return id;
}

static void
s_busy (orch_answer_t *a, const char *name, int64_t run_id, const char *hint)
{
    char msg[160];
    snprintf (msg, sizeof msg, "connector \"%s\" already has a run in progress", name);
    json_t *j = orch_json_error (msg, NULL, hint);
    if (j)
        json_object_set_new (j, "run_id", json_integer (run_id));
    orch_answer_json (a, 409, j);
}

/*  Removes the connector, its rows kept (with purge, the loader removes
    it: load_cmd). Returns 1 removed, 0 not there or busy, -1 with err. */
static int
s_remove (PGconn *conn, const char *name, vd_error_t *err)
{
    const char *params[] = {name};
    PGresult *res = vd_db_exec (conn, VD_SQL_REMOVE_CONNECTOR, 1, params, err);
    int rc = res ? PQntuples (res) == 1 : -1;
    PQclear (res);
    return rc;
}

void
orch_connectors_delete (PGconn *conn, const char *name, const orch_request_t *req, orch_answer_t *a)
{
    bool purge =
        req->q_purge && (strcmp (req->q_purge, "true") == 0 || strcmp (req->q_purge, "1") == 0);
    if (req->q_purge && !purge && strcmp (req->q_purge, "false") != 0 &&
        strcmp (req->q_purge, "0") != 0) {
        orch_answer_error (a, 400, "purge must be true or false", req->q_purge, NULL);
        return;
    }
    vd_error_t err;
    vd_error_clear (&err);
    json_t *purged = NULL;
    int rc;
    if (purge) { /* rows deleted: by the loader, the only writer of canonical.* */
        json_t *args = json_pack ("{s:s, s:b}", "name", name, "purge", true);
        json_t *result = args ? orch_loader_call (conn, "remove_connector", args, a) : NULL;
        json_decref (args);
        if (!result) {
            if (!args)
                orch_answer_error (a, 500, "out of memory", NULL, NULL);
            return;
        }
        rc = json_is_true (json_object_get (result, "removed"));
        purged = json_incref (json_object_get (result, "purged"));
        json_decref (result);
    } else
        rc = s_remove (conn, name, &err);
    if (rc == 1) {
        vd_info ("connector %s removed (%s)", name,
                 purge ? "the rows it loaded are deleted" : "the rows it loaded are kept");
        json_t *answer = json_pack ("{s:s, s:b}", "deleted", name, "rows_kept", !purge);
        if (answer && purged)
            json_object_set (answer, "purged", purged);
        orch_answer_json (a, 200, answer);
        json_decref (purged);
        return;
    }
    json_decref (purged);
    int64_t run_id = rc < 0 ? -1 : s_active_run (conn, name, &err);
    if (run_id < 0)
        orch_answer_fail (a, &err);
    else if (run_id > 0)
        s_busy (a, name, run_id, "wait for the run to finish, then remove the connector");
    else
        s_not_found (a, name);
}

/*  True when connector name exists and receives webhooks. */
static bool
s_is_webhook (PGconn *conn, const char *name)
{
    const char *params[] = {name};
    PGresult *res = vd_db_exec (conn,
                                "SELECT 1 FROM ops.connectors WHERE name = $1 AND type IN "
                                "('brevo', 'powerautomate')",
                                1, params, NULL);
    bool yes = res && PQntuples (res) == 1;
    if (res)
        PQclear (res);
    return yes;
}

/*  Inserts a queued run. Returns its id, 0 when the connector does not
    exist, -1 with err (SQLSTATE 23505: one is already queued or running:
    the unique index ops.sync_runs_one_active decides, no race). */
static int64_t
s_queue (PGconn *conn, const char *name, bool full, vd_error_t *err)
{
    const char *params[] = {name, full ? "true" : "false"};
    PGresult *res = vd_db_exec (conn,
                                "INSERT INTO ops.sync_runs (connector, connector_type, status, "
                                "full_sync, trigger) SELECT name, type, 'queued', $2::boolean, "
                                "'manual' FROM ops.connectors WHERE name = $1 AND type NOT IN "
                                "('brevo', 'powerautomate') RETURNING id",
                                2, params, err);
    if (!res)
        return -1;
    int64_t id = 0;
    if (PQntuples (res) != 1 || vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, &id) < 0)
        id = 0;
    PQclear (res);
    return id;
}

void
orch_connectors_sync (PGconn *conn, const char *name, const orch_request_t *req, orch_answer_t *a)
{
    json_t *body = orch_request_json (req, a);
    if (!body)
        return;
    json_t *value = json_object_get (body, "full");
    bool full = json_is_true (value);
    json_decref (body);
    if (value && !json_is_boolean (value)) {
        orch_answer_error (a, 400, "\"full\" must be true or false", NULL, NULL);
        return;
    }
    vd_error_t err;
    vd_error_clear (&err);
    int64_t id = -1;
    /* a second try when the run in the way ended between INSERT and SELECT */
    for (int attempt = 0; id < 0 && attempt < 2; attempt++) {
        id = s_queue (conn, name, full, &err);
        int64_t active =
            id < 0 && strcmp (err.sqlstate, "23505") == 0 ? s_active_run (conn, name, &err) : 0;
        if (active > 0) {
            s_busy (a, name, active, "wait for it: vendange sync NAME --wait, or vendange runs");
            return;
        }
    }
    if (id < 0)
        orch_answer_fail (a, &err);
    else if (id == 0 && s_is_webhook (conn, name))
        orch_answer_error (a, 400, "a webhook connector has nothing to sync",
                           "its events arrive as the sender posts them; each hour is a run",
                           "point the sender at the gateway: /webhooks/TYPE/NAME (see the README)");
    else if (id == 0)
        s_not_found (a, name);
    else {
        vd_log_set_run (id);
        vd_info ("run queued for connector %s%s", name, full ? " (full)" : "");
        vd_log_set_run (0);
        orch_answer_json (a, 202,
                          json_pack ("{s:I, s:s}", "run_id", (json_int_t)id, "status", "queued"));
    }
}
