/*  recommender - computes recommendations from the canonical tables.

    As a service (no arguments) it announces itself to the orchestrator
    (role "recommender"), waits for queued rows of reco.runs (LISTEN
    vendange_reco, and a poll), claims one at a time and runs it. The
    orchestrator queues a run after a sync that changed sales, products,
    stock or customers; the API queues one per customer on demand.
    `recommender --once` runs one job itself and prints its summary as a
    JSON line (offline evaluation, benchmarks, cron).
*/
#include "vendange.h"
#include "reco_job.h"
#include "vd_ctl.h"
#include "vd_migrate.h"
#include "vd_service.h"
#include <sys/resource.h>

#define BACKOFF_MAX_MS 30000
#define BEAT_MS 2000 /* reco.runs.heartbeat_at of the running job */

static const char s_usage[] =
    "usage: recommender\n"
    "       recommender --once [--customer KEY] [--model vendange|popularity|random]\n"
    "                   [--as-of YYYY-MM-DD] [--no-issue]\n"
    "Recommends products to customers from the canonical tables. Without arguments it\n"
    "serves the runs queued in reco.runs; --once runs one job and prints a JSON summary:\n"
    "  --customer KEY  that customer only (default: every customer)\n"
    "  --model M       vendange (default), or a baseline: popularity, random\n"
    "  --as-of DAY     the day taken as today (sales after it are ignored)\n"
    "  --no-issue      do not record the pairs proposed nor what followed them\n"
    "--once replaces the stored recommendations (of every customer, or of KEY) with\n"
    "its own: evaluate baselines or past days on a copy of the database.\n\n";

typedef struct {
    vd_config_t *config;
    vd_ctl_t *ctl; /* NULL with --once */
    PGconn *conn, *beat;
    int64_t run_id; /* the job running, 0 */
    int64_t last_beat;
    bool stopped; /* SIGTERM during a job */
} self_t;

static void
s_defaults (const self_t *self, reco_job_t *job)
{
    memset (job, 0, sizeof *job);
    reco_model_defaults (&job->params);
    job->params.top = (int)vd_config_int (self->config, VD_CFG_RECO_TOP);
    job->params.recent_days = (int)vd_config_int (self->config, VD_CFG_RECO_RECENT_DAYS);
    job->load.as_of = job->params.as_of;
    job->load.bad_days = (int)vd_config_int (self->config, VD_CFG_RECO_BAD_DAYS);
    job->load.follow_days = (int)vd_config_int (self->config, VD_CFG_RECO_FOLLOW_DAYS);
    job->load.reweight = true;
    job->issue = true;
}

static int
s_model (const char *name, reco_kind_t *kind)
{
    static const char *const names[] = {"vendange", "popularity", "random"};
    for (int i = 0; i < 3; i++)
        if (strcmp (name, names[i]) == 0) {
            *kind = (reco_kind_t)i;
            return 0;
        }
    return -1;
}

/*  The running job's heartbeat_at, every BEAT_MS, on its own connection
    (whose lock_timeout keeps it from waiting on the job's own final
    update of that row). */
static void
s_beat (self_t *self)
{
    int64_t now = vd_clock_ms ();
    if (!self->beat || !self->run_id || now - self->last_beat < BEAT_MS)
        return;
    self->last_beat = now;
    char id[32];
    snprintf (id, sizeof id, "%" PRId64, self->run_id);
    const char *params[] = {id};
    vd_error_t err;
    vd_error_clear (&err);
    if (vd_db_command (self->beat, "UPDATE reco.runs SET heartbeat_at = now() WHERE id = $1", 1,
                       params, &err) < 0 &&
        strcmp (err.sqlstate, "55P03") != 0) /* lock timeout: the job is finishing */
        vd_log_error (VD_LOG_WARN, &err);
}

/*  Called from long work: heartbeats to the orchestrator and in the run's
    row; true when the process was told to stop. */
static bool
s_tick (void *arg)
{
    self_t *self = arg;
    if (self->ctl)
        vd_ctl_tick (self->ctl);
    s_beat (self);
    if (zsys_interrupted)
        self->stopped = true;
    return self->stopped;
}

/*  While a statement runs: heartbeats, and on SIGTERM the statement of a
    job is cancelled (the job is rolled back and handed back). */
