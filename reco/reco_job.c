/*  reco_job - one recommendation run, from the model to its rows. */
#include "reco_job.h"
#include "load_copy.h"
#include "vd_ctl.h"

#define COPY_CHUNK (1 << 20) /* bytes sent to COPY at a time */
#define TICK_MS 200

static const char s_copy_sql[] =
    "COPY reco.recommendations (customer_key, rank, product_key, score, reasons, win_back,"
    " campaign_ok, campaign_block, run_id, model_version) FROM STDIN";

/*  Every pair of this run is remembered with when it was first proposed. */
static const char s_issue_sql[] =
    "INSERT INTO reco.issued (customer_key, product_key, first_at, last_at, top_signal, signals,"
    "  run_id)"
    " SELECT customer_key, product_key, now(), now(), coalesce(reasons->0->>'signal', 'none'),"
    "  ARRAY(SELECT DISTINCT r->>'signal' FROM jsonb_array_elements(reasons) r ORDER BY 1), run_id"
    " FROM reco.recommendations WHERE run_id = $1"
    " ON CONFLICT (customer_key, product_key) DO UPDATE SET last_at = now(),"
    "  top_signal = EXCLUDED.top_signal, signals = EXCLUDED.signals, run_id = EXCLUDED.run_id";

/*  What followed a recommendation within $1 days, first a click then a
    purchase; each is written to contact_history too (one row per pair
    and response, so a re-run does not duplicate it). */
#define FOLLOWED_INSERT                                                                            \
    " INSERT INTO canonical.contact_history (contact_key, source, source_id, customer_key,"        \
    "  email, date_contact, channel, campaign, subject, status, product_key_suggested,"            \
    "  response, response_details)"                                                                \
    " SELECT k, 'vendange', k, f.customer_key, c.email, f.followed_at,"                            \
    "  CASE f.followed WHEN 'click' THEN 'email' ELSE 'direct' END, 'vendange-reco',"              \
    "  'recommendation', 'recommended', f.product_key, f.followed, f.followed_detail"              \
    " FROM f LEFT JOIN canonical.customers c USING (customer_key),"                                \
    "  LATERAL (SELECT 'vendange:' || f.customer_key || ':' || f.product_key || ':'"               \
    "   || f.followed AS k) key"                                                                   \
    " ON CONFLICT (contact_key) DO UPDATE SET date_contact = EXCLUDED.date_contact,"               \
    "  response_details = EXCLUDED.response_details, synced_at = now()"

static const char s_clicks_sql[] =
    "WITH s AS (SELECT DISTINCT ON (i.customer_key, i.product_key) i.customer_key,"
    "  i.product_key, ch.date_contact, ch.campaign"
    "  FROM reco.issued i JOIN canonical.contact_history ch ON ch.customer_key = i.customer_key"
    "   AND ch.status = 'click' AND ch.source <> 'vendange' AND ch.date_contact > i.first_at"
    "   AND ch.date_contact <= i.first_at + make_interval(days => $1::int)"
    "   AND (ch.product_key_suggested = i.product_key OR EXISTS (SELECT 1 FROM reco.exports e"
    "    WHERE e.campaign = ch.campaign AND e.customer_key = i.customer_key"
    "      AND e.product_key = i.product_key))"
    "  WHERE i.followed IS NULL ORDER BY i.customer_key, i.product_key, ch.date_contact),"
    " f AS (UPDATE reco.issued i SET followed = 'click', followed_at = s.date_contact,"
    "  followed_detail = 'campaign ' || coalesce(s.campaign, '')"
    "  FROM s WHERE i.customer_key = s.customer_key AND i.product_key = s.product_key"
    "  RETURNING i.*)" FOLLOWED_INSERT;

static const char s_purchases_sql[] =
    "WITH s AS (SELECT DISTINCT ON (i.customer_key, i.product_key) i.customer_key,"
    "  i.product_key, sl.date_sale, sl.order_id"
    "  FROM reco.issued i JOIN canonical.sales_lines sl ON sl.customer_key = i.customer_key"
    "   AND sl.product_key = i.product_key AND sl.quantity_units > 0"
    "   AND sl.date_sale > i.first_at::date"
    "   AND sl.date_sale <= (i.first_at + make_interval(days => $1::int))::date"
    "  WHERE i.followed IS NULL ORDER BY i.customer_key, i.product_key, sl.date_sale),"
    " f AS (UPDATE reco.issued i SET followed = 'purchase', followed_at = s.date_sale,"
    "  followed_detail = 'order ' || coalesce(s.order_id, '')"
    "  FROM s WHERE i.customer_key = s.customer_key AND i.product_key = s.product_key"
    "  RETURNING i.*)" FOLLOWED_INSERT;

