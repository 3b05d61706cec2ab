/*  orch_engine - the orchestrator's control loop. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_active.h"
#include "orch_engine.h"
#include "orch_lines.h"
#include "orch_lifecycle.h"
#include "orch_hooks.h"
#include "orch_json.h"
#include "orch_registry.h"
#include "orch_runs.h"
#include "orch_schedule.h"
#include "orch_secrets.h"
#include "orch_tests.h"
#include "orch_trust.h"
#include "orch_wake.h"

#define POLL_MS 200
#define DISPATCH_EVERY_MS 500
#define RETENTION_EVERY_MS (3600 * 1000)
#define TOUCH_EVERY_MS 1000
#define MAX_BATCH 256 /* messages handled per turn        */
#define MAX_MESSAGE (64 * 1024 * 1024)
#define FORGET_DEAD_MS (3600 * 1000) /* dead services kept in memory     */
#define DB_RETRY_MAX_MS 5000
#define ORCH_LOCK_KEY "7366473"

typedef struct {
    int64_t id;
    int64_t missing_since_ms; /* 0: something could take it           */
    bool seen;
} s_wait_t;

struct orch_engine {
    orch_engine_config_t config;
    zsock_t *router;
    PGconn *conn;
    orch_registry_t *registry;
    orch_active_t *active;
    orch_tests_t *tests;
    orch_hooks_t *hooks; /* webhook gateways */
    s_wait_t *waits;     /* queued runs nothing could take       */
    size_t nwaits, waits_cap;
    int64_t next_dispatch_ms;
    int64_t next_retention_ms;
    int64_t next_reset_ms;
    int64_t reset_backoff_ms;
    bool db_down;
    bool db_error_logged;
};

/*  --------------------------------------------------------------------
    Database health: the loop keeps going while PostgreSQL is away; what
    must be recorded stays in memory and is written when it is back. */

/*  One orchestrator per database: a session advisory lock, held for the
    connection's life (a killed orchestrator's lock goes with it). */
static int
s_lock (PGconn *conn, vd_error_t *err)
{
    PGresult *res =
        vd_db_exec (conn, "SELECT pg_try_advisory_lock(" ORCH_LOCK_KEY ")", 0, NULL, err);
    if (!res)
        return -1;
    bool locked = strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    PQclear (res);
    if (locked)
        return 0;
    vd_error_set (err, VD_ERR_PERMANENT, "another orchestrator is using this database");
    snprintf (err->hint, sizeof err->hint, "run one orchestrator per database");
    return -1;
}

static bool
s_db_ready (orch_engine_t *self)
{
    if (PQstatus (self->conn) == CONNECTION_OK) {
        if (self->db_down)
            vd_info ("reconnected to PostgreSQL");
        self->db_down = false;
        self->reset_backoff_ms = 250;
        return true;
    }
    int64_t now = zclock_mono ();
    if (!self->db_down) {
        vd_warn ("lost the connection to PostgreSQL, retrying");
        self->db_down = true;
        self->next_reset_ms = now;
    }
    if (now < self->next_reset_ms)
        return false;
    PQreset (self->conn);
    vd_error_t err;
    vd_error_clear (&err);
    if (PQstatus (self->conn) == CONNECTION_OK &&
        (s_lock (self->conn, &err) < 0 || orch_wake_listen (self->conn, &err) < 0))
        vd_log_error (VD_LOG_ERROR, &err);
    if (PQstatus (self->conn) == CONNECTION_OK)
        return s_db_ready (self);
    self->reset_backoff_ms =
        self->reset_backoff_ms * 2 > DB_RETRY_MAX_MS ? DB_RETRY_MAX_MS : self->reset_backoff_ms * 2;
    self->next_reset_ms = now + self->reset_backoff_ms;
    return false;
}

/*  Logs a database error once until a write succeeds again. */
static void
s_db_failed (orch_engine_t *self, const char *what, const vd_error_t *err)
{
    if (self->db_error_logged)
        return;
    self->db_error_logged = true;
    vd_log_detail (VD_LOG_WARN, err->msg, err->hint, "%s failed, will retry", what);
}

/*  --------------------------------------------------------------------
    Sending */

/*  Sends msg, then blob (len bytes) as a second frame when blob is set. */
static int
s_send_parts (orch_engine_t *self, zframe_t *identity, json_t *msg, const void *blob, size_t len)
{
    if (!identity)
        return -1;
    char *text = json_dumps (msg, JSON_COMPACT);
    zmsg_t *out = zmsg_new ();
    zframe_t *id = zframe_dup (identity);
    int rc = -1;
    if (text && out && id && zmsg_append (out, &id) == 0 &&
        zmsg_addmem (out, text, strlen (text)) == 0 && (!blob || zmsg_addmem (out, blob, len) == 0))
        rc = zmsg_send (&out, self->router);
    zframe_destroy (&id);
    zmsg_destroy (&out);
    free (text);
    return rc;
}

