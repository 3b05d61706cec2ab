/*  hook_forward - from the spool to the pipeline, exactly once.

    Per connector, the gateway holds one run at a time (one per connector
    and VENDANGE_WEBHOOK_RUN_S period, an hour by default), asked of the
    orchestrator over the control channel:
      -> {"type":"hook_run","request_id":"...","spool":ID,"connector":C,
          "connector_type":"brevo","close_run":R|0,"batches":B,"open":bool}
      <- {"type":"hook_run","request_id":"...","connector":C,
          "run_id":N|0,"closed":R|0,"error":"..."}
    close_run asks to finalize the previous run, once its period is over
    and its B batches are all confirmed; open asks for a new one.

    Spooled files of a connector become batches of about
    VENDANGE_WEBHOOK_BATCH_EVENTS events, numbered 1, 2, ... within the
    run (hook_spool keeps the assignment durable), and are pushed to the
    normalizer as RAW messages with "ack": true. The loader commits each
    (run, seq) once and confirms it ("batch_committed", relayed by the
    orchestrator); a batch not confirmed within the ack timeout is sent
    again (doubling up to 16 times the timeout), so a batch lost with a
    killed loader or normalizer is not lost, and a copy is skipped.
*/
#ifndef HOOK_FORWARD_H_INCLUDED
#define HOOK_FORWARD_H_INCLUDED

#include "vendange.h"
#include "hook_spool.h"
#include "vd_ctl.h"

typedef struct hook_forward hook_forward_t;

typedef struct {
    hook_spool_t *spool; /* borrowed */
    vd_ctl_t *ctl;       /* borrowed */
    zsock_t *output;     /* PUSH to the normalizer, borrowed */
    size_t batch_events;
    int64_t ack_timeout_ms;
    int64_t run_s;
} hook_forward_config_t;

/*  Loads the connectors' states and the batches a previous life left
    (sent again at once). NULL when out of memory. */
hook_forward_t *hook_forward_new (const hook_forward_config_t *config);
void hook_forward_destroy (hook_forward_t **self_p);

/*  Moves things on: new spool files, batches, sends, run requests. */
void hook_forward_tick (hook_forward_t *self);
/*  A control message: "hook_run" answers and "batch_committed". Returns
    true when it was one of those. */
bool hook_forward_handle (hook_forward_t *self, json_t *msg);

/*  Batches sent and not yet confirmed. */
size_t hook_forward_outstanding (const hook_forward_t *self);

#endif
