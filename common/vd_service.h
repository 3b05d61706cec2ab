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
    "idle" heartbeats, with the run id in the log lines and in *current
    (0 between runs). Returns when the process is told to stop (SIGTERM,
    SIGINT). */
typedef void (vd_service_control_fn) (void *arg, json_t **start);
typedef void (vd_service_run_fn) (void *arg, int64_t run_id, json_t *start);
void vd_service_serve_runs (vd_ctl_t *ctl, vd_service_control_fn *control, vd_service_run_fn *run,
                            void *arg, int64_t *current);

/*  A service's life, the same for every one: vd_service_start, then
    setup(self, err) (-1: err logged, exit 1), then serve(self) until the
    process is told to stop, then teardown(self), which frees what setup
    made and *config and *ctl (teardown also runs after a failed setup:
    it must accept a half-made self). config and ctl point into self.
    Returns the process's exit status. */
typedef struct {
    int (*setup) (void *self, vd_error_t *err);
    void (*serve) (void *self);
    void (*teardown) (void *self);
} vd_service_ops_t;
int vd_service_main (const vd_service_info_t *info, const vd_service_ops_t *ops, int argc,
                     char **argv, vd_config_t **config, vd_ctl_t **ctl, void *self);

/*  A pipeline stage's loop (normalizer, loader): each frame read from
    input goes to data(self, frame), which returns 0 when it took the
    frame (the loop frees it) or -1 when the frame must wait: it is then
    held, nothing more is read, and it is offered again after each
    wake-up until taken. Control messages go to control(self); work(self)
    (may be NULL) runs after each wake-up, at least every poll_ms.
    Returns when the process is told to stop or stop(self) (may be NULL)
    says so; a frame still held is freed. */
typedef struct {
    int (*data) (void *self, zframe_t *frame);
    void (*control) (void *self);
    void (*work) (void *self);
    bool (*stop) (void *self);
    int poll_ms;
} vd_stage_t;
void vd_service_serve_stage (vd_ctl_t *ctl, zsock_t *input, const vd_stage_t *stage, void *self);

/*  Self test. */
int vd_service_test (bool verbose);

#endif
