/*  vd_pipe - pushing data messages downstream without losing liveness. */
#include "vendange.h"
#include "vd_pipe.h"
#include "vd_msg.h"

zsock_t *
vd_pipe_new (int type, const char *endpoint, int hwm, vd_curve_t *curve, const char *server_role,
             vd_error_t *err)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot create ZeroMQ socket");
        return NULL;
    }
    zsock_set_sndtimeo (sock, 500);
    zsock_set_sndhwm (sock, hwm);
    zsock_set_rcvhwm (sock, hwm);
    zsock_set_linger (sock, 1000);
    zsock_set_maxmsgsize (sock, 64 * 1024 * 1024);
    bool bind = endpoint[0] == '@';
    if ((bind ? vd_curve_server (curve, sock, server_role, err)
              : vd_curve_client (curve, sock, server_role, err)) < 0) {
        zsock_destroy (&sock);
        return NULL;
    }
    if (zsock_attach (sock, endpoint, false) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot use ZeroMQ endpoint \"%s\"", endpoint + 1);
        vd_error_detail (err, "zmq: %s", zmq_strerror (zmq_errno ()));
        snprintf (err->hint, sizeof err->hint,
                  "another process may already listen there, or the address is wrong");
        zsock_destroy (&sock);
    }
    return sock;
}

int
vd_pipe_send (zsock_t *sock, const void *data, size_t len, vd_ctl_t *ctl, vd_pipe_stop_fn *stop,
              void *arg)
{
    if (vd_mp_write_failed ()) { /* the message lacks a part: never sent */
        vd_err ("a message could not be built (out of memory): not sent");
        return -1;
    }
    while (true) {
        if (zmq_send (zsock_resolve (sock), data, len, 0) >= 0)
            return 0;
        if (zmq_errno () != EAGAIN || zsys_interrupted)
            return -1;
        if (ctl)
            vd_ctl_tick (ctl);
        if (stop && stop (arg))
            return -1;
    }
}
