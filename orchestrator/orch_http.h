/*  orch_http - the HTTP server of the orchestrator (libmicrohttpd, one
    internal polling thread). Bodies are read up to ORCH_API_MAX_BODY
    (413 beyond), the request is answered by orch_api in that thread, with
    that thread's own PostgreSQL connection.
*/
#ifndef ORCH_HTTP_H_INCLUDED
#define ORCH_HTTP_H_INCLUDED

#include "vd_error.h"
#include "orch_api.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct orch_http orch_http_t;

/*  Listens on addr ("host:port", "[v6]:port", ":port" or "*:port" for
    every interface). api configures the API it serves (orch_api_new).
    NULL with err on a bad address or when the port is taken. */
orch_http_t *orch_http_new (const char *addr, const orch_api_config_t *api, vd_error_t *err);
void orch_http_destroy (orch_http_t **self_p);

/*  Self test. Returns 0 when every check passes. */
int orch_http_test (bool verbose);

#endif
