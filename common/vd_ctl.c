/*  vd_ctl - the control channel between a service and the orchestrator. */
#include "vendange.h"
#include "vd_ctl.h"
#include <sys/random.h>

struct vd_ctl {
    zsock_t *sock;
    vd_curve_t *curve;
    char role[64];
    char kind[32];
    char instance[160];
    char host[128];
    int heartbeat_ms;
    int64_t next_heartbeat;
    char state[16];
    int64_t run_id;
    zframe_t *blob; /* the binary frame of the last message received */
};

int64_t
vd_clock_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

vd_ctl_t *
vd_ctl_new (const char *endpoint, const char *role, const char *kind, int heartbeat_ms,
            vd_curve_t **curve_p, vd_error_t *err)
{
    vd_ctl_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_curve_destroy (curve_p);
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    self->curve = *curve_p;
    *curve_p = NULL;
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock) {
        vd_ctl_destroy (&self);
        vd_error_set (err, VD_ERR_PERMANENT, "cannot create ZeroMQ socket");
        return NULL;
    }
    zsock_set_sndtimeo (self->sock, 1000);
    zsock_set_sndhwm (self->sock, 1000);
    zsock_set_linger (self->sock, 500);
    if (vd_curve_client (self->curve, self->sock, "orchestrator", err) < 0) {
        vd_ctl_destroy (&self);
        return NULL;
    }
    if (zsock_connect (self->sock, "%s", endpoint) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "invalid orchestrator endpoint \"%s\"", endpoint);
        vd_error_detail (err, "zmq: %s", zmq_strerror (zmq_errno ()));
        vd_ctl_destroy (&self);
        return NULL;
    }
    snprintf (self->role, sizeof self->role, "%s", role);
    snprintf (self->kind, sizeof self->kind, "%s", kind ? kind : "");
    if (gethostname (self->host, sizeof self->host) < 0)
        snprintf (self->host, sizeof self->host, "unknown");
    uint32_t nonce = 0;
    if (getrandom (&nonce, sizeof nonce, 0) != sizeof nonce)
        nonce = (uint32_t)vd_clock_ms ();
    snprintf (self->instance, sizeof self->instance, "%s:%s:%d:%08x", role, self->host,
              (int)getpid (), nonce);
    self->heartbeat_ms = heartbeat_ms;
    snprintf (self->state, sizeof self->state, "idle");
    return self;
}

void
vd_ctl_destroy (vd_ctl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy (&(*self_p)->sock);
    vd_curve_destroy (&(*self_p)->curve);
    zframe_destroy (&(*self_p)->blob);
    free (*self_p);
    *self_p = NULL;
}

zsock_t *
vd_ctl_sock (vd_ctl_t *self)
{
    return self->sock;
}

vd_curve_t *
vd_ctl_curve (vd_ctl_t *self)
{
    return self->curve;
}

const char *
vd_ctl_instance (const vd_ctl_t *self)
{
    return self->instance;
}

int
vd_ctl_send (vd_ctl_t *self, json_t *msg)
{
    json_object_set_new (msg, "instance", json_string (self->instance));
    json_object_set_new (msg, "role", json_string (self->role));
    char *text = json_dumps (msg, JSON_COMPACT);
    if (!text)
        return -1;
    zframe_t *frame = zframe_new (text, strlen (text));
    free (text);
    if (!frame)
        return -1;
    if (zframe_send (&frame, self->sock, 0) < 0) {
        zframe_destroy (&frame);
        vd_log (VD_LOG_WARN, "control message not sent: orchestrator unreachable");
        return -1;
    }
    return 0;
}

json_t *
vd_ctl_recv (vd_ctl_t *self)
{
    zmsg_t *parts = zmsg_recv (self->sock);
    zframe_t *frame = parts ? zmsg_pop (parts) : NULL;
    zframe_destroy (&self->blob);
    self->blob = parts ? zmsg_pop (parts) : NULL;
    zmsg_destroy (&parts);
    if (!frame)
        return NULL;
    json_error_t jerr;
    json_t *msg = json_loadb ((const char *)zframe_data (frame), zframe_size (frame), 0, &jerr);
    zframe_destroy (&frame);
    if (!msg || !json_is_object (msg)) {
        vd_log_detail (VD_LOG_WARN, jerr.text, NULL, "malformed control message dropped");
        json_decref (msg);
        return NULL;
    }
    return msg;
}

zframe_t *
vd_ctl_take_blob (vd_ctl_t *self)
{
    zframe_t *blob = self->blob;
    self->blob = NULL;
    return blob;
}

void
vd_ctl_set_state (vd_ctl_t *self, const char *state, int64_t run_id)
{
    bool changed = strcmp (self->state, state) != 0 || self->run_id != run_id;
    snprintf (self->state, sizeof self->state, "%s", state);
    self->run_id = run_id;
    if (changed)
        self->next_heartbeat = 0; /* tell the orchestrator at once */
}

int
vd_ctl_tick (vd_ctl_t *self)
{
    int64_t now = vd_clock_ms ();
    if (now < self->next_heartbeat)
        return 0;
    self->next_heartbeat = now + self->heartbeat_ms;
    json_t *hb =
        json_pack ("{s:s, s:s?, s:i, s:s, s:s, s:I, s:s}", "type", "heartbeat", "kind",
                   *self->kind ? self->kind : NULL, "pid", (int)getpid (), "host", self->host,
                   "state", self->state, "run_id", (json_int_t)self->run_id, "version", VD_VERSION);
    if (!hb)
        return 0;
    vd_ctl_send (self, hb);
    json_decref (hb);
    return 0;
}
