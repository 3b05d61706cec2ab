/*  orch_alerts - alerts opened and resolved once, and their notifications. */
#include "vendange.h"
#include "vd_httpc.h"
#include "vd_smtp.h"
#include "vd_db.h"
#include "vd_outbox.h"
#include "orch_alerts.h"
#include "orch_json.h"
#include "orch_secrets.h"

/*  Opens the new subjects, resolves the gone ones; rows (id, event, the
    notification payload). */
static const char s_apply_sql[] =
    "WITH f AS (SELECT x ->> 'subject' AS subject, x ->> 'connector' AS connector,"
    "  x ->> 'detail' AS detail FROM jsonb_array_elements($2::jsonb) x),"
    " o AS (INSERT INTO ops.alerts (rule, subject, connector, detail)"
    "  SELECT $1, subject, connector, detail FROM f"
    "  ON CONFLICT (rule, subject) WHERE resolved_at IS NULL DO NOTHING RETURNING *),"
    " r AS (UPDATE ops.alerts a SET resolved_at = now() WHERE a.rule = $1"
    "  AND a.resolved_at IS NULL AND a.subject NOT IN (SELECT subject FROM f) RETURNING *)"
    " SELECT id, e.event, jsonb_build_object('kind', 'alert', 'event', e.event, 'id', id,"
    "  'rule', rule, 'subject', subject, 'connector', connector, 'detail', detail,"
    "  'opened_at', opened_at, 'resolved_at', resolved_at)::text"
    " FROM (SELECT o.*, 'opened' AS event FROM o UNION ALL"
    "  SELECT r.*, 'resolved' FROM r) e ORDER BY id";

void
orch_alerts_channel_context (const char *name, char *out, size_t size)
{
    snprintf (out, size, "alert-channel:%s", name);
}

/*  One outbox row per channel for each change of res. */
static int
s_enqueue (PGconn *conn, const PGresult *res, vd_error_t *err)
{
    PGresult *ch = vd_db_exec (
        conn, "SELECT name FROM ops.alert_channels WHERE NOT settings ? 'digest' ORDER BY name", 0,
        NULL, err);
    if (!ch)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples (res); i++) {
        json_t *payload = json_loads (PQgetvalue (res, i, 2), 0, NULL);
        int64_t id = 0;
        (void)vd_parse_int (PQgetvalue (res, i, 0), 1, INT64_MAX, &id); /* bigserial */
        for (int c = 0; rc == 0 && payload && c < PQntuples (ch); c++) {
            char key[200];
            snprintf (key, sizeof key, "alert:%" PRId64 ":%s:%s", id, PQgetvalue (res, i, 1),
                      PQgetvalue (ch, c, 0));
            json_object_set_new (payload, "idempotency_key", json_string (key));
            rc = vd_outbox_enqueue (conn, "alert", id, PQgetvalue (ch, c, 0), key, payload, err) < 0
                     ? -1
                     : 0;
        }
        if (!payload)
            rc = vd_error_set (err, VD_ERR_PERMANENT, "an alert row gave no JSON");
        json_decref (payload);
    }
    PQclear (ch);
    return rc;
}

int
orch_alerts_apply (PGconn *conn, const char *rule, const json_t *firing, vd_error_t *err)
{
    char *text = json_dumps (firing, JSON_COMPACT);
    if (!text)
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    const char *params[] = {rule, text};
    int changes = -1;
    PGresult *res = NULL;
    if (vd_db_command (conn, "BEGIN", 0, NULL, err) < 0)
        goto err;
    res = vd_db_exec (conn, s_apply_sql, 2, params, err);
    if (!res || s_enqueue (conn, res, err) < 0 ||
        vd_db_command (conn, "COMMIT", 0, NULL, err) < 0) {
        (void)vd_db_command (conn, "ROLLBACK", 0, NULL, NULL); /* the error is already in err */
        goto err;
    }
    changes = PQntuples (res);
    for (int i = 0; i < changes; i++)
        vd_info ("alert %s %s (rule %s)", PQgetvalue (res, i, 0), PQgetvalue (res, i, 1), rule);
err:
    PQclear (res);
    free (text);
    return changes;
}

