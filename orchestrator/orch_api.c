/*  orch_api - the HTTP JSON API, independent of the HTTP library. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_api.h"
#include "orch_alert_channels.h"
#include "orch_alerts_api.h"
#include "orch_connectors.h"
#include "orch_customers.h"
#include "orch_history.h"
#include "orch_warnings.h"
#include "orch_layouts.h"
#include "orch_json.h"
#include "orch_lifecycle.h"
#include "orch_metrics.h"
#include "orch_mapping.h"
#include "orch_quality.h"
#include "orch_quality_pdf.h"
#include "orch_reco.h"
#include "orch_assets.h"
#include "orch_route.h"
#include "orch_status.h"
#include "orch_web.h"

struct orch_api {
    char *dsn;
    char *files_root; /* VENDANGE_FILES_ROOT */
    char *timezone;   /* VENDANGE_TIMEZONE   */
    PGconn *conn;     /* the HTTP thread's own connection */
    vd_secret_key_t key;
    int64_t reco_follow_days;
    bool down_logged;
};

orch_api_t *
orch_api_new (const orch_api_config_t *config)
{
    orch_api_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (config->secret_key)
        self->key = *config->secret_key;
    self->reco_follow_days = config->reco_follow_days;
    self->dsn = strdup (config->dsn ? config->dsn : "");
    self->files_root = strdup (config->files_root ? config->files_root : "");
    self->timezone = strdup (config->timezone ? config->timezone : "");
    if (!self->dsn || !self->files_root || !self->timezone) {
        free (self->dsn);
        free (self->files_root);
        free (self->timezone);
        free (self);
        return NULL;
    }
    return self;
}

void
orch_api_destroy (orch_api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    orch_api_t *self = *self_p;
    if (self->conn)
        PQfinish (self->conn);
    free (self->dsn);
    free (self->files_root);
    free (self->timezone);
    vd_secret_key_clear (&self->key);
    free (self);
    *self_p = NULL;
}

void
orch_answer_json (orch_answer_t *a, unsigned status, json_t *json)
{
    a->status = status;
    json_decref (a->json);
    a->json = json ? json : orch_json_error ("out of memory", NULL, NULL);
    if (!json)
        a->status = 500;
}

void
orch_answer_error (orch_answer_t *a, unsigned status, const char *msg, const char *detail,
                   const char *hint)
{
    orch_answer_json (a, status, orch_json_error (msg, detail, hint));
}

void
orch_answer_fail (orch_answer_t *a, const vd_error_t *err)
{
    orch_answer_error (a, 500, err->msg, err->detail, err->hint);
}

void
orch_answer_clear (orch_answer_t *a)
{
    json_decref (a->json);
    free (a->html);
    if (a->stream_free)
        a->stream_free (a->stream_cls);
    memset (a, 0, sizeof *a);
}

json_t *
orch_request_json (const orch_request_t *req, orch_answer_t *a)
{
    if (!req->body || req->body_len == 0)
        return json_object ();
    json_error_t jerr;
    json_t *j = json_loadb (req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        char detail[256];
        snprintf (detail, sizeof detail, "%s (line %d, column %d)", jerr.text, jerr.line,
                  jerr.column);
        orch_answer_error (a, 400, "request body is not valid JSON", detail, NULL);
        return NULL;
    }
    if (!json_is_object (j)) {
        json_decref (j);
        orch_answer_error (a, 400, "request body must be a JSON object", NULL, NULL);
        return NULL;
    }
    return j;
}

int
orch_request_int (const char *arg, const char *name, int64_t def, int64_t min, int64_t max,
                  int64_t *out, orch_answer_t *a)
{
    if (!arg || !*arg) {
        *out = def;
        return 0;
    }
    if (vd_parse_int (arg, min, max, out) == 0)
        return 0;
    char msg[128];
    snprintf (msg, sizeof msg, "%s must be an integer from %" PRId64 " to %" PRId64, name, min,
              max);
    orch_answer_error (a, 400, msg, NULL, NULL);
    return -1;
}

