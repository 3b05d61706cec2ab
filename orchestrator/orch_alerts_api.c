/*  orch_alerts_api - the alert endpoints of the HTTP API. */
#include "vendange.h"
#include "vd_db.h"
#include "vd_outbox.h"
#include "orch_alert_rules.h"
#include "orch_alerts_api.h"
#include "orch_json.h"
#include "orch_runview.h"

/* clang-format off */
#define DELIVERY_JSON(o)                                                                    \
    "json_build_object('id', " o ".id, 'channel', " o ".target, 'event', "                \
    o ".payload ->> 'event', 'status', " o ".status, 'attempts', " o ".attempts, "         \
    "'last_error', " o ".last_error, 'sent_at', " ORCH_SQL_ISO (o ".sent_at") ")"
/* clang-format on */

void
orch_alerts_api_list (PGconn *conn, const orch_request_t *req, orch_answer_t *a)
{
    bool all = req->q_all && strcmp (req->q_all, "true") == 0;
    orch_answer_query (conn,
                       "SELECT json_build_object('alerts', coalesce((SELECT json_agg(x ORDER BY"
                       " x.resolved_at IS NOT NULL, x.id DESC) FROM (SELECT a.id, a.rule, "
                       "a.subject, a.connector,"
                       " a.detail, " ORCH_SQL_ISO ("a.opened_at") " AS opened_at, " ORCH_SQL_ISO (
                           "a.resolved_at") " AS resolved_at, coalesce((SELECT "
                                            "json_agg(" DELIVERY_JSON ("o") " ORDER BY o.id)"
                                                                            " FROM ops.outbox o "
                                                                            "WHERE o.origin = "
                                                                            "'alert' AND "
                                                                            "o.origin_id = a.id), "
                                                                            "'[]') AS deliveries"
                                                                            " FROM ops.alerts a "
                                                                            "WHERE a.resolved_at "
                                                                            "IS NULL OR $1 ORDER "
                                                                            "BY a.id DESC LIMIT "
                                                                            "200) x),"
                                                                            " '[]'), 'open', "
                                                                            "(SELECT count(*) FROM "
                                                                            "ops.alerts WHERE "
                                                                            "resolved_at IS NULL),"
                                                                            " 'channels', (SELECT "
                                                                            "count(*) FROM "
                                                                            "ops.alert_channels))",
                       1, (const char *[]){all ? "true" : "false"}, 200, "no alerts", NULL, a);
}

void
orch_alerts_api_rules (PGconn *conn, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res = vd_db_exec (conn,
                                "SELECT coalesce(json_agg(json_build_object('rule', rule,"
                                " 'connector', nullif(connector, ''), 'enabled', enabled,"
                                " 'settings', settings) ORDER BY rule, connector), '[]')"
                                " FROM ops.alert_rules",
                                0, NULL, &err);
    if (!res) {
        orch_answer_fail (a, &err);
        return;
    }
    json_t *stored = json_loads (PQgetvalue (res, 0, 0), 0, NULL);
    PQclear (res);
    json_t *rules = orch_alert_rules_json ();
    size_t i, k;
    json_t *r, *s;
    json_array_foreach (rules, i, r)
    {
        json_t *over = json_array ();
        json_array_foreach (stored, k, s)
        {
            if (json_equal (json_object_get (s, "rule"), json_object_get (r, "rule")))
                json_array_append (over, s);
        }
        json_object_set_new (r, "overrides", over);
    }
    json_decref (stored);
    orch_answer_json (a, 200, json_pack ("{s:o}", "rules", rules));
}