static const char *const s_versions[] = {
    [RECO_MODEL_VENDANGE] = RECO_MODEL_VERSION,
    [RECO_MODEL_POPULARITY] = "popularity-1",
    [RECO_MODEL_RANDOM] = "random-1",
};

int
reco_job_day (const char *text, int *day)
{
    int y, m, d;
    char end;
    if (!text || sscanf (text, "%4d-%2d-%2d%c", &y, &m, &d, &end) != 3 || m < 1 || m > 12 ||
        d < 1 || d > 31 || y < 1900 || y > 9999)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm (&tm);
    if (t == (time_t)-1 || tm.tm_mday != d)
        return -1; /* 2026-02-30 */
    *day = (int)(t / 86400);
    return 0;
}

typedef struct {
    const reco_job_t *job;
    int64_t last_tick;
} s_ticker_t;

static bool
s_stop (s_ticker_t *t)
{
    int64_t now = vd_clock_ms ();
    if (now - t->last_tick < TICK_MS || !t->job->tick)
        return false;
    t->last_tick = now;
    return t->job->tick (t->job->arg);
}

/*  One customer's rows, COPY text. */
static int
s_rows (const reco_model_t *model, int customer, const reco_item_t *items, int n,
        const char *run_id, const char *version, vd_buf_t *out, vd_buf_t *reasons)
{
    const char *key = reco_model_customer_key (model, customer);
    const char *block = reco_model_campaign_block (model, customer);
    bool win_back = reco_model_win_back (model, customer);
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        vd_buf_reset (reasons);
        const char *product = reco_model_product_key (model, items[i].product);
        if (reco_model_reasons_json (model, &items[i], reasons) < 0)
            return -1;
        rc = load_copy_text (out, key, strlen (key));
        if (rc == 0)
            rc = vd_buf_printf (out, "\t%d\t", i + 1);
        if (rc == 0)
            rc = load_copy_text (out, product, strlen (product));
        if (rc == 0)
            rc = vd_buf_printf (out, "\t%.6f\t", items[i].score);
        if (rc == 0)
            rc = load_copy_text (out, reasons->data, reasons->len);
        if (rc == 0)
            rc = vd_buf_printf (out, "\t%s\t%s\t%s\t%s\t%s\n", win_back ? "t" : "f",
                                block ? "f" : "t", block ? block : "\\N", run_id, version);
    }
    return rc;
}

static int
s_put (PGconn *conn, vd_buf_t *out, vd_error_t *err)
{
    if (out->len && PQputCopyData (conn, out->data, (int)out->len) != 1)
        return vd_db_error (conn, NULL, "cannot write recommendations", err);
    vd_buf_reset (out);
    return 0;
}

/*  Ends the COPY (aborting it when failed) and drains its results. */
static int
s_copy_end (PGconn *conn, bool failed, vd_error_t *err)
{
    int rc = failed ? -1 : 0;
    if (PQputCopyEnd (conn, failed ? "recommendation run stopped" : NULL) != 1 && rc == 0)
        rc = vd_db_error (conn, NULL, "cannot write recommendations", err);
    PGresult *res;
    while ((res = PQgetResult (conn))) {
        if (PQresultStatus (res) != PGRES_COMMAND_OK && rc == 0)
            rc = vd_db_error (conn, res, "cannot write recommendations", err);
        PQclear (res);
    }
    return rc;
}

/*  Scores the customers and COPYs their rows. */
static int
s_write (PGconn *conn, const reco_model_t *model, const reco_job_t *job, reco_job_result_t *result,
         vd_error_t *err)
{
    int first = 0, last = reco_model_customers (model);
    if (job->customer) {
        first = reco_model_customer_index (model, job->customer);
        if (first < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "unknown customer %s", job->customer);
        last = first + 1;
    }
    PGresult *res = PQexec (conn, s_copy_sql);
    if (PQresultStatus (res) != PGRES_COPY_IN) {
        vd_db_error (conn, res, "cannot write recommendations", err);
        PQclear (res);
        return -1;
    }
    PQclear (res);
    char run_id[32];
    snprintf (run_id, sizeof run_id, "%" PRId64, job->run_id);
    reco_scratch_t *scratch = reco_scratch_new (model);
    reco_item_t *items = calloc (RECO_MAX_TOP, sizeof *items);
    vd_buf_t out, reasons;
    vd_buf_init (&out, 4 * COPY_CHUNK);
    vd_buf_init (&reasons, 64 * 1024);
    s_ticker_t ticker = {job, vd_clock_ms ()};
    int rc = scratch && items ? 0 : vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    for (int c = first; rc == 0 && c < last; c++) {
        int n = reco_model_recommend (model, c, scratch, items);
        if (s_rows (model, c, items, n, run_id, s_versions[job->params.kind], &out, &reasons) < 0)
            rc = vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        else if (out.len >= COPY_CHUNK)
            rc = s_put (conn, &out, err);
        if (rc == 0 && (c & 255) == 0 && s_stop (&ticker))
            rc = vd_error_set (err, VD_ERR_TRANSIENT, "recommendation run stopped");
        result->customers++;
        result->recommendations += n;
    }
    if (rc == 0)
        rc = s_put (conn, &out, err);
    rc = s_copy_end (conn, rc < 0, rc < 0 ? NULL : err) < 0 ? -1 : rc;
    vd_buf_free (&out);
    vd_buf_free (&reasons);
    free (items);
    reco_scratch_destroy (&scratch);
    return rc;
}