void
orch_answer_query (PGconn *conn, const char *sql, int nparams, const char *const *params,
                   unsigned status, const char *missing, const char *hint, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res = vd_db_exec (conn, sql, nparams, params, &err);
    if (!res) {
        orch_answer_fail (a, &err);
        return;
    }
    if (PQntuples (res) < 1 || PQgetisnull (res, 0, 0))
        orch_answer_error (a, 404, missing, NULL, hint);
    else {
        json_t *j = json_loads (PQgetvalue (res, 0, 0), JSON_DECODE_ANY, NULL);
        if (j)
            orch_answer_json (a, status, j);
        else
            orch_answer_error (a, 500, "internal error: the database gave invalid JSON", NULL,
                               NULL);
    }
    PQclear (res);
}

/*  The HTTP thread's connection, (re)opened when needed; NULL with a 500
    answer when PostgreSQL cannot be reached. */
static PGconn *
s_conn (orch_api_t *self, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK)
        PQreset (self->conn);
    if (!self->conn)
        self->conn = vd_db_connect (self->dsn, "vendange-orchestrator-http", &err);
    else if (PQstatus (self->conn) != CONNECTION_OK)
        vd_error_set (&err, VD_ERR_TRANSIENT, "lost the connection to PostgreSQL");
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK) {
        self->down_logged = false;
        return self->conn;
    }
    if (!self->down_logged)
        vd_log_error (VD_LOG_WARN, &err);
    self->down_logged = true;
    orch_answer_error (a, 500, "database unavailable", err.detail,
                       "check that PostgreSQL is running and DATABASE_URL");
    return NULL;
}

/*  ---- the endpoints, declared once ---------------------------------- */

/*  An endpoint's handler: conn is NULL for one answered without the
    database (NO_DB); r holds what the path's {...} segments matched. */
typedef void (s_handler_fn) (orch_api_t *self, PGconn *conn, const orch_route_t *r,
                             const orch_request_t *req, orch_answer_t *a);

#define HANDLER(name, call)                                                                        \
    static void name (orch_api_t *self, PGconn *conn, const orch_route_t *r,                       \
                      const orch_request_t *req, orch_answer_t *a)                                 \
    {                                                                                              \
        (void)self, (void)conn, (void)r, (void)req;                                                \
        call;                                                                                      \
    }

HANDLER (h_asset, orch_assets_get (req->path, a))
HANDLER (h_classic, orch_web_page (conn, a))
HANDLER (h_health, orch_status_health (conn, req->authenticated, a))
HANDLER (h_status, orch_status_get (conn, req, a))
HANDLER (h_metrics, orch_metrics_get (conn, a))
HANDLER (h_quality, orch_quality_get (conn, self->timezone, a))
HANDLER (h_quality_csv, orch_quality_csv (conn, a))
HANDLER (h_quality_pdf, orch_quality_pdf_get (conn, self->timezone, a))
HANDLER (h_mapping, orch_mapping_get (conn, self->files_root, req, a))
HANDLER (h_connectors, orch_connectors_list (conn, a))
HANDLER (h_connector_add, orch_connectors_create (conn, &self->key, self->files_root, req, a))
HANDLER (h_connector, orch_connectors_get (conn, r->name, a))
HANDLER (h_connector_set,
         orch_connectors_update (conn, &self->key, self->files_root, r->name, req, a))
