/*  vd_pipe - pushing data messages downstream without losing liveness.

    A PUSH socket blocks when the next stage is slow (that is the back
    pressure that keeps memory flat) or gone. vd_pipe_send waits in steps
    of the socket's send timeout, sending heartbeats meanwhile and asking
    the caller whether to give up (run aborted, process interrupted).
*/
#ifndef VD_PIPE_H_INCLUDED
#define VD_PIPE_H_INCLUDED

#include "vd_ctl.h"
#include <stdbool.h>

/*  Returns true when the caller wants to stop waiting. */
typedef bool (vd_pipe_stop_fn) (void *arg);

/*  Creates a PUSH (or PULL) socket over CURVE: binds when endpoint
    starts with '@' (a CURVE server whose ZAP domain is server_role),
    connects when it starts with '>' (a client of the server of
    server_role, "normalizer" or "loader"). Send timeout 500 ms,
    high-water mark hwm messages. NULL with err on a bad endpoint. */
zsock_t *vd_pipe_new (int type, const char *endpoint, int hwm, vd_curve_t *curve,
                      const char *server_role, vd_error_t *err);

/*  Sends one frame (copied). Returns 0 when queued, -1 when stop said so,
    the process was interrupted, or the socket failed for another reason. */
int vd_pipe_send (zsock_t *sock, const void *data, size_t len, vd_ctl_t *ctl, vd_pipe_stop_fn *stop,
                  void *arg);

#endif
