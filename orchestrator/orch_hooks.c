/*  orch_hooks - the orchestrator's side of the webhook gateways. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_hooks.h"
#include "orch_json.h"
#include "orch_runs.h"
#include "orch_secrets.h"
#include <poll.h>

#define ROLE "extractor-webhook"
#define CHECK_EVERY_MS 1000
#define RESEND_EVERY_MS 30000

struct orch_hooks {
    vd_secret_key_t key;
    orch_engine_t *engine;
    orch_hooks_send_fn *send;
    orch_registry_t *registry;
    char fingerprint[40];
    int64_t next_check_ms, next_resend_ms;
    bool reco_after_sync;
};

orch_hooks_t *
orch_hooks_new (orch_engine_t *engine, orch_hooks_send_fn *send, orch_registry_t *registry,
                const vd_secret_key_t *key, bool reco_after_sync)
{
    orch_hooks_t *self = calloc (1, sizeof *self);
    if (self) {
        if (key)
            self->key = *key;
        self->engine = engine;
        self->send = send;
        self->registry = registry;
        self->reco_after_sync = reco_after_sync;
    }
    return self;
}

void
orch_hooks_destroy (orch_hooks_t **self_p)
{
    if (self_p && *self_p) {
        vd_secret_key_clear (&(*self_p)->key);
        free (*self_p);
        *self_p = NULL;
    }
}

#define ACK_CHANNEL "vendange_hook_ack"

int
orch_hooks_fingerprint (PGconn *conn, char *out, size_t size, vd_error_t *err)
{
    PGresult *res = vd_db_exec (
        conn,
        "SELECT md5(coalesce(string_agg(name || '|' || type || '|' || settings::text || '|' || "
        "coalesce(encode(secrets, 'hex'), ''), ',' ORDER BY name), '')) FROM ops.connectors "
        "WHERE type IN ('brevo', 'powerautomate')",
        0, NULL, err);
    if (!res)
        return -1;
    snprintf (out, size, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    return 0;
}

/*  The live gateways that have not acknowledged version (an array), NULL
    with err. */
static json_t *
s_lagging (PGconn *conn, const char *version, vd_error_t *err)
{
    const char *params[] = {version};
    PGresult *res =
        vd_db_exec (conn,
                    "SELECT instance FROM ops.services WHERE role = '" ROLE "' AND alive"
                    " AND hook_config IS DISTINCT FROM $1 ORDER BY 1",
                    1, params, err);
    if (!res)
        return NULL;
    json_t *list = json_array ();
    for (int i = 0; list && i < PQntuples (res); i++)
        json_array_append_new (list, json_string (PQgetvalue (res, i, 0)));
    PQclear (res);
    return list;
}

int
orch_hooks_await_config (PGconn *conn, int timeout_ms, json_t **lagging, vd_error_t *err)
{
    *lagging = NULL;
    if (vd_db_command (conn, "LISTEN " ACK_CHANNEL, 0, NULL, err) < 0)
        return -1;
    int64_t deadline = zclock_mono () + timeout_ms;
    int rc = 0;
    for (;;) {
        char version[40];
        json_decref (*lagging);
        *lagging = NULL;
        if (orch_hooks_fingerprint (conn, version, sizeof version, err) < 0 ||
            !(*lagging = s_lagging (conn, version, err))) {
            rc = -1;
            break;
        }
        int64_t left = deadline - zclock_mono ();
        if (json_array_size (*lagging) == 0 || left <= 0)
            break;
        /* an acknowledgement NOTIFYs ACK_CHANNEL; look again then, or at
           least every 200 ms (a gateway that dies stops being waited for) */
        struct pollfd pfd = {PQsocket (conn), POLLIN, 0};
        if (poll (&pfd, 1, (int)(left < 200 ? left : 200)) < 0 && errno != EINTR)
            break;
        if (PQconsumeInput (conn) == 0)
            break;
        PGnotify *n;
        while ((n = PQnotifies (conn)) != NULL)
            PQfreemem (n);
    }
    vd_error_t ignored;
    (void)vd_db_command (conn, "UNLISTEN " ACK_CHANNEL, 0, NULL, &ignored); /* best effort */
    return rc;
}

