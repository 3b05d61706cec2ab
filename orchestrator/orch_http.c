/*  orch_http - the HTTP server of the orchestrator (libmicrohttpd). */
#include "vendange.h"
#include "orch_api.h"
#include "orch_auth.h"
#include "orch_guard.h"
#include "orch_http.h"
#include "orch_json.h"
#include "vd_addr.h"
#include "vd_deadline.h"
#include "vd_http.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#define MAX_CONNECTIONS 256 /* in all; VENDANGE_HTTP_CLIENT_CONNECTIONS per address */
#define IDLE_TIMEOUT_S 30   /* a silent connection (a stalled download too) is closed */
#define HEADER_MEMORY 32768 /* request line and headers of one request, at most */

struct orch_http {
    struct MHD_Daemon *daemon;
    orch_api_t *api;
    orch_auth_t *auth;
    orch_guard_t *guard;
    vd_deadline_t *deadline;
};

/*  Per request: the path as sent (still percent-encoded: a key may hold
    an encoded '/'), the body read so far. */
typedef struct {
    char *path;
    vd_buf_t body;
    bool started;       /* the headers were checked (s_begin)          */
    bool refused;       /* an answer is queued already: the rest is dropped */
    bool authenticated; /* the credentials were good (or none are set) */
} s_request_t;

#define MAX_PATH 2048 /* bytes of a request path kept for routing */

/*  Called by libmicrohttpd with the request's URI before it decodes it
    (MHD_OPTION_URI_LOG_CALLBACK): the request's state, with the path as
    sent, so the router splits segments before decoding each. */
static void *
s_uri_log (void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    s_request_t *req = calloc (1, sizeof *req);
    if (!req)
        return NULL;
    vd_buf_init (&req->body, ORCH_API_MAX_BODY);
    size_t n = uri ? strcspn (uri, "?") : 0;
    req->path = uri && n <= MAX_PATH ? strndup (uri, n) : NULL;
    return req;
}

#define STREAM_BLOCK (64 * 1024) /* bytes asked of a streamed body at a time */

/*  The page's own files only, nothing inline but the classic page's
    <style>, and never in a frame. */
#define CSP_BASE                                                                                   \
    "default-src 'none'; script-src 'self'; img-src 'self' data:; connect-src 'self'; "            \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
#define CSP CSP_BASE "style-src 'self'"
#define CSP_INLINE_STYLE CSP_BASE "style-src 'self' 'unsafe-inline'"

