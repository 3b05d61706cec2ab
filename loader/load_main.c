/*  loader - canonical records in (PULL, bound), PostgreSQL out.

    Rows are buffered per run and committed in batches (VENDANGE_BATCH_ROWS
    rows, or after 200 ms without a message); every transaction also
    commits the run's counts, rejects and warnings. When a run's END has
    arrived and every row is committed, the customer aggregates are brought
    up to date and the orchestrator is told the run is loaded.
    The database may go away: the loader stops reading (back pressure
    upstream) and retries with capped backoff, losing nothing it holds.
*/
#include "vendange.h"
#include "vd_ctl.h"
#include "vd_db.h"
#include "vd_migrate.h"
#include "vd_msg.h"
#include "vd_pipe.h"
#include "vd_service.h"
#include "load_customers.h"
#include "load_cmd.h"
#include "load_index.h"
#include "vd_fence.h"
#include "load_run.h"
#include "load_warn.h"
#include "load_sql.h"

#define IDLE_FLUSH_MS 200
#define MAX_BACKOFF_MS 10000
#define ABORTED_RING 64

typedef struct {
    vd_config_t *config;
    vd_ctl_t *ctl;
    zsock_t *input;
    PGconn *conn;
    load_sql_t sql[VD_TABLE_COUNT];
    load_customers_rules_t agg;
    zhashx_t *runs;        /* run id text -> load_run_t                */
    load_run_t *streaming; /* the run whose COPY holds conn, NULL: none */
    bool indexes_due;      /* a run ended unfinished: deferred indexes may wait */
    bool commands_due;     /* ops.loader_commands may hold queued commands      */
    int64_t aborted[ABORTED_RING];
    int naborted;
    bool frame_waits; /* the frame offered waits for the database */
    int64_t last_message_ms;
    int64_t retry_at_ms;
    int backoff_ms;
    size_t batch_rows;
} self_t;

/*  Called while a long query runs: heartbeats keep going. */
static void
s_heartbeat (void *ctl)
{
    vd_ctl_tick (ctl);
}

static void
s_run_destructor (void **item)
{
    load_run_destroy ((load_run_t **)item);
}

static bool
s_is_aborted (self_t *self, int64_t run_id)
{
    for (int i = 0; i < self->naborted && i < ABORTED_RING; i++)
        if (self->aborted[i] == run_id)
            return true;
    return false;
}

/*  Drops a run's buffer. Later messages of an ordinary run are dropped
    too; an exactly-once run (webhooks) stays open: its gateway sends
    every batch not confirmed again. */
static void
s_forget_run (self_t *self, int64_t run_id)
{
    char key[24];
    snprintf (key, sizeof key, "%" PRId64, run_id);
    load_run_t *run = zhashx_lookup (self->runs, key);
    bool exactly_once = run && load_run_exactly_once (run);
    if (run && run == self->streaming) /* its destructor aborts the COPY */
        self->streaming = NULL;
    self->indexes_due = true; /* built when no run is in flight (s_work) */
    zhashx_delete (self->runs, key);
    if (!exactly_once)
        self->aborted[self->naborted++ % ABORTED_RING] = run_id;
}

/*  Tells the orchestrator which exactly-once batches are committed (it
    relays that to the webhook gateways, which then trim their spool). */
static void
s_send_committed (self_t *self, int64_t run_id, const uint64_t *seqs, size_t n)
{
    if (n == 0)
        return;
    json_t *list = json_array ();
    for (size_t i = 0; list && i < n; i++)
        json_array_append_new (list, json_integer ((json_int_t)seqs[i]));
    json_t *msg = list ? json_pack ("{s:s, s:I, s:o}", "type", "batch_committed", "run_id",
                                    (json_int_t)run_id, "batches", list)
                       : NULL;
    if (msg)
        vd_ctl_send (self->ctl, msg);
    json_decref (msg);
}

static void
s_send (self_t *self, const char *type, int64_t run_id, int64_t records, const vd_error_t *err)
{
    json_t *msg = json_pack ("{s:s, s:I, s:I}", "type", type, "run_id", (json_int_t)run_id,
                             "records", (json_int_t)records);
    if (msg && err)
        json_object_set_new (msg, "error",
                             json_pack ("{s:s, s:s}", "reason", err->msg, "detail", err->detail));
    if (msg)
        vd_ctl_send (self->ctl, msg);
    json_decref (msg);
}

