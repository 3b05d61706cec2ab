/*  hook_forward - from the spool to the pipeline, exactly once. */
#include "hook_forward.h"
#include "vd_msg.h"

#define MAX_OUTSTANDING 32    /* batches sent and not confirmed        */
#define REQUEST_RETRY_MS 5000 /* a run request without answer is resent */
#define ERROR_RETRY_MS 2000   /* after a refused request or a spool error */
#define SEND_RETRY_MS 200     /* the pipeline's queue is full            */
#define MAX_BACKOFF_SHIFT 4

typedef struct {
    char name[72];
    int source;
    int64_t run_id; /* 0: none                                  */
    int64_t period; /* the run's period (wall time / run_s)     */
    uint64_t next_seq;
    hook_file_t *pending; /* spooled files not in a batch yet */
    size_t npending, cap_pending;
    bool requesting;
    char request_id[48];
    int64_t request_ms, retry_at_ms;
} s_conn_t;

typedef struct {
    int64_t run;
    uint64_t seq;
    msgpack_sbuffer msg; /* the RAW message, kept until confirmed */
    size_t events;
    int64_t due_ms;
    int tries;
} s_batch_t;

struct hook_forward {
    hook_forward_config_t config;
    s_conn_t *conns;
    size_t nconns, cap_conns;
    s_batch_t *batches;
    size_t nbatches;
    uint64_t requests;
};

static int64_t
s_period (const hook_forward_t *self)
{
    return (int64_t)time (NULL) / self->config.run_s;
}

static s_conn_t *
s_conn (hook_forward_t *self, const char *name, int source)
{
    for (size_t i = 0; i < self->nconns; i++)
        if (strcmp (self->conns[i].name, name) == 0)
            return &self->conns[i];
    if (source < 0)
        return NULL;
    if (self->nconns == self->cap_conns) {
        size_t cap = self->cap_conns ? self->cap_conns * 2 : 8;
        s_conn_t *grown = realloc (self->conns, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->conns = grown;
        self->cap_conns = cap;
    }
    s_conn_t *c = &self->conns[self->nconns++];
    memset (c, 0, sizeof *c);
    snprintf (c->name, sizeof c->name, "%s", name);
    c->source = source;
    c->next_seq = 1;
    return c;
}

static void
s_save_state (hook_forward_t *self, s_conn_t *c)
{
    json_t *j = json_pack ("{s:s, s:i, s:I, s:I, s:I}", "connector", c->name, "source", c->source,
                           "run_id", (json_int_t)c->run_id, "period", (json_int_t)c->period,
                           "next_seq", (json_int_t)c->next_seq);
    char *text = j ? json_dumps (j, JSON_COMPACT) : NULL;
    vd_error_t err;
    vd_error_clear (&err);
    if (!text || hook_spool_state_save (self->config.spool, c->name, text, &err) < 0)
        vd_log_error (VD_LOG_WARN, &err); /* recovery reads the batch folders too */
    free (text);
    json_decref (j);
}

static void
s_load_states (hook_forward_t *self)
{
    char **names = NULL;
    size_t n = hook_spool_state_list (self->config.spool, &names);
    for (size_t i = 0; i < n; i++) {
        char *text = hook_spool_state_load (self->config.spool, names[i]);
        json_t *j = text ? json_loads (text, 0, NULL) : NULL;
        json_t *source = json_object_get (j, "source");
        s_conn_t *c = json_is_integer (source)
                          ? s_conn (self, names[i], (int)json_integer_value (source))
                          : NULL;
        if (c) {
            c->run_id = json_integer_value (json_object_get (j, "run_id"));
            c->period = json_integer_value (json_object_get (j, "period"));
            c->next_seq = (uint64_t)json_integer_value (json_object_get (j, "next_seq"));
            if (c->next_seq < 1)
                c->next_seq = 1;
        }
        json_decref (j);
        free (text);
        free (names[i]);
    }
    free (names);
}

/*  The RAW message of a batch read back from the spool. */
static int
s_pack (hook_forward_t *self, int64_t run, uint64_t seq, s_batch_t *b, char *connector, size_t size,
        int *source)
{
    hook_batch_t batch;
    vd_error_t err;
    vd_error_clear (&err);
    if (hook_spool_batch_read (self->config.spool, run, seq, &batch, &err) < 0) {
        vd_log_error (VD_LOG_ERROR, &err);
        return -1;
    }
    msgpack_sbuffer_init (&b->msg);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &b->msg, vd_mp_write);
    vd_msg_pack_header (&pk, VD_MSG_RAW, run, seq, VD_TABLE_CONTACTS);
    msgpack_pack_map (&pk, 6);
    vd_mp_pack_cstr (&pk, "source");
    vd_mp_pack_cstr (&pk, hook_source_name ((hook_source_t)batch.source));
    vd_mp_pack_cstr (&pk, "connector");
    vd_mp_pack_cstr (&pk, batch.connector);
    vd_mp_pack_cstr (&pk, "file");
    vd_mp_pack_cstr (&pk, "webhook");
    vd_mp_pack_cstr (&pk, "ack");
    msgpack_pack_true (&pk);
    vd_mp_pack_cstr (&pk, "cols");
    msgpack_pack_array (&pk, HOOK_NFIELDS);
    for (int i = 0; i < HOOK_NFIELDS; i++)
        vd_mp_pack_cstr (&pk, hook_event_cols[i]);
    vd_mp_pack_cstr (&pk, "rows");
    msgpack_pack_array (&pk, (uint32_t)batch.events);
    vd_mp_write (&b->msg, batch.rows.data ? batch.rows.data : "", batch.rows.len);
    b->run = run;
    b->seq = seq;
    b->events = batch.events;
    b->due_ms = vd_clock_ms ();
    b->tries = 0;
    snprintf (connector, size, "%s", batch.connector);
    *source = batch.source;
    hook_spool_batch_free (&batch);
    return 0;
}

