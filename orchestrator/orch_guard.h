/*  orch_guard - which requests the API takes, before any credential or
    body byte is looked at: the browser-facing rules.

    - Host (DNS rebinding): an IP literal, `localhost`, the host of
      VENDANGE_HTTP_ADDR, or a name of VENDANGE_ALLOWED_HOSTS (comma
      separated, `name` for any port or `name:port`; `*` turns the check
      off). A request without Host (HTTP/1.0 tools) passes.
    - Origin (cross-site requests), when sent: its host[:port] must be the
      request's Host, or a name of VENDANGE_ALLOWED_HOSTS; `null` never.
    - Content-Type: every request other than GET and HEAD must say
      application/json (415 otherwise), so that no HTML form or
      "simple" cross-site request can change state.
*/
#ifndef ORCH_GUARD_H_INCLUDED
#define ORCH_GUARD_H_INCLUDED

#include "vd_error.h"
#include <stdbool.h>

typedef struct orch_guard orch_guard_t;

typedef struct {
    unsigned status; /* 0: the request may go on; 403 or 415 */
    char msg[160];
    char hint[200];
} orch_guard_verdict_t;

/*  addr: VENDANGE_HTTP_ADDR; allowed: VENDANGE_ALLOWED_HOSTS ("" or NULL:
    none). NULL with err when allowed is malformed. */
orch_guard_t *orch_guard_new (const char *addr, const char *allowed, vd_error_t *err);
void orch_guard_destroy (orch_guard_t **self_p);

/*  Checks a request's method and headers (NULL when absent). */
void orch_guard_check (const orch_guard_t *self, const char *method, const char *host,
                       const char *origin, const char *content_type, orch_guard_verdict_t *v);

/*  Self test. */
int orch_guard_test (bool verbose);

#endif
