/*  vd_ctl - the control channel between a service and the orchestrator.

    Every service holds a DEALER connected to the orchestrator's ROUTER
    (VENDANGE_ORCHESTRATOR_ENDPOINT). Messages are one frame of JSON
    (jansson). The service announces itself with heartbeats that carry its
    whole identity, so an orchestrator that restarts rebuilds its registry
    from them:
      {"type":"heartbeat","role":"extractor-isavigne","kind":"isavigne",
       "instance":"extractor-isavigne:host:pid:rand","pid":123,"host":"h",
       "state":"idle"|"busy","run_id":42,"version":"0.1.0"}
    Orchestrator -> service: {"type":"start",...} {"type":"abort","run_id":N}
    Service -> orchestrator: {"type":"extracted",...} {"type":"loaded",...}
    {"type":"progress",...} (see orchestrator/README in the code comments).
    An extractor asks {"type":"line_hashes","run_id":N,"file":F} for the
    per-line hashes of a file it is about to read again; the answer
    {"type":"line_hashes","run_id":N,"file":F,"rules":R,"lines":n} is
    followed by a second frame holding the n sorted 16-byte hashes (no
    second frame, "lines": 0, when no set can be trusted).
*/
#ifndef VD_CTL_H_INCLUDED
#define VD_CTL_H_INCLUDED

#include "vd_curve.h"
#include "vd_error.h"
#include <czmq.h>
#include <jansson.h>
#include <stdint.h>

typedef struct vd_ctl vd_ctl_t;

/*  Connects to the orchestrator over CURVE with the service's keys
    (*curve_p: taken, also on failure). role: "loader", "normalizer",
    "extractor-isavigne"...; kind: the connector type an extractor serves
    ("isavigne"), or NULL. Returns NULL with err on a bad endpoint or when
    the orchestrator's public key cannot be read. */
vd_ctl_t *vd_ctl_new (const char *endpoint, const char *role, const char *kind, int heartbeat_ms,
                      vd_curve_t **curve_p, vd_error_t *err);
void vd_ctl_destroy (vd_ctl_t **self_p);

/*  The socket, to put in a zpoller. */
zsock_t *vd_ctl_sock (vd_ctl_t *self);
/*  The service's CURVE keys, for its data sockets. */
vd_curve_t *vd_ctl_curve (vd_ctl_t *self);
/*  This process's instance id (unique per process life). */
const char *vd_ctl_instance (const vd_ctl_t *self);

/*  Sends msg (borrowed; "instance" and "role" are added). Never blocks
    longer than 1 s: when the orchestrator is away the message is dropped
    and -1 returned (the orchestrator fails runs it loses track of). */
int vd_ctl_send (vd_ctl_t *self, json_t *msg);
/*  Receives one message (the caller json_decref()s it), NULL when the
    frame is not a JSON object (logged and dropped) or on interrupt. */
json_t *vd_ctl_recv (vd_ctl_t *self);

/*  The binary frame that came after the JSON of the last message
    received (the orchestrator's answer to "line_hashes"), or NULL; the
    caller destroys it. */
zframe_t *vd_ctl_take_blob (vd_ctl_t *self);
/*  Sets what the next heartbeats say: state "idle"/"busy" and run. */
void vd_ctl_set_state (vd_ctl_t *self, const char *state, int64_t run_id);
/*  Sends a heartbeat when one is due; call it at least every heartbeat_ms,
    also from inside long work. Returns 0. */
int vd_ctl_tick (vd_ctl_t *self);

/*  Milliseconds of a monotonic clock. */
int64_t vd_clock_ms (void);

#endif