static int
s_send (orch_engine_t *self, zframe_t *identity, json_t *msg)
{
    return s_send_parts (self, identity, msg, NULL, 0);
}

/*  s_send as an orch_send_fn. */
static int
s_send_fn (void *arg, zframe_t *identity, json_t *msg)
{
    return s_send (arg, identity, msg);
}

/*  Tells every live service to drop a run. */
static void
s_broadcast_abort (orch_engine_t *self, int64_t run_id)
{
    json_t *msg = json_pack ("{s:s, s:I}", "type", "abort", "run_id", (json_int_t)run_id);
    if (!msg)
        return;
    for (size_t i = 0; i < orch_registry_size (self->registry); i++) {
        orch_service_t *s = orch_registry_at (self->registry, i);
        if (s->alive && s_send (self, s->identity, msg) < 0)
            vd_debug ("abort of run %" PRId64 " not delivered to %s", run_id, s->hb.instance);
    }
    json_decref (msg);
}

/*  --------------------------------------------------------------------
    Run outcomes */

/*  The extractor a run was handed to is free again. */
static void
s_release (orch_engine_t *self, orch_active_run_t *run)
{
    orch_service_t *s = orch_registry_find (self->registry, run->extractor);
    if (s && s->busy_run == run->id) {
        s->busy_run = 0;
        s->done_run = run->id;
    }
}

/*  Decides that a run failed: tells everyone to drop it now; the database
    write happens in s_settle (retried while PostgreSQL is away). The first
    reason wins. error is stolen. */
static void
s_fail (orch_engine_t *self, orch_active_run_t *run, json_t *error)
{
    if (run->failure || !error) {
        json_decref (error);
        return;
    }
    run->failure = error;
    vd_log_set_run (run->id);
    vd_log_detail (VD_LOG_WARN, orch_json_str (error, "detail"), NULL, "run failed: %s",
                   orch_json_str (error, "reason"));
    vd_log_set_run (0);
    s_broadcast_abort (self, run->id);
    s_release (self, run);
}

static void
s_fail_reason (orch_engine_t *self, orch_active_run_t *run, const char *reason)
{
    s_fail (self, run, json_pack ("{s:o}", "reason", orch_json_text (reason)));
}

/*  Records a decided failure. Returns 0 when done (the run is removed). */
static int
s_record_failure (orch_engine_t *self, orch_active_run_t *run)
{
    vd_error_t err;
    vd_error_clear (&err);
    if (orch_runs_fail (self->conn, run->id, run->failure, &err) < 0) {
        s_db_failed (self, "recording a failed run", &err);
        return -1;
    }
    return 0;
}

/*  Records a run whose extraction and load are both done. Returns 0
    when done (the run is removed). */
static int
s_record_outcome (orch_engine_t *self, orch_active_run_t *run)
{
    orch_outcome_t out;
    vd_error_t err;
    vd_error_clear (&err);
    if (orch_runs_finalize (self->conn, run->id, run->extracted, run->loaded_records,
                            self->config.reco_after_sync, &out, &err) < 0) {
        if (err.kind == VD_ERR_PERMANENT) {
            char reason[700];
            snprintf (reason, sizeof reason, "could not record the run: %s", err.msg);
            s_fail_reason (self, run, reason);
        } else
            s_db_failed (self, "recording a finished run", &err);
        return -1;
    }
    vd_log_set_run (run->id);
    if (strcmp (out.status, "failed") == 0) {
        vd_warn ("run failed: %s", out.reason);
        s_broadcast_abort (self, run->id);
    } else if (strcmp (out.status, "gone") == 0)
        vd_debug ("run was no longer running, outcome ignored");
    else {
        vd_info ("run finished: %s, %" PRId64 " records", out.status, out.records);
        orch_active_remember (self->active, run->id);
    }
    vd_log_set_run (0);
    s_release (self, run);
    return 0;
}

/*  Writes what was decided about runs, then forgets them. */
static void
s_settle (orch_engine_t *self)
{
    size_t i = 0;
    while (i < orch_active_size (self->active)) {
        orch_active_run_t *run = orch_active_at (self->active, i);
        if (!(run->failure || (run->extracted && run->loaded)) || !s_db_ready (self)) {
            i++;
            continue;
        }
        int rc;
        if (run->failure)
            rc = s_record_failure (self, run);
        else {
            rc = s_record_outcome (self, run);
            if (rc < 0 && run->failure) /* could not be recorded: failed */
                rc = s_record_failure (self, run);
        }
        if (rc == 0) {
            self->db_error_logged = false;
            orch_active_remove (self->active, run->id);
        } else
            i++;
    }
}

