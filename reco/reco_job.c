/*  reco_job - one recommendation run, from the model to its rows. */
#include "reco_job.h"
#include "vd_copy.h"
#include "reco_score.h"
#include "vd_ctl.h"
#include <pthread.h>

#define COPY_CHUNK (1 << 20) /* bytes sent to COPY at a time */
#define TICK_MS 200

static const char s_copy_sql[] =
    "COPY reco.recommendations (customer_key, rank, product_key, score, reasons, signals, win_back,"
    " campaign_ok, campaign_block, run_id, model_version) FROM STDIN";

/*  Every pair of this run is remembered with when it was first proposed
    (the precision is measured from then, with the signals of then);
    last_at of a pair still proposed is refreshed once a week, so that a
    daily run does not rewrite every row. */
static const char s_issue_sql[] =
    "INSERT INTO reco.issued (customer_key, product_key, first_at, last_at, top_signal, signals,"
    "  run_id)"
    " SELECT customer_key, product_key, now(), now(), coalesce(signals[1], 'none'), signals,"
    "  run_id FROM reco.recommendations WHERE run_id = $1"
    " ON CONFLICT (customer_key, product_key) DO UPDATE SET last_at = now()"
    "  WHERE reco.issued.last_at < now() - interval '7 days'";

/*  What followed a recommendation within $1 days, the first click or
    purchase; the loader writes it to contact_history too (a
    "reco_followed" command, queued in this transaction, load_cmd.h). Only
    the sales and clicks of the last 2 x $1 days are looked at (a sale
    loaded later than that is not counted). */
#define FOLLOWED_QUEUE                                                                             \
    " INSERT INTO ops.loader_commands (kind, args) SELECT 'reco_followed',"                        \
    "  jsonb_build_object('pairs', jsonb_agg(jsonb_build_object('customer', f.customer_key,"       \
    "   'product', f.product_key, 'followed', f.followed, 'at', f.followed_at,"                    \
    "   'detail', f.followed_detail) ORDER BY f.customer_key, f.product_key))"                     \
    " FROM f HAVING count(*) > 0"

static const char s_followed_sql[] =
    "WITH e AS (SELECT i.customer_key, i.product_key, 'click' AS how, ch.date_contact AS at,"
    "  'campaign ' || coalesce(ch.campaign, '') AS detail"
    "  FROM canonical.contact_history ch JOIN reco.issued i ON ch.customer_key = i.customer_key"
    "   AND ch.status = 'click' AND ch.source <> 'vendange' AND ch.date_contact > i.first_at"
    "   AND ch.date_contact <= i.first_at + make_interval(days => $1::int)"
    "   AND (ch.product_key_suggested = i.product_key OR EXISTS (SELECT 1 FROM reco.exports x"
    "    WHERE x.campaign = ch.campaign AND x.customer_key = i.customer_key"
    "      AND x.product_key = i.product_key))"
    "  WHERE i.followed IS NULL"
    "    AND ch.date_contact > now() - make_interval(days => 2 * $1::int)"
    " UNION ALL SELECT i.customer_key, i.product_key, 'purchase', sl.date_sale::timestamptz,"
    "  'order ' || coalesce(sl.order_id, '')"
    "  FROM canonical.sales_lines sl JOIN reco.issued i ON sl.customer_key = i.customer_key"
    "   AND sl.product_key = i.product_key AND sl.quantity_units > 0"
    "   AND sl.date_sale > i.first_at::date"
    "   AND sl.date_sale <= (i.first_at + make_interval(days => $1::int))::date"
    "  WHERE i.followed IS NULL AND sl.date_sale > current_date - 2 * $1::int),"
    " s AS (SELECT DISTINCT ON (customer_key, product_key) * FROM e"
    "  ORDER BY customer_key, product_key, at),"
    " f AS (UPDATE reco.issued i SET followed = s.how, followed_at = s.at,"
    "  followed_detail = s.detail"
    "  FROM s WHERE i.customer_key = s.customer_key AND i.product_key = s.product_key"
    "  RETURNING i.*)" FOLLOWED_QUEUE;

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

