/*  orch_alert_rules - the alert rules and what is firing now. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_alert_rules.h"
#include "orch_schedule.h"
#include "vd_httpc.h"
#include <sys/statvfs.h>

typedef json_t *(s_eval_fn)(PGconn *conn, const orch_alert_env_t *env, const char *const *defs,
                            vd_error_t *err);

struct orch_alert_rule {
    const char *name;
    const char *summary;
    orch_alert_param_t params[ORCH_ALERT_MAX_PARAMS];
    const char *sql; /* rows (subject, connector, detail); $1.. the defaults */
    s_eval_fn *eval; /* or this, when the rule needs C                       */
};

/*  A rule query's rows as one JSON array. */
#define S_FIRING(q)                                                                                \
    "SELECT coalesce(json_agg(json_build_object('subject', f.subject, 'connector', f.connector,"   \
    " 'detail', f.detail) ORDER BY f.subject), '[]') FROM (" q ") f (subject, connector, detail)"

/*  The last finished run of connector c.name, as r. */
#define S_LAST_RUN                                                                                 \
    " CROSS JOIN LATERAL (SELECT s.id, s.status, s.errors FROM ops.sync_runs s"                    \
    " WHERE s.connector = c.name AND s.status IN ('success', 'partial', 'failed')"                 \
    " ORDER BY s.id DESC LIMIT 1) r"

/*  Its first error's reason, at most 300 characters. */
#define S_FIRST_ERROR                                                                              \
    "left(coalesce(r.errors -> 0 ->> 'reason', r.errors -> 0 ->> 'error', r.errors ->> 0), 300)"

static const char s_run_failed[] =
    S_FIRING ("SELECT c.name, c.name, 'run ' || r.id || ' ended ' || r.status"
              " || coalesce(': ' || " S_FIRST_ERROR ", '')"
              " FROM ops.connectors c" S_LAST_RUN " WHERE ops.alert_enabled('run_failed', c.name)"
              " AND (r.status = 'failed' OR (r.status = 'partial'"
              " AND ops.alert_setting('run_failed', c.name, 'partial', $1) = 'on'))");

/*  Runs with records, newest first per connector (n = 1 the last). */
static const char s_reject_jump[] = S_FIRING (
    "WITH r AS (SELECT s.id, s.connector, sum(t.rejected)::numeric / sum(t.extracted) AS share,"
    " row_number() OVER (PARTITION BY s.connector ORDER BY s.id DESC) AS n"
    " FROM ops.sync_runs s JOIN ops.run_tables t ON t.run_id = s.id"
    " WHERE s.status IN ('success', 'partial') GROUP BY s.id, s.connector"
    " HAVING sum(t.extracted) > 0)"
    " SELECT l.connector, l.connector, 'run ' || l.id || ' rejected ' || round(100 * l.share, 1)"
    " || ' % of its records; median of the ' || h.runs || ' runs before: '"
    " || round(100 * h.med::numeric, 1) || ' %'"
    " FROM r l JOIN ops.connectors c ON c.name = l.connector"
    " CROSS JOIN LATERAL (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY p.share) AS med,"
    " count(*) AS runs FROM r p WHERE p.connector = l.connector AND p.n BETWEEN 2 AND 11) h"
    " WHERE l.n = 1 AND ops.alert_enabled('reject_jump', l.connector)"
    " AND h.runs >= ops.alert_setting('reject_jump', l.connector, 'min_runs', $3)::numeric"
    " AND 100 * l.share >= ops.alert_setting('reject_jump', l.connector, 'min_percent', "
    "$2)::numeric"
    " AND l.share > ops.alert_setting('reject_jump', l.connector, 'factor', $1)::numeric"
    " * h.med::numeric");

/*  Rows of the previous snapshot: what this one kept or changed, plus
    what it deleted (every line of a full_snapshot export is compared). */
static const char s_snapshot_drop[] = S_FIRING (
    "SELECT c.name || '/' || t.table_name, c.name, 'run ' || r.id || ' removed ' || t.deleted"
    " || ' of ' || (t.extracted - t.rejected - t.inserted + t.deleted) || ' rows of '"
    " || t.table_name || ' (' || round(100.0 * t.deleted"
    " / (t.extracted - t.rejected - t.inserted + t.deleted), 1) || ' %)'"
    " FROM ops.connectors c" S_LAST_RUN " JOIN ops.run_tables t ON t.run_id = r.id"
    " WHERE " VD_SQL_FULL_SNAPSHOT (
        "c") " AND ops.alert_enabled('snapshot_drop', c.name)"
             " AND r.status <> 'failed' AND t.deleted > 0"
             " AND t.extracted - t.rejected - t.inserted + t.deleted > 0"
             " AND 100.0 * t.deleted / (t.extracted - t.rejected - t.inserted + t.deleted)"
             " > ops.alert_setting('snapshot_drop', c.name, 'percent', $1)::numeric");