void
orch_hooks_wake (orch_hooks_t *self)
{
    self->next_check_ms = 0;
}

/*  A gateway applied configuration version: kept, and said to whoever
    waits for it (orch_hooks_await_config). */
static void
s_on_config_ack (PGconn *conn, json_t *msg)
{
    const char *params[] = {orch_json_str (msg, "instance"), orch_json_str (msg, "version")};
    vd_error_t err;
    vd_error_clear (&err);
    if (!params[0] || !params[1])
        return;
    if (vd_db_command (conn,
                       "WITH u AS (UPDATE ops.services SET hook_config = $2 WHERE instance = $1)"
                       " SELECT pg_notify('" ACK_CHANNEL "', $1)",
                       2, params, &err) < 0)
        vd_log_error (VD_LOG_WARN, &err);
}

/*  The webhook connectors with their secrets (opened) merged into the
    settings; a connector whose secrets cannot be opened is left out, with
    a warning. NULL on a database error. */
static json_t *
s_config (orch_hooks_t *self, PGconn *conn)
{
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res = vd_db_exec (conn,
                                "SELECT name, type, settings::text, encode(secrets, 'hex') "
                                "FROM ops.connectors WHERE type IN ('brevo', 'powerautomate') "
                                "ORDER BY name",
                                0, NULL, &err);
    if (!res) {
        vd_log_error (VD_LOG_WARN, &err);
        return NULL;
    }
    json_t *list = json_array ();
    for (int i = 0; list && i < PQntuples (res); i++) {
        json_t *settings = json_loads (PQgetvalue (res, i, 2), 0, NULL);
        json_t *secrets =
            orch_secrets_open (&self->key, PQgetvalue (res, i, 0),
                               PQgetisnull (res, i, 3) ? NULL : PQgetvalue (res, i, 3), &err);
        if (!secrets) {
            vd_log_detail (VD_LOG_WARN, err.msg, err.hint,
                           "webhook connector %s left out of the gateways' configuration",
                           PQgetvalue (res, i, 0));
            json_decref (settings);
            continue;
        }
        if (json_is_object (settings))
            json_object_update (settings, secrets);
        json_decref (secrets);
        json_array_append_new (list,
                               json_pack ("{s:s, s:s, s:o}", "name", PQgetvalue (res, i, 0), "type",
                                          PQgetvalue (res, i, 1), "settings",
                                          json_is_object (settings) ? settings : json_object ()));
        if (!json_is_object (settings))
            json_decref (settings);
    }
    PQclear (res);
    char version[40];
    json_t *msg = list && orch_hooks_fingerprint (conn, version, sizeof version, &err) == 0
                      ? json_pack ("{s:s, s:s, s:o}", "type", "hook_config", "version", version,
                                   "connectors", list)
                      : NULL;
    if (!msg)
        json_decref (list);
    return msg;
}

/*  Sends msg to one gateway, or to every live one (service NULL). */
static void
s_to_gateways (orch_hooks_t *self, orch_service_t *service, json_t *msg)
{
    for (size_t i = 0; i < orch_registry_size (self->registry); i++) {
        orch_service_t *s = orch_registry_at (self->registry, i);
        if ((service && s != service) || !s->alive || strcmp (s->hb.role, ROLE) != 0)
            continue;
        if (self->send (self->engine, s->identity, msg) < 0)
            vd_debug ("message not delivered to %s", s->hb.instance);
    }
}

static void
s_send_config (orch_hooks_t *self, PGconn *conn, orch_service_t *service)
{
    json_t *msg = s_config (self, conn);
    if (msg)
        s_to_gateways (self, service, msg);
    json_decref (msg);
}

void
orch_hooks_service_seen (orch_hooks_t *self, PGconn *conn, orch_service_t *service)
{
    if (strcmp (service->hb.role, ROLE) == 0 && PQstatus (conn) == CONNECTION_OK)
        s_send_config (self, conn, service);
}