/*  The signals of an item, largest part first, as a text[] literal
    after a tab. */
static int
s_signals (const reco_item_t *item, vd_buf_t *out)
{
    unsigned seen = 0;
    int rc = vd_buf_addstr (out, "\t{");
    for (int r = 0; rc == 0 && r < item->nreasons; r++) {
        unsigned bit = 1u << item->reasons[r].signal;
        if (!(seen & bit))
            rc = vd_buf_printf (out, "%s%s", seen ? "," : "",
                                reco_signal_name (item->reasons[r].signal));
        seen |= bit;
    }
    return rc == 0 ? vd_buf_addc (out, '}') : -1;
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
        if (reco_score_reasons_json (model, &items[i], reasons) < 0)
            return -1;
        rc = vd_copy_text (out, key, strlen (key));
        if (rc == 0)
            rc = vd_buf_printf (out, "\t%d\t", i + 1);
        if (rc == 0)
            rc = vd_copy_text (out, product, strlen (product));
        if (rc == 0)
            rc = vd_buf_printf (out, "\t%.6f\t", items[i].score);
        if (rc == 0)
            rc = vd_copy_text (out, reasons->data, reasons->len);
        if (rc == 0)
            rc = s_signals (&items[i], out);
        if (rc == 0)
            rc = vd_buf_printf (out, "\t%s\t%s\t%s\t%s\t%s\n", win_back ? "t" : "f",
                                block ? "f" : "t", block ? block : "\\N", run_id, version);
    }
    return rc;
}

/*  Scoring runs in WORKERS threads, each taking BLOCK customers at a
    time and handing back their rows as COPY text; the calling thread
    sends the blocks to the database as they come (at most QUEUE waiting),
    so scoring and writing overlap. */
#define WORKERS 2
#define BLOCK 512
#define QUEUE 8

typedef struct {
    vd_buf_t rows;
    int64_t customers, recommendations;
    bool failed; /* out of memory */
} s_block_t;

typedef struct {
    const reco_model_t *model;
    const char *run_id, *version;
    int next, last; /* customers still to hand out */
    pthread_mutex_t lock;
    pthread_cond_t ready, space;
    s_block_t *done[QUEUE + WORKERS]; /* each worker may finish one past QUEUE */
    int ndone, working;
    bool stop;
} s_pool_t;

static void *
s_worker (void *arg)
{
    s_pool_t *pool = arg;
    reco_score_t *scratch = reco_score_new (pool->model);
    reco_item_t *items = calloc (RECO_MAX_TOP, sizeof *items);
    vd_buf_t reasons;
    vd_buf_init (&reasons, 64 * 1024);
    for (;;) {
        pthread_mutex_lock (&pool->lock);
        while (!pool->stop && pool->ndone >= QUEUE)
            pthread_cond_wait (&pool->space, &pool->lock);
        int from = pool->next, to = from + BLOCK < pool->last ? from + BLOCK : pool->last;
        bool finished = pool->stop || from >= pool->last;
        pool->next = to;
        pthread_mutex_unlock (&pool->lock);
        if (finished)
            break;
        s_block_t *block = calloc (1, sizeof *block);
        if (block) {
            vd_buf_init (&block->rows, 256 * COPY_CHUNK);
            block->failed = !scratch || !items;
            for (int c = from; !block->failed && c < to; c++) {
                int n = reco_score_recommend (scratch, c, items);
                block->failed = s_rows (pool->model, c, items, n, pool->run_id, pool->version,
                                        &block->rows, &reasons) < 0;
                block->customers++;
                block->recommendations += n;
            }
        }
        pthread_mutex_lock (&pool->lock);
        if (block)
            pool->done[pool->ndone++] = block;
        else
            pool->stop = true; /* the caller sees too few customers */
        pthread_cond_signal (&pool->ready);
        pthread_mutex_unlock (&pool->lock);
    }
    pthread_mutex_lock (&pool->lock);
    pool->working--;
    pthread_cond_signal (&pool->ready);
    pthread_mutex_unlock (&pool->lock);
    vd_buf_free (&reasons);
    free (items);
    reco_score_destroy (&scratch);
    return NULL;
}