/*  A service is back when it heartbeats again, or another instance of its
    role started on its host after it went silent (a restart). */
static const char s_service_dead[] =
    S_FIRING ("SELECT s.instance, NULL::text, s.role || ' ' || s.instance"
              " || ' has sent no heartbeat since ' || to_char(s.last_heartbeat AT TIME ZONE 'UTC',"
              " 'YYYY-MM-DD HH24:MI:SS') || ' UTC'"
              " FROM ops.services s WHERE NOT s.alive AND ops.alert_enabled('service_dead', '')"
              " AND s.last_heartbeat < now() - make_interval(secs =>"
              " ops.alert_setting('service_dead', '', 'grace_s', $1)::float8)"
              " AND s.last_heartbeat > now() - make_interval(secs => 3600 *"
              " ops.alert_setting('service_dead', '', 'forget_h', $2)::float8)"
              " AND NOT EXISTS (SELECT 1 FROM ops.services o WHERE o.alive AND o.role = s.role"
              " AND o.host IS NOT DISTINCT FROM s.host AND o.first_seen > s.last_heartbeat)");

static const char s_odoo_key[] = S_FIRING (
    "SELECT c.name, c.name, CASE WHEN r.status = 'failed' AND r.errors::text ~*"
    " '(authenticat|access denied|api key|HTTP 401|HTTP 403)'"
    " THEN 'Odoo refused the API key (run ' || r.id || '): ' || " S_FIRST_ERROR
    " ELSE 'the API key created on ' || (c.settings ->> 'api_key_created')"
    " || ' expires on ' || ((c.settings ->> 'api_key_created')::date"
    " + ops.alert_setting('odoo_key', c.name, 'max_age_days', $1)::int) END"
    " FROM ops.connectors c LEFT JOIN LATERAL (SELECT s.id, s.status, s.errors FROM"
    " ops.sync_runs s WHERE s.connector = c.name AND s.status IN ('success', 'partial', 'failed')"
    " ORDER BY s.id DESC LIMIT 1) r ON true"
    " WHERE c.type = 'odoo' AND ops.alert_enabled('odoo_key', c.name) AND ("
    " (r.status = 'failed' AND r.errors::text ~*"
    " '(authenticat|access denied|api key|HTTP 401|HTTP 403)')"
    " OR (c.settings ->> 'api_key_created' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"
    " AND (c.settings ->> 'api_key_created')::date"
    " + ops.alert_setting('odoo_key', c.name, 'max_age_days', $1)::int"
    " - ops.alert_setting('odoo_key', c.name, 'warn_days', $2)::int <= current_date))");

/*  The export files an iSaVigne run left unread because their columns
    changed (isv_layout): the cursor's "pending_layouts", until accepted
    or until the file shows its accepted columns again. */
#define S_NAMES(key)                                                                               \
    "array_to_string(ARRAY(SELECT jsonb_array_elements_text(p.value -> '" key "')), ', ')"
static const char s_layout_changed[] =
    S_FIRING ("SELECT c.name || '/' || p.key, c.name, 'export file ' || p.key"
              " || ' not loaded, its columns changed: ' || concat_ws('; ', 'missing ' || "
              "nullif(" S_NAMES ("missing") ", ''), 'added ' || nullif(" S_NAMES (
                  "added") ", ''))"
                           " || ' (accept them: vendange connector accept-layout ' || c.name || ' "
                           "' || p.key || ')'"
                           " FROM ops.connectors c CROSS JOIN LATERAL jsonb_each(CASE WHEN c.type "
                           "= 'isavigne'"
                           " AND c.cursor LIKE '{%' AND jsonb_typeof(c.cursor::jsonb -> "
                           "'pending_layouts') = 'object'"
                           " THEN c.cursor::jsonb -> 'pending_layouts' END) p"
                           " WHERE ops.alert_enabled('layout_changed', c.name)");

static s_eval_fn s_silent, s_disk, s_spool;

