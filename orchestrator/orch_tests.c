/*  orch_tests - `connector test` on the control loop's side. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_secrets.h"
#include "orch_tests.h"
#include "orch_preview.h"
#include "norm_batch.h"

typedef struct {
    int64_t id;
    int64_t since_ms; /* first seen pending, or sent                */
    bool sent;
    bool seen; /* still pending or running in this turn      */
    char instance[160];
} s_test_t;

struct orch_tests {
    vd_secret_key_t key;
    norm_batch_t *norm; /* previews: the normalizer's rules */
    orch_send_fn *send;
    void *send_arg;
    s_test_t *items;
    size_t count, cap;
};

orch_tests_t *
orch_tests_new (const vd_secret_key_t *key, orch_send_fn *send, void *send_arg,
                const char *vat_percent, const char *tz)
{
    orch_tests_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    vd_error_t err;
    if (vat_percent && tz && !(self->norm = norm_batch_new (vat_percent, tz, &err)))
        vd_log_error (VD_LOG_WARN, &err);
    if (key)
        self->key = *key;
    self->send = send;
    self->send_arg = send_arg;
    return self;
}

void
orch_tests_destroy (orch_tests_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    orch_tests_t *self = *self_p;
    vd_secret_key_clear (&self->key);
    norm_batch_destroy (&self->norm);
    free (self->items);
    free (self);
    *self_p = NULL;
}

static s_test_t *
s_find (orch_tests_t *self, int64_t id, int64_t now)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->items[i].id == id)
            return &self->items[i];
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        s_test_t *grown = realloc (self->items, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->items = grown;
        self->cap = cap;
    }
    self->items[self->count] = (s_test_t){.id = id, .since_ms = now};
    return &self->items[self->count++];
}

/*  Ends test id with status and result (stolen). */
static int
s_finish (PGconn *conn, int64_t id, const char *status, json_t *result, vd_error_t *err)
{
    char ids[24];
    snprintf (ids, sizeof ids, "%" PRId64, id);
    char *text = result ? json_dumps (result, JSON_COMPACT) : NULL;
    json_decref (result);
    const char *params[] = {ids, status, text ? text : "{}"};
    int rc = vd_db_command (conn,
                            "UPDATE ops.connector_tests SET status = $2, finished_at = now(), "
                            "result = $3::jsonb WHERE id = $1::bigint "
                            "AND status IN ('pending', 'running')",
                            3, params, err);
    free (text);
    if (rc == 0)
        vd_info ("connector test %" PRId64 " %s", id, status);
    return rc;
}

static int
s_fail (PGconn *conn, int64_t id, const char *reason, const char *hint, vd_error_t *err)
{
    json_t *result = json_pack ("{s:b, s:{s:o, s:o}}", "ok", 0, "error", "reason",
                                orch_json_text (reason), "hint", orch_json_text (hint));
    return s_finish (conn, id, "failed", result, err);
}

/*  Sends pending test (row i: id, connector, type, settings, sealed
    secrets) to ext. */
static int
s_send (orch_tests_t *self, PGconn *conn, const PGresult *res, int i, s_test_t *t,
        orch_service_t *ext, int64_t now, vd_error_t *err)
{
    const char *name = PQgetvalue (res, i, 1);
    vd_error_t serr;
    vd_error_clear (&serr);
    json_t *settings = json_loads (PQgetvalue (res, i, 3), 0, NULL);
    json_t *secrets = orch_secrets_open (
        &self->key, name, PQgetisnull (res, i, 4) ? NULL : PQgetvalue (res, i, 4), &serr);
    if (!json_is_object (settings) || !secrets) {
        json_decref (settings);
        json_decref (secrets);
        return s_fail (conn, t->id, secrets ? "the connector's settings are damaged" : serr.msg,
                       serr.hint, err);
    }
    json_object_update (settings, secrets);
    json_decref (secrets);
    char request[40];
    snprintf (request, sizeof request, "test-%" PRId64, t->id);
    json_t *msg =
        json_pack ("{s:s, s:s, s:s, s:s, s:o}", "type", "test", "request_id", request, "connector",
                   name, "connector_type", PQgetvalue (res, i, 2), "settings", settings);
    int64_t preview = 0;
    if (msg && !PQgetisnull (res, i, 6) &&
        vd_parse_int (PQgetvalue (res, i, 6), 1, 100, &preview) == 0)
        json_object_set_new (msg, "preview", json_integer (preview));
    int sent = msg ? self->send (self->send_arg, ext->identity, msg) : -1;
    json_decref (msg);
    if (sent < 0)
        return s_fail (conn, t->id, "could not reach the extractor", NULL, err);
    t->sent = true;
    t->since_ms = now;
    snprintf (t->instance, sizeof t->instance, "%s", ext->hb.instance);
    ext->assigned_ms = now; /* other idle extractors take the next run */
    char ids[24];
    snprintf (ids, sizeof ids, "%" PRId64, t->id);
    const char *params[] = {ids, ext->hb.instance};
    return vd_db_command (conn,
                          "UPDATE ops.connector_tests SET status = 'running', extractor = $2 "
                          "WHERE id = $1::bigint AND status = 'pending'",
                          2, params, err);
}