/*  The next finished block, NULL when the workers are done; calls the
    job's tick while waiting (a stop request stops the workers). */
static s_block_t *
s_next_block (s_pool_t *pool, s_ticker_t *ticker, int *rc, vd_error_t *err)
{
    pthread_mutex_lock (&pool->lock);
    while (pool->ndone == 0 && pool->working > 0) {
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait (&pool->ready, &pool->lock, &until);
        pthread_mutex_unlock (&pool->lock);
        bool stop = *rc == 0 && s_stop (ticker);
        if (stop)
            *rc = vd_error_set (err, VD_ERR_TRANSIENT, "recommendation run stopped");
        pthread_mutex_lock (&pool->lock);
        pool->stop = pool->stop || stop;
        if (pool->stop)
            pthread_cond_broadcast (&pool->space);
    }
    s_block_t *block = pool->ndone ? pool->done[--pool->ndone] : NULL;
    pthread_cond_signal (&pool->space);
    pthread_mutex_unlock (&pool->lock);
    return block;
}

static void
s_stop_pool (s_pool_t *pool)
{
    pthread_mutex_lock (&pool->lock);
    pool->stop = true;
    pthread_cond_broadcast (&pool->space);
    pthread_mutex_unlock (&pool->lock);
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
    if (vd_copy_begin (conn, s_copy_sql, err) < 0)
        return -1;
    char run_id[32];
    snprintf (run_id, sizeof run_id, "%" PRId64, job->run_id);
    s_pool_t pool = {.model = model,
                     .run_id = run_id,
                     .version = s_versions[job->params.kind],
                     .next = first,
                     .last = last};
    pthread_mutex_init (&pool.lock, NULL);
    pthread_cond_init (&pool.ready, NULL);
    pthread_cond_init (&pool.space, NULL);
    pthread_t threads[WORKERS];
    int started = 0;
    for (int i = 0; i < WORKERS; i++) {
        pool.working++;
        if (pthread_create (&threads[started], NULL, s_worker, &pool) == 0)
            started++;
        else
            pool.working--;
    }
    int rc = started ? 0 : vd_error_set (err, VD_ERR_PERMANENT, "cannot start scoring threads");
    s_ticker_t ticker = {job, vd_clock_ms ()};
    int64_t sending = 0;
    s_block_t *block;
    while ((block = s_next_block (&pool, &ticker, &rc, err))) {
        if (rc == 0 && block->failed)
            rc = vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        if (rc == 0 && s_stop (&ticker)) /* blocks may always be ready */
            rc = vd_error_set (err, VD_ERR_TRANSIENT, "recommendation run stopped");
        int64_t t = vd_clock_ms ();
        if (rc == 0)
            rc = vd_copy_send (conn, block->rows.data, block->rows.len) < 0
                     ? vd_db_error (conn, NULL, "cannot write recommendations", err)
                     : 0;
        sending += vd_clock_ms () - t;
        result->customers += block->customers;
        result->recommendations += block->recommendations;
        if (rc < 0)
            s_stop_pool (&pool);
        vd_buf_free (&block->rows);
        free (block);
    }
    for (int i = 0; i < started; i++)
        pthread_join (threads[i], NULL);
    pthread_cond_destroy (&pool.ready);
    pthread_cond_destroy (&pool.space);
    pthread_mutex_destroy (&pool.lock);
    if (rc == 0 && result->customers != last - first)
        rc = vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    int64_t t = vd_clock_ms ();
    rc = vd_copy_end (conn, rc == 0, rc < 0 ? NULL : err) < 0 ? -1 : rc;
    vd_debug ("recommendations: %.1f s waiting for the database",
              (sending + vd_clock_ms () - t) / 1000.0);
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
    /* a person forgotten since the model was read is not written back */
    if (vd_db_command (conn, "SELECT pg_advisory_xact_lock_shared(" VD_DB_FORGET_LOCK ")", 0, NULL,
                       err) < 0 ||
        vd_db_command (conn,
                       "DELETE FROM reco.recommendations r WHERE run_id = $1 AND NOT EXISTS"
                       " (SELECT 1 FROM canonical.customers c"
                       "  WHERE c.customer_key = r.customer_key)",
                       1, one, err) < 0)
        return -1;
    int64_t t0 = vd_clock_ms ();
    if (job->issue && vd_db_command (conn, s_issue_sql, 1, one, err) < 0)
        return -1;
    int64_t t1 = vd_clock_ms ();
    if (job->issue && vd_db_command (conn, s_followed_sql, 1, days, err) < 0)
        return -1;
    if (job->issue)
        vd_info ("pairs proposed recorded in %.1f s, what followed them in %.1f s",
                 (t1 - t0) / 1000.0, (vd_clock_ms () - t1) / 1000.0);
    vd_buf_t weights;
    vd_buf_init (&weights, 4096);
    s_weights (model, &weights);
    const char *params[] = {id, customers, recos, s_versions[job->params.kind],
                            vd_buf_str (&weights)};
    PGresult *res = vd_db_exec (conn,
                                "UPDATE reco.runs SET status = 'success', finished_at = now(),"
                                " customers = $2, recommendations = $3, model_version = $4,"
                                " weights = $5::jsonb, error = NULL"
                                " WHERE id = $1 AND status = 'running'",
                                5, params, err);
    vd_buf_free (&weights);
    if (!res)
        return -1;
    bool mine = strcmp (PQcmdTuples (res), "1") == 0;
    PQclear (res);
    /* failed meanwhile (its recommender was thought lost): keep it so */
    return mine ? 0 : vd_error_set (err, VD_ERR_PERMANENT, "the run was failed while it ran");
}