/*  The digest of each channel set `digest=HH:MM` whose time of day has
    come (local time in tz): one notification per channel and day (its
    idempotency key), listing the alerts open now and those opened or
    resolved in the last 24 hours. */
static const char s_digest_sql[] =
    "SELECT c.name, d.day, jsonb_build_object('kind', 'digest', 'channel', c.name, 'day', d.day,"
    "  'idempotency_key', 'digest:' || c.name || ':' || d.day, 'alerts', coalesce((SELECT"
    "  jsonb_agg(jsonb_build_object('id', a.id, 'rule', a.rule, 'subject', a.subject,"
    "  'detail', a.detail, 'opened_at', a.opened_at, 'resolved_at', a.resolved_at)"
    "  ORDER BY a.id) FROM ops.alerts a WHERE a.resolved_at IS NULL"
    "  OR a.resolved_at > now() - interval '1 day'), '[]'))::text"
    " FROM ops.alert_channels c CROSS JOIN LATERAL (SELECT to_char(now() AT TIME ZONE $1,"
    "  'YYYY-MM-DD') AS day, to_char(now() AT TIME ZONE $1, 'HH24:MI') AS hm) d"
    " WHERE c.settings ? 'digest' AND d.hm >= c.settings ->> 'digest'"
    " AND NOT EXISTS (SELECT 1 FROM ops.outbox o"
    "  WHERE o.idempotency_key = 'digest:' || c.name || ':' || d.day)";

int
orch_alerts_digests (PGconn *conn, const char *tz, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, s_digest_sql, 1, (const char *[]){tz}, err);
    if (!res)
        return -1;
    int n = 0;
    for (int i = 0; n >= 0 && i < PQntuples (res); i++) {
        json_t *payload = json_loads (PQgetvalue (res, i, 2), 0, NULL);
        const char *key = orch_json_str (payload, "idempotency_key");
        int added = payload && key ? vd_outbox_enqueue (conn, "alert-digest", 0,
                                                        PQgetvalue (res, i, 0), key, payload, err)
                                   : vd_error_set (err, VD_ERR_PERMANENT, "a digest gave no JSON");
        n = added < 0 ? -1 : n + added;
        json_decref (payload);
    }
    PQclear (res);
    return n;
}

int64_t
orch_alerts_purge (PGconn *conn, int64_t days, vd_error_t *err)
{
    int64_t sent = vd_outbox_purge (conn, days, err);
    if (sent < 0 || days <= 0)
        return sent;
    char text[24];
    snprintf (text, sizeof text, "%" PRId64, days);
    PGresult *res = vd_db_exec (conn,
                                "DELETE FROM ops.alerts WHERE resolved_at < now()"
                                " - make_interval(days => $1::int)",
                                1, (const char *[]){text}, err);
    if (!res)
        return -1;
    int64_t alerts = 0;
    (void)vd_parse_int (PQcmdTuples (res), 0, INT64_MAX, &alerts); /* a DELETE has a count */
    PQclear (res);
    return sent + alerts;
}

int
orch_alerts_evaluate (PGconn *conn, const orch_alert_env_t *env, vd_error_t *err)
{
    int total = 0;
    const orch_alert_rule_t *rule;
    for (int i = 0; (rule = orch_alert_rule_at (i)); i++) {
        vd_error_t one;
        vd_error_clear (&one);
        json_t *firing = orch_alert_rule_eval (rule, conn, env, &one);
        if (!firing) {
            vd_log_error (VD_LOG_WARN, &one);
            if (PQstatus (conn) != CONNECTION_OK) {
                *err = one;
                return -1;
            }
            continue;
        }
        int n = orch_alerts_apply (conn, orch_alert_rule_name (rule), firing, err);
        json_decref (firing);
        if (n < 0)
            return -1;
        total += n;
    }
    return total;
}