/*  Erases raw content and run history past their retention. */
static void
s_retain (orch_engine_t *self)
{
    vd_error_t err;
    vd_error_clear (&err);
    int64_t n = orch_lifecycle_retain (self->conn, self->config.retention_raw_days,
                                       self->config.retention_runs_days, &err);
    if (n < 0)
        s_db_failed (self, "applying retention", &err);
    else if (n > 0)
        vd_info ("retention: %" PRId64 " old row(s) of raw content or history erased", n);
}

/*  --------------------------------------------------------------------
    Timers: liveness and stalls */

static void
s_service_died (orch_engine_t *self, orch_service_t *s)
{
    char reason[400];
    snprintf (reason, sizeof reason, "%s %s stopped sending heartbeats", s->hb.role,
              s->hb.instance);
    vd_warn ("%s", reason);
    vd_error_t err;
    vd_error_clear (&err);
    if (s_db_ready (self) && orch_services_mark_dead (self->conn, s->hb.instance, &err) < 0)
        s_db_failed (self, "marking a service dead", &err);
    if (strcmp (s->hb.role, "recommender") == 0) {
        /* it takes part in no sync run: only its recommendation run fails */
        const char *params[] = {s->hb.instance, reason};
        if (s_db_ready (self) &&
            vd_db_command (self->conn,
                           "UPDATE reco.runs SET status = 'failed', finished_at = now(),"
                           " error = $2 WHERE worker = $1 AND status = 'running'",
                           2, params, &err) < 0)
            s_db_failed (self, "failing a recommendation run", &err);
        return;
    }
    /* the failure names the service (role, as a failure it reports itself)
       and its instance: `vendange status` shows it while that is recent */
    bool extractor = orch_role_is_extractor (s->hb.role);
    for (size_t i = 0; i < orch_active_size (self->active); i++) {
        orch_active_run_t *run = orch_active_at (self->active, i);
        if (!extractor || strcmp (run->extractor, s->hb.instance) == 0)
            s_fail (self, run,
                    json_pack ("{s:o, s:s, s:s}", "reason", orch_json_text (reason), "service",
                               s->hb.role, "instance", s->hb.instance));
    }
}

static void
s_check_timers (orch_engine_t *self, int64_t now)
{
    orch_service_t *s;
    while ((s = orch_registry_next_dead (self->registry, now, self->config.dead_after_ms)))
        s_service_died (self, s);
    orch_registry_prune (self->registry, now, FORGET_DEAD_MS);
    for (size_t i = 0; i < orch_active_size (self->active); i++) {
        orch_active_run_t *run = orch_active_at (self->active, i);
        if (!run->failure && now - run->last_activity_ms > self->config.stall_timeout_ms) {
            char reason[200];
            snprintf (reason, sizeof reason, "run stalled: no progress for %" PRId64 " s",
                      self->config.stall_timeout_ms / 1000);
            s_fail_reason (self, run, reason);
        }
    }
}

/*  --------------------------------------------------------------------
    Dispatch */

/*  The queued-run wait entry of id (created when missing). */
static s_wait_t *
s_wait (orch_engine_t *self, int64_t id)
{
    for (size_t i = 0; i < self->nwaits; i++)
        if (self->waits[i].id == id)
            return &self->waits[i];
    if (self->nwaits == self->waits_cap) {
        size_t cap = self->waits_cap ? self->waits_cap * 2 : 16;
        s_wait_t *w = realloc (self->waits, cap * sizeof *w);
        if (!w)
            return NULL;
        self->waits = w;
        self->waits_cap = cap;
    }
    self->waits[self->nwaits] = (s_wait_t){.id = id};
    return &self->waits[self->nwaits++];
}

/*  Fails a queued run straight in the database. */
static void
s_fail_queued (orch_engine_t *self, int64_t id, const char *reason)
{
    vd_error_t err;
    vd_error_clear (&err);
    json_t *error = json_pack ("{s:o}", "reason", orch_json_text (reason));
    vd_log_set_run (id);
    if (error && orch_runs_fail (self->conn, id, error, &err) < 0)
        s_db_failed (self, "failing a queued run", &err);
    else
        vd_warn ("run failed: %s", reason);
    vd_log_set_run (0);
    json_decref (error);
}

