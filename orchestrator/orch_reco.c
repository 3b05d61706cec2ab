/*  orch_reco - the recommendation endpoints of the HTTP API. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_customers.h"
#include "orch_reco.h"
#include "orch_runview.h"

#define RUNS_DEFAULT 20
#define RUNS_MAX 500

/*  $1 the customer key. NULL when neither the customer nor
    recommendations for it exist. */
/* clang-format off */
static const char s_reco_sql[] =
    "WITH r AS (SELECT r.*, p.name AS product_name, i.verdict, "
    "  " ORCH_SQL_ISO ("i.verdict_at") " AS verdict_at_iso"
    "  FROM reco.recommendations r"
    "  LEFT JOIN canonical.product_catalog p ON p.product_key = r.product_key"
    "  LEFT JOIN reco.issued i ON i.customer_key = r.customer_key"
    "   AND i.product_key = r.product_key WHERE r.customer_key = $1),"
    " c AS (SELECT " ORCH_SQL_CAMPAIGN_BLOCK " AS block FROM canonical.customers c"
    "  WHERE c.customer_key = $1)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM c) OR EXISTS (SELECT 1 FROM r) THEN"
    " json_build_object('customer_key', $1::text,"
    "  'run_id', (SELECT max(run_id) FROM r),"
    "  'model_version', (SELECT min(model_version) FROM r),"
    "  'computed_at', (SELECT " ORCH_SQL_ISO ("max(created_at)") " FROM r),"
    "  'campaign_ok', coalesce((SELECT block IS NULL FROM c),"
    "   (SELECT bool_and(campaign_ok) FROM r)),"
    "  'campaign_block', CASE WHEN EXISTS (SELECT 1 FROM c) THEN (SELECT block FROM c)"
    "   ELSE (SELECT min(campaign_block) FROM r) END,"
    "  'win_back', coalesce((SELECT bool_or(win_back) FROM r), false),"
    "  'queued_run_id', (SELECT max(id) FROM reco.runs q WHERE q.status IN ('queued', 'running')"
    "   AND (q.scope = 'all' OR q.customer_key = $1)),"
    "  'recommendations', (SELECT coalesce(json_agg(json_build_object('rank', rank,"
    "   'product_key', product_key, 'product_name', product_name, 'score', score,"
    "   'reasons', reasons, 'verdict', verdict, 'verdict_at', verdict_at_iso)"
    "   ORDER BY rank), '[]') FROM r))::text END";
/* clang-format on */

void
orch_reco_get (PGconn *conn, const char *key, orch_answer_t *a)
{
    char msg[256];
    snprintf (msg, sizeof msg, "no customer \"%.200s\"", key);
    orch_answer_query (conn, s_reco_sql, 1, (const char *[]){key}, 200, msg,
                       "GET /api/customers?q=TEXT searches by key, email or name", a);
}

/*  key NULL: a job over every customer. */
int
orch_reco_queue (PGconn *conn, const char *key, const char *trigger, int64_t *id, vd_error_t *err)
{
    const char *params[] = {key, trigger};
    PGresult *res = vd_db_exec (conn,
                                "WITH n AS (INSERT INTO reco.runs (scope, customer_key, trigger) "
                                "VALUES (CASE WHEN $1::text IS NULL THEN 'all' ELSE 'customer' "
                                "END, $1, $2) ON CONFLICT DO NOTHING RETURNING id) "
                                "SELECT id, 1 FROM n UNION ALL SELECT id, 0 FROM reco.runs "
                                "WHERE status = 'queued' AND scope = CASE WHEN $1::text IS "
                                "NULL THEN 'all' ELSE 'customer' END AND customer_key IS NOT "
                                "DISTINCT FROM $1 ORDER BY 2 DESC LIMIT 1",
                                2, params, err);
    if (!res)
        return -1;
    int rc = 0;
    *id = 0;
    if (PQntuples (res) == 1) {
        vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, id);
        rc = strcmp (PQgetvalue (res, 0, 1), "1") == 0;
    } else /* the queued one started between the two statements' snapshots */
        rc = vd_error_set (err, VD_ERR_TRANSIENT, "could not queue a recommendation run");
    PQclear (res);
    return rc;
}

/*  True when customer key exists in canonical.customers; -1 on error. */
static int
s_customer_exists (PGconn *conn, const char *key, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, "SELECT 1 FROM canonical.customers WHERE customer_key = $1",
                                1, (const char *[]){key}, err);
    if (!res)
        return -1;
    int n = PQntuples (res);
    PQclear (res);
    return n > 0;
}

void
orch_reco_queue_customer (PGconn *conn, const char *key, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    int exists = s_customer_exists (conn, key, &err);
    int64_t id = 0;
    int rc = exists > 0 ? orch_reco_queue (conn, key, "manual", &id, &err) : -1;
    if (exists == 0) {
        char msg[256];
        snprintf (msg, sizeof msg, "no customer \"%.200s\"", key);
        orch_answer_error (a, 404, msg, NULL, NULL);
    } else if (rc < 0)
        orch_answer_fail (a, &err);
    else
        orch_answer_json (
            a, 202,
            json_pack ("{s:I, s:b}", "reco_run_id", (json_int_t)id, "already_queued", rc == 0));
}