/*  A digest: the alerts open and those resolved in its 24 hours. */
static char *
s_digest_text (const json_t *payload, char *subject, size_t size, vd_buf_t *b)
{
    json_t *alerts = json_object_get (payload, "alerts");
    size_t open = 0, i;
    json_t *a;
    json_array_foreach (alerts, i, a) open += json_is_null (json_object_get (a, "resolved_at"));
    snprintf (subject, size, "[vendange] daily digest %s: %zu open alert(s)",
              orch_json_member (payload, "day"), open);
    if (json_array_size (alerts) == 0)
        vd_buf_printf (b, "No alert open, none resolved in the last 24 hours.\n");
    json_array_foreach (alerts, i, a)
    {
        bool is_open = json_is_null (json_object_get (a, "resolved_at"));
        vd_buf_printf (b, "%s %s on %s: %s (opened %s%s%s)\n", is_open ? "OPEN" : "resolved",
                       orch_json_member (a, "rule"), orch_json_member (a, "subject"),
                       orch_json_member (a, "detail"), orch_json_member (a, "opened_at"),
                       is_open ? "" : ", resolved ",
                       is_open ? "" : orch_json_member (a, "resolved_at"));
    }
    return vd_buf_take (b);
}

char *
orch_alerts_text (const json_t *payload, char *subject, size_t size)
{
    const char *kind = orch_json_str (payload, "kind");
    vd_buf_t b;
    vd_buf_init (&b, 16 * 1024);
    if (kind && strcmp (kind, "test") == 0) {
        snprintf (subject, size, "[vendange] test notification");
        vd_buf_printf (&b, "This is a test notification of vendange (channel %s).\n",
                       orch_json_str (payload, "channel") ? orch_json_str (payload, "channel")
                                                          : "?");
        return vd_buf_take (&b);
    }
    if (kind && strcmp (kind, "digest") == 0)
        return s_digest_text (payload, subject, size, &b);
    const char *event = orch_json_str (payload, "event");
    bool opened = event && strcmp (event, "opened") == 0;
    const char *rule = orch_json_str (payload, "rule"), *subj = orch_json_str (payload, "subject");
    snprintf (subject, size, "[vendange] %s %s: %.200s", opened ? "ALERT" : "resolved",
              rule ? rule : "?", subj ? subj : "?");
    vd_buf_printf (&b, "%s alert %s on %s\n\n%s\n\nopened at %s\n", opened ? "Opened" : "Resolved",
                   rule ? rule : "?", subj ? subj : "?",
                   orch_json_str (payload, "detail") ? orch_json_str (payload, "detail") : "",
                   orch_json_str (payload, "opened_at") ? orch_json_str (payload, "opened_at")
                                                        : "?");
    if (!opened && orch_json_str (payload, "resolved_at"))
        vd_buf_printf (&b, "resolved at %s\n", orch_json_str (payload, "resolved_at"));
    return vd_buf_take (&b);
}

/*  The body POSTed to an http channel: Slack and Teams incoming webhooks
    take {"text"}; "json" adds the alert itself. */
static char *
s_http_body (const json_t *payload, const char *format, const char *subject, const char *text)
{
    vd_buf_t t;
    vd_buf_init (&t, 32 * 1024);
    vd_buf_printf (&t, "%s\n%s", subject, text);
    json_t *body = json_pack ("{s:s}", "text", vd_buf_str (&t));
    vd_buf_free (&t);
    if (body && (!format || strcmp (format, "json") == 0))
        json_object_set (body, "alert", (json_t *)payload);
    char *out = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    return out;
}

/*  Sends through channel (type, settings, opened secrets). */
static int
s_send (const char *type, const json_t *settings, const json_t *secrets, const json_t *payload,
        vd_error_t *err)
{
    char subject[400];
    char *text = orch_alerts_text (payload, subject, sizeof subject);
    if (!text)
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    int rc;
    if (strcmp (type, "smtp") == 0) {
        const char *tls = orch_json_str (settings, "starttls");
        vd_smtp_t smtp = {.url = orch_json_str (settings, "url"),
                          .user = orch_json_str (settings, "user"),
                          .password = orch_json_str (secrets, "password"),
                          .from = orch_json_str (settings, "from"),
                          .to = orch_json_str (settings, "to"),
                          .starttls = !tls || strcmp (tls, "off") != 0,
                          .ca_file = orch_json_str (settings, "ca_file"),
                          .timeout_ms = ORCH_ALERTS_SEND_TIMEOUT_MS};
        rc = vd_smtp_send (&smtp, subject, text, err);
    } else {
        char *body = s_http_body (payload, orch_json_str (settings, "format"), subject, text);
        rc = body ? vd_httpc_post_json (orch_json_str (secrets, "url"), body,
                                        orch_json_str (settings, "ca_file"),
                                        ORCH_ALERTS_SEND_TIMEOUT_MS, err)
                  : vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        free (body);
    }
    free (text);
    return rc;
}