/*  Hands queued run (row i) to extractor ext. */
static void
s_start (orch_engine_t *self, orch_service_t *ext, const PGresult *res, int i, int64_t id)
{
    vd_error_t err;
    vd_error_clear (&err);
    json_t *msg = orch_runs_start_message (res, i, id, &self->config.secret_key, &err);
    if (!msg) {
        char reason[800];
        snprintf (reason, sizeof reason, "%s%s%s", err.msg, err.hint[0] ? ": " : "", err.hint);
        s_fail_queued (self, id, reason);
        return;
    }
    const char *cursor = PQgetisnull (res, i, 6) ? NULL : PQgetvalue (res, i, 6);
    int rc = orch_runs_start (self->conn, id, ext->hb.instance, cursor, &err);
    orch_active_run_t *run = NULL;
    if (rc < 0)
        s_db_failed (self, "starting a run", &err);
    else if (rc > 0)
        run = orch_active_add (self->active, id, PQgetvalue (res, i, 1), ext->hb.instance,
                               zclock_mono ());
    if (run) {
        ext->busy_run = id;
        ext->assigned_ms = zclock_mono ();
        vd_log_set_run (id);
        vd_info ("run started: connector %s on %s", run->connector, ext->hb.instance);
        vd_log_set_run (0);
        if (s_send (self, ext->identity, msg) < 0) {
            char reason[300];
            snprintf (reason, sizeof reason, "could not send the start message to %s",
                      ext->hb.instance);
            s_fail_reason (self, run, reason);
        }
    }
    json_decref (msg);
}

/*  One queued run (row i): start it, keep it waiting, or fail it when
    what it needs has been missing for the dispatch timeout. */
static void
s_dispatch_one (orch_engine_t *self, const PGresult *res, int i, int64_t now)
{
    int64_t id = 0;
    vd_parse_int (PQgetvalue (res, i, 0), 1, INT64_MAX, &id);
    const char *type = PQgetvalue (res, i, 2);
    if (PQgetisnull (res, i, 4)) {
        char reason[200];
        snprintf (reason, sizeof reason, "connector \"%s\" no longer exists",
                  PQgetvalue (res, i, 1));
        s_fail_queued (self, id, reason);
        return;
    }
    s_wait_t *w = s_wait (self, id);
    if (!w)
        return;
    w->seen = true;
    char missing[300];
    orch_registry_missing (self->registry, type, missing, sizeof missing);
    if (missing[0] == '\0') {
        w->missing_since_ms = 0;
        orch_service_t *ext = orch_registry_idle_extractor (self->registry, type);
        if (ext)
            s_start (self, ext, res, i, id);
        return; /* every extractor busy: wait in the queue */
    }
    if (w->missing_since_ms == 0)
        w->missing_since_ms = now;
    else if (now - w->missing_since_ms >= self->config.dispatch_timeout_ms)
        s_fail_queued (self, id, missing);
}

static void
s_dispatch (orch_engine_t *self, int64_t now)
{
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res = orch_runs_queued (self->conn, &err);
    if (!res) {
        s_db_failed (self, "reading queued runs", &err);
        return;
    }
    for (size_t k = 0; k < self->nwaits; k++)
        self->waits[k].seen = false;
    for (int i = 0; i < PQntuples (res); i++)
        s_dispatch_one (self, res, i, now);
    PQclear (res);
    size_t kept = 0;
    for (size_t k = 0; k < self->nwaits; k++)
        if (self->waits[k].seen)
            self->waits[kept++] = self->waits[k];
    self->nwaits = kept;
}

/*  --------------------------------------------------------------------
    Messages */

/*  A service busy with a run that is not running here (an orchestrator
    restart, a failure it missed) is told once to drop it. */
static void
s_check_stale (orch_engine_t *self, orch_service_t *s)
{
    int64_t run_id = s->hb.reported_run;
    if (strcmp (s->hb.state, "busy") != 0 || run_id == 0 || run_id == s->aborted_run ||
        orch_active_find (self->active, run_id) || orch_active_recent (self->active, run_id))
        return;
    s->aborted_run = run_id;
    vd_info ("%s is busy with run %" PRId64 " which is not running, telling it to abort",
             s->hb.instance, run_id);
    json_t *msg = json_pack ("{s:s, s:I}", "type", "abort", "run_id", (json_int_t)run_id);
    if (msg && s_send (self, s->identity, msg) < 0)
        vd_debug ("abort not delivered to %s", s->hb.instance);
    json_decref (msg);
}

