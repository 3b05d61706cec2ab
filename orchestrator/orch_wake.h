/*  orch_wake - wakes the control loop as soon as a run (or a connector
    test) is queued, instead of at the next periodic dispatch.

    Migration step 4 adds triggers that NOTIFY the channel
    vendange_dispatch on every insert into ops.sync_runs and
    ops.connector_tests, whoever inserts (the HTTP API, a scheduler,
    another process). The loop LISTENs on its own connection and polls
    that connection's socket next to its ROUTER. The periodic dispatch
    stays: a missed notification only delays a run to the next turn.
*/
#ifndef ORCH_WAKE_H_INCLUDED
#define ORCH_WAKE_H_INCLUDED

#include "vd_error.h"
#include <czmq.h>
#include <libpq-fe.h>
#include <stdbool.h>

#define ORCH_WAKE_CHANNEL "vendange_dispatch"

/*  LISTEN on conn (again after every reconnect). Returns 0, -1 with err. */
int orch_wake_listen (PGconn *conn, vd_error_t *err);

/*  Reads what the server sent and drops the notifications received.
    Returns true when there was at least one. */
bool orch_wake_pending (PGconn *conn);

/*  Waits up to timeout_ms for the router or for the server (conn may be
    NULL or broken: then the router only). Returns 1 when the router has
    input, 2 when the database has, 0 on timeout, -1 when interrupted or
    the ZeroMQ context is gone. */
int orch_wake_wait (zsock_t *router, PGconn *conn, int timeout_ms);

int orch_wake_test (bool verbose);

#endif
