/*  orch_auth - authentication of the HTTP API and the web page.

    A bearer token (VENDANGE_API_TOKEN) and/or a basic-auth user
    (VENDANGE_API_USER / VENDANGE_API_PASSWORD). With neither, the API is
    open, which the orchestrator allows only on a loopback address
    (orch_auth_addr_ok). Credentials are compared in constant time (both
    sides hashed, then sodium_memcmp) and never logged.
*/
#ifndef ORCH_AUTH_H_INCLUDED
#define ORCH_AUTH_H_INCLUDED

#include "vd_error.h"
#include <stdbool.h>

typedef struct orch_auth orch_auth_t;

/*  token, user, password: "" or NULL when unset (copied). A user needs a
    password. NULL with err on a user without password. */
orch_auth_t *orch_auth_new (const char *token, const char *user, const char *password,
                            vd_error_t *err);
void orch_auth_destroy (orch_auth_t **self_p);

/*  True when credentials are configured. */
bool orch_auth_enabled (const orch_auth_t *self);
/*  True when the Authorization header value (NULL when absent) grants
    access (always when auth is off). */
bool orch_auth_check (const orch_auth_t *self, const char *authorization);
/*  The WWW-Authenticate value of a 401. */
const char *orch_auth_challenge (const orch_auth_t *self);

/*  0 when the HTTP address may be served with this auth: auth on, or the
    host is loopback (127.0.0.0/8, ::1, localhost). -1 with err else. */
int orch_auth_addr_ok (const orch_auth_t *self, const char *addr, vd_error_t *err);

/*  Self test. */
int orch_auth_test (bool verbose);

#endif