static void
s_on_heartbeat (orch_engine_t *self, json_t *msg, zframe_t *identity)
{
    orch_heartbeat_t hb;
    vd_error_t err;
    vd_error_clear (&err);
    if (orch_heartbeat_parse (msg, &hb, &err) < 0) {
        vd_warn ("%s, dropped", err.msg);
        return;
    }
    orch_hb_change_t change;
    orch_service_t *s =
        orch_registry_heartbeat (self->registry, &hb, identity, zclock_mono (), &change);
    if (!s)
        return;
    if (change == ORCH_HB_NEW)
        vd_info ("%s connected: %s, pid %" PRId64 " on %s", hb.role, hb.instance, hb.pid,
                 hb.host[0] ? hb.host : "?");
    else if (change == ORCH_HB_REVIVED)
        vd_info ("%s %s is sending heartbeats again", hb.role, hb.instance);
    if (change != ORCH_HB_KNOWN)
        orch_hooks_service_seen (self->hooks, self->conn, s);
    if (s_db_ready (self) && orch_services_upsert (self->conn, s, &err) < 0)
        s_db_failed (self, "recording a heartbeat", &err);
    s_check_stale (self, s);
}

/*  Writes last_progress_at at most once a second per run. */
static void
s_touch (orch_engine_t *self, orch_active_run_t *run)
{
    int64_t now = zclock_mono ();
    if (now - run->last_touch_ms < TOUCH_EVERY_MS || !s_db_ready (self))
        return;
    run->last_touch_ms = now;
    vd_error_t err;
    vd_error_clear (&err);
    if (orch_runs_touch (self->conn, run->id, &err) < 0)
        s_db_failed (self, "recording progress", &err);
}

static void
s_on_progress (orch_engine_t *self, json_t *msg, orch_active_run_t *run)
{
    int64_t records = 0;
    orch_json_int (msg, "records", &records);
    vd_debug ("progress from %s: %" PRId64 " records", orch_json_str (msg, "role"), records);
    s_touch (self, run);
}

/*  The parts of an "extracted" message finalize needs, checked; NULL
    when it is malformed. */
static json_t *
s_extracted_clean (json_t *msg)
{
    int64_t records;
    json_t *files = json_object_get (msg, "files");
    json_t *errors = json_object_get (msg, "errors");
    json_t *cursor = json_object_get (msg, "cursor_after");
    if (orch_json_int (msg, "records", &records) < 0 || records < 0 ||
        (files && !json_is_null (files) && !json_is_array (files)) ||
        (errors && !json_is_null (errors) && !json_is_array (errors)) ||
        (cursor && !json_is_null (cursor) && !json_is_string (cursor)))
        return NULL;
    return json_pack ("{s:I, s:o, s:o, s:o}", "records", (json_int_t)records, "files",
                      json_is_array (files) ? json_incref (files) : json_array (), "errors",
                      json_is_array (errors) ? json_incref (errors) : json_array (), "cursor_after",
                      json_is_string (cursor) ? json_incref (cursor) : json_null ());
}

static void
s_on_extracted (orch_engine_t *self, json_t *msg, orch_active_run_t *run)
{
    const char *from = orch_json_str (msg, "instance");
    if (!from || strcmp (from, run->extractor) != 0) {
        vd_warn ("\"extracted\" from %s, which does not hold the run, ignored", from ? from : "?");
        return;
    }
    if (run->extracted) {
        vd_debug ("duplicate \"extracted\" ignored");
        return;
    }
    run->extracted = s_extracted_clean (msg);
    if (!run->extracted) {
        s_fail_reason (self, run, "the extractor sent a malformed \"extracted\" message");
        return;
    }
    int64_t records = 0;
    orch_json_int (run->extracted, "records", &records);
    vd_info ("extraction finished: %" PRId64 " records from %zu files", records,
             json_array_size (json_object_get (run->extracted, "files")));
    s_touch (self, run);
}

static void
s_on_loaded (orch_engine_t *self, json_t *msg, orch_active_run_t *run)
{
    if (run->loaded) {
        vd_debug ("duplicate \"loaded\" ignored");
        return;
    }
    run->loaded = true;
    if (orch_json_int (msg, "records", &run->loaded_records) < 0)
        run->loaded_records = -1;
    vd_info ("load finished: %" PRId64 " records committed", run->loaded_records);
    s_touch (self, run);
}

static void
s_on_failed (orch_engine_t *self, json_t *msg, orch_active_run_t *run)
{
    json_t *error = json_object_get (msg, "error");
    const char *reason = orch_json_str (error, "reason");
    const char *role = orch_json_str (msg, "role");
    json_t *out = json_pack ("{s:o}", "reason",
                             orch_json_text (reason ? reason
                                                    : "the "
                                                      "service gave no reason"));
    const char *more[] = {"detail", "hint", "file"}; /* each when the service gave one */
    for (size_t i = 0; out && i < sizeof more / sizeof more[0]; i++) {
        const char *text = orch_json_str (error, more[i]);
        if (text && text[0])
            json_object_set_new (out, more[i], orch_json_text (text));
    }
    json_int_t line = json_integer_value (json_object_get (error, "line"));
    if (out && line > 0 && json_object_get (out, "file"))
        json_object_set_new (out, "line", json_integer (line));
    if (out && role)
        json_object_set_new (out, "service", orch_json_text (role));
    s_fail (self, run, out);
}

