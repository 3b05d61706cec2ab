/*  vd_service - the start of every pipeline service. */
#include "vendange.h"
#include "vd_pipe.h"
#include "vd_service.h"

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

zsock_t *
vd_service_pipe (const vd_config_t *config, vd_cfg_key_t key, int type, bool bind, vd_error_t *err)
{
    char endpoint[512];
    snprintf (endpoint, sizeof endpoint, "%c%s", bind ? '@' : '>', vd_config_str (config, key));
    return vd_pipe_new (type, endpoint, DATA_HWM, err);
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
