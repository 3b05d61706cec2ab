/*  odoo_http - one HTTP(S) connection to an Odoo server, through libcurl.

    Certificate verification is always on (a custom CA file may be
    given); connect and whole-request timeouts are set. The response body
    is handed to a sink as it arrives (nothing is buffered here), so a
    streaming parser keeps memory flat. The connection is kept alive
    between requests.
*/
#ifndef ODOO_HTTP_H_INCLUDED
#define ODOO_HTTP_H_INCLUDED

#include "vendange.h"
#include <time.h>

typedef struct odoo_http odoo_http_t;

/*  Receives body bytes; returns 0, or -1 to abort the transfer (the sink
    keeps its own reason). The result's status is set before the first
    call, so a sink can treat an error page apart. */
typedef int (odoo_http_sink_fn) (const char *data, size_t len, void *arg);
/*  Called during transfers (about every 100 ms): heartbeats; returns true
    to abort the transfer. */
typedef bool (odoo_http_tick_fn) (void *arg);

typedef struct {
    const char *base_url; /* "https://odoo.example.com" (no trailing /) */
    const char *ca_file;  /* extra CA bundle, or NULL                   */
    long connect_timeout_s;
    long timeout_s; /* whole request                              */
    odoo_http_tick_fn *tick;
    void *tick_arg;
} odoo_http_opts_t;

typedef struct {
    long status;       /* HTTP status; 0 when none arrived            */
    time_t date;       /* the response's Date header, 0 when absent   */
    char ctype[128];   /* Content-Type, "" when absent                */
    bool sink_aborted; /* the sink returned -1                        */
    size_t body_bytes; /* bytes handed to the sink                    */
} odoo_http_result_t;

/*  NULL with err when libcurl cannot be set up. */
odoo_http_t *odoo_http_new (const odoo_http_opts_t *opts, vd_error_t *err);
void odoo_http_destroy (odoo_http_t **self_p);

/*  One request: GET when body is NULL, else POST with that body and
    content type. headers: NULL-terminated extra header lines (they may
    hold a secret: never logged). Returns 0 when a whole response came
    back (whatever its status; res filled), -1 with err otherwise: kind
    TRANSIENT for connection failures, timeouts and truncated bodies,
    PERMANENT for a refused certificate or a bad URL; res->sink_aborted
    tells the sink stopped it (its reason is the sink's). */
int odoo_http_request (odoo_http_t *self, const char *path, const char *const *headers,
                       const char *ctype, const char *body, size_t len, odoo_http_sink_fn *sink,
                       void *sink_arg, odoo_http_result_t *res, vd_error_t *err);

/*  Parses an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"); 0 when invalid. */
time_t odoo_http_parse_date (const char *s);

int odoo_http_test (bool verbose);

#endif
