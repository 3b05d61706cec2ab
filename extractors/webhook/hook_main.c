/*  extractor-webhook - the webhook gateway: receives Brevo and Power
    Automate events over HTTP, makes them durable in its spool before it
    answers, and forwards them through the pipeline (normalizer, loader)
    exactly once. It runs no sync: the orchestrator sends it the webhook
    connectors and gives it one run per connector and hour.
*/
#include "vendange.h"
#include "vd_ctl.h"
#include "vd_pipe.h"
#include "vd_service.h"
#include "hook_auth.h"
#include "hook_forward.h"
#include "hook_http.h"
#include "hook_spool.h"
#include <sodium.h>

#define POLL_MS 50

typedef struct {
    vd_config_t *config;
    vd_ctl_t *ctl;
    zsock_t *output;
    hook_auth_t *auth;
    hook_spool_t *spool;
    hook_http_t *http;
    hook_forward_t *forward;
} self_t;

static void
s_control (void *arg, json_t *msg, const char *type)
{
    self_t *self = arg;
    if (strcmp (type, "hook_config") == 0) {
        size_t n = hook_auth_load (self->auth, msg);
        vd_debug ("configuration received: %zu webhook connector(s)", n);
        /* applied: the orchestrator may now say a new connector is ready */
        const char *version = json_string_value (json_object_get (msg, "version"));
        json_t *ack = version
                          ? json_pack ("{s:s, s:s}", "type", "hook_config_ack", "version", version)
                          : NULL;
        if (ack)
            vd_ctl_send (self->ctl, ack);
        json_decref (ack);
    } else if (!hook_forward_handle (self->forward, msg))
        vd_debug ("control message of type %s ignored", *type ? type : "?");
}

/*  The spool folder: VENDANGE_WEBHOOK_SPOOL, else $VENDANGE_HOME/spool/webhook. */
static int
s_spool_dir (const vd_config_t *config, char *out, size_t size, vd_error_t *err)
{
    const char *dir = vd_config_str (config, VD_CFG_WEBHOOK_SPOOL);
    const char *home = vd_config_str (config, VD_CFG_HOME);
    if (*dir)
        snprintf (out, size, "%s", dir);
    else if (*home)
        snprintf (out, size, "%s/spool/webhook", home);
    else {
        vd_error_set (err, VD_ERR_PERMANENT, "no spool folder");
        snprintf (err->hint, sizeof err->hint, "set VENDANGE_WEBHOOK_SPOOL or VENDANGE_HOME");
        return -1;
    }
    return 0;
}

static int
s_setup (void *arg, vd_error_t *err)
{
    self_t *self = arg;
    char dir[PATH_MAX];
    const vd_config_t *cfg = self->config;
    if (sodium_init () < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "libsodium failed to initialise");
    if (s_spool_dir (cfg, dir, sizeof dir, err) < 0)
        return -1;
    self->auth = hook_auth_new ();
    self->spool =
        self->auth ? hook_spool_open (
                         dir, (uint64_t)vd_config_int (cfg, VD_CFG_WEBHOOK_SPOOL_MAX_MB) << 20, err)
                   : NULL;
    if (!self->spool)
        return -1;
    self->output =
        vd_service_pipe (self->ctl, cfg, VD_CFG_NORMALIZER_ENDPOINT, ZMQ_PUSH, false, err);
    if (!self->output)
        return -1;
    hook_forward_config_t fc = {
        .spool = self->spool,
        .ctl = self->ctl,
        .output = self->output,
        .batch_events = (size_t)vd_config_int (cfg, VD_CFG_WEBHOOK_BATCH_EVENTS),
        .ack_timeout_ms = vd_config_int (cfg, VD_CFG_WEBHOOK_ACK_TIMEOUT_S) * 1000,
        .run_s = vd_config_int (cfg, VD_CFG_WEBHOOK_RUN_S),
    };
    self->forward = hook_forward_new (&fc);
    if (!self->forward)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    hook_http_config_t hc = {
        .addr = vd_config_str (cfg, VD_CFG_WEBHOOK_ADDR),
        .max_body = (size_t)vd_config_int (cfg, VD_CFG_WEBHOOK_MAX_BODY_KB) * 1024,
        .idle_timeout_s = (int)vd_config_int (cfg, VD_CFG_WEBHOOK_IDLE_TIMEOUT_S),
        .request_timeout_s = (int)vd_config_int (cfg, VD_CFG_WEBHOOK_REQUEST_TIMEOUT_S),
        .retry_after_s = (int)vd_config_int (cfg, VD_CFG_WEBHOOK_RETRY_AFTER_S),
        .auth = self->auth,
        .spool = self->spool,
    };
    self->http = hook_http_new (&hc, err);
    if (!self->http)
        return -1;
    vd_info ("webhook gateway listening on http://%s, spool %s (%s)", hc.addr, dir,
             hook_spool_id (self->spool));
    return 0;
}

static void
s_teardown (void *arg)
{
    self_t *self = arg;
    hook_http_destroy (&self->http); /* no request waits on the spool past this */
    hook_forward_destroy (&self->forward);
    hook_spool_destroy (&self->spool);
    hook_auth_destroy (&self->auth);
    zsock_destroy (&self->output);
}

static void
s_serve (void *arg)
{
    self_t *self = arg;
    zpoller_t *poller = zpoller_new (vd_ctl_sock (self->ctl), NULL);
    while (!zsys_interrupted) {
        vd_ctl_tick (self->ctl);
        void *which = zpoller_wait (poller, POLL_MS);
        if (zpoller_terminated (poller))
            break;
        while (which && (zsock_events (vd_ctl_sock (self->ctl)) & ZMQ_POLLIN))
            vd_service_control (self->ctl, s_control, self);
        hook_forward_tick (self->forward);
    }
    zpoller_destroy (&poller);
    vd_info ("stopping: %zu batch(es) not confirmed yet stay in the spool",
             hook_forward_outstanding (self->forward));
}

int
main (int argc, char **argv)
{
    static const vd_service_info_t info = {
        "extractor-webhook", "webhook", VD_SVC_EXTRACTOR | VD_SVC_WEBHOOK,
        "usage: extractor-webhook\n"
        "Receives Brevo and Power Automate webhooks (POST /webhooks/brevo[/NAME],\n"
        "/webhooks/powerautomate[/NAME], GET /health), spools them durably and\n"
        "forwards them to the pipeline exactly once.\n\n"};
    static const vd_service_ops_t ops = {s_setup, s_serve, s_teardown};
    self_t self = {0};
    return vd_service_main (&info, &ops, argc, argv, &self.config, &self.ctl, &self);
}