HANDLER (h_connector_remove, orch_connectors_delete (conn, r->name, req, a))
HANDLER (h_connector_sync, orch_connectors_sync (conn, r->name, req, a))
HANDLER (h_connector_test, orch_connectors_test (conn, r->name, req, a))
HANDLER (h_accept_layout, orch_layouts_accept (conn, r->name, req, a))
HANDLER (h_test, orch_connectors_test_get (conn, r->run_id, a))
HANDLER (h_forget, orch_lifecycle_forget (conn, req, a))
HANDLER (h_runs, orch_history_list (conn, req, a))
HANDLER (h_run, orch_history_get (conn, r->run_id, a))
HANDLER (h_run_rejects, orch_history_rejects (conn, r->run_id, req, a))
HANDLER (h_warning_lines, orch_warnings_lines (conn, r->run_id, req, a))
HANDLER (h_customers, orch_customers_search (conn, req, a))
HANDLER (h_customer, orch_customers_get (conn, r->key, req, a))
HANDLER (h_customer_reco, orch_reco_get (conn, r->key, a))
HANDLER (h_customer_reco_queue, orch_reco_queue_customer (conn, r->key, a))
HANDLER (h_reco_feedback, orch_reco_feedback (conn, r->key, r->product, req, a))
HANDLER (h_reco_runs, orch_reco_runs (conn, req, a))
HANDLER (h_reco_run, orch_reco_run (conn, r->run_id, a))
HANDLER (h_reco_queue, orch_reco_queue_all (conn, a))
HANDLER (h_reco_precision, orch_reco_precision (conn, self->reco_follow_days, a))
HANDLER (h_reco_csv, orch_reco_export (self->dsn, req, a))
HANDLER (h_alerts, orch_alerts_api_list (conn, req, a))
HANDLER (h_alert_rules, orch_alerts_api_rules (conn, a))
HANDLER (h_alert_rule_set, orch_alerts_api_set_rule (conn, req, a))
HANDLER (h_alert_channels, orch_alert_channels_list (conn, a))
HANDLER (h_alert_channel_add, orch_alert_channels_create (conn, &self->key, req, a))
HANDLER (h_alert_channel_remove, orch_alert_channels_delete (conn, r->name, a))
HANDLER (h_alert_test, orch_alerts_api_test (conn, req, a))
HANDLER (h_alert_delivery, orch_alerts_api_delivery (conn, r->run_id, a))

#define NO_DB 0x1  /* answered without the database (the page's files) */
#define HEALTH 0x2 /* answered "not ok" when the database is down      */

/*  Every endpoint: its path template (orch_route), method and handler. */
static const struct {
    const char *path;
    const char *method;
    s_handler_fn *fn;
    unsigned flags;
} s_endpoints[] = {
    {"", "GET", h_asset, NO_DB},
    {"", "HEAD", h_asset, NO_DB},
    {"app.js", "GET", h_asset, NO_DB},
    {"app.js", "HEAD", h_asset, NO_DB},
    {"i18n.js", "GET", h_asset, NO_DB},
    {"i18n.js", "HEAD", h_asset, NO_DB},
    {"alerts.js", "GET", h_asset, NO_DB},
    {"alerts.js", "HEAD", h_asset, NO_DB},
    {"app.css", "GET", h_asset, NO_DB},
    {"app.css", "HEAD", h_asset, NO_DB},
    {"classic", "GET", h_classic, 0},
    {"classic", "HEAD", h_classic, 0},
    {"health", "GET", h_health, HEALTH},
    {"health", "HEAD", h_health, HEALTH},
    {"api/status", "GET", h_status, 0},
    {"status", "GET", h_status, 0},
    {"metrics", "GET", h_metrics, 0},
    {"api/quality", "GET", h_quality, 0},
    {"api/quality/anomalies.csv", "GET", h_quality_csv, 0},
    {"api/quality.pdf", "GET", h_quality_pdf, 0},
    {"api/mapping", "GET", h_mapping, 0},
    {"api/connectors", "GET", h_connectors, 0},
    {"api/connectors", "POST", h_connector_add, 0},
    {"api/connectors/{name}", "GET", h_connector, 0},
    {"api/connectors/{name}", "PATCH", h_connector_set, 0},
    {"api/connectors/{name}", "DELETE", h_connector_remove, 0},
    {"api/connectors/{name}/sync", "POST", h_connector_sync, 0},
    {"api/connectors/{name}/test", "POST", h_connector_test, 0},
    {"api/connectors/{name}/accept-layout", "POST", h_accept_layout, 0},
    {"api/tests/{id}", "GET", h_test, 0},
    {"api/forget", "POST", h_forget, 0},
    {"api/runs", "GET", h_runs, 0},
    {"api/runs/{id}", "GET", h_run, 0},
    {"api/runs/{id}/rejects", "GET", h_run_rejects, 0},
    {"api/warnings/{id}/lines", "GET", h_warning_lines, 0},
    {"api/customers", "GET", h_customers, 0},
    {"api/customers/{key}", "GET", h_customer, 0},
    {"api/customers/{key}/recommendations", "GET", h_customer_reco, 0},
    {"api/customers/{key}/recommendations", "POST", h_customer_reco_queue, 0},
    {"api/customers/{key}/recommendations/{product}/feedback", "POST", h_reco_feedback, 0},
    {"api/reco/runs", "GET", h_reco_runs, 0},
    {"api/reco/runs/{id}", "GET", h_reco_run, 0},
    {"api/reco/run", "POST", h_reco_queue, 0},
    {"api/reco/precision", "GET", h_reco_precision, 0},
    {"api/reco/campaign.csv", "GET", h_reco_csv, 0},
    {"api/alerts", "GET", h_alerts, 0},
    {"api/alerts/rules", "GET", h_alert_rules, 0},
    {"api/alerts/rules", "POST", h_alert_rule_set, 0},
    {"api/alerts/channels", "GET", h_alert_channels, 0},
    {"api/alerts/channels", "POST", h_alert_channel_add, 0},
    {"api/alerts/channels/{name}", "DELETE", h_alert_channel_remove, 0},
    {"api/alerts/test", "POST", h_alert_test, 0},
    {"api/alerts/deliveries/{id}", "GET", h_alert_delivery, 0},
};

