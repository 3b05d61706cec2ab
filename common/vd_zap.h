/*  vd_zap - the ZAP handler (ZeroMQ RFC 27) of a process's CURVE servers.

    An actor bound at inproc://zeromq.zap.01 answers libzmq's
    authentication requests: a CURVE client is accepted when its public
    key is in the allow-list (the .pub files of public/ in the keys folder,
    read again at every request, so a key added or retired takes effect
    at the next connection) and its role may use the socket's ZAP domain:

      domain "orchestrator"  every role (the control channel)
      domain "normalizer"    the extractors
      domain "loader"        the normalizer

    The reply's user id is the role: a message received on the socket
    carries it as the "User-Id" metadata property (zframe_meta). Every
    other request (another mechanism, an unknown key, a key of a role not
    allowed there) is refused with 400, and logged.
*/
#ifndef VD_ZAP_H_INCLUDED
#define VD_ZAP_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

/*  The role a key authenticates (User-Id) may connect to domain. */
bool vd_zap_allows (const char *domain, const char *role);

/*  Starts the handler over the keys folder dir (copied). NULL when the
    ZAP endpoint cannot be bound (another handler runs in this process). */
zactor_t *vd_zap_new (const char *dir);

/*  Self test. */
int vd_zap_test (bool verbose);

#endif