/*  True when identity is the connection of the extractor run was handed
    to (its instance name alone could be claimed by another process). */
static bool
s_holds (orch_engine_t *self, orch_active_run_t *run, zframe_t *identity)
{
    orch_service_t *s = orch_registry_find (self->registry, run->extractor);
    return s && s->identity && identity && zframe_eq (s->identity, identity);
}

typedef void (s_run_handler_fn) (orch_engine_t *self, json_t *msg, orch_active_run_t *run);

static const struct {
    const char *type;
    s_run_handler_fn *fn;
} s_run_handlers[] = {
    {"progress", s_on_progress},
    {"extracted", s_on_extracted},
    {"loaded", s_on_loaded},
    {"failed", s_on_failed},
};

/*  An extractor asks for the per-line hashes of a file of its run: the
    trusted set (orch_lines) as a second frame, or none. */
static void
s_on_line_hashes (orch_engine_t *self, json_t *msg, zframe_t *identity)
{
    int64_t id = 0;
    const char *file = orch_json_str (msg, "file");
    const char *instance = orch_json_str (msg, "instance");
    orch_active_run_t *run =
        orch_json_int (msg, "run_id", &id) == 0 ? orch_active_find (self->active, id) : NULL;
    uint8_t *hashes = NULL;
    size_t n = 0;
    char rules[64] = "";
    vd_error_t err;
    vd_error_clear (&err);
    /* only the extractor that holds the run is answered with a set */
    if (run && file && instance && strcmp (instance, run->extractor) == 0 &&
        s_holds (self, run, identity) && s_db_ready (self) &&
        orch_lines_trusted (self->conn, run->connector, file, id, &hashes, &n, rules, sizeof rules,
                            &err) < 0)
        s_db_failed (self, "reading per-line hashes", &err);
    json_t *reply =
        json_pack ("{s:s, s:I, s:s?, s:s, s:I}", "type", "line_hashes", "run_id", (json_int_t)id,
                   "file", file, "rules", rules, "lines", (json_int_t)n);
    vd_log_set_run (id);
    vd_debug ("per-line hashes of %s: %zu trusted", file ? file : "?", n);
    vd_log_set_run (0);
    if (reply)
        s_send_parts (self, identity, reply, hashes, n * 16);
    json_decref (reply);
    free (hashes);
}

static void
s_handle (orch_engine_t *self, json_t *msg, zframe_t *identity)
{
    const char *type = orch_json_str (msg, "type");
    if (type && strcmp (type, "heartbeat") == 0) {
        s_on_heartbeat (self, msg, identity);
        return;
    }
    if (type && strcmp (type, "line_hashes") == 0) {
        s_on_line_hashes (self, msg, identity);
        return;
    }
    if (type && strcmp (type, "run_status") == 0) {
        vd_error_t err;
        vd_error_clear (&err);
        json_t *reply =
            s_db_ready (self) ? orch_trust_run_status (self->active, self->conn, msg, &err) : NULL;
        if (reply && s_send (self, identity, reply) < 0)
            vd_debug ("run_status answer not delivered");
        json_decref (reply); /* no answer: the normalizer asks again */
        return;
    }
    if (type && strcmp (type, "tested") == 0) {
        vd_error_t err;
        vd_error_clear (&err);
        if (s_db_ready (self) && orch_tests_answer (self->tests, self->conn, msg, &err) < 0)
            s_db_failed (self, "recording a connector test", &err);
        return;
    }
    if (orch_hooks_handle (self->hooks, self->conn, msg, identity))
        return;
    for (size_t i = 0; type && i < sizeof s_run_handlers / sizeof s_run_handlers[0]; i++) {
        if (strcmp (type, s_run_handlers[i].type) != 0)
            continue;
        int64_t id = 0;
        orch_active_run_t *run =
            orch_json_int (msg, "run_id", &id) == 0 ? orch_active_find (self->active, id) : NULL;
        if (!run || run->failure) {
            vd_debug ("\"%s\" for run %" PRId64 ", which is not running here, ignored", type, id);
            return;
        }
        if (orch_role_is_extractor (orch_json_str (msg, "role")) &&
            !s_holds (self, run, identity)) {
            vd_warn ("\"%s\" for run %" PRId64 " from an extractor that does not hold it, "
                     "ignored",
                     type, id);
            return;
        }
        run->last_activity_ms = zclock_mono ();
        vd_log_set_run (id);
        s_run_handlers[i].fn (self, msg, run);
        vd_log_set_run (0);
        return;
    }
    vd_debug ("control message of unknown type ignored");
}