/*  Checks every setting of a rule update ({key: value or null}). */
static int
s_check_settings (const orch_alert_rule_t *rule, json_t *settings, orch_answer_t *a)
{
    if (settings && !json_is_object (settings)) {
        orch_answer_error (a, 400, "\"settings\" must be an object", NULL, NULL);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach (settings, key, v)
    {
        vd_error_t err;
        vd_error_clear (&err);
        char num[64];
        const char *text = json_string_value (v);
        if (json_is_number (v)) {
            snprintf (num, sizeof num, "%g", json_number_value (v));
            text = num;
            json_object_set_new (settings, key, json_string (num));
        }
        if (!json_is_null (v) && orch_alert_rule_check (rule, key, text, &err) < 0) {
            orch_answer_error (a, 400, err.msg, err.detail[0] ? err.detail : NULL,
                               err.hint[0] ? err.hint : NULL);
            return -1;
        }
    }
    return 0;
}

void
orch_alerts_api_set_rule (PGconn *conn, const orch_request_t *req, orch_answer_t *a)
{
    json_t *body = orch_request_json (req, a);
    if (!body)
        return;
    const orch_alert_rule_t *rule =
        orch_alert_rule_find (json_string_value (json_object_get (body, "rule")));
    json_t *connector = json_object_get (body, "connector");
    json_t *enabled = json_object_get (body, "enabled");
    json_t *settings = json_object_get (body, "settings");
    if (!rule)
        orch_answer_error (a, 400, "unknown alert rule", NULL, "vendange alerts rules");
    else if ((connector && !json_is_string (connector) && !json_is_null (connector)) ||
             (enabled && !json_is_boolean (enabled) && !json_is_null (enabled)))
        orch_answer_error (a, 400, "\"connector\" is a name and \"enabled\" true or false", NULL,
                           NULL);
    else if (s_check_settings (rule, settings, a) == 0) {
        json_t *given = settings ? json_incref (settings) : json_object ();
        char *text = json_dumps (given, JSON_COMPACT);
        json_decref (given);
        const char *c = json_string_value (connector);
        const char *params[] = {
            orch_alert_rule_name (rule), c ? c : "",
            json_is_boolean (enabled) ? (json_is_true (enabled) ? "t" : "f") : NULL, text};
        /* null values remove a setting; enabled absent keeps what was set */
        orch_answer_query (conn,
                           "INSERT INTO ops.alert_rules AS r (rule, connector, enabled, settings)"
                           " VALUES ($1, $2, $3::boolean, jsonb_strip_nulls($4::jsonb))"
                           " ON CONFLICT (rule, connector) DO UPDATE SET"
                           " enabled = coalesce($3::boolean, r.enabled), settings ="
                           " jsonb_strip_nulls(r.settings || $4::jsonb), updated_at = now()"
                           " RETURNING json_build_object('rule', rule, 'connector',"
                           " nullif(connector, ''), 'enabled', enabled, 'settings', settings)",
                           4, params, 200, "rule not stored", NULL, a);
        free (text);
    }
    json_decref (body);
}

void
orch_alerts_api_test (PGconn *conn, const orch_request_t *req, orch_answer_t *a)
{
    json_t *body = orch_request_json (req, a);
    if (!body)
        return;
    const char *only = json_string_value (json_object_get (body, "channel"));
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res = vd_db_exec (conn,
                                "SELECT name, gen_random_uuid()::text FROM ops.alert_channels"
                                " WHERE $1::text IS NULL OR name = $1 ORDER BY name",
                                1, (const char *[]){only}, &err);
    json_t *ids = json_array ();
    for (int i = 0; res && i < PQntuples (res); i++) {
        char key[120];
        snprintf (key, sizeof key, "test:%s", PQgetvalue (res, i, 1));
        json_t *payload = json_pack ("{s:s, s:s, s:s}", "kind", "test", "channel",
                                     PQgetvalue (res, i, 0), "idempotency_key", key);
        if (vd_outbox_enqueue (conn, "alert-test", 0, PQgetvalue (res, i, 0), key, payload, &err) <
            0) {
            json_decref (payload);
            break;
        }
        json_decref (payload);
        PGresult *id = vd_db_exec (conn, "SELECT id FROM ops.outbox WHERE idempotency_key = $1", 1,
                                   (const char *[]){key}, &err);
        if (id && PQntuples (id) == 1)
            json_array_append_new (ids, json_pack ("{s:s, s:s}", "channel", PQgetvalue (res, i, 0),
                                                   "delivery", PQgetvalue (id, 0, 0)));
        PQclear (id);
    }
    if (err.msg[0])
        orch_answer_fail (a, &err);
    else if (json_array_size (ids) == 0)
        orch_answer_error (a, 404, only ? "no such channel" : "no channel to test", NULL,
                           "vendange alerts channel add NAME --type smtp|http --set ...");
    else
        orch_answer_json (a, 202, json_pack ("{s:O}", "deliveries", ids));
    json_decref (ids);
    PQclear (res);
    json_decref (body);
}

void
orch_alerts_api_delivery (PGconn *conn, int64_t id, orch_answer_t *a)
{
    char text[24];
    snprintf (text, sizeof text, "%" PRId64, id);
    orch_answer_query (conn, "SELECT " DELIVERY_JSON ("o") " FROM ops.outbox o WHERE o.id = $1", 1,
                       (const char *[]){text}, 200, "no such delivery", NULL, a);
}
