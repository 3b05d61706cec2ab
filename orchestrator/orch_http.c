/*  orch_http - the HTTP server of the orchestrator (libmicrohttpd). */
#include "vendange.h"
#include "orch_api.h"
#include "orch_auth.h"
#include "orch_http.h"
#include "orch_json.h"
#include "vd_addr.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

struct orch_http {
    struct MHD_Daemon *daemon;
    orch_api_t *api;
    orch_auth_t *auth;
};

/*  Per request: the path as sent (still percent-encoded: a key may hold
    an encoded '/'), the body read so far. */
typedef struct {
    char *path;
    vd_buf_t body;
    bool started;
    bool too_large;
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

int
orch_http_parse_addr (const char *addr, char *host, size_t size, int *port)
{
    return vd_addr_parse (addr, host, size, port);
}

#define STREAM_BLOCK (64 * 1024) /* bytes asked of a streamed body at a time */

/*  Answers with a (JSON, HTML, other text or streamed) answer; frees what
    it holds. */
static enum MHD_Result
s_queue (struct MHD_Connection *c, orch_answer_t *a)
{
    const char *type = a->content_type ? a->content_type : "text/html; charset=utf-8";
    char *body = a->html;
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
        } else
            free (text);
    }
    enum MHD_Result rc = MHD_NO;
    if (body) {
        r = MHD_create_response_from_buffer_with_free_callback (strlen (body), body, free);
        if (!r)
            free (body);
    }
    if (r && MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
        MHD_add_response_header (r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES &&
        (!a->allow || MHD_add_response_header (r, MHD_HTTP_HEADER_ALLOW, a->allow) == MHD_YES))
        rc = MHD_queue_response (c, a->status ? a->status : 500, r);
    if (r)
        MHD_destroy_response (r);
    orch_answer_clear (a);
    return rc;
}

static enum MHD_Result
s_too_large (struct MHD_Connection *c)
{
    orch_answer_t a;
    memset (&a, 0, sizeof a);
    orch_answer_error (&a, 413, "request body too large", "at most 1 MiB", NULL);
    return s_queue (c, &a);
}

/*  Paths served without credentials: the static page (it holds no data
    and asks for the token) and the liveness probe. */
static bool
s_public (const char *url)
{
    static const char *open[] = {"/", "/index.html", "/app.js", "/app.css", "/health", NULL};
    for (int i = 0; open[i]; i++)
        if (strcmp (url, open[i]) == 0)
            return true;
    return false;
}

static enum MHD_Result
s_unauthorized (orch_http_t *self, struct MHD_Connection *c)
{
    static const char body[] = "{\"error\":\"authentication required\",\"hint\":\"send "
                               "VENDANGE_API_TOKEN as a bearer token, or the basic-auth user\"}\n";
    struct MHD_Response *r =
        MHD_create_response_from_buffer (strlen (body), (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_NO;
    if (r &&
        MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") == MHD_YES &&
        MHD_add_response_header (r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                 orch_auth_challenge (self->auth)) == MHD_YES)
        rc = MHD_queue_response (c, MHD_HTTP_UNAUTHORIZED, r);
    if (r)
        MHD_destroy_response (r);
    return rc;
}

/*  First call of a request: checks the announced length. */
static enum MHD_Result
s_begin (struct MHD_Connection *c, s_request_t *req)
{
    req->started = true;
    const char *len =
        MHD_lookup_connection_value (c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t n;
    if (len && vd_parse_int (len, 0, INT64_MAX, &n) == 0 && n > ORCH_API_MAX_BODY) {
        req->too_large = true;
        return s_too_large (c);
    }
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
        return s_begin (c, req);
    if (*upload_data_size) {
        /* past the ceiling the rest is read and dropped, then 413 */
        if (!req->too_large && vd_buf_add (&req->body, upload_data, *upload_data_size) < 0)
            req->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_large)
        return s_too_large (c);
    if (!s_public (url) &&
        !orch_auth_check (self->auth, MHD_lookup_connection_value (c, MHD_HEADER_KIND,
                                                                   MHD_HTTP_HEADER_AUTHORIZATION)))
        return s_unauthorized (self, c);
    orch_request_t r = {
        .method = method,
        .path = req->path ? req->path : url, /* a path too long gets 404 */
        .q_connector = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "connector"),
        .q_limit = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "limit"),
        .q_offset = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "offset"),
        .q_purge = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "purge"),
        .q_q = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "q"),
        .q_campaign = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "campaign"),
        .body = vd_buf_str (&req->body),
        .body_len = req->body.len,
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
    (void)c;
    (void)code;
    s_request_t *req = *con_cls;
    if (req) {
        vd_buf_free (&req->body);
        free (req->path);
        free (req);
        *con_cls = NULL;
    }
}