/*  (Re)connects and prepares the staging tables. 0, or -1 (retry later). */
static int
s_db_ready (self_t *self, vd_error_t *err)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return 0;
    if (self->streaming) /* its COPY went with the connection */
        load_run_stream_drop (self->streaming, false);
    self->streaming = NULL;
    if (self->conn)
        PQfinish (self->conn);
    self->conn = vd_db_connect (vd_config_str (self->config, VD_CFG_DATABASE_URL), "loader", err);
    if (!self->conn)
        return -1;
    int rc = vd_migrate (self->conn, err);
    /* indexes a run that did not finish left to build */
    if (rc == 0 && load_index_restore (self->conn, NULL, err) < 0)
        rc = -1;
    /* JIT compiles a plan whose cost estimate is high; on the loader's many
       short statements compiling costs more than it saves (0.5 s on an
       aggregate update of a thousand customers) */
    if (rc == 0)
        rc = vd_db_command (self->conn, "SET jit = off", 0, NULL, err);
    for (int t = 0; rc == 0 && t < VD_TABLE_COUNT; t++)
        rc = vd_db_command (self->conn, self->sql[t].stage_ddl, 0, NULL, err);
    if (rc == 0)
        rc = vd_db_command (self->conn, LOAD_SQL_STAGE_IDS, 0, NULL, err);
    if (rc == 0)
        rc = load_warn_prepare (self->conn, err);
    /* commands queued for the loader wake it (and those queued while it
       was away run now) */
    if (rc == 0)
        rc = vd_db_command (self->conn, "LISTEN " LOAD_CMD_CHANNEL, 0, NULL, err);
    self->commands_due = true;
    if (rc < 0) {
        PQfinish (self->conn);
        self->conn = NULL;
        return -1;
    }
    vd_info ("connected to PostgreSQL");
    return 0;
}

/*  After a database failure: wait before the next try, doubling up to 10 s. */
static void
s_db_failed (self_t *self, const vd_error_t *err)
{
    vd_log_error (VD_LOG_WARN, err);
    self->backoff_ms = self->backoff_ms ? self->backoff_ms * 2 : 250;
    if (self->backoff_ms > MAX_BACKOFF_MS)
        self->backoff_ms = MAX_BACKOFF_MS;
    self->retry_at_ms = vd_clock_ms () + self->backoff_ms;
}

/*  A run that cannot go on (permanent error): the orchestrator fails it. */
static void
s_run_failed (self_t *self, load_run_t *run, const vd_error_t *err)
{
    vd_log_error (VD_LOG_ERROR, err);
    s_send (self, "failed", load_run_id (run), load_run_committed (run), err);
    s_forget_run (self, load_run_id (run));
}

static int s_flush (self_t *self, load_run_t *run);

/*  The connection, ready for run's use (NULL: any other use): the run
    whose COPY streams on it is flushed first. 0, -1 (retry later). */
static int
s_db_for (self_t *self, load_run_t *run, vd_error_t *err)
{
    if (self->streaming && self->streaming != run && s_flush (self, self->streaming) < 0)
        return vd_error_set (err, VD_ERR_TRANSIENT, "the database is not available");
    return s_db_ready (self, err);
}

/*  The buffer of a run, NULL when there is none. */
static load_run_t *
s_known (self_t *self, int64_t run_id)
{
    char key[24];
    snprintf (key, sizeof key, "%" PRId64, run_id);
    return zhashx_lookup (self->runs, key);
}

/*  Run fencing (vd_fence): 0 when run_id may be written (known is
    true when the run's earlier messages were accepted and the database
    need not be asked), 1 when it is refused (its buffer, if any, is
    dropped), -1 when the database cannot tell yet (retry). */
static int
s_fence (self_t *self, int64_t run_id, bool known)
{
    char status[32];
    load_run_t *mine = s_known (self, run_id);
    if ((known && mine) || (mine && mine == self->streaming))
        return 0; /* (a streaming run is checked in its flush's transaction) */
    vd_error_t err;
    vd_error_clear (&err);
    int open = s_db_for (self, NULL, &err) < 0
                   ? -1
                   : vd_fence_open (self->conn, run_id, status, sizeof status, &err);
    if (open < 0) {
        s_db_failed (self, &err);
        return -1;
    }
    if (open)
        return 0;
    vd_log_set_run (run_id);
    vd_warn ("records of run %" PRId64 " refused: the run is %s, nothing of it is written", run_id,
             status);
    vd_log_set_run (0);
    s_forget_run (self, run_id);
    return 1;
}

/*  What a step of run that returned rc leads to: 0 it went well; 1 it
    failed for good (the run fails); -1 the database failed (retried
    after the backoff; the log's run is reset). */
