/*  orch_wake - wakes the control loop when a run is queued. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_wake.h"

int
orch_wake_listen (PGconn *conn, vd_error_t *err)
{
    return vd_db_command (conn, "LISTEN " ORCH_WAKE_CHANNEL, 0, NULL, err);
}

bool
orch_wake_pending (PGconn *conn)
{
    if (!conn || PQstatus (conn) != CONNECTION_OK)
        return false;
    /* a broken connection shows at the next query; nothing to do here */
    (void)PQconsumeInput (conn);
    bool any = false;
    PGnotify *n;
    while ((n = PQnotifies (conn)) != NULL) {
        any = true;
        PQfreemem (n);
    }
    return any;
}

int
orch_wake_wait (zsock_t *router, PGconn *conn, int timeout_ms)
{
    zmq_pollitem_t items[2] = {{zsock_resolve (router), 0, ZMQ_POLLIN, 0}};
    int n = 1;
    int fd = conn && PQstatus (conn) == CONNECTION_OK ? PQsocket (conn) : -1;
    if (fd >= 0) {
        items[1] = (zmq_pollitem_t){NULL, fd, ZMQ_POLLIN, 0};
        n = 2;
    }
    int rc = zmq_poll (items, n, timeout_ms);
    if (rc < 0)
        return zmq_errno () == EINTR && !zsys_interrupted ? 0 : -1;
    if (items[0].revents & ZMQ_POLLIN)
        return 1;
    return n == 2 && (items[1].revents & ZMQ_POLLIN) ? 2 : 0;
}

int
orch_wake_test (bool verbose)
{
    int failures = 0;
    zsock_t *router = zsock_new_router ("inproc://orch-wake-test");
    zsock_t *dealer = zsock_new_dealer (">inproc://orch-wake-test");
    if (!router || !dealer)
        failures++;
    else {
        /* nothing to read: a timeout, with or without a connection */
        if (orch_wake_wait (router, NULL, 10) != 0)
            failures++;
        zstr_send (dealer, "hello");
        if (orch_wake_wait (router, NULL, 1000) != 1)
            failures++;
        if (orch_wake_pending (NULL))
            failures++;
    }
    if (verbose)
        printf ("  orch_wake: %d failure(s)\n", failures);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
    return failures ? -1 : 0;
}