void
orch_hooks_tick (orch_hooks_t *self, PGconn *conn, int64_t now_ms)
{
    if (now_ms < self->next_check_ms || !orch_registry_has_live (self->registry, ROLE, NULL))
        return;
    self->next_check_ms = now_ms + CHECK_EVERY_MS;
    vd_error_t err;
    vd_error_clear (&err);
    char version[40];
    if (orch_hooks_fingerprint (conn, version, sizeof version, &err) < 0)
        return;
    bool changed = strcmp (self->fingerprint, version) != 0;
    snprintf (self->fingerprint, sizeof self->fingerprint, "%s", version);
    if (changed || now_ms >= self->next_resend_ms) {
        if (changed)
            vd_info ("webhook connectors changed: sending them to the gateways");
        s_send_config (self, conn, NULL);
        self->next_resend_ms = now_ms + RESEND_EVERY_MS;
    }
}

/*  --------------------------------------------------------------------
    Runs */

/*  Closes webhook run id of spool: success when batches 1..expected are
    all committed and the counts balance, else failed. Returns 0 (also
    when the run was no longer running), -1 with err (retry). */
static int
s_close (PGconn *conn, int64_t id, const char *spool, int64_t expected, bool reco_after_sync,
         vd_error_t *err)
{
    char text[24], want[24];
    snprintf (text, sizeof text, "%" PRId64, id);
    snprintf (want, sizeof want, "%" PRId64, expected);
    const char *params[] = {text, spool, want};
    PGresult *res = vd_db_exec (
        conn,
        "SELECT count(b.seq), coalesce(max(b.seq), 0), coalesce(sum(b.rows), 0), "
        "(SELECT coalesce(sum(t.extracted), 0) FROM ops.run_tables t WHERE t.run_id = r.id) "
        "FROM ops.sync_runs r LEFT JOIN ops.run_batches b ON b.run_id = r.id "
        "WHERE r.id = $1::bigint AND r.extractor = $2 AND r.trigger = 'webhook' "
        "AND r.status = 'running' GROUP BY r.id",
        2, params, err);
    if (!res)
        return -1;
    int64_t count = 0, max = 0, rows = 0, extracted = 0;
    bool running = PQntuples (res) == 1;
    if (running) {
        vd_parse_int (PQgetvalue (res, 0, 0), 0, INT64_MAX, &count);
        vd_parse_int (PQgetvalue (res, 0, 1), 0, INT64_MAX, &max);
        vd_parse_int (PQgetvalue (res, 0, 2), 0, INT64_MAX, &rows);
        vd_parse_int (PQgetvalue (res, 0, 3), 0, INT64_MAX, &extracted);
    }
    PQclear (res);
    if (!running)
        return 0;
    vd_log_set_run (id);
    int rc = 0;
    if (count != expected || max != expected) {
        char reason[200];
        snprintf (reason, sizeof reason,
                  "the gateway sent %" PRId64 " batches, the loader committed %" PRId64, expected,
                  count);
        json_t *error = json_pack ("{s:s}", "reason", reason);
        rc = orch_runs_fail (conn, id, error, err) < 0 ? -1 : 0;
        json_decref (error);
        vd_warn ("webhook run failed: %s", reason);
    } else {
        json_t *report = json_pack ("{s:I, s:[], s:[], s:n}", "records", (json_int_t)rows, "files",
                                    "errors", "cursor_after");
        orch_outcome_t out;
        rc = orch_runs_finalize (conn, id, report, extracted, reco_after_sync, &out, err);
        json_decref (report);
        if (rc == 0)
            vd_info ("webhook run closed: %s, %" PRId64 " events in %" PRId64 " batches",
                     out.status, rows, count);
    }
    vd_log_set_run (0);
    return rc;
}

/*  The running webhook run of (connector, spool), or a new one. A run
    the gateway does not know of (its answer was lost) is reused when
    nothing was committed in it, else failed. Returns the id, -1. */