static void
s_receive (orch_engine_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return;
    zframe_t *identity = zmsg_first (msg);
    zframe_t *body = zmsg_last (msg);
    json_error_t jerr;
    jerr.text[0] = '\0';
    json_t *j = NULL;
    if (zmsg_size (msg) >= 2)
        j = json_loadb ((const char *)zframe_data (body), zframe_size (body),
                        JSON_REJECT_DUPLICATES, &jerr);
    char why[300];
    if (json_is_object (j) && !orch_trust_check (j, vd_curve_peer_role (body), why, sizeof why))
        vd_warn ("control message \"%s\" dropped: %s",
                 orch_json_str (j, "type") ? orch_json_str (j, "type") : "?", why);
    else if (json_is_object (j))
        s_handle (self, j, identity);
    else
        vd_log_detail (VD_LOG_WARN, jerr.text[0] ? jerr.text : "not a JSON object", NULL,
                       "malformed control message dropped");
    json_decref (j);
    zmsg_destroy (&msg);
}

/*  --------------------------------------------------------------------
    Life */

/*  Binds exactly the configured address over CURVE: a bind that cannot
    be made as written stops the start (no other interface instead). */
static int
s_bind (orch_engine_t *self, vd_error_t *err)
{
    const char *at =
        self->config.bind && *self->config.bind ? self->config.bind : self->config.endpoint;
    const char *name = self->config.bind && *self->config.bind ? "VENDANGE_ORCHESTRATOR_BIND"
                                                               : "VENDANGE_ORCHESTRATOR_ENDPOINT";
    if (vd_curve_server (self->config.curve, self->router, "orchestrator", err) < 0)
        return -1;
    if (zsock_bind (self->router, "%s", at) >= 0)
        return 0;
    int bind_errno = zmq_errno ();
    vd_error_set (err, VD_ERR_PERMANENT, "cannot bind %s \"%s\"", name, at);
    vd_error_detail (err, "zmq: %s", zmq_strerror (bind_errno));
    snprintf (err->hint, sizeof err->hint,
              "set VENDANGE_ORCHESTRATOR_BIND to an address of this host (tcp://*:PORT: every "
              "interface; tcp://127.0.0.1:PORT: loopback); is another orchestrator running?");
    return -1;
}

orch_engine_t *
orch_engine_new (PGconn **conn_p, const orch_engine_config_t *config, vd_error_t *err)
{
    orch_engine_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->conn = *conn_p;
    *conn_p = NULL;
    self->reset_backoff_ms = 250;
    self->registry = orch_registry_new ();
    self->active = orch_active_new ();
    self->tests =
        orch_tests_new (&config->secret_key, s_send_fn, self, config->vat_rate, config->timezone);
    self->hooks =
        orch_hooks_new (self, s_send, self->registry, &config->secret_key, config->reco_after_sync);
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->registry || !self->active || !self->tests || !self->hooks || !self->router) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        goto err;
    }
    zsock_set_router_mandatory (self->router, 1); /* unreachable peer: an error */
    zsock_set_sndtimeo (self->router, 0);
    zsock_set_linger (self->router, 0);
    zsock_set_maxmsgsize (self->router, MAX_MESSAGE);
    if (s_bind (self, err) < 0)
        goto err;
    if (s_lock (self->conn, err) < 0 || orch_wake_listen (self->conn, err) < 0)
        goto err;
    int failed = orch_runs_recover (self->conn, err);
    if (failed < 0 || orch_services_reset (self->conn, err) < 0)
        goto err;
    vd_error_t serr;
    vd_error_clear (&serr);
    int sealed = orch_secrets_upgrade (self->conn, &config->secret_key, &serr);
    if (sealed < 0)
        vd_log_error (VD_LOG_WARN, &serr);
    else if (sealed > 0)
        vd_info ("sealed the secrets of %d connector(s) stored in clear", sealed);
    if (failed > 0)
        vd_warn ("%d run(s) left running by a previous orchestrator marked failed", failed);
    return self;
err:
    orch_engine_destroy (&self);
    return NULL;
}

/*  On a clean stop, runs in progress fail now rather than at the next
    start, and every service is told to drop them. */
static void
s_fail_active (orch_engine_t *self)
{
    for (size_t i = 0; i < orch_active_size (self->active); i++)
        s_fail_reason (self, orch_active_at (self->active, i),
                       "orchestrator stopped while the run was in progress");
    if (PQstatus (self->conn) == CONNECTION_OK)
        s_settle (self);
}