#define NENDPOINTS (sizeof s_endpoints / sizeof s_endpoints[0])

/*  The endpoint of req (its index, r filled), or -1 with a 404 answer
    (no such path) or a 405 (the path, not with that method; a->allow
    lists the methods it takes). */
static int
s_route (const orch_request_t *req, orch_route_t *r, orch_answer_t *a)
{
    orch_path_t path;
    size_t allow = 0;
    if (req->method && *req->method && orch_path_split (req->path, &path) == 0)
        for (size_t i = 0; i < NENDPOINTS; i++) {
            if (!orch_route_match (s_endpoints[i].path, &path, r))
                continue;
            if (strcmp (s_endpoints[i].method, req->method) == 0)
                return (int)i;
            int n = snprintf (a->allow + allow, sizeof a->allow - allow, "%s%s", allow ? ", " : "",
                              s_endpoints[i].method);
            allow += n > 0 && (size_t)n < sizeof a->allow - allow ? (size_t)n : 0;
        }
    if (!allow) {
        char detail[300];
        snprintf (detail, sizeof detail, "%.16s %.256s", req->method ? req->method : "?",
                  req->path ? req->path : "?");
        orch_answer_error (a, 404, "no such endpoint", detail,
                           "endpoints: /health, /api/status, /api/connectors, /api/runs, "
                           "/api/customers, /api/reco/runs, /api/alerts");
        return -1;
    }
    char msg[64];
    snprintf (msg, sizeof msg, "method %.16s not allowed here", req->method);
    orch_answer_error (a, 405, msg, NULL, NULL);
    return -1;
}

void
orch_api_handle (orch_api_t *self, const orch_request_t *req, orch_answer_t *a)
{
    memset (a, 0, sizeof *a);
    orch_route_t r;
    int i = s_route (req, &r, a);
    if (i < 0)
        return;
    PGconn *conn = s_endpoints[i].flags & NO_DB ? NULL : s_conn (self, a);
    if (!conn && !(s_endpoints[i].flags & NO_DB)) {
        if (s_endpoints[i].flags & HEALTH) { /* not ok, and nothing more */
            orch_answer_clear (a);
            orch_status_health (NULL, false, a);
        }
        return;
    }
    s_endpoints[i].fn (self, conn, &r, req, a);
    if (!a->json && !a->html && !a->stream)
        orch_answer_error (a, 500, "internal error: no answer", NULL, NULL);
}