static int64_t
s_open (PGconn *conn, const char *connector, const char *type, const char *spool, vd_error_t *err)
{
    const char *params[] = {connector, type, spool};
    PGresult *res = vd_db_exec (conn,
                                "SELECT r.id, EXISTS (SELECT 1 FROM ops.run_batches b WHERE "
                                "b.run_id = r.id) FROM ops.sync_runs r WHERE r.connector = $1 "
                                "AND r.extractor = $2 AND r.trigger = 'webhook' AND "
                                "r.status = 'running'",
                                2, (const char *[]){connector, spool}, err);
    if (!res)
        return -1;
    int64_t id = 0;
    bool used = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 1), "t") == 0;
    if (PQntuples (res) == 1)
        vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, &id);
    PQclear (res);
    if (id && !used)
        return id;
    if (id) {
        json_t *error = json_pack ("{s:s}", "reason", "the gateway lost track of this run");
        int rc = orch_runs_fail (conn, id, error, err);
        json_decref (error);
        if (rc < 0)
            return -1;
    }
    res = vd_db_exec (conn,
                      "INSERT INTO ops.sync_runs (connector, connector_type, status, trigger, "
                      "started_at, last_progress_at, extractor) VALUES ($1, $2, 'running', "
                      "'webhook', now(), now(), $3) RETURNING id",
                      3, params, err);
    if (!res)
        return -1;
    vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, &id);
    PQclear (res);
    return id;
}

static void
s_on_run (orch_hooks_t *self, PGconn *conn, json_t *msg, zframe_t *identity)
{
    const char *connector = orch_json_str (msg, "connector");
    const char *type = orch_json_str (msg, "connector_type");
    const char *spool = orch_json_str (msg, "spool");
    int64_t close_run = 0, batches = 0, id = 0;
    orch_json_int (msg, "close_run", &close_run);
    orch_json_int (msg, "batches", &batches);
    vd_error_t err;
    vd_error_clear (&err);
    if (!connector || !spool || !type ||
        (strcmp (type, "brevo") != 0 && strcmp (type, "powerautomate") != 0))
        vd_error_set (&err, VD_ERR_PERMANENT, "malformed hook_run request");
    else if (PQstatus (conn) != CONNECTION_OK)
        vd_error_set (&err, VD_ERR_TRANSIENT, "the orchestrator's database is unavailable");
    else if (close_run > 0 &&
             s_close (conn, close_run, spool, batches, self->reco_after_sync, &err) < 0)
        ;
    else if (json_is_true (json_object_get (msg, "open")))
        id = s_open (conn, connector, type, spool, &err);
    json_t *reply = json_pack ("{s:s, s:s?, s:s?, s:I, s:I}", "type", "hook_run", "request_id",
                               orch_json_str (msg, "request_id"), "connector", connector, "run_id",
                               (json_int_t)(id > 0 ? id : 0), "closed",
                               (json_int_t)(err.msg[0] ? 0 : close_run));
    if (reply && err.msg[0])
        json_object_set_new (reply, "error", orch_json_text (err.msg));
    if (reply && self->send (self->engine, identity, reply) < 0)
        vd_debug ("hook_run answer not delivered");
    json_decref (reply);
}

bool
orch_hooks_handle (orch_hooks_t *self, PGconn *conn, json_t *msg, zframe_t *identity)
{
    const char *type = orch_json_str (msg, "type");
    if (type && strcmp (type, "hook_run") == 0)
        s_on_run (self, conn, msg, identity);
    else if (type && strcmp (type, "hook_config_ack") == 0)
        s_on_config_ack (conn, msg);
    else if (type && strcmp (type, "batch_committed") == 0) {
        json_t *relay = json_deep_copy (msg);
        json_object_del (relay, "instance");
        json_object_del (relay, "role");
        s_to_gateways (self, NULL, relay);
        json_decref (relay);
    } else
        return false;
    return true;
}

int
orch_hooks_test (bool verbose)
{
    int failed = 0;
    orch_registry_t *reg = orch_registry_new ();
    orch_hooks_t *h = orch_hooks_new (NULL, NULL, reg, NULL, false);
    failed += h == NULL;
    json_t *other = json_pack ("{s:s}", "type", "progress");
    failed += orch_hooks_handle (h, NULL, other, NULL); /* not ours */
    json_decref (other);
    orch_hooks_destroy (&h);
    failed += h != NULL;
    orch_registry_destroy (&reg);
    if (verbose)
        printf ("orch_hooks_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