int
orch_engine_run (orch_engine_t *self)
{
    vd_info ("control loop ready on %s", self->config.endpoint);
    while (!zsys_interrupted) {
        int which = orch_wake_wait (self->router, self->conn, POLL_MS);
        if (which == 1) {
            int n = 0;
            do
                s_receive (self);
            while (++n < MAX_BATCH && !zsys_interrupted &&
                   (zsock_events (self->router) & ZMQ_POLLIN));
        } else if (which < 0)
            break;
        int64_t now = zclock_mono ();
        /* a run or a test was queued: dispatch now, not at the next tick */
        if (orch_wake_pending (self->conn)) {
            self->next_dispatch_ms = now;
            orch_hooks_wake (self->hooks); /* or a webhook connector changed */
        }
        s_check_timers (self, now);
        s_settle (self);
        if (now >= self->next_dispatch_ms && s_db_ready (self)) {
            s_dispatch (self, now);
            vd_error_t err;
            vd_error_clear (&err);
            if (orch_tests_dispatch (self->tests, self->conn, self->registry, now,
                                     self->config.dispatch_timeout_ms, &err) < 0)
                s_db_failed (self, "dispatching connector tests", &err);
            if (orch_schedule_tick (self->conn, self->config.timezone, &err) < 0)
                s_db_failed (self, "queueing scheduled runs", &err);
            if (now >= self->next_retention_ms) {
                s_retain (self);
                self->next_retention_ms = now + RETENTION_EVERY_MS;
            }
            self->next_dispatch_ms =
                now + (self->config.dispatch_poll_ms > 0 ? self->config.dispatch_poll_ms
                                                         : DISPATCH_EVERY_MS);
        }
        if (!self->db_down)
            orch_hooks_tick (self->hooks, self->conn, now);
    }
    s_fail_active (self);
    return 0;
}

void
orch_engine_destroy (orch_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    orch_engine_t *self = *self_p;
    vd_secret_key_clear (&self->config.secret_key);
    zsock_destroy (&self->router);
    orch_registry_destroy (&self->registry);
    orch_active_destroy (&self->active);
    orch_tests_destroy (&self->tests);
    orch_hooks_destroy (&self->hooks);
    free (self->waits);
    if (self->conn)
        PQfinish (self->conn);
    free (self);
    *self_p = NULL;
}

/*  --------------------------------------------------------------------
    Self test: the run messages, without sockets or a database. */

int
orch_engine_test (bool verbose)
{
    int failures = 0;
    /* "extracted" is kept with its count, its file and error lists, and a
       text cursor; anything else in those places is malformed */
    json_t *ok = json_pack ("{s:I, s:[{s:s}], s:n, s:s}", "records", (json_int_t)3, "files", "file",
                            "ventes.csv", "errors", "cursor_after", "c1");
    json_t *clean = s_extracted_clean (ok);
    VD_CHECK (&failures, clean && json_integer_value (json_object_get (clean, "records")) == 3 &&
                             json_array_size (json_object_get (clean, "files")) == 1 &&
                             json_array_size (json_object_get (clean, "errors")) == 0 &&
                             strcmp (orch_json_str (clean, "cursor_after"), "c1") == 0);
    json_decref (clean);
    static const char *bad[] = {
        "{\"records\": -1}",
        "{\"files\": []}",
        "{\"records\": 1, \"files\": \"ventes.csv\"}",
        "{\"records\": 1, \"errors\": {}}",
        "{\"records\": 1, \"cursor_after\": 5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *msg = json_loads (bad[i], 0, NULL);
        json_t *c = s_extracted_clean (msg);
        VD_CHECK_WHY (&failures, msg && !c, bad[i]);
        json_decref (c);
        json_decref (msg);
    }
    /* kept from the run's holder only, and once; "loaded" once */
    orch_engine_t engine = {0};
    orch_active_run_t run = {
        .id = 9, .extractor = "extractor-isavigne:a", .last_touch_ms = zclock_mono ()};
    json_object_set_new (ok, "instance", json_string ("extractor-isavigne:b"));
    s_on_extracted (&engine, ok, &run);
    VD_CHECK (&failures, run.extracted == NULL);
    json_object_set_new (ok, "instance", json_string ("extractor-isavigne:a"));
    s_on_extracted (&engine, ok, &run);
    json_t *first = run.extracted;
    s_on_extracted (&engine, ok, &run);
    VD_CHECK (&failures, first && run.extracted == first);
    json_t *loaded = json_pack ("{s:I}", "records", (json_int_t)3);
    s_on_loaded (&engine, loaded, &run);
    json_object_set_new (loaded, "records", json_integer (4));
    s_on_loaded (&engine, loaded, &run);
    VD_CHECK (&failures, run.loaded && run.loaded_records == 3);
    json_decref (run.extracted);
    json_decref (loaded);
    json_decref (ok);
    if (verbose)
        printf ("  orch_engine: %d failures\n", failures);
    return failures ? -1 : 0;
}
