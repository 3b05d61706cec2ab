/*  vd_service - what every pipeline service does first: answer --help
    from the configuration table, read the configuration, set up the
    logger and ZeroMQ's signal handling, and open its data sockets and the
    control channel to the orchestrator.
*/
#ifndef VD_SERVICE_H_INCLUDED
#define VD_SERVICE_H_INCLUDED

#include "vd_config.h"
#include "vd_ctl.h"
#include "vd_msg.h"

typedef struct {
    const char *role;              /* "normalizer", "extractor-isavigne"           */
    const char *kind;              /* connector type an extractor serves, or NULL */
    unsigned mask;                 /* VD_SVC_* keys it reads                        */
    const char *usage;             /* --help text before the configuration list   */
    const char *(*mapping) (void); /* an extractor's built-in mapping, which
                                      --print-mapping prints; NULL: none */
} vd_service_info_t;

/*  Returns 1 when --help (or --print-mapping) was answered (exit 0), -1 when the service cannot
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

/*  An extractor: run extracts the run of start (its id run_id) into the
    pipeline and returns 0 with the report's members set in report, or -1
    with err; test answers a "test" message (the answer, or NULL to send
    none). Both are given the runner, for vd_runner_stop. */
typedef struct vd_runner vd_runner_t;
typedef struct {
    int (*run) (void *self, vd_runner_t *runner, int64_t run_id, json_t *start, json_t *report,
                vd_error_t *err);
    json_t *(*test) (void *self, vd_runner_t *runner, json_t *msg);
} vd_extractor_t;

/*  An extractor's loop: heartbeats and control messages. Idle, a "start"
    is run between "busy" and "idle" heartbeats, with the run id in the
    log lines, and its end reported to the orchestrator ("extracted" with
    the report, or "failed" with the error; nothing after an abort); a
    "test" is answered. Returns when the process is told to stop
    (SIGTERM, SIGINT). */
void vd_service_serve_runs (vd_ctl_t *ctl, const vd_extractor_t *x, void *self);

/*  During a run or a test: heartbeats, and the control messages that
    came meanwhile ("abort" of the run: stop; another "start" or "test":
    refused as busy). True when the work must stop (aborted, SIGTERM).
    A stop callback: runner is the vd_runner_t. */
bool vd_runner_stop (void *runner);
/*  The same for a control message the work read itself (taken), and
    whether the work must stop, without reading any. */
void vd_runner_control (vd_runner_t *runner, json_t *msg);
bool vd_runner_stopped (const vd_runner_t *runner);
/*  The run in progress, 0 during a test. */
int64_t vd_runner_run_id (const vd_runner_t *runner);

/*  Reads one control message, if one waits, and hands it to
    control(self, msg, type) (type "" when it has none), then frees it.
    Returns whether there was one. */
typedef void (vd_control_fn) (void *self, json_t *msg, const char *type);
bool vd_service_control (vd_ctl_t *ctl, vd_control_fn *control, void *self);

/*  A pipeline stage's loop (normalizer, loader): each frame read from
    input is decoded (vd_msg_decode; one that is not a message is logged
    and dropped) and goes to data(self, frame, msg), which returns 0 when
    it took the frame (the loop frees it) or -1 when the frame must wait: it is then
    held, nothing more is read, and it is offered again after each
    wake-up until taken. Control messages go to control; work(self)
    (may be NULL) runs after each wake-up, at least every poll_ms.
    Returns when the process is told to stop or stop(self) (may be NULL)
    says so; a frame still held is freed. */
typedef struct {
    int (*data) (void *self, zframe_t *frame, const vd_msg_t *msg);
    vd_control_fn *control;
    void (*work) (void *self);
    bool (*stop) (void *self);
    int poll_ms;
} vd_stage_t;
void vd_service_serve_stage (vd_ctl_t *ctl, zsock_t *input, const vd_stage_t *stage, void *self);

/*  A service's life, the same for every one: vd_service_start, then
    setup(self, err) (-1: err logged, exit 1), then its loop until the
    process is told to stop, then teardown(self), which frees what setup
    made (it also runs after a failed setup: it must accept a half-made
    self), then *config and *ctl are freed (both point into self). The
    loop is serve(self), or for a pipeline stage (serve NULL) the stage
    loop over the socket at offset input of self; "ROLE started" and
    "ROLE stopped" are logged around it. Returns the exit status. */
typedef struct {
    int (*setup) (void *self, vd_error_t *err);
    void (*serve) (void *self);
    void (*teardown) (void *self);
    const vd_stage_t *stage;
    size_t input; /* offsetof (self type, its zsock_t *input) */
} vd_service_ops_t;
int vd_service_main (const vd_service_info_t *info, const vd_service_ops_t *ops, int argc,
                     char **argv, vd_config_t **config, vd_ctl_t **ctl, void *self);

/*  The main() of a pipeline stage: its state type (with members config,
    ctl and input), its description (vd_service_info_t), its stage
    callbacks (vd_stage_t), setup and teardown. */
#define VD_STAGE_MAIN(type, info, stage, setup, teardown)                                          \
    int main (int argc, char **argv)                                                               \
    {                                                                                              \
        static const vd_service_ops_t ops = {setup, NULL, teardown, &stage,                        \
                                             offsetof (type, input)};                              \
        type self = {0};                                                                           \
        return vd_service_main (&info, &ops, argc, argv, &self.config, &self.ctl, &self);          \
    }

/*  Self test. */
int vd_service_test (bool verbose);

#endif
