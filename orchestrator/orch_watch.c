/*  orch_watch - the orchestrator's watch actor. */
#include "vendange.h"
#include "vd_db.h"
#include "vd_outbox.h"
#include "orch_alerts.h"
#include "orch_watch.h"
#include <czmq.h>

#define POLL_MS 1000
#define DB_RETRY_MS 5000
#define PURGE_EVERY_MS (3600 * 1000)

struct orch_watch {
    zactor_t *actor;
    orch_watch_config_t config;
    char *dsn, *home, *tz, *webhook_addr;
};

typedef struct {
    orch_watch_t *owner;
    PGconn *conn;
    int64_t next_eval_ms, next_connect_ms, next_purge_ms;
    bool terminated, down_logged;
} self_t;

static const char *const s_origins[] = {"alert", "alert-test", "alert-digest"};

/*  The actor's connection, (re)opened when needed; NULL while PostgreSQL
    is away (tried again every DB_RETRY_MS). */
static PGconn *
s_conn (self_t *self, int64_t now)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return self->conn;
    if (now < self->next_connect_ms)
        return NULL;
    if (self->conn)
        PQfinish (self->conn);
    vd_error_t err;
    vd_error_clear (&err);
    self->conn = vd_db_connect (self->owner->dsn, "vendange-orchestrator-watch", &err);
    if (!self->conn) {
        if (!self->down_logged)
            vd_log_error (VD_LOG_WARN, &err);
        self->down_logged = true;
        self->next_connect_ms = now + DB_RETRY_MS;
        return NULL;
    }
    self->down_logged = false;
    return self->conn;
}

static void
s_turn (self_t *self)
{
    int64_t now = zclock_mono ();
    PGconn *conn = s_conn (self, now);
    if (!conn)
        return;
    const orch_watch_config_t *c = &self->owner->config;
    vd_error_t err;
    vd_error_clear (&err);
    if (now >= self->next_eval_ms) {
        orch_alert_env_t env = {.home = self->owner->home,
                                .webhook_addr = self->owner->webhook_addr,
                                .spool_max_mb = c->spool_max_mb};
        if (orch_alerts_evaluate (conn, &env, &err) < 0 ||
            orch_alerts_digests (conn, self->owner->tz, &err) < 0)
            vd_log_error (VD_LOG_WARN, &err);
        self->next_eval_ms = now + c->interval_s * 1000;
    }
    if (now >= self->next_purge_ms) {
        vd_error_clear (&err);
        if (orch_alerts_purge (conn, c->retention_days, &err) < 0)
            vd_log_error (VD_LOG_WARN, &err);
        self->next_purge_ms = now + PURGE_EVERY_MS;
    }
    vd_outbox_policy_t policy = {.retry_s = c->retry_s, .max_attempts = c->max_attempts};
    orch_alerts_sender_t sender = {.conn = conn, .key = &c->secret_key};
    vd_error_clear (&err);
    int n;
    do /* a full batch: there may be more due */
        n = vd_outbox_deliver_due (conn, s_origins, 3, &policy, orch_alerts_deliver, &sender, &err);
    while (n >= 20 && !zsys_interrupted);
    if (n < 0)
        vd_log_error (VD_LOG_WARN, &err);
}

static void
s_actor (zsock_t *pipe, void *args)
{
    self_t self = {.owner = args};
    self.next_eval_ms = zclock_mono () + self.owner->config.interval_s * 1000;
    zpoller_t *poller = zpoller_new (pipe, NULL);
    zsock_signal (pipe, 0);
    while (poller && !self.terminated) {
        zsock_t *which = zpoller_wait (poller, POLL_MS);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            self.terminated = !command || streq (command, "$TERM");
            zstr_free (&command);
        } else if (zpoller_terminated (poller))
            break; /* interrupted: the owner sends $TERM */
        if (!self.terminated)
            s_turn (&self);
    }
    zpoller_destroy (&poller);
    if (self.conn)
        PQfinish (self.conn);
}

orch_watch_t *
orch_watch_new (const orch_watch_config_t *config, vd_error_t *err)
{
    orch_watch_t *self = calloc (1, sizeof *self);
    if (self) {
        self->config = *config;
        self->dsn = strdup (config->dsn ? config->dsn : "");
        self->home = strdup (config->home ? config->home : "");
        self->tz = strdup (config->timezone ? config->timezone : "UTC");
        self->webhook_addr = strdup (config->webhook_addr ? config->webhook_addr : "");
    }
    if (!self || !self->dsn || !self->home || !self->tz || !self->webhook_addr) {
        orch_watch_destroy (&self);
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        return NULL;
    }
    self->config.dsn = self->dsn;
    self->config.home = self->home;
    self->config.timezone = self->tz;
    self->config.webhook_addr = self->webhook_addr;
    self->actor = zactor_new (s_actor, self);
    if (!self->actor) {
        orch_watch_destroy (&self);
        vd_error_set (err, VD_ERR_TRANSIENT, "cannot start the watch thread");
    }
    return self;
}

void
orch_watch_destroy (orch_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    orch_watch_t *self = *self_p;
    zactor_destroy (&self->actor);
    vd_secret_key_clear (&self->config.secret_key);
    free (self->dsn);
    free (self->home);
    free (self->tz);
    free (self->webhook_addr);
    free (self);
    *self_p = NULL;
}

int
orch_watch_test (bool verbose)
{
    int failed = 0;
    /* starts and stops at once without a database (the first turn waits
       one interval) */
    orch_watch_config_t c = {.dsn = "postgresql:///nonexistent?connect_timeout=1",
                             .interval_s = 3600,
                             .retry_s = 1,
                             .max_attempts = 1};
    vd_error_t err;
    vd_error_clear (&err);
    orch_watch_t *w = orch_watch_new (&c, &err);
    failed += w == NULL;
    orch_watch_destroy (&w);
    failed += w != NULL;
    orch_watch_destroy (&w);
    orch_watch_destroy (NULL);
    if (verbose)
        printf ("orch_watch_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