/*  A webhook connector is checked here: its secrets open, and a gateway
    is there to receive its events. */
static int
s_webhook_test (orch_tests_t *self, PGconn *conn, orch_registry_t *registry, const PGresult *res,
                int i, int64_t id, vd_error_t *err)
{
    const char *name = PQgetvalue (res, i, 1), *type = PQgetvalue (res, i, 2);
    vd_error_t serr;
    vd_error_clear (&serr);
    json_t *secrets = orch_secrets_open (
        &self->key, name, PQgetisnull (res, i, 4) ? NULL : PQgetvalue (res, i, 4), &serr);
    json_decref (secrets);
    if (!secrets)
        return s_fail (conn, id, serr.msg, serr.hint, err);
    const orch_service_t *gateway = NULL;
    for (size_t k = 0; !gateway && k < orch_registry_size (registry); k++) {
        orch_service_t *s = orch_registry_at (registry, k);
        if (s->alive && strcmp (s->hb.role, "extractor-webhook") == 0)
            gateway = s;
    }
    if (!gateway)
        return s_fail (conn, id, "no webhook gateway (extractor-webhook) is connected",
                       "start one: vendange up, or see vendange status", err);
    json_t *result = json_pack ("{s:b, s:o, s:[{s:s, s:b, s:o}]}", "ok", 1, "summary",
                                json_sprintf ("events are received at /webhooks/%s/%s by %s", type,
                                              name, gateway->hb.instance),
                                "checks", "check", "gateway", "ok", 1, "message",
                                json_sprintf ("%s on %s", gateway->hb.instance, gateway->hb.host));
    return s_finish (conn, id, "ok", result, err);
}

/*  One pending or running test (row i). */
static int
s_dispatch_one (orch_tests_t *self, PGconn *conn, orch_registry_t *registry, const PGresult *res,
                int i, int64_t now, int64_t dispatch_timeout_ms, vd_error_t *err)
{
    int64_t id = 0;
    vd_parse_int (PQgetvalue (res, i, 0), 1, INT64_MAX, &id);
    s_test_t *t = s_find (self, id, now);
    if (!t)
        return 0;
    t->seen = true;
    bool running = strcmp (PQgetvalue (res, i, 5), "running") == 0;
    if (running && !t->sent)
        return s_fail (conn, id, "the orchestrator restarted during the test", "test again", err);
    if (PQgetisnull (res, i, 2))
        return s_fail (conn, id, "the connector no longer exists", NULL, err);
    if (t->sent) {
        char reason[300];
        snprintf (reason, sizeof reason, "%s did not answer within %d s", t->instance,
                  ORCH_TEST_ANSWER_MS / 1000);
        return now - t->since_ms > ORCH_TEST_ANSWER_MS ? s_fail (conn, id, reason, NULL, err) : 0;
    }
    const char *type = PQgetvalue (res, i, 2);
    if (strcmp (type, "brevo") == 0 || strcmp (type, "powerautomate") == 0)
        return s_webhook_test (self, conn, registry, res, i, id, err);
    orch_service_t *ext = orch_registry_idle_extractor (registry, type);
    if (ext)
        return s_send (self, conn, res, i, t, ext, now, err);
    if (now - t->since_ms < dispatch_timeout_ms)
        return 0;
    char missing[300];
    orch_registry_missing (registry, type, missing, sizeof missing);
    if (!orch_registry_has_extractor (registry, type))
        return s_fail (conn, id, missing, "start one: vendange up, or see vendange status", err);
    char reason[100];
    snprintf (reason, sizeof reason, "every extractor of type %s stayed busy", type);
    return s_fail (conn, id, reason, "test again when the running syncs are over", err);
}

