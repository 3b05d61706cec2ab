/*  hook_auth - the webhook connectors the gateway serves, and who may post
    to them.

    The orchestrator sends the connectors of type brevo and powerautomate
    (settings and secrets) over the control channel when the gateway
    connects and whenever the registry changes:
      {"type":"hook_config","connectors":[{"name":"brevo_main","type":"brevo",
        "settings":{"token":"...","user":"...","password":"...",
                    "allow_ips":"1.179.112.0/20, 172.246.240.0/20",
                    "trusted_proxies":"10.0.0.5"}}, ...]}
    They live in memory only (secrets are never written to the spool).

    A request names its connector: POST /webhooks/<type>/<name>, or
    /webhooks/<type> when exactly one connector of that type exists. Then:
    the client address (the peer, or the nearest X-Forwarded-For entry
    that is not a trusted proxy, when the peer is one) must be in
    allow_ips when it is set (403); the Authorization header must carry
    the token ("Bearer <token>" or the raw token, as Power Automate can
    send it) or Basic credentials of user/password (401). Secrets are
    compared in constant time and never logged.
*/
#ifndef HOOK_AUTH_H_INCLUDED
#define HOOK_AUTH_H_INCLUDED

#include "vendange.h"
#include "hook_event.h"
#include <jansson.h>
#include <sys/socket.h>

typedef struct hook_auth hook_auth_t;

/*  The connector a request was accepted for. */
typedef struct {
    char name[72];
    hook_source_t source;
} hook_target_t;

/*  What a check decided: status 0 (accepted), 401, 403, 404 or 429 (no
    configuration received yet), a message for the answer, and for a 401
    whether to ask for Basic credentials. */
typedef struct {
    int status;
    char msg[200];
    bool basic;
} hook_verdict_t;

hook_auth_t *hook_auth_new (void);
void hook_auth_destroy (hook_auth_t **self_p);

/*  Replaces the connectors from a hook_config message (thread-safe). A
    connector with an unusable address list is kept out, with a warning
    logged naming it. Returns the number of connectors kept. */
size_t hook_auth_load (hook_auth_t *self, const json_t *config);
/*  Number of connectors; -1 before the first configuration. */
long hook_auth_size (hook_auth_t *self);

/*  Checks a request to connector name (NULL: the only one of the type),
    from peer, with its X-Forwarded-For and Authorization headers (either
    may be NULL). Fills target when accepted. */
void hook_auth_check (hook_auth_t *self, hook_source_t source, const char *name,
                      const struct sockaddr *peer, const char *xff, const char *authorization,
                      hook_target_t *target, hook_verdict_t *verdict);

int hook_auth_test (bool verbose);

#endif