void
orch_reco_queue_all (PGconn *conn, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    int64_t id = 0;
    int rc = orch_reco_queue (conn, NULL, "manual", &id, &err);
    if (rc < 0)
        orch_answer_fail (a, &err);
    else if (rc == 0) {
        char detail[64];
        snprintf (detail, sizeof detail, "run %" PRId64 " is queued", id);
        orch_answer_json (a, 409,
                          json_pack ("{s:s, s:s, s:I}", "error",
                                     "a recommendation run is already queued", "detail", detail,
                                     "reco_run_id", (json_int_t)id));
    } else
        orch_answer_json (a, 202, json_pack ("{s:I}", "reco_run_id", (json_int_t)id));
}

/* clang-format off */
#define RUN_JSON                                                                                   \
    "json_build_object('id', r.id, 'scope', r.scope, 'customer_key', r.customer_key,"              \
    " 'trigger', r.trigger, 'sync_run_id', r.sync_run_id, 'model', r.model,"                       \
    " 'status', r.status, 'model_version', r.model_version, 'worker', r.worker,"                   \
    " 'queued_at', " ORCH_SQL_ISO ("r.queued_at") ","                                              \
    " 'started_at', " ORCH_SQL_ISO ("r.started_at") ","                                            \
    " 'finished_at', " ORCH_SQL_ISO ("r.finished_at") ","                                          \
    " 'heartbeat_at', " ORCH_SQL_ISO ("r.heartbeat_at") ","                                        \
    " 'duration_s', round(extract(epoch FROM r.finished_at - r.started_at)::numeric, 3),"          \
    " 'customers', r.customers, 'recommendations', r.recommendations,"                             \
    " 'weights', r.weights, 'error', r.error)"
/* clang-format on */

void
orch_reco_runs (PGconn *conn, const orch_request_t *req, orch_answer_t *a)
{
    int64_t limit;
    if (orch_request_int (req->q_limit, "limit", RUNS_DEFAULT, 1, RUNS_MAX, &limit, a) < 0)
        return;
    char lim[24];
    snprintf (lim, sizeof lim, "%" PRId64, limit);
    orch_answer_query (conn,
                       "SELECT coalesce(json_agg(" RUN_JSON " ORDER BY r.id DESC), '[]')::text "
                       "FROM (SELECT * FROM reco.runs ORDER BY id DESC LIMIT $1::int) r",
                       1, (const char *[]){lim}, 200, "no answer", NULL, a);
}

void
orch_reco_run (PGconn *conn, int64_t id, orch_answer_t *a)
{
    char ids[24], msg[64];
    snprintf (ids, sizeof ids, "%" PRId64, id);
    snprintf (msg, sizeof msg, "no recommendation run %" PRId64, id);
    orch_answer_query (conn, "SELECT " RUN_JSON "::text FROM reco.runs r WHERE r.id = $1::bigint",
                       1, (const char *[]){ids}, 200, msg, "GET /api/reco/runs lists them", a);
}

/*  $1 the follow days. */
static const char s_precision_sql[] =
    "WITH i AS (SELECT i.*, (i.first_at <= now() - make_interval(days => $1::int) OR "
    "i.followed IS NOT NULL) AS evaluated FROM reco.issued i), "
    "e AS (SELECT * FROM i WHERE evaluated), "
    "s AS (SELECT x.signal, count(*) AS evaluated, count(e.followed) AS followed FROM e, "
    "LATERAL (SELECT DISTINCT unnest(e.signals) AS signal) x GROUP BY x.signal) "
    "SELECT json_build_object('follow_days', $1::int, "
    "'evaluated', (SELECT count(*) FROM e), "
    "'followed', (SELECT count(followed) FROM e), "
    "'precision', (SELECT round(count(followed)::numeric / nullif(count(*), 0), 4) FROM e), "
    "'pending', (SELECT count(*) FROM i WHERE NOT evaluated), "
    "'by_signal', coalesce((SELECT json_object_agg(signal, json_build_object('evaluated', "
    "evaluated, 'followed', followed, 'precision', round(followed::numeric / evaluated, 4)) "
    "ORDER BY signal) FROM s), '{}'), "
    "'feedback', (SELECT json_build_object('good', count(*) FILTER (WHERE verdict = 'good'), "
    "'bad', count(*) FILTER (WHERE verdict = 'bad')) FROM reco.feedback WHERE source = "
    "'staff'))::text";

void
orch_reco_precision (PGconn *conn, int64_t follow_days, orch_answer_t *a)
{
    char days[24];
    snprintf (days, sizeof days, "%" PRId64, follow_days > 0 ? follow_days : 60);
    orch_answer_query (conn, s_precision_sql, 1, (const char *[]){days}, 200, "no answer", NULL, a);
}