static int
s_outcome (self_t *self, load_run_t *run, int rc, const vd_error_t *err)
{
    if (rc >= 0)
        return 0;
    if (err->kind == VD_ERR_TRANSIENT) {
        s_db_failed (self, err);
        vd_log_set_run (0);
        return -1;
    }
    s_run_failed (self, run, err);
    return 1;
}

/*  Commits the run's buffer. 0 done, -1 database unavailable (retry). */
static int
s_flush (self_t *self, load_run_t *run)
{
    vd_error_t err;
    vd_error_clear (&err);
    if (load_run_pending (run) == 0)
        return 0;
    int fence = s_fence (self, load_run_id (run), false);
    if (fence != 0)
        return fence < 0 ? -1 : 0;
    vd_log_set_run (load_run_id (run));
    int table = load_run_table (run);
    int rc = s_db_for (self, run, &err) < 0
                 ? -1
                 : load_run_flush (run, self->conn, &self->sql[table], &err);
    if (run == self->streaming)
        self->streaming = NULL; /* ended by the flush, whatever its outcome */
    if (rc == 1) {              /* fenced out in its transaction: nothing written */
        vd_warn ("records of run %" PRId64 " refused: %s", load_run_id (run), err.msg);
        vd_log_set_run (0);
        s_forget_run (self, load_run_id (run));
        return 0;
    }
    int outcome = s_outcome (self, run, rc, &err);
    if (outcome < 0)
        return -1;
    if (outcome == 0) {
        size_t n = 0;
        const uint64_t *seqs = load_run_committed_batches (run, &n);
        s_send_committed (self, load_run_id (run), seqs, n);
        s_send (self, "progress", load_run_id (run), load_run_committed (run), NULL);
    }
    self->backoff_ms = 0;
    vd_log_set_run (0);
    return 0;
}

/*  END handled and every row committed: extracted counts, aggregates. */
static int
s_finish (self_t *self, load_run_t *run)
{
    int fence = s_fence (self, load_run_id (run), false);
    if (fence != 0)
        return fence < 0 ? -1 : 0;
    vd_error_t err;
    vd_error_clear (&err);
    vd_log_set_run (load_run_id (run));
    int rc = s_db_for (self, NULL, &err);
    /* indexes a first load deferred: when every customer's aggregates are
       computed (one pass over all sales, no index used), built by the
       server on another connection meanwhile (those of the customers,
       which the aggregates write, in this transaction); else all in this
       transaction, before the aggregates that look sales up by customer */
    PGresult *all = rc == 0 ? vd_db_exec (self->conn, "SELECT EXISTS (SELECT 1 FROM ops.dirty_all)",
                                          0, NULL, &err)
                            : NULL;
    bool parallel = all && strcmp (PQgetvalue (all, 0, 0), "t") == 0;
    if (!all)
        rc = -1;
    PQclear (all);
    PGconn *side =
        rc == 0 && parallel
            ? load_index_start (vd_config_str (self->config, VD_CFG_DATABASE_URL), "customers")
            : NULL;
    if (rc == 0) {
        rc = vd_db_command (self->conn, "BEGIN", 0, NULL, &err);
        if (rc == 0)
            rc = load_run_write_extracted (run, self->conn, &err);
        if (rc == 0)
            rc = load_run_apply_deletes (run, self->conn, self->sql, &err);
        int given = rc == 0 ? load_run_agg_given (run, self->conn, &err) : -1;
        if (given < 0)
            rc = -1;
        if (rc == 0)
            rc = load_run_store_lines (run, self->conn, &err);
        if (rc == 0)
            rc = load_index_restore (self->conn, parallel ? "customers" : NULL, &err) < 0 ? -1 : 0;
        if (rc == 0)
            rc = load_customers_update (self->conn, &self->agg, load_run_customers_written (run),
                                        given == 1, &err);
        if (rc == 0)
            rc = vd_db_command (self->conn, "COMMIT", 0, NULL, &err);
        else
            PQclear (PQexec (self->conn, "ROLLBACK"));
    }
    load_index_wait (&side);
    int outcome = s_outcome (self, run, rc, &err);
    if (outcome < 0)
        return -1;
    if (outcome == 0) {
        int64_t copied, merged;
        load_run_ways (run, &copied, &merged);
        vd_info ("run loaded: %" PRId64 " records (%" PRId64 " rows copied straight into their"
                 " table, %" PRId64 " merged)",
                 load_run_committed (run), copied, merged);
        s_send (self, "loaded", load_run_id (run), load_run_committed (run), NULL);
        s_forget_run (self, load_run_id (run));
    }
    vd_log_set_run (0);
    return 0;
}

