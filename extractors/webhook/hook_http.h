/*  hook_http - the gateway's HTTP server (libmicrohttpd, a thread per
    connection: a request waits for its group commit without holding up
    the others).

      POST /webhooks/brevo[/NAME]          Brevo events (one, or a batch)
      POST /webhooks/powerautomate[/NAME]  Power Automate events
      GET  /health                         liveness, spool figures

    Answers: 200 {"status":"stored","events":N} once every event of the
    request is fsynced in the spool; 400 {"error","field","index"} for a
    body that is not JSON, nests too deep, or (Power Automate) an event
    that fails validation; 401 / 403 / 404 (see hook_auth); 405; 408 when
    the body does not arrive within the request timeout (slow clients);
    413 past the body ceiling; 429 with Retry-After when the events cannot
    be made durable now (spool full or unwritable, no configuration yet).
    Never a 5xx, never 202: Brevo drops a webhook on a 5xx or another 4xx,
    Power Automate would poll a 202's Location.
*/
#ifndef HOOK_HTTP_H_INCLUDED
#define HOOK_HTTP_H_INCLUDED

#include "vendange.h"
#include "hook_auth.h"
#include "hook_spool.h"

typedef struct hook_http hook_http_t;

typedef struct {
    const char *addr;      /* host:port                                  */
    size_t max_body;       /* bytes                                      */
    int idle_timeout_s;    /* a silent connection is closed              */
    int request_timeout_s; /* a body not complete by then gets 408       */
    int retry_after_s;     /* of a 429                                   */
    hook_auth_t *auth;     /* borrowed                                   */
    hook_spool_t *spool;   /* borrowed                                   */
} hook_http_config_t;

/*  Starts listening. NULL with err (address taken, malformed). */
hook_http_t *hook_http_new (const hook_http_config_t *config, vd_error_t *err);
/*  Stops accepting and waits for the connections' threads. */
void hook_http_destroy (hook_http_t **self_p);

/*  Parses a request path: "/webhooks/<type>[/<name>]". Returns 0 with
 *source and name ("" for none), -1 when it is not a webhook path. */
int hook_http_route (const char *path, hook_source_t *source, char *name, size_t size);

int hook_http_test (bool verbose);

#endif