static void
s_wait_hook (void *arg)
{
    self_t *self = arg;
    if (self->ctl)
        vd_ctl_tick (self->ctl);
    s_beat (self);
    if (zsys_interrupted && self->run_id && !self->stopped && self->conn) {
        self->stopped = true;
        PGcancel *cancel = PQgetCancel (self->conn);
        char why[256];
        if (cancel && !PQcancel (cancel, why, sizeof why))
            vd_warn ("cannot cancel the running statement: %s", why);
        PQfreeCancel (cancel);
    }
}

static PGconn *
s_connect (self_t *self, vd_error_t *err)
{
    PGconn *conn =
        vd_db_connect (vd_config_str (self->config, VD_CFG_DATABASE_URL), "recommender", err);
    if (conn && vd_migrate (conn, err) < 0)
        PQfinish (conn), conn = NULL;
    return conn;
}

/*  Runs job on self->conn (failures logged); returns 0, -1. */
static int
s_run (self_t *self, reco_job_t *job, reco_job_result_t *result, vd_error_t *err)
{
    vd_error_t beat_err;
    self->run_id = job->run_id;
    self->last_beat = vd_clock_ms ();
    job->tick = s_tick;
    job->arg = self;
    vd_log_set_run (job->run_id);
    vd_error_clear (&beat_err);
    self->beat = vd_db_connect (vd_config_str (self->config, VD_CFG_DATABASE_URL),
                                "recommender-heartbeat", &beat_err);
    if (self->beat &&
        vd_db_command (self->beat, "SET lock_timeout = '200ms'", 0, NULL, &beat_err) < 0)
        PQfinish (self->beat), self->beat = NULL;
    if (!self->beat) /* the job runs; a long one may be thought lost */
        vd_log_error (VD_LOG_WARN, &beat_err);
    int rc = reco_job_run (self->conn, job, result, err);
    PQfinish (self->beat);
    self->beat = NULL;
    self->run_id = 0;
    if (rc == 0)
        vd_info ("recommendations: %" PRId64 " for %" PRId64 " customer(s) in %.1f s",
                 result->recommendations, result->customers, result->seconds);
    else
        vd_log_error (VD_LOG_ERROR, err);
    vd_log_set_run (0);
    return rc;
}

/*  Records the failure of a run (logged when that fails too). */
static void
s_fail (self_t *self, int64_t run_id, const vd_error_t *failure)
{
    vd_error_t err;
    vd_error_clear (&err);
    if (!self->conn || PQstatus (self->conn) != CONNECTION_OK ||
        reco_job_fail (self->conn, run_id, failure, &err) < 0)
        vd_warn ("cannot record the failure of recommendation run %" PRId64, run_id);
}

/*  --------------------------------------------------------------------
    --once */

static int
s_once (self_t *self, int argc, char **argv)
{
    reco_job_t job;
    s_defaults (self, &job);
    const char *model = "vendange";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp (a, "--no-issue") == 0)
            job.issue = false;
        else if (strcmp (a, "--customer") == 0 && v)
            job.customer = argv[++i];
        else if (strcmp (a, "--model") == 0 && v && s_model (v, &job.params.kind) == 0)
            model = argv[++i];
        else if (strcmp (a, "--as-of") == 0 && v && reco_job_day (v, &job.params.as_of) == 0)
            i++;
        else {
            fprintf (stderr, "recommender: bad argument %s%s\n%s", a,
                     v && a[0] == '-' && a[1] == '-' ? " (or its value)" : "", s_usage);
            return 2;
        }
    }
    job.load.as_of = job.params.as_of;
    vd_error_t err;
    vd_error_clear (&err);
    self->conn = s_connect (self, &err);
    if (!self->conn) {
        vd_log_error (VD_LOG_ERROR, &err);
        return 1;
    }
    const char *params[] = {job.customer ? "customer" : "all", job.customer, model};
    PGresult *res = vd_db_exec (self->conn,
                                "INSERT INTO reco.runs (scope, customer_key, trigger, model,"
                                " status, started_at, heartbeat_at, worker)"
                                " VALUES ($1, $2, 'cli', $3, 'running', now(), now(),"
                                " 'recommender --once') RETURNING id",
                                3, params, &err);
    if (!res) {
        vd_log_error (VD_LOG_ERROR, &err);
        return 1;
    }
    vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, &job.run_id);
    PQclear (res);
    reco_job_result_t result;
    int rc = s_run (self, &job, &result, &err);
    if (rc < 0)
        s_fail (self, job.run_id, &err);
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    printf ("{\"run_id\":%" PRId64 ",\"status\":\"%s\",\"customers\":%" PRId64
            ",\"recommendations\":%" PRId64 ",\"seconds\":%.3f,\"peak_rss_kb\":%ld,"
            "\"model_version\":\"%s\"}\n",
            job.run_id, rc == 0 ? "success" : "failed", result.customers, result.recommendations,
            result.seconds, ru.ru_maxrss,
            job.params.kind == RECO_MODEL_VENDANGE     ? RECO_MODEL_VERSION
            : job.params.kind == RECO_MODEL_POPULARITY ? "popularity-1"
                                                       : "random-1");
    return rc == 0 ? 0 : 1;
}