static const orch_alert_rule_t s_rules[] = {
    {"run_failed",
     "the last finished run of a connector failed (or ended partial)",
     {{"partial", "on", "on: a partial run opens it too; off: only failed runs"}},
     s_run_failed,
     NULL},
    {"connector_silent",
     "a scheduled connector had no successful run for factor x the gap between two "
     "occurrences of its schedule (unscheduled ones are exempt); a webhook connector received "
     "no event for webhook_hours",
     {{"factor", "2", "times the schedule's gap"},
      {"webhook_hours", "48", "hours without a webhook event"}},
     NULL,
     s_silent},
    {"reject_jump",
     "the rejected share of a connector's last run is more than factor x its median over the "
     "10 runs before, and at least min_percent",
     {{"factor", "3", "times the median"},
      {"min_percent", "1", "the share must also reach this percentage"},
      {"min_runs", "3", "runs with records needed before (no history: no alert)"}},
     s_reject_jump,
     NULL},
    {"snapshot_drop",
     "the last run of a full_snapshot connector removed more than percent of a table's rows",
     {{"percent", "20", "share of the previous snapshot's rows removed"}},
     s_snapshot_drop,
     NULL},
    {"service_dead",
     "a service stopped sending heartbeats (a restart of it on its host resolves it)",
     {{"grace_s", "60", "seconds since its last heartbeat"},
      {"forget_h", "24", "a service silent longer is taken as removed"}},
     s_service_dead,
     NULL},
    {"spool_full",
     "the webhook gateway at VENDANGE_WEBHOOK_ADDR reports a spool at or above percent of its "
     "ceiling (VENDANGE_WEBHOOK_SPOOL_MAX_MB), or a spool it cannot write",
     {{"percent", "80", "share of the spool's ceiling"}},
     NULL,
     s_spool},
    {"disk_full",
     "the disk of the state folder (VENDANGE_HOME, the embedded database) is fuller than "
     "percent, or the database is larger than db_max_mb",
     {{"percent", "90", "used share of the disk"},
      {"db_max_mb", "0", "database size limit in MB (0: no limit)"}},
     NULL,
     s_disk},
    {"odoo_key",
     "an Odoo connector's API key is refused, or will expire (api_key_created + max_age_days) "
     "within warn_days",
     {{"max_age_days", "90", "life of an API key"},
      {"warn_days", "14", "days of warning before it expires"}},
     s_odoo_key,
     NULL},
    {"layout_changed",
     "an iSaVigne export file was not loaded because its columns changed; accepting them "
     "(vendange connector accept-layout) or the accepted columns coming back resolves it",
     {{0}},
     s_layout_changed,
     NULL},
};

#define NRULES ((int)(sizeof s_rules / sizeof s_rules[0]))

const orch_alert_rule_t *
orch_alert_rule_at (int i)
{
    return i >= 0 && i < NRULES ? &s_rules[i] : NULL;
}

const orch_alert_rule_t *
orch_alert_rule_find (const char *name)
{
    for (int i = 0; name && i < NRULES; i++)
        if (strcmp (s_rules[i].name, name) == 0)
            return &s_rules[i];
    return NULL;
}

const char *
orch_alert_rule_name (const orch_alert_rule_t *rule)
{
    return rule->name;
}

const char *
orch_alert_rule_summary (const orch_alert_rule_t *rule)
{
    return rule->summary;
}

const orch_alert_param_t *
orch_alert_rule_param (const orch_alert_rule_t *rule, int i)
{
    return i >= 0 && i < ORCH_ALERT_MAX_PARAMS && rule->params[i].key ? &rule->params[i] : NULL;
}

/*  The defaults of rule, in order (pointers into the table). */
static int
s_defaults (const orch_alert_rule_t *rule, const char **defs)
{
    int n = 0;
    while (n < ORCH_ALERT_MAX_PARAMS && rule->params[n].key) {
        defs[n] = rule->params[n].def;
        n++;
    }
    return n;
}

/*  The JSON array the first cell of a one-row result holds. */
static json_t *
s_query (PGconn *conn, const char *sql, int n, const char *const *params, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, sql, n, params, err);
    if (!res)
        return NULL;
    json_t *j = json_loads (PQgetvalue (res, 0, 0), 0, NULL);
    PQclear (res);
    if (!json_is_array (j)) {
        json_decref (j);
        vd_error_set (err, VD_ERR_PERMANENT, "an alert rule gave no JSON array");
    }
    return json_is_array (j) ? j : NULL;
}

static int
s_add (json_t *firing, const char *subject, const char *connector, const char *detail)
{
    return json_array_append_new (firing, json_pack ("{s:s, s:s?, s:s}", "subject", subject,
                                                     "connector", connector, "detail", detail));
}

