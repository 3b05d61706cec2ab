/*  vd_service - the start of every pipeline service. */
#include "vendange.h"
#include "vd_pipe.h"
#include "vd_service.h"
#include <malloc.h>

#define DATA_HWM 100 /* messages queued per socket: back pressure past it */

int
vd_service_start (const vd_service_info_t *info, int argc, char **argv, vd_config_t **config,
                  vd_ctl_t **ctl)
{
    if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)) {
        fputs (info->usage, stdout);
        vd_config_usage (info->mask, stdout);
        return 1;
    }
    vd_log_init (info->role, VD_LOG_INFO);
    /* the buffers of one message (a few MB) are freed and asked for again
       with the next: kept by malloc instead of mapped and zeroed anew by
       the kernel each time */
    mallopt (M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt (M_TRIM_THRESHOLD, 8 * 1024 * 1024);
    vd_error_t err;
    vd_error_clear (&err);
    *config = vd_config_load (info->mask, &err);
    if (!*config) {
        vd_log_error (VD_LOG_ERROR, &err);
        return -1;
    }
    vd_log_level_t level = VD_LOG_INFO;
    if (vd_log_level_parse (vd_config_str (*config, VD_CFG_LOG_LEVEL), &level) < 0)
        vd_warn ("unknown VENDANGE_LOG_LEVEL \"%s\": using info",
                 vd_config_str (*config, VD_CFG_LOG_LEVEL));
    vd_log_init (info->role, level);
    zsys_init (); /* SIGINT/SIGTERM set zsys_interrupted */
    *ctl = vd_ctl_new (vd_config_str (*config, VD_CFG_ORCHESTRATOR_ENDPOINT), info->role,
                       info->kind, (int)vd_config_int (*config, VD_CFG_HEARTBEAT_MS), &err);
    if (!*ctl) {
        vd_log_error (VD_LOG_ERROR, &err);
        vd_config_destroy (config);
        return -1;
    }
    return 0;
}

/*  The wildcard bind form ("@tcp://" "*:PORT") of an endpoint
    tcp://HOST:PORT whose HOST is not the wildcard (a host name such as a
    docker service name is not a local interface ZeroMQ can bind), into
    out; -1 when there is none. */
static int
s_wildcard (const char *endpoint, char *out, size_t size)
{
    const char *colon = strrchr (endpoint, ':');
    if (strncmp (endpoint, "tcp://", 6) != 0 || !colon || colon <= endpoint + 6 ||
        strchr (endpoint + 6, '*'))
        return -1;
    int n = snprintf (out, size, "@tcp://*%s", colon);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

zsock_t *
vd_service_pipe (const vd_config_t *config, vd_cfg_key_t key, int type, bool bind, vd_error_t *err)
{
    char endpoint[512];
    const char *value = vd_config_str (config, key);
    snprintf (endpoint, sizeof endpoint, "%c%s", bind ? '@' : '>', value);
    zsock_t *sock = vd_pipe_new (type, endpoint, DATA_HWM, err);
    if (!sock && bind && s_wildcard (value, endpoint, sizeof endpoint) == 0) {
        /* one variable serves both sides, e.g. tcp://normalizer:5571 */
        vd_error_t again;
        vd_error_clear (&again);
        sock = vd_pipe_new (type, endpoint, DATA_HWM, &again);
        if (sock) {
            vd_warn ("cannot bind %s, listening on %s instead", value, endpoint + 1);
            vd_error_clear (err);
        }
    }
    return sock;
}

void
vd_service_serve_runs (vd_ctl_t *ctl, vd_service_control_fn *control, vd_service_run_fn *run,
                       void *arg)
{
    vd_info ("extractor started: %s", vd_ctl_instance (ctl));
    zpoller_t *poller = zpoller_new (vd_ctl_sock (ctl), NULL);
    while (!zsys_interrupted) {
        vd_ctl_tick (ctl);
        void *which = zpoller_wait (poller, 200);
        if (zpoller_terminated (poller))
            break;
        json_t *start = NULL;
        if (which)
            control (arg, &start);
        if (!start)
            continue;
        int64_t run_id = json_integer_value (json_object_get (start, "run_id"));
        vd_log_set_run (run_id);
        vd_ctl_set_state (ctl, "busy", run_id);
        vd_info ("run started for connector %s",
                 json_string_value (json_object_get (start, "connector")));
        run (arg, run_id, start);
        json_decref (start);
        vd_ctl_set_state (ctl, "idle", 0);
        vd_log_set_run (0);
    }
    zpoller_destroy (&poller);
    vd_info ("extractor stopped");
}

/*  --------------------------------------------------------------------
    Self test */

/*  One try of the bind fallback on a random port, 3 tries in all (the
    port was free a moment ago, another process may have taken it). */
static int
s_bind_by_name (void)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        zsock_t *probe = zsock_new (ZMQ_PULL);
        int port = probe ? zsock_bind (probe, "tcp://*:!") : -1;
        zsock_destroy (&probe);
        zclock_sleep (200); /* ZeroMQ closes the listener asynchronously */
        char value[64], to[64];
        snprintf (value, sizeof value, "tcp://vd-selftest.invalid:%d", port);
        snprintf (to, sizeof to, "tcp://127.0.0.1:%d", port);
        setenv ("VENDANGE_NORMALIZER_ENDPOINT", value, 1);
        vd_error_t err;
        vd_error_clear (&err);
        vd_config_t *cfg = vd_config_load (VD_SVC_NORMALIZER, &err);
        unsetenv ("VENDANGE_NORMALIZER_ENDPOINT");
        zsock_t *pull = cfg && port > 0 ? vd_service_pipe (cfg, VD_CFG_NORMALIZER_ENDPOINT,
                                                           ZMQ_PULL, true, &err)
                                        : NULL;
        zsock_t *push = pull ? zsock_new_push (to) : NULL;
        char *got = NULL;
        if (push && zstr_send (push, "hello") == 0) {
            zsock_set_rcvtimeo (pull, 5000);
            got = zstr_recv (pull);
        }
        bool ok = got && strcmp (got, "hello") == 0 && err.kind == VD_ERR_NONE;
        zstr_free (&got);
        zsock_destroy (&push);
        zsock_destroy (&pull);
        vd_config_destroy (&cfg);
        if (ok)
            return 0;
    }
    return -1;
}

int
vd_service_test (bool verbose)
{
    int failures = 0;
    char out[64];
    if (s_wildcard ("tcp://normalizer:5571", out, sizeof out) != 0 ||
        strcmp (out, "@tcp://*:5571") != 0 || s_wildcard ("tcp://*:5571", out, sizeof out) == 0 ||
        s_wildcard ("ipc:///tmp/x", out, sizeof out) == 0 ||
        s_wildcard ("tcp://:5571", out, sizeof out) == 0 ||
        s_wildcard ("tcp://host", out, sizeof out) == 0)
        failures++;

    /*  A host name that is no local interface binds every interface: a
        connect to 127.0.0.1 on that port then reaches the socket. */
    if (s_bind_by_name () < 0)
        failures++;
    if (verbose)
        printf ("  vd_service: %d failures\n", failures);
    return failures ? -1 : 0;
}
