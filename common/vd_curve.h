/*  vd_curve - CURVE on a service's ZeroMQ sockets.

    Every socket of vendange speaks CURVE (libzmq's own): a service holds
    its role's key pair (vd_keys), its server sockets (the orchestrator's
    control ROUTER, the normalizer's and the loader's PULL) authenticate
    each client through the process's ZAP handler (vd_zap), and its
    client sockets check the server's public key. There is no plaintext
    fallback: a service without its key does not start, and a peer
    without an accepted key gets no handshake.
*/
#ifndef VD_CURVE_H_INCLUDED
#define VD_CURVE_H_INCLUDED

#include "vd_config.h"
#include "vd_error.h"
#include <czmq.h>

typedef struct vd_curve vd_curve_t;

/*  Loads role's key pair (VENDANGE_KEY_FILE, else <keys folder>/<role>.key)
    and notes the keys folder. NULL with err. */
vd_curve_t *vd_curve_new (const vd_config_t *config, const char *role, vd_error_t *err);
void vd_curve_destroy (vd_curve_t **self_p);

/*  Makes sock (not bound yet) a CURVE server whose ZAP domain is domain
    ("orchestrator", "normalizer", "loader": which roles may connect, see
    vd_zap); starts the ZAP handler on first use. 0, -1 with err. */
int vd_curve_server (vd_curve_t *self, zsock_t *sock, const char *domain, vd_error_t *err);

/*  Makes sock (not connected yet) a CURVE client of the server of
    server_role, checked against that role's current public key. 0, -1
    with err. */
int vd_curve_client (vd_curve_t *self, zsock_t *sock, const char *server_role, vd_error_t *err);

/*  The role the ZAP handler authenticated for the peer frame came from
    (the "User-Id" property), or NULL. Borrowed from the frame. */
const char *vd_curve_peer_role (zframe_t *frame);

/*  Self test. */
int vd_curve_test (bool verbose);

#endif
