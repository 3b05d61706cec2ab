/*  vd_service - the start of every pipeline service. */
#include "vendange.h"
#include "vd_keys.h"
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
    vd_curve_t *curve = vd_curve_new (*config, info->role, &err);
    *ctl = curve ? vd_ctl_new (vd_config_str (*config, VD_CFG_ORCHESTRATOR_ENDPOINT), info->role,
                               info->kind, (int)vd_config_int (*config, VD_CFG_HEARTBEAT_MS),
                               &curve, &err)
                 : NULL;
    if (!*ctl) {
        vd_log_error (VD_LOG_ERROR, &err);
        vd_config_destroy (config);
        return -1;
    }
    return 0;
}

/*  The bind variable of a data endpoint and the role that serves it. */
static const struct {
    vd_cfg_key_t endpoint, bind;
    const char *server_role;
} s_pipes[] = {
    {VD_CFG_NORMALIZER_ENDPOINT, VD_CFG_NORMALIZER_BIND, "normalizer"},
    {VD_CFG_LOADER_ENDPOINT, VD_CFG_LOADER_BIND, "loader"},
};

zsock_t *
vd_service_pipe (vd_ctl_t *ctl, const vd_config_t *config, vd_cfg_key_t key, int type, bool bind,
                 vd_error_t *err)
{
    size_t i = 0;
    while (i < sizeof s_pipes / sizeof s_pipes[0] && s_pipes[i].endpoint != key)
        i++;
    if (i == sizeof s_pipes / sizeof s_pipes[0]) {
        vd_error_set (err, VD_ERR_PERMANENT, "%s is not a data endpoint", vd_config_name (key));
        return NULL;
    }
    /* a bind goes exactly where it is told: no other interface instead */
    vd_cfg_key_t which = bind && *vd_config_str (config, s_pipes[i].bind) ? s_pipes[i].bind : key;
    char endpoint[512];
    snprintf (endpoint, sizeof endpoint, "%c%s", bind ? '@' : '>', vd_config_str (config, which));
    zsock_t *sock =
        vd_pipe_new (type, endpoint, DATA_HWM, vd_ctl_curve (ctl), s_pipes[i].server_role, err);
    if (!sock && bind) {
        char detail[sizeof err->detail];
        snprintf (detail, sizeof detail, "%.200s%s%.300s", err->msg, err->detail[0] ? ": " : "",
                  err->detail);
        vd_error_set (err, VD_ERR_PERMANENT, "cannot bind %s \"%s\"", vd_config_name (which),
                      vd_config_str (config, which));
        vd_error_detail (err, "%s", detail);
        snprintf (err->hint, sizeof err->hint,
                  "set %s to an address of this host (tcp://*:PORT: every interface; "
                  "tcp://127.0.0.1:PORT: loopback), or stop the process that holds the port",
                  vd_config_name (s_pipes[i].bind));
    }
    return sock;
}

void
vd_service_serve_runs (vd_ctl_t *ctl, vd_service_control_fn *control, vd_service_run_fn *run,
                       void *arg, int64_t *current)
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
        *current = run_id;
        run (arg, run_id, start);
        *current = 0;
        json_decref (start);
        vd_ctl_set_state (ctl, "idle", 0);
        vd_log_set_run (0);
    }
    zpoller_destroy (&poller);
    vd_info ("extractor stopped");
}

int
vd_service_main (const vd_service_info_t *info, const vd_service_ops_t *ops, int argc, char **argv,
                 vd_config_t **config, vd_ctl_t **ctl, void *self)
{
    int rc = vd_service_start (info, argc, argv, config, ctl);
    if (rc != 0)
        return rc > 0 ? 0 : 1;
    vd_error_t err;
    vd_error_clear (&err);
    rc = ops->setup (self, &err);
    if (rc < 0)
        vd_log_error (VD_LOG_ERROR, &err);
    else
        ops->serve (self);
    ops->teardown (self);
    return rc < 0 ? 1 : 0;
}

void
vd_service_serve_stage (vd_ctl_t *ctl, zsock_t *input, const vd_stage_t *stage, void *self)
{
    zpoller_t *reading = zpoller_new (input, vd_ctl_sock (ctl), NULL);
    zpoller_t *waiting = zpoller_new (vd_ctl_sock (ctl), NULL);
    zframe_t *held = NULL;
    while (!(stage->stop && stage->stop (self))) {
        vd_ctl_tick (ctl);
        /* while a frame waits, read nothing more */
        zpoller_t *poller = held ? waiting : reading;
        void *which = zpoller_wait (poller, stage->poll_ms);
        if (zpoller_terminated (poller))
            break;
        if (which == input) {
            zframe_t *frame = zframe_recv (input);
            if (frame && stage->data (self, frame) < 0)
                held = frame;
            else
                zframe_destroy (&frame);
        } else if (which == vd_ctl_sock (ctl))
            stage->control (self);
        if (held && stage->data (self, held) == 0)
            zframe_destroy (&held);
        if (stage->work)
            stage->work (self);
    }
    zframe_destroy (&held);
    zpoller_destroy (&reading);
    zpoller_destroy (&waiting);
}

/*  --------------------------------------------------------------------
    Self test */

/*  A bind address that is no local interface (a docker service name)
    fails with a message naming the variable; nothing listens elsewhere. */
static int
s_bind_by_name (const char *dir)
{
    setenv ("VENDANGE_KEYS_DIR", dir, 1);
    setenv ("VENDANGE_LOADER_ENDPOINT", "tcp://127.0.0.1:1", 1);
    setenv ("VENDANGE_LOADER_BIND", "tcp://vd-selftest.invalid:5572", 1);
    vd_error_t err;
    vd_error_clear (&err);
    vd_config_t *cfg = vd_config_load (VD_SVC_LOADER, &err);
    unsetenv ("VENDANGE_KEYS_DIR");
    unsetenv ("VENDANGE_LOADER_ENDPOINT");
    unsetenv ("VENDANGE_LOADER_BIND");
    vd_curve_t *curve = cfg ? vd_curve_new (cfg, "loader", &err) : NULL;
    vd_ctl_t *ctl =
        curve ? vd_ctl_new ("tcp://127.0.0.1:1", "loader", NULL, 1000, &curve, &err) : NULL;
    zsock_t *pull =
        ctl ? vd_service_pipe (ctl, cfg, VD_CFG_LOADER_ENDPOINT, ZMQ_PULL, true, &err) : NULL;
    bool ok = ctl && !pull && strstr (err.msg, "VENDANGE_LOADER_BIND") &&
              strstr (err.hint, "tcp://*:PORT");
    zsock_destroy (&pull);
    vd_ctl_destroy (&ctl);
    vd_curve_destroy (&curve);
    vd_config_destroy (&cfg);
    return ok ? 0 : -1;
}

int
vd_service_test (bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/vd-service-test-XXXXXX";
    vd_error_t err;
    vd_error_clear (&err);
    if (!mkdtemp (dir) || vd_keys_make (dir, "loader", false, &err) < 0 ||
        vd_keys_make (dir, "orchestrator", false, &err) < 0)
        failures++;
    else if (s_bind_by_name (dir) < 0)
        failures++;
    vd_keys_remove_dir (dir);
    if (verbose)
        printf ("  vd_service: %d failures\n", failures);
    return failures ? -1 : 0;
}
