/*  vd_deadline - a deadline for receiving each request on the
    connections of a libmicrohttpd server.

    libmicrohttpd's own timeout is an idle timeout: a client that sends
    one byte every few seconds (headers or body) keeps its connection,
    and its slot, for ever. Here each connection has a deadline while a
    request is being received: from the connection's start (or the end
    of the previous answer on a kept-alive connection) the request, its
    headers and its body, must be in within timeout_ms; past it a
    watcher thread shuts the socket down, and the server closes it. An
    answer being sent (a streamed CSV download) has no deadline.

    Wiring: MHD_OPTION_NOTIFY_CONNECTION, vd_deadline_notify, self;
    vd_deadline_answering (c) once the request is received (or refused),
    vd_deadline_rearm (c) from the request-completed callback. Destroy
    after MHD_stop_daemon.
*/
#ifndef VD_DEADLINE_H_INCLUDED
#define VD_DEADLINE_H_INCLUDED

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct vd_deadline vd_deadline_t;

/*  Starts the watcher thread. NULL when out of memory or no thread. */
vd_deadline_t *vd_deadline_new (int64_t timeout_ms);
void vd_deadline_destroy (vd_deadline_t **self_p);

/*  MHD_NotifyConnectionCallback; cls is the vd_deadline_t. */
void vd_deadline_notify (void *cls, struct MHD_Connection *c, void **socket_context,
                         enum MHD_ConnectionNotificationCode code);

/*  The request on c is received (or refused): no deadline while its
    answer is sent. */
void vd_deadline_answering (struct MHD_Connection *c);

/*  The answer is sent: the next request on c must come within the
    timeout. */
void vd_deadline_rearm (struct MHD_Connection *c);

/*  Connections shut down for being too slow, since the start. */
uint64_t vd_deadline_cut (const vd_deadline_t *self);

int vd_deadline_test (bool verbose);

#endif