/*  Batches left by a previous life: sent again at once. */
static void
s_load_batches (hook_forward_t *self)
{
    hook_batch_id_t *ids = NULL;
    size_t n = hook_spool_recovered (self->config.spool, &ids);
    for (size_t i = 0; i < n && self->nbatches < n; i++) {
        char connector[72];
        int source;
        s_batch_t *b = &self->batches[self->nbatches];
        if (s_pack (self, ids[i].run, ids[i].seq, b, connector, sizeof connector, &source) < 0)
            continue;
        self->nbatches++;
        s_conn_t *c = s_conn (self, connector, source);
        if (c && c->run_id == ids[i].run && c->next_seq <= ids[i].seq)
            c->next_seq = ids[i].seq + 1; /* made, but the state was not saved */
    }
    if (n)
        vd_info ("%zu spooled batch(es) from a previous run of the gateway sent again",
                 self->nbatches);
}

hook_forward_t *
hook_forward_new (const hook_forward_config_t *config)
{
    hook_forward_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    hook_batch_id_t *ids = NULL;
    size_t recovered = hook_spool_recovered (config->spool, &ids);
    self->batches = calloc (recovered + MAX_OUTSTANDING, sizeof *self->batches);
    if (!self->batches) {
        free (self);
        return NULL;
    }
    s_load_states (self);
    s_load_batches (self);
    return self;
}

void
hook_forward_destroy (hook_forward_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hook_forward_t *self = *self_p;
    for (size_t i = 0; i < self->nconns; i++)
        free (self->conns[i].pending);
    for (size_t i = 0; i < self->nbatches; i++)
        msgpack_sbuffer_destroy (&self->batches[i].msg);
    free (self->conns);
    free (self->batches);
    free (self);
    *self_p = NULL;
}

size_t
hook_forward_outstanding (const hook_forward_t *self)
{
    return self->nbatches;
}

static size_t
s_outstanding_of (const hook_forward_t *self, int64_t run)
{
    size_t n = 0;
    for (size_t i = 0; i < self->nbatches; i++)
        n += self->batches[i].run == run;
    return n;
}

static void
s_take_files (hook_forward_t *self)
{
    hook_file_t *files = NULL;
    size_t n = hook_spool_take_ready (self->config.spool, &files);
    for (size_t i = 0; i < n; i++) {
        s_conn_t *c = s_conn (self, files[i].connector, files[i].source);
        if (!c)
            continue; /* out of memory: found again at the next start */
        if (c->npending == c->cap_pending) {
            size_t cap = c->cap_pending ? c->cap_pending * 2 : 64;
            hook_file_t *grown = realloc (c->pending, cap * sizeof *grown);
            if (!grown)
                continue;
            c->pending = grown;
            c->cap_pending = cap;
        }
        c->pending[c->npending++] = files[i];
    }
    free (files);
}

/*  Asks the orchestrator to close the connector's run and/or open one. */
static void
s_request (hook_forward_t *self, s_conn_t *c, int64_t close_run, bool open)
{
    snprintf (c->request_id, sizeof c->request_id, "%" PRIu64 "-%" PRId64, ++self->requests,
              vd_clock_ms ());
    json_t *msg = json_pack (
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "type", "hook_run", "request_id", c->request_id,
        "spool", hook_spool_id (self->config.spool), "connector", c->name, "connector_type",
        hook_source_name ((hook_source_t)c->source), "close_run", (json_int_t)close_run, "batches",
        (json_int_t)(close_run ? c->next_seq - 1 : 0), "open", open);
    if (msg && vd_ctl_send (self->config.ctl, msg) == 0) {
        c->requesting = true;
        c->request_ms = vd_clock_ms ();
    } else
        c->retry_at_ms = vd_clock_ms () + ERROR_RETRY_MS;
    json_decref (msg);
}