/*  --------------------------------------------------------------------
    Service */

/*  Fails running jobs whose worker went silent, then claims the oldest
    queued job (one customer's first: someone is waiting). Returns 1 with
    job filled, 0 when there is none, -1 with err. */
static int
s_claim (self_t *self, reco_job_t *job, char *customer, size_t size, vd_error_t *err)
{
    char dead[16];
    snprintf (dead, sizeof dead, "%" PRId64, vd_config_int (self->config, VD_CFG_DEAD_AFTER_S));
    const char *stale[] = {dead};
    if (vd_db_command (self->conn,
                       "UPDATE reco.runs SET status = 'failed', finished_at = now(),"
                       " error = 'recommender lost: no heartbeat since ' || heartbeat_at"
                       " WHERE status = 'running'"
                       "   AND heartbeat_at < now() - make_interval(secs => $1::int)",
                       1, stale, err) < 0)
        return -1;
    const char *params[] = {vd_ctl_instance (self->ctl)};
    PGresult *res = vd_db_exec (
        self->conn,
        "UPDATE reco.runs SET status = 'running', started_at = now(), heartbeat_at = now(),"
        " worker = $1 WHERE id = (SELECT id FROM reco.runs WHERE status = 'queued'"
        "  ORDER BY scope = 'customer' DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
        " RETURNING id, customer_key, model",
        1, params, err);
    if (!res)
        return -1;
    int found = PQntuples (res) == 1;
    if (found) {
        s_defaults (self, job);
        vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, &job->run_id);
        if (!PQgetisnull (res, 0, 1)) {
            snprintf (customer, size, "%s", PQgetvalue (res, 0, 1));
            job->customer = customer;
        }
        s_model (PQgetvalue (res, 0, 2), &job->params.kind);
    }
    PQclear (res);
    return found;
}

/*  A job stopped by SIGTERM goes back to the queue for the next
    recommender (failed when an equal one is queued already). */
static void
s_hand_back (self_t *self, int64_t run_id)
{
    char id[32];
    snprintf (id, sizeof id, "%" PRId64, run_id);
    const char *params[] = {id};
    vd_error_t err;
    vd_error_clear (&err);
    if (vd_db_command (self->conn,
                       "UPDATE reco.runs SET status = 'queued', worker = NULL, started_at = NULL"
                       " WHERE id = $1 AND status = 'running'",
                       1, params, &err) == 0)
        vd_info ("recommendation run %s handed back to the queue", id);
    else {
        vd_error_t failure;
        vd_error_clear (&failure);
        vd_error_set (&failure, VD_ERR_TRANSIENT, "recommender stopped during the run");
        s_fail (self, run_id, &failure);
    }
}

static void
s_serve_queue (self_t *self)
{
    for (;;) {
        reco_job_t job;
        char customer[512];
        vd_error_t err;
        vd_error_clear (&err);
        int found = s_claim (self, &job, customer, sizeof customer, &err);
        if (found <= 0) {
            if (found < 0)
                vd_log_error (VD_LOG_ERROR, &err);
            return;
        }
        vd_ctl_set_state (self->ctl, "busy", 0);
        reco_job_result_t result;
        if (s_run (self, &job, &result, &err) < 0) {
            if (self->stopped)
                s_hand_back (self, job.run_id);
            else
                s_fail (self, job.run_id, &err);
        }
        vd_ctl_set_state (self->ctl, "idle", 0);
        if (self->stopped || PQstatus (self->conn) != CONNECTION_OK)
            return;
    }
}