static load_run_t *
s_run (self_t *self, int64_t run_id)
{
    char key[24];
    snprintf (key, sizeof key, "%" PRId64, run_id);
    load_run_t *run = zhashx_lookup (self->runs, key);
    if (!run && (run = load_run_new (run_id)) != NULL)
        zhashx_insert (self->runs, key, run);
    return run;
}

/*  A copy of an exactly-once batch: 1 when it is one (buffered, or
    committed before: then confirmed again), 0 when the batch is new, -1
    when the database cannot tell now (the frame waits). */
static int
s_duplicate (self_t *self, load_run_t *run, const vd_msg_t *msg)
{
    if (load_run_has_batch (run, msg->seq))
        return 1;
    char run_text[24], seq_text[24];
    snprintf (run_text, sizeof run_text, "%" PRId64, msg->run_id);
    snprintf (seq_text, sizeof seq_text, "%" PRIu64, msg->seq);
    const char *params[] = {run_text, seq_text};
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res = s_db_for (self, NULL, &err) < 0
                        ? NULL
                        : vd_db_exec (self->conn,
                                      "SELECT 1 FROM ops.run_batches WHERE run_id = $1::bigint"
                                      " AND seq = $2::bigint",
                                      2, params, &err);
    if (!res) {
        s_db_failed (self, &err);
        return -1;
    }
    bool committed = PQntuples (res) > 0;
    PQclear (res);
    if (committed) {
        vd_debug ("batch %" PRIu64 " of run %" PRId64 " already committed: skipped", msg->seq,
                  msg->run_id);
        s_send_committed (self, msg->run_id, &msg->seq, 1);
    }
    return committed ? 1 : 0;
}

/*  Streams the rows just added to run's COPY, when its buffer may go
    straight into its table and no other run streams. A failure is the
    flush's: retried later (transient) or the run's end. */
static void
s_stream (self_t *self, load_run_t *run)
{
    vd_error_t err;
    vd_error_clear (&err);
    if ((self->streaming && self->streaming != run) || s_db_ready (self, &err) < 0)
        return; /* it waits for its flush */
    vd_log_set_run (load_run_id (run));
    int table = load_run_table (run);
    if (load_run_stream (run, self->conn, &self->sql[table], &err) < 0) {
        load_run_stream_drop (run, PQstatus (self->conn) == CONNECTION_OK);
        if (err.kind == VD_ERR_TRANSIENT)
            s_db_failed (self, &err);
        else
            s_run_failed (self, run, &err);
    } else if (load_run_streaming (run))
        self->streaming = run;
    vd_log_set_run (0);
}

/*  Handles one message. Returns -1 when it must wait for the database
    (the caller keeps the frame and tries again later). */
static int
s_handle_data (self_t *self, const vd_msg_t *msg)
{
    vd_error_t err;
    vd_error_clear (&err);
    int rc = 0;
    if (!s_is_aborted (self, msg->run_id) && (rc = s_fence (self, msg->run_id, true)) != 0)
        rc = rc < 0 ? -1 : 0; /* -1: the frame waits for the database */
    else if (!s_is_aborted (self, msg->run_id)) {
        load_run_t *run = s_run (self, msg->run_id);
        int table = run ? load_run_table (run) : -1;
        int dup = 0;
        if (!run)
            rc = -1;
        else if (msg->kind == VD_MSG_CANON && load_msg_is_ack (msg) &&
                 (dup = s_duplicate (self, run, msg)) != 0)
            rc = dup < 0 ? -1 : 0;
        else if (msg->kind == VD_MSG_END) {
            if (load_run_end (run, msg, &err) < 0)
                s_run_failed (self, run, &err);
        } else if (msg->kind == VD_MSG_DELETE) {
            if (load_run_delete (run, msg, &err) < 0)
                s_run_failed (self, run, &err);
        } else if (msg->kind == VD_MSG_HASHES) {
            if (load_run_hashes (run, msg, &err) < 0)
                s_run_failed (self, run, &err);
        } else if (table >= 0 && table != msg->table && s_flush (self, run) < 0)
            rc = -1; /* the buffer holds another table: commit it first */
        else if (s_is_aborted (self, msg->run_id) || run != s_known (self, msg->run_id))
            ; /* the flush failed the run, or fenced it out */
        else if (load_run_add (run, msg, &err) < 0)
            s_run_failed (self, run, &err);
        else
            s_stream (self, run);
    }
    return rc;
}

/*  Commands queued for the loader (load_cmd), between batches: never
    while a buffer's COPY holds the connection. */