/*  The headers every answer carries. Returns MHD_YES, MHD_NO. */
static enum MHD_Result
s_common_headers (struct MHD_Response *r, bool inline_style)
{
    return MHD_add_response_header (r, "Content-Security-Policy",
                                    inline_style ? CSP_INLINE_STYLE : CSP) == MHD_YES &&
                   MHD_add_response_header (r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
                   MHD_add_response_header (r, "X-Frame-Options", "DENY") == MHD_YES &&
                   MHD_add_response_header (r, "Referrer-Policy", "no-referrer") == MHD_YES &&
                   MHD_add_response_header (r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES
               ? MHD_YES
               : MHD_NO;
}

/*  Answers with a (JSON, HTML, other text or streamed) answer; frees what
    it holds. */
static enum MHD_Result
s_queue (struct MHD_Connection *c, orch_answer_t *a)
{
    const char *type = a->content_type ? a->content_type : "text/html; charset=utf-8";
    char *body = a->html;
    size_t len = body && a->html_len ? a->html_len : body ? strlen (body) : 0;
    a->html = NULL;
    struct MHD_Response *r = NULL;
    if (a->stream) {
        r = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, STREAM_BLOCK, a->stream,
                                               a->stream_cls, a->stream_free);
        if (r)
            a->stream_free = NULL; /* the response owns it now */
    } else if (!body) {
        type = "application/json";
        char *text = json_dumps (a->json, JSON_COMPACT | JSON_REAL_PRECISION (12));
        size_t n = text ? strlen (text) : 0;
        body = text ? realloc (text, n + 2) : NULL;
        if (body) {
            body[n] = '\n';
            body[n + 1] = '\0';
            len = n + 1;
        } else
            free (text);
    }
    enum MHD_Result rc = MHD_NO;
    if (body) {
        r = MHD_create_response_from_buffer_with_free_callback (len, body, free);
        if (!r)
            free (body);
    }
    if (r && MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
        s_common_headers (r, a->inline_style) == MHD_YES &&
        (!a->allow[0] || MHD_add_response_header (r, MHD_HTTP_HEADER_ALLOW, a->allow) == MHD_YES))
        rc = MHD_queue_response (c, a->status ? a->status : 500, r);
    if (r)
        MHD_destroy_response (r);
    orch_answer_clear (a);
    return rc;
}

/*  Refuses a request with an error answer (before its body is read:
    libmicrohttpd then drops the body and closes the connection). */
static enum MHD_Result
s_refuse (struct MHD_Connection *c, s_request_t *req, unsigned status, const char *msg,
          const char *detail, const char *hint)
{
    orch_answer_t a;
    memset (&a, 0, sizeof a);
    req->refused = true;
    vd_deadline_answering (c);
    vd_debug ("http request refused: %u %s", status, msg);
    orch_answer_error (&a, status, msg, detail, hint && *hint ? hint : NULL);
    return s_queue (c, &a);
}

/*  Paths served without credentials: the static page (it holds no data
    and asks for the token) and the liveness probe. */
static bool
s_public (const char *url)
{
    static const char *open[] = {"/",        "/index.html", "/app.js", "/i18n.js",
                                 "/app.css", "/health",     NULL};
    for (int i = 0; open[i]; i++)
        if (strcmp (url, open[i]) == 0)
            return true;
    return false;
}

static enum MHD_Result
s_unauthorized (orch_http_t *self, struct MHD_Connection *c, s_request_t *req)
{
    static const char body[] = "{\"error\":\"authentication required\",\"hint\":\"send "
                               "VENDANGE_API_TOKEN as a bearer token, or the basic-auth user\"}\n";
    req->refused = true;
    vd_deadline_answering (c);
    struct MHD_Response *r =
        MHD_create_response_from_buffer (strlen (body), (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_NO;
    if (r &&
        MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") == MHD_YES &&
        s_common_headers (r, false) == MHD_YES &&
        MHD_add_response_header (r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                 orch_auth_challenge (self->auth)) == MHD_YES)
        rc = MHD_queue_response (c, MHD_HTTP_UNAUTHORIZED, r);
    if (r)
        MHD_destroy_response (r);
    return rc;
}

static const char *
s_header (struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value (c, MHD_HEADER_KIND, name);
}

/*  First call of a request, its headers in and no body byte read yet:
    who may ask (Host, Origin), credentials, Content-Type, announced
    length. A refusal is queued at once. */
static enum MHD_Result
s_begin (orch_http_t *self, struct MHD_Connection *c, s_request_t *req, const char *url,
         const char *method)
{
    req->started = true;
    orch_guard_verdict_t v;
    orch_guard_check (self->guard, method, s_header (c, MHD_HTTP_HEADER_HOST),
                      s_header (c, MHD_HTTP_HEADER_ORIGIN),
                      s_header (c, MHD_HTTP_HEADER_CONTENT_TYPE), &v);
    if (v.status == 403) /* before credentials: a foreign page learns nothing */
        return s_refuse (c, req, v.status, v.msg, NULL, v.hint);
    req->authenticated = orch_auth_check (self->auth, s_header (c, MHD_HTTP_HEADER_AUTHORIZATION));
    if (!req->authenticated && !s_public (url))
        return s_unauthorized (self, c, req);
    if (v.status)
        return s_refuse (c, req, v.status, v.msg, NULL, v.hint);
    const char *len = s_header (c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t n;
    if (len && vd_parse_int (len, 0, INT64_MAX, &n) == 0 && n > ORCH_API_MAX_BODY)
        return s_refuse (c, req, 413, "request body too large", "at most 1 MiB", NULL);
    return MHD_YES;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *c, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    orch_http_t *self = cls;
    s_request_t *req = *con_cls;
    if (!req)
        return MHD_NO; /* out of memory in s_uri_log */
    if (!req->started)
        return s_begin (self, c, req, url, method);
    if (req->refused) { /* answered already: what still comes is dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size)
        return vd_http_body_add (&req->body, upload_data, upload_data_size) < 0
                   ? s_refuse (c, req, 413, "request body too large", "at most 1 MiB", NULL)
                   : MHD_YES;
    vd_deadline_answering (c); /* received: a long answer (a CSV download) has no deadline */
    orch_request_t r = {
        .method = method,
        .path = req->path ? req->path : url, /* a path too long gets 404 */
        .q_connector = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "connector"),
        .q_limit = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "limit"),
        .q_offset = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "offset"),
        .q_purge = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "purge"),
        .q_q = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "q"),
        .q_campaign = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "campaign"),
        .q_all = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "all"),
        .q_after = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "after"),
        .body = vd_buf_str (&req->body),
        .body_len = req->body.len,
        .authenticated = req->authenticated,
    };
    orch_answer_t a;
    orch_api_handle (self->api, &r, &a);
    vd_debug ("http %s %s: %u", method, url, a.status);
    return s_queue (c, &a);
}