int
orch_alerts_deliver (void *arg, int64_t id, const char *target, const json_t *payload,
                     vd_error_t *err)
{
    orch_alerts_sender_t *sender = arg;
    (void)id;
    PGresult *res = vd_db_exec (sender->conn,
                                "SELECT type, settings::text, encode(secrets, 'hex')"
                                " FROM ops.alert_channels WHERE name = $1",
                                1, (const char *[]){target}, err);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return vd_error_set (err, VD_ERR_PERMANENT, "channel %.64s was removed", target);
    }
    char context[120];
    orch_alerts_channel_context (target, context, sizeof context);
    json_t *settings = json_loads (PQgetvalue (res, 0, 1), 0, NULL);
    json_t *secrets = orch_secrets_open (sender->key, context, PQgetvalue (res, 0, 2), err);
    int rc =
        settings && secrets ? s_send (PQgetvalue (res, 0, 0), settings, secrets, payload, err) : -1;
    if (!secrets && err)
        err->kind = VD_ERR_PERMANENT; /* no key or a damaged blob: retrying cannot help */
    json_decref (settings);
    json_decref (secrets);
    PQclear (res);
    return rc;
}

int
orch_alerts_test (bool verbose)
{
    int failed = 0;
    char subject[400];
    json_t *p = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "alert", "event", "opened",
                           "rule", "run_failed", "subject", "isv", "detail", "run 4 ended failed",
                           "opened_at", "2024-01-01T00:00:00Z");
    char *text = orch_alerts_text (p, subject, sizeof subject);
    failed += !text || !strstr (text, "run 4 ended failed") ||
              strcmp (subject, "[vendange] ALERT run_failed: isv") != 0;
    free (text);
    char *body = s_http_body (p, "slack", "s", "t");
    failed += !body || strstr (body, "alert") || !strstr (body, "\"text\"");
    free (body);
    body = s_http_body (p, "json", "s", "t");
    failed += !body || !strstr (body, "\"rule\":\"run_failed\"");
    free (body);
    json_object_set_new (p, "event", json_string ("resolved"));
    text = orch_alerts_text (p, subject, sizeof subject);
    failed += !text || strncmp (subject, "[vendange] resolved", 19) != 0;
    free (text);
    json_decref (p);
    p = json_pack ("{s:s, s:s}", "kind", "test", "channel", "ops");
    text = orch_alerts_text (p, subject, sizeof subject);
    failed += !text || !strstr (text, "channel ops") || !strstr (subject, "test");
    free (text);
    json_decref (p);
    p = json_pack ("{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:n}, {s:s, s:s, s:s, s:s, s:s}]}", "kind",
                   "digest", "day", "2024-01-02", "alerts", "rule", "run_failed", "subject", "isv",
                   "detail", "d1", "opened_at", "x", "resolved_at", "rule", "disk_full", "subject",
                   "disk", "detail", "d2", "opened_at", "y", "resolved_at", "z");
    text = orch_alerts_text (p, subject, sizeof subject);
    failed += !text ||
              strcmp (subject, "[vendange] daily digest 2024-01-02: 1 open alert(s)") != 0 ||
              !strstr (text, "OPEN run_failed on isv: d1") ||
              !strstr (text, "resolved disk_full on disk: d2 (opened y, resolved z)");
    free (text);
    json_decref (p);
    char ctx[120];
    orch_alerts_channel_context ("mail", ctx, sizeof ctx);
    failed += strcmp (ctx, "alert-channel:mail") != 0;
    if (verbose)
        printf ("orch_alerts_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
