/*  odoo_client - an Odoo server's external API, whatever the transport.

    XML-RPC (/xmlrpc/2/common version and authenticate, /xmlrpc/2/object
    execute_kw) or JSON-2 (POST /json/2/<model>/<method>, bearer API key).
    "auto" probes POST /json/2/res.users/context_get: 200 or 401 means
    JSON-2 is there, 404 means it is not (XML-RPC then). The server
    version is kept as text, never parsed as a number ("saas~18").

    Every call takes its arguments by name (the same object for both
    transports: execute_kw passes them as keyword arguments). Transient
    failures (transport errors, 502/503/504, truncated bodies, 409) are
    retried with capped exponential backoff and jitter, a bounded number
    of times; other errors are not. A retried call re-reads the same
    request: the item callback is told to drop what it got (item NULL)
    before every new attempt, so nothing is delivered twice.

    Secrets: the API key never appears in a message this class builds or
    passes on (answers are redacted).
*/
#ifndef ODOO_CLIENT_H_INCLUDED
#define ODOO_CLIENT_H_INCLUDED

#include "vendange.h"
#include "vd_httpc.h"
#include "odoo_xmlrpc.h"
#include <jansson.h>

typedef enum { ODOO_AUTO, ODOO_XMLRPC, ODOO_JSON2 } odoo_transport_t;

typedef struct {
    const char *url;
    const char *database;
    const char *user;
    const char *api_key;
    const char *transport; /* "auto" (NULL), "xmlrpc", "json2"            */
    const char *ca_file;
    long timeout_s; /* per request                                 */
    int attempts;   /* per call, >= 1                              */
    int backoff_ms; /* first wait; doubles up to 5 s, with jitter  */
    vd_httpc_tick_fn *tick;
    void *tick_arg;
} odoo_client_opts_t;

typedef struct odoo_client odoo_client_t;

/*  The deprecation warning for XML-RPC (for test answers and runs). */
extern const char odoo_client_xmlrpc_warning[];

odoo_client_t *odoo_client_new (const odoo_client_opts_t *opts, vd_error_t *err);
void odoo_client_destroy (odoo_client_t **self_p);

/*  Chooses the transport, reads the server version and authenticates.
    When checks is an array, one {"check","ok","message"} is appended per
    step (reach, version, authenticate). Returns 0, -1 with err. */
int odoo_client_connect (odoo_client_t *self, json_t *checks, vd_error_t *err);

/*  Calls model.method with kwargs (borrowed; may be NULL). With each, an
    array answer is handed over element by element (each(NULL) before a
    retry) and *result is an empty array. Returns 0 with *result (new
    reference), -1 with err naming the model and method. */
int odoo_client_call (odoo_client_t *self, const char *model, const char *method,
                      const json_t *kwargs, odoo_xmlrpc_item_fn *each, void *arg, json_t **result,
                      vd_error_t *err);

odoo_transport_t odoo_client_transport (const odoo_client_t *self);
/*  "xmlrpc" or "json2". */
const char *odoo_client_transport_name (const odoo_client_t *self);
/*  Server version text ("17.0", "saas~18.2"), "" before connect. */
const char *odoo_client_version (const odoo_client_t *self);
int64_t odoo_client_uid (const odoo_client_t *self);
/*  The server's clock: the Date header of the last answer (0: none). */
time_t odoo_client_server_time (const odoo_client_t *self);
/*  HTTP requests sent so far (retries included). */
int64_t odoo_client_requests (const odoo_client_t *self);

/*  Replaces every occurrence of secret in s (in place) by "***". */
void odoo_client_redact (char *s, size_t size, const char *secret);

int odoo_client_test (bool verbose);

#endif