static int
s_weights (const reco_model_t *model, vd_buf_t *out)
{
    vd_buf_addc (out, '{');
    for (int s = 0; s < RECO_NSIGNALS; s++)
        vd_buf_printf (out, "%s\"%s\":%.4f", s ? "," : "", reco_signal_name ((reco_signal_t)s),
                       reco_model_weight (model, (reco_signal_t)s));
    return vd_buf_addc (out, '}');
}

static int
s_finish (PGconn *conn, const reco_model_t *model, const reco_job_t *job,
          const reco_job_result_t *result, vd_error_t *err)
{
    char id[32], customers[32], recos[32], follow[16];
    snprintf (id, sizeof id, "%" PRId64, job->run_id);
    snprintf (customers, sizeof customers, "%" PRId64, result->customers);
    snprintf (recos, sizeof recos, "%" PRId64, result->recommendations);
    snprintf (follow, sizeof follow, "%d", job->load.follow_days);
    const char *one[] = {id}, *days[] = {follow};
    if (job->issue && (vd_db_command (conn, s_issue_sql, 1, one, err) < 0 ||
                       vd_db_command (conn, s_clicks_sql, 1, days, err) < 0 ||
                       vd_db_command (conn, s_purchases_sql, 1, days, err) < 0))
        return -1;
    vd_buf_t weights;
    vd_buf_init (&weights, 4096);
    s_weights (model, &weights);
    const char *params[] = {id, customers, recos, s_versions[job->params.kind],
                            vd_buf_str (&weights)};
    int rc = vd_db_command (conn,
                            "UPDATE reco.runs SET status = 'success', finished_at = now(),"
                            " customers = $2, recommendations = $3, model_version = $4,"
                            " weights = $5::jsonb, error = NULL WHERE id = $1",
                            5, params, err);
    vd_buf_free (&weights);
    return rc;
}

int
reco_job_run (PGconn *conn, const reco_job_t *job, reco_job_result_t *result, vd_error_t *err)
{
    memset (result, 0, sizeof *result);
    int64_t started = vd_clock_ms ();
    reco_model_t *model = reco_model_new ();
    if (!model)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    int rc = reco_load (conn, model, &job->load, err);
    if (rc == 0)
        rc = reco_model_prepare (model, &job->params, err);
    if (rc == 0)
        rc = vd_db_command (conn, "BEGIN", 0, NULL, err);
    if (rc == 0) {
        const char *params[] = {job->customer};
        rc = job->customer ? vd_db_command (conn,
                                            "DELETE FROM reco.recommendations"
                                            " WHERE customer_key = $1",
                                            1, params, err)
                           : vd_db_command (conn, "DELETE FROM reco.recommendations", 0, NULL, err);
        if (rc == 0)
            rc = s_write (conn, model, job, result, err);
        if (rc == 0)
            rc = s_finish (conn, model, job, result, err);
        if (rc == 0)
            rc = vd_db_command (conn, "COMMIT", 0, NULL, err);
        if (rc < 0)
            vd_db_command (conn, "ROLLBACK", 0, NULL, NULL);
    }
    reco_model_destroy (&model);
    result->seconds = (vd_clock_ms () - started) / 1000.0;
    return rc;
}

int
reco_job_fail (PGconn *conn, int64_t run_id, const vd_error_t *failure, vd_error_t *err)
{
    char id[32];
    snprintf (id, sizeof id, "%" PRId64, run_id);
    const char *params[] = {id, failure->msg};
    return vd_db_command (conn,
                          "UPDATE reco.runs SET status = 'failed', finished_at = now(), error = $2"
                          " WHERE id = $1 AND status IN ('queued','running')",
                          2, params, err);
}