int
orch_api_test (bool verbose)
{
    int failed = 0;
    orch_answer_t a;
    memset (&a, 0, sizeof a);
    orch_request_t req = {.method = "GET", .path = "/nope", .body = ""};
    orch_route_t r;
    failed += s_route (&req, &r, &a) == 0 || a.status != 404;
    orch_answer_clear (&a);
    req.method = "PATCH";
    req.path = "/api/connectors";
    failed += s_route (&req, &r, &a) >= 0 || a.status != 405 || strcmp (a.allow, "GET, POST") != 0;
    orch_answer_clear (&a);
    /* a method the path does not take, or a name that is not one */
    static const struct {
        const char *method, *path;
        unsigned status;
    } refused[] = {{"GET", "/api/connectors/isv_main/sync", 405},
                   {"GET", "/api/reco/run", 405},
                   {"GETX", "/health", 405},
                   {"", "/health", 404},
                   {"GET", "/api/connectors/bad name", 404},
                   {"GET", "/api//runs", 404},
                   {"GET", "/nope", 404}};
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        req.method = refused[k].method, req.path = refused[k].path;
        failed += s_route (&req, &r, &a) >= 0 || a.status != refused[k].status;
        orch_answer_clear (&a);
    }
    /* each endpoint with its method, and what its path's {...} matched */
    static const char *const found[][3] = {
        {"GET", "/", ""},
        {"HEAD", "/", ""},
        {"GET", "/health", "health"},
        {"GET", "/api/status/", "api/status"},
        {"POST", "/api/connectors", "api/connectors"},
        {"DELETE", "/api/connectors/isv_main", "api/connectors/{name}"},
        {"POST", "/api/connectors/isv.main-2/sync", "api/connectors/{name}/sync"},
        {"GET", "/api/runs/42/rejects", "api/runs/{id}/rejects"},
        {"POST", "/api/customers/k/recommendations", "api/customers/{key}/recommendations"},
        {"GET", "/app.js", "app.js"},
        {"GET", "/api/reco/campaign.csv", "api/reco/campaign.csv"}};
    for (size_t k = 0; k < sizeof found / sizeof found[0]; k++) {
        req.method = found[k][0], req.path = found[k][1];
        int i = s_route (&req, &r, &a);
        failed += i < 0 || strcmp (s_endpoints[i].path, found[k][2]) != 0 ||
                  strcmp (s_endpoints[i].method, found[k][0]) != 0;
    }
    failed += strcmp (r.name, "") != 0; /* the last one had no {name} */
    req.method = "POST", req.path = "/api/connectors/isv.main-2/sync";
    failed += s_route (&req, &r, &a) < 0 || strcmp (r.name, "isv.main-2") != 0;
    req.method = "GET";
    req.path = "/api/connectors";
    req.body = "{\"a\":1,\"a\":2}";
    req.body_len = strlen (req.body);
    failed += orch_request_json (&req, &a) != NULL || a.status != 400;
    orch_answer_clear (&a);
    req.body = "[1]";
    req.body_len = 3;
    failed += orch_request_json (&req, &a) != NULL || a.status != 400;
    orch_answer_clear (&a);
    req.body = "{\"full\":true}";
    req.body_len = strlen (req.body);
    json_t *j = orch_request_json (&req, &a);
    failed += !json_is_true (json_object_get (j, "full"));
    json_decref (j);
    req.body = "{\"x\":\"\xff\"}";
    req.body_len = strlen (req.body);
    failed += orch_request_json (&req, &a) != NULL || a.status != 400;
    orch_answer_clear (&a);
    int64_t n = 0;
    failed += orch_request_int (NULL, "limit", 20, 1, 500, &n, &a) < 0 || n != 20;
    failed += orch_request_int ("500", "limit", 20, 1, 500, &n, &a) < 0 || n != 500;
    failed += orch_request_int ("501", "limit", 20, 1, 500, &n, &a) == 0 || a.status != 400;
    orch_answer_clear (&a);
    failed += orch_request_int ("1e3", "limit", 20, 1, 500, &n, &a) == 0;
    orch_answer_clear (&a);
    orch_api_t *api = orch_api_new (&(orch_api_config_t){.dsn = "postgresql:///x"});
    failed += api == NULL;
    orch_api_destroy (&api);
    failed += api != NULL;
    if (verbose)
        printf ("orch_api_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