int
reco_job_run (PGconn *conn, const reco_job_t *job, reco_job_result_t *result, vd_error_t *err)
{
    memset (result, 0, sizeof *result);
    int64_t started = vd_clock_ms ();
    reco_model_t *model = reco_model_new ();
    if (!model)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    reco_load_opts_t load = job->load;
    load.tick = job->tick;
    load.arg = job->arg;
    int rc = reco_load (conn, model, &load, err);
    int64_t loaded = vd_clock_ms ();
    if (rc == 0)
        rc = reco_model_prepare (model, &job->params, err);
    if (rc == 0)
        vd_info ("model: %d products, %d customers read in %.1f s, prepared in %.1f s",
                 reco_model_products (model), reco_model_customers (model),
                 (loaded - started) / 1000.0, (vd_clock_ms () - loaded) / 1000.0);
    if (rc == 0)
        rc = vd_db_command (conn, "BEGIN", 0, NULL, err);
    if (rc == 0) {
        const char *params[] = {job->customer};
        rc = job->customer ? vd_db_command (conn,
                                            "DELETE FROM reco.recommendations"
                                            " WHERE customer_key = $1",
                                            1, params, err)
                           : vd_db_command (conn, "DELETE FROM reco.recommendations", 0, NULL, err);
        int64_t scoring = vd_clock_ms ();
        if (rc == 0)
            rc = s_write (conn, model, job, result, err);
        if (rc == 0)
            vd_info ("%" PRId64 " recommendations scored and written in %.1f s",
                     result->recommendations, (vd_clock_ms () - scoring) / 1000.0);
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
