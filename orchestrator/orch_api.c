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

/*  Calls the endpoint's handler. */
static void
s_call (orch_api_t *self, PGconn *conn, const orch_route_t *r, const orch_request_t *req,
        orch_answer_t *a)
{
    bool get = strcmp (req->method, "GET") == 0 || strcmp (req->method, "HEAD") == 0;
    switch (r->id) {
    case ORCH_ROUTE_WEB:
    case ORCH_ROUTE_ASSET:
        orch_assets_get (req->path, a);
        break;
    case ORCH_ROUTE_CLASSIC:
        orch_web_page (conn, a);
        break;
    case ORCH_ROUTE_QUALITY:
        orch_quality_get (conn, self->timezone, a);
        break;
    case ORCH_ROUTE_MAPPING:
        orch_mapping_get (conn, self->files_root, req, a);
        break;
    case ORCH_ROUTE_QUALITY_CSV:
        orch_quality_csv (conn, a);
        break;
    case ORCH_ROUTE_QUALITY_PDF:
        orch_quality_pdf_get (conn, self->timezone, a);
        break;
    case ORCH_ROUTE_HEALTH:
        orch_status_health (conn, req->authenticated, a);
        break;
    case ORCH_ROUTE_STATUS:
        orch_status_get (conn, req, a);
        break;
    case ORCH_ROUTE_CONNECTORS:
        if (get)
            orch_connectors_list (conn, a);
        else
            orch_connectors_create (conn, &self->key, self->files_root, req, a);
        break;
    case ORCH_ROUTE_CONNECTOR:
        if (get)
            orch_connectors_get (conn, r->name, a);
        else if (strcmp (req->method, "PATCH") == 0)
            orch_connectors_update (conn, &self->key, self->files_root, r->name, req, a);
        else
            orch_connectors_delete (conn, r->name, req, a);
        break;
    case ORCH_ROUTE_CONNECTOR_TEST:
        orch_connectors_test (conn, r->name, req, a);
        break;
    case ORCH_ROUTE_CONNECTOR_ACCEPT_LAYOUT:
        orch_layouts_accept (conn, r->name, req, a);
        break;
    case ORCH_ROUTE_TEST:
        orch_connectors_test_get (conn, r->run_id, a);
        break;
    case ORCH_ROUTE_METRICS:
        orch_metrics_get (conn, a);
        break;
    case ORCH_ROUTE_FORGET:
        orch_lifecycle_forget (conn, req, a);
        break;
    case ORCH_ROUTE_CONNECTOR_SYNC:
        orch_connectors_sync (conn, r->name, req, a);
        break;
    case ORCH_ROUTE_RUNS:
        orch_history_list (conn, req, a);
        break;
    case ORCH_ROUTE_RUN:
        orch_history_get (conn, r->run_id, a);
        break;
    case ORCH_ROUTE_RUN_REJECTS:
        orch_history_rejects (conn, r->run_id, req, a);
        break;
    case ORCH_ROUTE_WARNING_LINES:
        orch_warnings_lines (conn, r->run_id, req, a);
        break;
    case ORCH_ROUTE_CUSTOMERS:
        orch_customers_search (conn, req, a);
        break;
    case ORCH_ROUTE_CUSTOMER:
        orch_customers_get (conn, r->key, req, a);
        break;
    case ORCH_ROUTE_CUSTOMER_RECO:
        if (get)
            orch_reco_get (conn, r->key, a);
        else
            orch_reco_queue_customer (conn, r->key, a);
        break;
    case ORCH_ROUTE_RECO_FEEDBACK:
        orch_reco_feedback (conn, r->key, r->product, req, a);
        break;
    case ORCH_ROUTE_RECO_RUNS:
        orch_reco_runs (conn, req, a);
        break;
    case ORCH_ROUTE_RECO_RUN:
        orch_reco_run (conn, r->run_id, a);
        break;
    case ORCH_ROUTE_RECO_QUEUE:
        orch_reco_queue_all (conn, a);
        break;
    case ORCH_ROUTE_RECO_PRECISION:
        orch_reco_precision (conn, self->reco_follow_days, a);
        break;
    case ORCH_ROUTE_RECO_CSV:
        orch_reco_export (self->dsn, req, a);
        break;
    case ORCH_ROUTE_ALERTS:
        orch_alerts_api_list (conn, req, a);
        break;
    case ORCH_ROUTE_ALERT_RULES:
        if (get)
            orch_alerts_api_rules (conn, a);
        else
            orch_alerts_api_set_rule (conn, req, a);
        break;
    case ORCH_ROUTE_ALERT_CHANNELS:
        if (get)
            orch_alert_channels_list (conn, a);
        else
            orch_alert_channels_create (conn, &self->key, req, a);
        break;
    case ORCH_ROUTE_ALERT_CHANNEL:
        orch_alert_channels_delete (conn, r->name, a);
        break;
    case ORCH_ROUTE_ALERT_TEST:
        orch_alerts_api_test (conn, req, a);
        break;
    case ORCH_ROUTE_ALERT_DELIVERY:
        orch_alerts_api_delivery (conn, r->run_id, a);
        break;
    case ORCH_ROUTE_NONE:
        orch_answer_error (a, 404, "no such endpoint", NULL, NULL);
        break;
    }
}

/*  Route checks that need no database. Returns 0 when the request goes
    on to its handler. */
static int
s_route (const orch_request_t *req, orch_route_t *r, orch_answer_t *a)
{
    if (orch_route_match (req->method, req->path, r) < 0) {
        char detail[300];
        snprintf (detail, sizeof detail, "%.16s %.256s", req->method ? req->method : "?",
                  req->path ? req->path : "?");
        orch_answer_error (a, 404, "no such endpoint", detail,
                           "endpoints: /health, /api/status, /api/connectors, /api/runs, "
                           "/api/customers, /api/reco/runs, /api/alerts");
        return -1;
    }
    if (!r->method_allowed) {
        char msg[64];
        snprintf (msg, sizeof msg, "method %.16s not allowed here", req->method);
        orch_answer_error (a, 405, msg, NULL, NULL);
        a->allow = r->allow;
        return -1;
    }
    return 0;
}

void
orch_api_handle (orch_api_t *self, const orch_request_t *req, orch_answer_t *a)
{
    memset (a, 0, sizeof *a);
    orch_route_t r;
    if (s_route (req, &r, a) < 0)
        return;
    if (r.id == ORCH_ROUTE_WEB || r.id == ORCH_ROUTE_ASSET) { /* static: no database */
        orch_assets_get (req->path, a);
        return;
    }
    PGconn *conn = s_conn (self, a);
    if (!conn && r.id == ORCH_ROUTE_HEALTH) { /* not ok, and nothing more */
        orch_answer_clear (a);
        orch_status_health (NULL, false, a);
    }
    if (!conn)
        return;
    s_call (self, conn, &r, req, a);
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
    failed += s_route (&req, &r, &a) == 0 || a.status != 405 || !a.allow;
    orch_answer_clear (&a);
    req.method = "GET";
    failed += s_route (&req, &r, &a) != 0;
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