static void
s_commands (self_t *self)
{
    if (self->streaming || !self->conn || PQstatus (self->conn) != CONNECTION_OK ||
        vd_clock_ms () < self->retry_at_ms)
        return;
    PQconsumeInput (self->conn);
    for (PGnotify *n; (n = PQnotifies (self->conn)) != NULL; PQfreemem (n))
        self->commands_due = true;
    if (!self->commands_due)
        return;
    vd_error_t err;
    vd_error_clear (&err);
    if (load_cmd_serve (self->conn, &self->agg, &err) < 0)
        s_db_failed (self, &err); /* the commands stay queued: tried again */
    else
        self->commands_due = false;
}

/*  Timers: flush full, idle or ended buffers; finish complete runs. */
static void
s_work (self_t *self)
{
    if (vd_clock_ms () < self->retry_at_ms)
        return;
    bool idle = vd_clock_ms () - self->last_message_ms >= IDLE_FLUSH_MS;
    zlistx_t *keys = zhashx_keys (self->runs);
    for (char *key = zlistx_first (keys); key; key = zlistx_next (keys)) {
        load_run_t *run = zhashx_lookup (self->runs, key);
        size_t pending = load_run_pending (run);
        if (pending && (idle || pending >= self->batch_rows || load_run_received (run)) &&
            s_flush (self, run) < 0)
            break;
        run = zhashx_lookup (self->runs, key); /* a failed run is gone */
        if (run && load_run_complete (run) && s_finish (self, run) < 0)
            break;
    }
    zlistx_destroy (&keys);
    /* a run that ended unfinished may have left indexes to build */
    vd_error_t err;
    vd_error_clear (&err);
    if (self->indexes_due && zhashx_size (self->runs) == 0 && s_db_ready (self, &err) == 0 &&
        load_index_restore (self->conn, NULL, &err) >= 0)
        self->indexes_due = false;
    else if (err.msg[0])
        s_db_failed (self, &err); /* logged; tried again after the backoff */
    s_commands (self);
}

static void
s_control (void *arg, json_t *msg, const char *type)
{
    self_t *self = arg;
    if (strcmp (type, "abort") == 0) {
        int64_t run_id = json_integer_value (json_object_get (msg, "run_id"));
        vd_log_set_run (run_id);
        vd_info ("run aborted by the orchestrator: buffered rows dropped");
        vd_log_set_run (0);
        s_forget_run (self, run_id);
    }
}

static int
s_setup (void *arg, vd_error_t *err)
{
    self_t *self = arg;
    bool binary = vd_config_int (self->config, VD_CFG_COPY_BINARY) != 0;
    for (int t = 0; t < VD_TABLE_COUNT; t++)
        if (load_sql_build (t, binary, &self->sql[t]) < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    if (load_customers_rules (self->config, &self->agg, err) < 0)
        return -1;
    self->batch_rows = (size_t)vd_config_int (self->config, VD_CFG_BATCH_ROWS);
    self->runs = zhashx_new ();
    zhashx_set_destructor (self->runs, s_run_destructor);
    self->input =
        vd_service_pipe (self->ctl, self->config, VD_CFG_LOADER_ENDPOINT, ZMQ_PULL, true, err);
    if (!self->input)
        return -1;
    vd_db_set_wait_hook (s_heartbeat, self->ctl);
    vd_error_t db;
    vd_error_clear (&db);
    if (s_db_ready (self, &db) < 0)
        s_db_failed (self, &db); /* logged; tried again after the backoff */
    return 0;
}

static void
s_teardown (void *arg)
{
    self_t *self = arg;
    zhashx_destroy (&self->runs);
    for (int t = 0; t < VD_TABLE_COUNT; t++)
        load_sql_free (&self->sql[t]);
    if (self->conn)
        PQfinish (self->conn);
    zsock_destroy (&self->input);
}

/*  vd_service_serve_stage callbacks. A new frame is handled at once; one
    that waits for the database is offered again from retry_at_ms. */
static int
s_data (void *arg, zframe_t *frame, const vd_msg_t *msg)
{
    (void)frame;
    self_t *self = arg;
    if (self->frame_waits && vd_clock_ms () < self->retry_at_ms)
        return -1;
    if (!self->frame_waits)
        self->last_message_ms = vd_clock_ms ();
    self->frame_waits = s_handle_data (self, msg) < 0;
    return self->frame_waits ? -1 : 0;
}

static void
s_timers (void *arg)
{
    s_work (arg);
}

static const vd_service_info_t s_info = {
    "loader", NULL, VD_SVC_LOADER, "usage: loader\nWrites canonical records into PostgreSQL.\n\n"};
static const vd_stage_t s_stage = {s_data, s_control, s_timers, NULL, 100};
VD_STAGE_MAIN (self_t, s_info, s_stage, s_setup, s_teardown)