static void
s_serve (void *arg)
{
    self_t *self = arg;
    int64_t poll_ms = vd_config_int (self->config, VD_CFG_RECO_POLL_S) * 1000;
    int64_t next_try = 0, next_poll = 0, backoff = 500;
    zpoller_t *poller = zpoller_new (vd_ctl_sock (self->ctl), NULL);
    while (!zsys_interrupted && !self->stopped) {
        vd_ctl_tick (self->ctl);
        void *which = zpoller_wait (poller, 200);
        if (zpoller_terminated (poller))
            break;
        if (which)
            json_decref (vd_ctl_recv (self->ctl)); /* no command for it yet */
        int64_t now = vd_clock_ms ();
        if (!self->conn && now >= next_try) {
            vd_error_t err;
            vd_error_clear (&err);
            self->conn = s_connect (self, &err);
            if (self->conn && vd_db_command (self->conn, "LISTEN vendange_reco", 0, NULL, &err) < 0)
                PQfinish (self->conn), self->conn = NULL;
            if (!self->conn) {
                vd_log_error (VD_LOG_WARN, &err);
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                next_try = now + backoff;
                continue;
            }
            backoff = 500;
            next_poll = 0;
        }
        if (!self->conn)
            continue;
        bool woken = false;
        if (PQconsumeInput (self->conn) != 1) {
            vd_warn ("database connection lost: %s", PQerrorMessage (self->conn));
            PQfinish (self->conn);
            self->conn = NULL;
            continue;
        }
        PGnotify *n;
        while ((n = PQnotifies (self->conn))) {
            woken = true;
            PQfreemem (n);
        }
        if (woken || now >= next_poll) {
            s_serve_queue (self);
            next_poll = vd_clock_ms () + poll_ms;
        }
        if (self->conn && PQstatus (self->conn) != CONNECTION_OK) {
            PQfinish (self->conn);
            self->conn = NULL;
        }
    }
    zpoller_destroy (&poller);
}

/*  vd_service_main callbacks (the service; --once uses the teardown). */
static int
s_setup (void *arg, vd_error_t *err)
{
    (void)err;
    vd_db_set_wait_hook (s_wait_hook, arg);
    return 0;
}

static void
s_teardown (void *arg)
{
    self_t *self = arg;
    PQfinish (self->conn);
    vd_ctl_destroy (&self->ctl);
    vd_config_destroy (&self->config);
}

int
main (int argc, char **argv)
{
    static const vd_service_info_t info = {"recommender", NULL, VD_SVC_RECO, s_usage};
    self_t self = {0};
    int rc = 0;
    vd_db_set_role (VD_DB_SERVICE_ROLE); /* reads canonical.*: only the loader writes it */
    if (argc > 1 && strcmp (argv[1], "--once") == 0) {
        vd_log_init ("recommender", VD_LOG_INFO);
        vd_error_t err;
        vd_error_clear (&err);
        self.config = vd_config_load (VD_SVC_RECO, &err);
        if (!self.config) {
            vd_log_error (VD_LOG_ERROR, &err);
            return 1;
        }
        vd_log_level_t level = VD_LOG_INFO;
        if (vd_log_level_parse (vd_config_str (self.config, VD_CFG_LOG_LEVEL), &level) == 0)
            vd_log_init ("recommender", level);
        zsys_init ();
        vd_db_set_wait_hook (s_wait_hook, &self);
        rc = s_once (&self, argc, argv);
    } else if (argc > 1 && strcmp (argv[1], "--help") != 0 && strcmp (argv[1], "-h") != 0) {
        fprintf (stderr, "recommender: unknown argument %s\n%s", argv[1], s_usage);
        return 2;
    } else {
        static const vd_service_ops_t ops = {s_setup, s_serve, s_teardown};
        return vd_service_main (&info, &ops, argc, argv, &self.config, &self.ctl, &self);
    }
    s_teardown (&self);
    return rc;
}