int64_t
orch_alert_schedule_gap_s (const char *schedule, time_t now)
{
    orch_schedule_t s;
    vd_error_t err;
    vd_error_clear (&err);
    if (!schedule || !*schedule || orch_schedule_parse (schedule, &s, &err) < 0 || s.off)
        return 0;
    if (s.every_s > 0)
        return s.every_s;
    struct tm tm;
    gmtime_r (&now, &tm);
    orch_civil_t at = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min}, a, b;
    if (orch_schedule_next (&s, &at, &a) < 0 || orch_schedule_next (&s, &a, &b) < 0)
        return 0;
    struct tm ta = {.tm_year = a.year - 1900,
                    .tm_mon = a.month - 1,
                    .tm_mday = a.day,
                    .tm_hour = a.hour,
                    .tm_min = a.minute};
    struct tm tb = {.tm_year = b.year - 1900,
                    .tm_mon = b.month - 1,
                    .tm_mday = b.day,
                    .tm_hour = b.hour,
                    .tm_min = b.minute};
    return (int64_t)(timegm (&tb) - timegm (&ta));
}

/*  connector_silent: scheduled connectors from their last success (or
    their creation), webhook connectors from their last event. */
static json_t *
s_silent (PGconn *conn, const orch_alert_env_t *env, const char *const *defs, vd_error_t *err)
{
    (void)env;
    PGresult *res = vd_db_exec (
        conn,
        "SELECT c.name, c.type, c.schedule, extract(epoch FROM now() - greatest(c.created_at,"
        " (SELECT max(s.finished_at) FROM ops.sync_runs s WHERE s.connector = c.name"
        " AND s.status = 'success')))::bigint,"
        " extract(epoch FROM now() - greatest(c.created_at, (SELECT max(coalesce("
        " s.last_progress_at, s.started_at, s.queued_at)) FROM ops.sync_runs s"
        " WHERE s.connector = c.name AND s.trigger = 'webhook')))::bigint,"
        " ops.alert_setting('connector_silent', c.name, 'factor', $1)::float8,"
        " ops.alert_setting('connector_silent', c.name, 'webhook_hours', $2)::float8"
        " FROM ops.connectors c WHERE ops.alert_enabled('connector_silent', c.name)"
        " ORDER BY c.name",
        2, defs, err);
    if (!res)
        return NULL;
    json_t *firing = json_array ();
    for (int i = 0; firing && i < PQntuples (res); i++) {
        const char *name = PQgetvalue (res, i, 0), *type = PQgetvalue (res, i, 1);
        bool hook = strcmp (type, "brevo") == 0 || strcmp (type, "powerautomate") == 0;
        double factor = strtod (PQgetvalue (res, i, 5), NULL);
        double hours = strtod (PQgetvalue (res, i, 6), NULL);
        int64_t since = 0;
        (void)vd_parse_int (PQgetvalue (res, i, hook ? 4 : 3), INT64_MIN, INT64_MAX, &since);
        int64_t gap = hook ? 0 : orch_alert_schedule_gap_s (PQgetvalue (res, i, 2), time (NULL));
        char detail[300];
        if (hook && since > hours * 3600) {
            snprintf (detail, sizeof detail, "no webhook event for %" PRId64 " h %02" PRId64 " min",
                      since / 3600, since % 3600 / 60);
            s_add (firing, name, name, detail);
        } else if (!hook && gap > 0 && since > factor * (double)gap) {
            snprintf (detail, sizeof detail,
                      "no successful run for %" PRId64 " s (schedule \"%.60s\": every %" PRId64
                      " s)",
                      since, PQgetvalue (res, i, 2), gap);
            s_add (firing, name, name, detail);
        }
    }
    PQclear (res);
    if (!firing)
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    return firing;
}

/*  A setting of rule for every connector (a number) and whether the rule
    is on. Returns 0, -1 with err. */
static int
s_global (PGconn *conn, const char *rule, const char *key, const char *def, double *value,
          bool *enabled, vd_error_t *err)
{
    const char *params[] = {rule, key, def};
    PGresult *res = vd_db_exec (conn,
                                "SELECT ops.alert_setting($1, '', $2, $3)::float8,"
                                " ops.alert_enabled($1, '')",
                                3, params, err);
    if (!res)
        return -1;
    *value = strtod (PQgetvalue (res, 0, 0), NULL);
    *enabled = strcmp (PQgetvalue (res, 0, 1), "t") == 0;
    PQclear (res);
    return 0;
}