static void
s_mhd_log (void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf (msg, sizeof msg, fmt, ap);
    msg[strcspn (msg, "\n")] = '\0';
    vd_warn ("http server: %s", msg);
}

orch_http_t *
orch_http_new (const char *addr, const orch_api_config_t *api, vd_error_t *err)
{
    char host[256];
    int port;
    struct sockaddr_storage sa;
    socklen_t salen;
    if (orch_http_parse_addr (addr, host, sizeof host, &port) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "invalid HTTP address \"%s\"", addr ? addr : "");
        snprintf (err->hint, sizeof err->hint,
                  "VENDANGE_HTTP_ADDR is host:port, e.g. 127.0.0.1:8480");
        return NULL;
    }
    orch_auth_t *auth = orch_auth_new (api->api_token, api->api_user, api->api_password, err);
    if (!auth || orch_auth_addr_ok (auth, addr, err) < 0 ||
        vd_addr_resolve (host, port, &sa, &salen, err) < 0) {
        orch_auth_destroy (&auth);
        return NULL;
    }
    orch_http_t *self = calloc (1, sizeof *self);
    self->api = self ? orch_api_new (api) : NULL;
    if (self)
        self->auth = auth;
    if (!self || !self->api) {
        orch_auth_destroy (&auth);
        free (self);
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (sa.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon (
        flags, (uint16_t)port, NULL, NULL, s_access, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
        s_completed, NULL, MHD_OPTION_URI_LOG_CALLBACK, s_uri_log, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)64, MHD_OPTION_END);
    if (!self->daemon) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot listen on %s", addr);
        vd_error_detail (err, "%s", strerror (errno));
        snprintf (err->hint, sizeof err->hint,
                  "is another orchestrator running? VENDANGE_HTTP_ADDR sets the address");
        orch_http_destroy (&self);
        return NULL;
    }
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
    orch_api_destroy (&self->api);
    orch_auth_destroy (&self->auth);
    free (self);
    *self_p = NULL;
}

int
orch_http_test (bool verbose)
{
    int failed = 0;
    char host[64];
    int port = 0;
    failed += orch_http_parse_addr ("127.0.0.1:8480", host, sizeof host, &port) < 0 ||
              strcmp (host, "127.0.0.1") != 0 || port != 8480;
    failed += orch_http_parse_addr ("*:80", host, sizeof host, &port) < 0 || *host || port != 80;
    failed += orch_http_parse_addr (":9000", host, sizeof host, &port) < 0 || *host;
    failed += orch_http_parse_addr ("[::1]:8480", host, sizeof host, &port) < 0 ||
              strcmp (host, "::1") != 0;
    failed += orch_http_parse_addr ("orchestrator:8480", host, sizeof host, &port) < 0 ||
              strcmp (host, "orchestrator") != 0;
    failed += orch_http_parse_addr ("::1:8480", host, sizeof host, &port) == 0;
    failed += orch_http_parse_addr ("localhost", host, sizeof host, &port) == 0;
    failed += orch_http_parse_addr ("h:0", host, sizeof host, &port) == 0;
    failed += orch_http_parse_addr ("h:65536", host, sizeof host, &port) == 0;
    failed += orch_http_parse_addr ("h:80x", host, sizeof host, &port) == 0;
    failed += orch_http_parse_addr ("[::1]8480", host, sizeof host, &port) == 0;
    failed += orch_http_parse_addr ("", host, sizeof host, &port) == 0;
    failed += orch_http_parse_addr (NULL, host, sizeof host, &port) == 0;
    failed += orch_http_parse_addr ("a-very-long-host-name-that-does-not-fit-in-the-buffer-"
                                    "given-here.example.org:1",
                                    host, sizeof host, &port) == 0;
    vd_error_t err;
    vd_error_clear (&err);
    orch_http_t *http = orch_http_new ("nonsense", &(orch_api_config_t){.dsn = ""}, &err);
    failed += http != NULL || strstr (err.msg, "invalid HTTP address") == NULL;
    if (verbose)
        printf ("orch_http_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