int
orch_tests_dispatch (orch_tests_t *self, PGconn *conn, orch_registry_t *registry, int64_t now,
                     int64_t dispatch_timeout_ms, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn,
                                "SELECT t.id, t.connector, c.type, c.settings::text, "
                                "encode(c.secrets, 'hex'), t.status, t.preview "
                                "FROM ops.connector_tests t "
                                "LEFT JOIN ops.connectors c ON c.name = t.connector "
                                "WHERE t.status IN ('pending', 'running') ORDER BY t.id",
                                0, NULL, err);
    if (!res)
        return -1;
    for (size_t k = 0; k < self->count; k++)
        self->items[k].seen = false;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples (res); i++)
        rc = s_dispatch_one (self, conn, registry, res, i, now, dispatch_timeout_ms, err);
    PQclear (res);
    size_t kept = 0;
    for (size_t k = 0; k < self->count; k++)
        if (self->items[k].seen)
            self->items[kept++] = self->items[k];
    self->count = kept;
    return rc;
}

/*  Replaces every value of secrets found in text by "***" (defence in
    depth: an extractor must never echo a secret, this makes sure). */
static void
s_redact (char *text, const json_t *secrets)
{
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)secrets, k, v)
    {
        const char *value = json_string_value (v);
        size_t n = value ? strlen (value) : 0;
        char *hit;
        while (n >= 4 && (hit = strstr (text, value)) != NULL) {
            memcpy (hit, "***", 3);
            memmove (hit + 3, hit + n, strlen (hit + n) + 1);
        }
    }
}

int
orch_tests_answer (orch_tests_t *self, PGconn *conn, json_t *msg, vd_error_t *err)
{
    const char *request = orch_json_str (msg, "request_id");
    int64_t id = 0;
    if (!request || strncmp (request, "test-", 5) != 0 ||
        vd_parse_int (request + 5, 1, INT64_MAX, &id) < 0)
        return 0;
    char ids[24];
    snprintf (ids, sizeof ids, "%" PRId64, id);
    const char *params[] = {ids};
    PGresult *res = vd_db_exec (conn,
                                "SELECT c.name, encode(c.secrets, 'hex') FROM ops.connector_tests "
                                "t JOIN ops.connectors c ON c.name = t.connector WHERE t.id = "
                                "$1::bigint AND t.status = 'running'",
                                1, params, err);
    if (!res)
        return -1;
    json_t *secrets = PQntuples (res) == 1 ? orch_secrets_open (&self->key, PQgetvalue (res, 0, 0),
                                                                PQgetvalue (res, 0, 1), err)
                                           : NULL;
    PQclear (res);
    if (!secrets)
        return 0; /* not running any more (timed out), or secrets gone */
    json_t *result = json_deep_copy (msg);
    const char *routing[] = {"type", "request_id", "instance", "role"};
    for (size_t i = 0; result && i < sizeof routing / sizeof routing[0]; i++)
        json_object_del (result, routing[i]);
    char *text = result ? json_dumps (result, JSON_COMPACT) : NULL;
    json_decref (result);
    result = NULL;
    if (text) {
        s_redact (text, secrets);
        result = json_loads (text, 0, NULL);
    }
    free (text);
    json_decref (secrets);
    if (json_object_get (result, "preview"))
        orch_preview_normalize (self->norm, result);
    bool ok = json_is_true (json_object_get (result, "ok"));
    return s_finish (conn, id, ok ? "ok" : "failed", result, err);
}

int
orch_tests_test (bool verbose)
{
    (void)verbose;
    int failures = 0;
    json_t *secrets = json_pack ("{s:s, s:s}", "api_key", "abcd-1234", "pin", "12");
    char text[] = "{\"summary\":\"key abcd-1234 refused; abcd-1234\",\"pin\":\"12\"}";
    s_redact (text, secrets);
    failures += strcmp (text, "{\"summary\":\"key *** refused; ***\",\"pin\":\"12\"}") != 0;
    json_decref (secrets);
    orch_tests_t *tests = orch_tests_new (NULL, NULL, NULL, "20", "Europe/Paris");
    failures += !tests || s_find (tests, 7, 100) != s_find (tests, 7, 200) ||
                s_find (tests, 7, 300)->since_ms != 100;
    orch_tests_destroy (&tests);
    orch_tests_destroy (&tests);
    return failures;
}