static void
s_completed (void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    (void)cls;
    s_request_t *req = *con_cls;
    if (code == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        vd_deadline_rearm (c); /* the next request on a kept-alive connection */
    if (req) {
        vd_buf_free (&req->body);
        free (req->path);
        free (req);
        *con_cls = NULL;
    }
}

/*  Authentication, the browser rules and the deadlines of the server
    at addr. Returns 0, -1 with err. */
static int
s_setup (orch_http_t *self, const char *addr, const orch_api_config_t *api, vd_error_t *err)
{
    self->auth = orch_auth_new (api->api_token, api->api_user, api->api_password, err);
    if (!self->auth || orch_auth_addr_ok (self->auth, addr, err) < 0)
        return -1;
    self->guard = orch_guard_new (addr, api->allowed_hosts, err);
    if (!self->guard)
        return -1;
    int64_t timeout_s = api->request_timeout_s > 0 ? api->request_timeout_s : 30;
    self->deadline = vd_deadline_new (timeout_s * 1000);
    self->api = orch_api_new (api);
    if (!self->deadline || !self->api) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return -1;
    }
    return 0;
}

orch_http_t *
orch_http_new (const char *addr, const orch_api_config_t *api, vd_error_t *err)
{
    orch_http_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    if (s_setup (self, addr, api, err) == 0) {
        unsigned per_client = api->client_connections > 0 ? (unsigned)api->client_connections : 16;
        const struct MHD_OptionItem options[] = {
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)s_completed, NULL},
            {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)s_uri_log, NULL},
            {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)vd_deadline_notify, self->deadline},
            {MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL},
            {MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS, NULL},
            {MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_client, NULL},
            {MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADER_MEMORY, NULL},
            {MHD_OPTION_END, 0, NULL}};
        vd_http_listen_t listen = {addr,           "VENDANGE_HTTP_ADDR",         "127.0.0.1:8480",
                                   "orchestrator", MHD_USE_AUTO_INTERNAL_THREAD, options};
        self->daemon = vd_http_start (&listen, s_access, self, err);
    }
    if (!self->daemon)
        orch_http_destroy (&self);
    return self;
}

void
orch_http_destroy (orch_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    orch_http_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    vd_deadline_destroy (&self->deadline); /* after the server: its connections are closed */
    orch_api_destroy (&self->api);
    orch_auth_destroy (&self->auth);
    orch_guard_destroy (&self->guard);
    free (self);
    *self_p = NULL;
}

int
orch_http_test (bool verbose)
{
    int failed = 0;
    vd_error_t err;
    vd_error_clear (&err);
    orch_http_t *http = orch_http_new ("nonsense", &(orch_api_config_t){.dsn = ""}, &err);
    failed += http != NULL || strstr (err.msg, "invalid orchestrator address") == NULL;
    if (verbose)
        printf ("orch_http_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