/*  disk_full: the state folder's disk, and the database's size. */
static json_t *
s_disk (PGconn *conn, const orch_alert_env_t *env, const char *const *defs, vd_error_t *err)
{
    double percent = 0, max_mb = 0, db_mb = 0;
    bool enabled = false;
    if (s_global (conn, "disk_full", "percent", defs[0], &percent, &enabled, err) < 0 ||
        s_global (conn, "disk_full", "db_max_mb", defs[1], &max_mb, &enabled, err) < 0)
        return NULL;
    PGresult *res = vd_db_exec (conn, "SELECT pg_database_size(current_database())", 0, NULL, err);
    if (!res)
        return NULL;
    db_mb = strtod (PQgetvalue (res, 0, 0), NULL) / (1024.0 * 1024.0);
    PQclear (res);
    json_t *firing = json_array ();
    char detail[400];
    struct statvfs st;
    if (firing && enabled && env->home && *env->home && statvfs (env->home, &st) == 0 &&
        st.f_blocks > 0) {
        double used = 100.0 * (double)(st.f_blocks - st.f_bfree) /
                      (double)(st.f_blocks - st.f_bfree + st.f_bavail);
        snprintf (detail, sizeof detail, "the disk of %.200s is %.1f %% full (%.0f MB free)",
                  env->home, used, (double)st.f_bavail * (double)st.f_frsize / (1024.0 * 1024.0));
        if (used > percent)
            s_add (firing, "disk", NULL, detail);
    }
    if (firing && enabled && max_mb > 0 && db_mb > max_mb) {
        snprintf (detail, sizeof detail, "the database takes %.0f MB (limit %.0f MB)", db_mb,
                  max_mb);
        s_add (firing, "database", NULL, detail);
    }
    if (!firing)
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    return firing;
}

/*  spool_full: the gateway's /health (spool_bytes, spool_failing). A
    gateway that does not answer fires nothing here (service_dead says
    it). */
static json_t *
s_spool (PGconn *conn, const orch_alert_env_t *env, const char *const *defs, vd_error_t *err)
{
    double percent = 0;
    bool enabled = false;
    if (s_global (conn, "spool_full", "percent", defs[0], &percent, &enabled, err) < 0)
        return NULL;
    json_t *firing = json_array ();
    char url[300];
    snprintf (url, sizeof url, "http://%s/health", env->webhook_addr ? env->webhook_addr : "");
    vd_error_t ignored;
    vd_error_clear (&ignored);
    char *body = enabled && env->webhook_addr && *env->webhook_addr
                     ? vd_httpc_get (url, 3000, &ignored)
                     : NULL;
    json_t *health = body ? json_loads (body, 0, NULL) : NULL;
    free (body);
    json_t *bytes = json_object_get (health, "spool_bytes");
    double max = (double)env->spool_max_mb * 1024.0 * 1024.0;
    double used =
        json_is_integer (bytes) && max > 0 ? 100.0 * (double)json_integer_value (bytes) / max : 0;
    char detail[300];
    if (firing && json_is_true (json_object_get (health, "spool_failing"))) {
        snprintf (detail, sizeof detail, "the webhook gateway at %.100s cannot write its spool",
                  env->webhook_addr);
        s_add (firing, "spool", NULL, detail);
    } else if (firing && json_is_integer (bytes) && used >= percent) {
        snprintf (detail, sizeof detail,
                  "the webhook spool at %.100s holds %.1f MB, %.1f %% of its %" PRId64 " MB",
                  env->webhook_addr, (double)json_integer_value (bytes) / (1024.0 * 1024.0), used,
                  env->spool_max_mb);
        s_add (firing, "spool", NULL, detail);
    }
    json_decref (health);
    if (!firing)
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    return firing;
}

json_t *
orch_alert_rule_eval (const orch_alert_rule_t *rule, PGconn *conn, const orch_alert_env_t *env,
                      vd_error_t *err)
{
    const char *defs[ORCH_ALERT_MAX_PARAMS];
    int n = s_defaults (rule, defs);
    json_t *firing =
        rule->eval ? rule->eval (conn, env, defs, err) : s_query (conn, rule->sql, n, defs, err);
    if (!firing)
        vd_error_detail (err, "alert rule %s", rule->name);
    return firing;
}

