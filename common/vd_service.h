/*  vd_service - what every pipeline service does first: answer --help
    from the configuration table, read the configuration, set up the
    logger and ZeroMQ's signal handling, and open its data sockets and the
    control channel to the orchestrator.
*/
#ifndef VD_SERVICE_H_INCLUDED
#define VD_SERVICE_H_INCLUDED

#include "vd_config.h"
#include "vd_ctl.h"

typedef struct {
    const char *role;  /* "normalizer", "extractor-isavigne"           */
    const char *kind;  /* connector type an extractor serves, or NULL */
    unsigned mask;     /* VD_SVC_* keys it reads                        */
    const char *usage; /* --help text before the configuration list   */
} vd_service_info_t;

/*  Returns 1 when --help was answered (exit 0), -1 when the service cannot
    start (the reason is logged; exit 1), 0 with *config and *ctl set. */
int vd_service_start (const vd_service_info_t *info, int argc, char **argv, vd_config_t **config,
                      vd_ctl_t **ctl);

/*  A PUSH or PULL socket over CURVE (the keys of ctl) on a data endpoint
    (VD_CFG_NORMALIZER_ENDPOINT, VD_CFG_LOADER_ENDPOINT): connected to it,
    or bound (bind) at its bind variable (VENDANGE_NORMALIZER_BIND,
    VENDANGE_LOADER_BIND) when set, else at the endpoint itself. A bind
    that cannot be made as written fails, with a message naming the
    variable: nothing falls back to another interface. NULL with err. */
zsock_t *vd_service_pipe (vd_ctl_t *ctl, const vd_config_t *config, vd_cfg_key_t key, int type,
                          bool bind, vd_error_t *err);

/*  An extractor's loop: heartbeats and control messages; control(arg,
    &start) reads one message and may hand back a "start" (the caller
    owns it), which is run with run(arg, run_id, start) between "busy" and
    "idle" heartbeats, with the run id in the log lines. Returns when the
    process is told to stop (SIGTERM, SIGINT). */
typedef void (vd_service_control_fn) (void *arg, json_t **start);
typedef void (vd_service_run_fn) (void *arg, int64_t run_id, json_t *start);
void vd_service_serve_runs (vd_ctl_t *ctl, vd_service_control_fn *control, vd_service_run_fn *run,
                            void *arg);

/*  Self test. */
int vd_service_test (bool verbose);

#endif