/*  Makes the next batch of the connector's run from its pending files. */
static void
s_make_batch (hook_forward_t *self, s_conn_t *c)
{
    size_t n = 0, events = 0;
    while (n < c->npending &&
           (n == 0 || events + c->pending[n].events <= self->config.batch_events))
        events += c->pending[n++].events;
    vd_error_t err;
    vd_error_clear (&err);
    uint64_t seq = c->next_seq;
    if (hook_spool_batch_make (self->config.spool, c->run_id, seq, c->pending, n, &err) < 0) {
        vd_log_error (VD_LOG_WARN, &err);
        c->retry_at_ms = vd_clock_ms () + ERROR_RETRY_MS;
        return;
    }
    c->next_seq++;
    s_save_state (self, c);
    memmove (c->pending, c->pending + n, (c->npending - n) * sizeof *c->pending);
    c->npending -= n;
    char connector[72];
    int source;
    if (s_pack (self, c->run_id, seq, &self->batches[self->nbatches], connector, sizeof connector,
                &source) == 0)
        self->nbatches++;
}

static void
s_conn_step (hook_forward_t *self, s_conn_t *c, int64_t now, int64_t period)
{
    if (now < c->retry_at_ms)
        return;
    if (c->requesting) {
        if (now - c->request_ms < REQUEST_RETRY_MS)
            return;
        c->requesting = false; /* no answer: ask again */
    }
    bool expired = c->run_id && period > c->period;
    if (expired && s_outstanding_of (self, c->run_id) == 0)
        s_request (self, c, c->run_id, c->npending > 0);
    else if (!c->run_id && c->npending)
        s_request (self, c, 0, true);
    else if (c->run_id && !expired && c->npending)
        while (c->npending && self->nbatches < MAX_OUTSTANDING && now >= c->retry_at_ms)
            s_make_batch (self, c);
}

static void
s_send_due (hook_forward_t *self, int64_t now)
{
    void *sock = zsock_resolve (self->config.output);
    for (size_t i = 0; i < self->nbatches; i++) {
        s_batch_t *b = &self->batches[i];
        if (now < b->due_ms)
            continue;
        if (zmq_send (sock, b->msg.data, b->msg.size, ZMQ_DONTWAIT) < 0) {
            b->due_ms = now + SEND_RETRY_MS; /* the normalizer's queue is full */
            continue;
        }
        int shift = b->tries < MAX_BACKOFF_SHIFT ? b->tries : MAX_BACKOFF_SHIFT;
        if (b->tries++)
            vd_info ("batch %" PRIu64 " of run %" PRId64 " sent again (no confirmation yet)",
                     b->seq, b->run);
        b->due_ms = now + (self->config.ack_timeout_ms << shift);
    }
}

void
hook_forward_tick (hook_forward_t *self)
{
    s_take_files (self);
    int64_t now = vd_clock_ms (), period = s_period (self);
    for (size_t i = 0; i < self->nconns; i++)
        s_conn_step (self, &self->conns[i], now, period);
    s_send_due (self, now);
}

static void
s_on_run (hook_forward_t *self, json_t *msg)
{
    const char *name = json_string_value (json_object_get (msg, "connector"));
    s_conn_t *c = name ? s_conn (self, name, -1) : NULL;
    const char *id = json_string_value (json_object_get (msg, "request_id"));
    if (!c || !c->requesting || !id || strcmp (id, c->request_id) != 0)
        return; /* an answer to an older request */
    c->requesting = false;
    const char *error = json_string_value (json_object_get (msg, "error"));
    if (error) {
        vd_warn ("run request for connector %s refused: %s", c->name, error);
        c->retry_at_ms = vd_clock_ms () + ERROR_RETRY_MS;
        return;
    }
    int64_t closed = json_integer_value (json_object_get (msg, "closed"));
    int64_t run = json_integer_value (json_object_get (msg, "run_id"));
    if (closed && closed == c->run_id) {
        vd_info ("run %" PRId64 " of connector %s closed", closed, c->name);
        c->run_id = 0;
    }
    if (run > 0 && run != c->run_id) {
        c->run_id = run;
        c->period = s_period (self);
        c->next_seq = 1;
        vd_info ("run %" PRId64 " opened for connector %s", run, c->name);
    }
    s_save_state (self, c);
}

static void
s_on_committed (hook_forward_t *self, json_t *msg)
{
    int64_t run = json_integer_value (json_object_get (msg, "run_id"));
    size_t i;
    json_t *seq;
    json_array_foreach (json_object_get (msg, "batches"), i, seq)
    {
        for (size_t k = 0; k < self->nbatches; k++) {
            s_batch_t *b = &self->batches[k];
            if (b->run != run || b->seq != (uint64_t)json_integer_value (seq))
                continue;
            hook_spool_batch_drop (self->config.spool, b->run, b->seq);
            vd_debug ("batch %" PRIu64 " of run %" PRId64 " committed: %zu events", b->seq, b->run,
                      b->events);
            msgpack_sbuffer_destroy (&b->msg);
            self->batches[k] = self->batches[--self->nbatches];
            break;
        }
    }
}

bool
hook_forward_handle (hook_forward_t *self, json_t *msg)
{
    const char *type = json_string_value (json_object_get (msg, "type"));
    if (type && strcmp (type, "hook_run") == 0)
        s_on_run (self, msg);
    else if (type && strcmp (type, "batch_committed") == 0)
        s_on_committed (self, msg);
    else
        return false;
    return true;
}
