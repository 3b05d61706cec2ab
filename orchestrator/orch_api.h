/*  orch_api - the HTTP JSON API, independent of the HTTP library: a
    request (method, path, the query arguments the API knows, body) goes
    in, an answer (status, JSON or HTML) comes out.

    Runs in the HTTP thread only, with its own PostgreSQL connection
    (opened on first use, reset when lost): the database is the state it
    shares with the control loop. Errors are answered as
    {"error": "...", "detail": "...", "hint": "..."} with 400, 404, 405,
    409, 413 or 500.
*/
#ifndef ORCH_API_H_INCLUDED
#define ORCH_API_H_INCLUDED

#include "vd_error.h"
#include "vd_secret.h"
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#define ORCH_API_MAX_BODY (1024 * 1024) /* request body ceiling (413) */

typedef struct {
    const char *method;
    const char *path;        /* without the query string              */
    const char *q_connector; /* query arguments, NULL when absent     */
    const char *q_limit;
    const char *q_offset;
    const char *q_purge;
    const char *q_q;        /* "q": a search text                   */
    const char *q_campaign; /* "campaign": a campaign name          */
    const char *q_all;      /* "all": true for every row            */
    const char *q_after;    /* "after": a line number (pages)       */
    const char *body;       /* NUL-terminated, "" when none          */
    size_t body_len;
    bool authenticated; /* credentials checked (or none configured) */
} orch_request_t;

typedef struct {
    unsigned status;
    json_t *json;             /* the answer, or                         */
    char *html;               /* a page, or other text (malloc'ed)      */
    size_t html_len;          /* bytes of html when it holds NULs (a PDF); 0: strlen */
    const char *content_type; /* of html, when not text/html     */
    char allow[48];           /* methods, for a 405                     */
    bool inline_style;        /* a page with a <style> block (CSP)      */
    /* or a body made piece by piece as the client reads it (MHD's content
       reader: bytes written, -1 at the end, -2 on an error); stream_free
       (stream_cls) is called once whatever happens */
    ssize_t (*stream) (void *cls, uint64_t pos, char *buf, size_t max);
    void (*stream_free) (void *cls);
    void *stream_cls;
} orch_answer_t;

typedef struct orch_api orch_api_t;

typedef struct {
    const char *dsn;                   /* the database the API reads and writes   */
    const vd_secret_key_t *secret_key; /* seals connector secrets; NULL: none     */
    const char *api_token;             /* HTTP auth (orch_auth); NULL/"": none    */
    const char *api_user;
    const char *api_password;
    int64_t reco_follow_days;   /* VENDANGE_RECO_FOLLOW_DAYS (precision)  */
    const char *allowed_hosts;  /* VENDANGE_ALLOWED_HOSTS (orch_guard)        */
    const char *files_root;     /* VENDANGE_FILES_ROOT (file settings)        */
    int64_t request_timeout_s;  /* a request must be received within this    */
    int64_t client_connections; /* connections per client address            */
    const char *timezone;       /* VENDANGE_TIMEZONE (the quality report)     */
} orch_api_config_t;

/*  What config points to is copied. NULL when out of memory. */
orch_api_t *orch_api_new (const orch_api_config_t *config);
void orch_api_destroy (orch_api_t **self_p);

/*  Answers a request. The caller frees answer->json / answer->html with
    orch_answer_clear. */
void orch_api_handle (orch_api_t *self, const orch_request_t *req, orch_answer_t *answer);

/*  Helpers for the endpoint handlers. orch_answer_json steals json. */
void orch_answer_json (orch_answer_t *a, unsigned status, json_t *json);
void orch_answer_error (orch_answer_t *a, unsigned status, const char *msg, const char *detail,
                        const char *hint);
/*  A database or internal error: 500 with err's message. */
void orch_answer_fail (orch_answer_t *a, const vd_error_t *err);
void orch_answer_clear (orch_answer_t *a);

/*  The request body as a JSON object ({} when empty); NULL with a 400
    answer when it is not a JSON object. */
json_t *orch_request_json (const orch_request_t *req, orch_answer_t *a);

/*  Parses a non-negative integer query argument (def when absent); -1
    with a 400 answer when it is not an integer within [min, max]. */
int orch_request_int (const char *arg, const char *name, int64_t def, int64_t min, int64_t max,
                      int64_t *out, orch_answer_t *a);

/*  Answers with the JSON text the query's first column returns (one row):
    status with it; 404 with missing (and hint) when there is no row or
    it is NULL; 500 on a database error. */
void orch_answer_query (PGconn *conn, const char *sql, int nparams, const char *const *params,
                        unsigned status, const char *missing, const char *hint, orch_answer_t *a);

/*  Self test (routing to handlers without a database, bad input). */
int orch_api_test (bool verbose);

#endif
