/*  vd_httpc - the HTTP(S) client of vendange (libcurl): the Odoo
    extractor's calls, the `vendange` command's calls to the orchestrator
    API, the alerts' webhooks and health probes.

    A client is one connection kept alive between requests, with a base
    URL, a CA file, connect and whole-request timeouts, credentials, and a
    tick called during transfers (heartbeats; it may stop a transfer).
    Certificate verification is always on; only http and https are
    spoken. An answer goes to a sink as it arrives (a streaming parser
    keeps memory flat), or is kept up to a ceiling.

    Errors say what failed, naming the server as the caller does ("the
    Odoo server"), with a hint; their kind tells whether to retry:
    TRANSIENT for connection failures, timeouts and cut answers,
    PERMANENT for a refused certificate, a bad URL, a stopped transfer.
    A URL that may hold a secret (a webhook's token) is never put into an
    error, only its scheme and host.
*/
#ifndef VD_HTTPC_H_INCLUDED
#define VD_HTTPC_H_INCLUDED

#include "vendange.h"
#include <time.h>

typedef struct vd_httpc vd_httpc_t;

/*  Receives answer bytes; returns 0, or -1 to stop the transfer (the sink
    keeps its own reason). The answer's status is set before the first
    call, so a sink can treat an error page apart. */
typedef int (vd_httpc_sink_fn) (const char *data, size_t len, void *arg);
/*  Called during transfers (about every 100 ms); returns true to stop. */
typedef bool (vd_httpc_tick_fn) (void *arg);

typedef struct {
    const char *base_url;    /* put before every path ("https://odoo.example.com";
                                a trailing '/' is dropped); NULL: paths are URLs */
    const char *ca_file;     /* extra CA bundle; NULL or "": the system's     */
    long connect_timeout_ms; /* 0: 10 s                                         */
    long timeout_ms;         /* the whole request; 0: 30 s                      */
    const char *peer;        /* the server in messages ("the Odoo server");
                                NULL: the URL's scheme and host                 */
    bool url_secret;         /* the URL may hold a secret: errors show its scheme
                                and host only                                   */
    const char *url_setting; /* what a hint says to check ("the connector's
                                url"); NULL: "the URL"                          */
    const char *ca_setting;  /* where a CA is given ("the connector's ca_file
                                setting"); NULL: "a CA file"                    */
    const char *bearer;      /* Authorization: Bearer; else, when user is set,  */
    const char *user;        /* basic authentication                            */
    const char *password;
    vd_httpc_tick_fn *tick;
    void *tick_arg;
} vd_httpc_opts_t;

typedef struct {
    const char *method;         /* NULL: POST when there is a body, else GET   */
    const char *path;           /* after base_url, query included              */
    const char *const *headers; /* NULL-terminated extra header lines; they may
                                   hold a secret: wiped after use, never logged */
    const char *ctype;          /* the body's type; NULL: application/json     */
    const char *body;           /* NULL: none                                  */
    size_t len;
    vd_httpc_sink_fn *sink; /* NULL: the answer is kept in res->body       */
    void *sink_arg;
    size_t max_body; /* without a sink, bytes kept (0: 64 KiB); the
                        rest is read and dropped (res->truncated)   */
} vd_httpc_req_t;

typedef struct {
    long status;       /* HTTP status; 0 when none came              */
    time_t date;       /* the answer's Date header, 0 when absent    */
    char ctype[128];   /* its Content-Type, "" when absent           */
    bool sink_aborted; /* the sink stopped the transfer              */
    bool truncated;    /* the kept body reached max_body             */
    size_t body_bytes; /* bytes of the answer                        */
    vd_buf_t body;     /* without a sink: the answer, NUL-terminated */
} vd_httpc_res_t;

/*  NULL with err when libcurl cannot be set up. The options' strings are
    copied. */
vd_httpc_t *vd_httpc_new (const vd_httpc_opts_t *opts, vd_error_t *err);
void vd_httpc_destroy (vd_httpc_t **self_p);

/*  One request. Returns 0 when a whole answer came back (whatever its
    status; res filled), -1 with err otherwise (res->sink_aborted: the
    sink's reason is the sink's). res->body must be freed
    (vd_httpc_res_free) in both cases. */
int vd_httpc_request (vd_httpc_t *self, const vd_httpc_req_t *req, vd_httpc_res_t *res,
                      vd_error_t *err);
void vd_httpc_res_free (vd_httpc_res_t *res);

/*  The same on a client made for it. */
int vd_httpc_once (const vd_httpc_opts_t *opts, const vd_httpc_req_t *req, vd_httpc_res_t *res,
                   vd_error_t *err);

/*  POSTs body (JSON) to url, a URL that may hold a secret. Returns 0 on a
    2xx answer, -1 with err: TRANSIENT for a network failure, 408, 429,
    5xx; PERMANENT otherwise (err->http_status set when an answer came;
    the detail holds its first 200 bytes). */
int vd_httpc_post_json (const char *url, const char *body, const char *ca_file, long timeout_ms,
                        vd_error_t *err);
/*  GETs url: the body of a 2xx answer (malloc'ed, at most 64 KiB), NULL
    with err as above. */
char *vd_httpc_get (const char *url, long timeout_ms, vd_error_t *err);

/*  The scheme and host of url ("https://hooks.slack.com"), for messages
    that must not show a token in its path, query or user part. */
void vd_httpc_url_host (const char *url, char *out, size_t size);
/*  Parses an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"); 0 when invalid. */
time_t vd_httpc_parse_date (const char *s);
/*  s percent-encoded for a URL's query (malloc'ed), NULL on failure. */
char *vd_httpc_escape (const char *s);

int vd_httpc_test (bool verbose);

#endif