json_t *
orch_alert_rules_json (void)
{
    json_t *out = json_array ();
    for (int i = 0; out && i < NRULES; i++) {
        json_t *params = json_array ();
        for (int k = 0; params && k < ORCH_ALERT_MAX_PARAMS && s_rules[i].params[k].key; k++)
            json_array_append_new (
                params, json_pack ("{s:s, s:s, s:s}", "key", s_rules[i].params[k].key, "default",
                                   s_rules[i].params[k].def, "help", s_rules[i].params[k].help));
        json_array_append_new (out, json_pack ("{s:s, s:s, s:o*}", "rule", s_rules[i].name,
                                               "summary", s_rules[i].summary, "settings", params));
    }
    return out;
}

int
orch_alert_rule_check (const orch_alert_rule_t *rule, const char *key, const char *value,
                       vd_error_t *err)
{
    for (int k = 0; k < ORCH_ALERT_MAX_PARAMS && rule->params[k].key; k++) {
        if (strcmp (rule->params[k].key, key) != 0)
            continue;
        bool onoff = strcmp (rule->params[k].def, "on") == 0;
        char *end = NULL;
        double v = value ? strtod (value, &end) : -1;
        if (onoff ? value && (strcmp (value, "on") == 0 || strcmp (value, "off") == 0)
                  : value && *value && end && *end == '\0' && v >= 0 && v < 1e9)
            return 0;
        vd_error_set (err, VD_ERR_PERMANENT, "invalid value for %s.%s", rule->name, key);
        return vd_error_detail (err, onoff ? "on or off" : "a number, 0 or more");
    }
    vd_error_set (err, VD_ERR_PERMANENT, "rule %s has no setting \"%.64s\"", rule->name, key);
    vd_buf_t hint;
    vd_buf_init (&hint, 200);
    for (int k = 0; k < ORCH_ALERT_MAX_PARAMS && rule->params[k].key; k++)
        vd_buf_printf (&hint, "%s%s", k ? ", " : "settings: ", rule->params[k].key);
    if (err)
        snprintf (err->hint, sizeof err->hint, "%s", vd_buf_str (&hint));
    vd_buf_free (&hint);
    return -1;
}

int
orch_alert_rules_test (bool verbose)
{
    int failed = 0;
    failed += orch_alert_rule_find ("run_failed") != &s_rules[0];
    failed += orch_alert_rule_find ("nope") != NULL || orch_alert_rule_find (NULL) != NULL;
    failed += orch_alert_rule_at (NRULES) != NULL || orch_alert_rule_at (-1) != NULL;
    const orch_alert_rule_t *r = orch_alert_rule_find ("reject_jump");
    failed += !r || strcmp (orch_alert_rule_param (r, 0)->def, "3") != 0;
    failed += orch_alert_rule_param (r, 3) != NULL;
    vd_error_t err;
    vd_error_clear (&err);
    failed += orch_alert_rule_check (r, "factor", "2.5", &err) != 0;
    failed += orch_alert_rule_check (r, "factor", "-1", &err) == 0;
    failed += orch_alert_rule_check (r, "factor", "3x", &err) == 0;
    failed += orch_alert_rule_check (r, "factor", "", &err) == 0;
    failed += orch_alert_rule_check (r, "nope", "1", &err) == 0 || !strstr (err.hint, "min_runs");
    const orch_alert_rule_t *f = orch_alert_rule_find ("run_failed");
    failed += orch_alert_rule_check (f, "partial", "off", &err) != 0;
    failed += orch_alert_rule_check (f, "partial", "1", &err) == 0;
    /* 2024-01-01 00:00 UTC, a Monday */
    time_t t = 1704067200;
    failed += orch_alert_schedule_gap_s ("every 6h", t) != 6 * 3600;
    failed += orch_alert_schedule_gap_s ("daily 02:00", t) != 86400;
    failed += orch_alert_schedule_gap_s ("weekly mon 02:00", t) != 7 * 86400;
    failed += orch_alert_schedule_gap_s ("off", t) != 0;
    failed += orch_alert_schedule_gap_s ("bogus", t) != 0;
    failed += orch_alert_schedule_gap_s (NULL, t) != 0;
    failed += orch_alert_schedule_gap_s ("", t) != 0;
    json_t *all = orch_alert_rules_json ();
    failed += json_array_size (all) != NRULES;
    json_decref (all);
    for (int i = 0; i < NRULES; i++) /* a rule is either SQL or C */
        failed += (s_rules[i].sql == NULL) == (s_rules[i].eval == NULL);
    if (verbose)
        printf ("orch_alert_rules_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
