/*  hook_http - the gateway's HTTP server. */
#include "hook_http.h"
#include "vd_ctl.h"
#include "vd_http.h"
#include "vd_msg.h"
#include <microhttpd.h>

#define SPOOL_WAIT_MS 20000 /* a group commit slower than this gets 429 */
#define MAX_CONNECTIONS 512

struct hook_http {
    hook_http_config_t config;
    struct MHD_Daemon *daemon;
};

/*  Per request. */
typedef struct {
    vd_buf_t body;
    int64_t started_ms;
    bool answered; /* a refusal is queued: the rest is dropped */
    hook_target_t target;
} s_request_t;

int
hook_http_route (const char *path, hook_source_t *source, char *name, size_t size)
{
    static const char prefix[] = "/webhooks/";
    if (strncmp (path, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *type = path + sizeof prefix - 1;
    size_t tlen = strcspn (type, "/");
    if (tlen == 5 && strncmp (type, "brevo", 5) == 0)
        *source = HOOK_BREVO;
    else if (tlen == 13 && strncmp (type, "powerautomate", 13) == 0)
        *source = HOOK_POWERAUTOMATE;
    else
        return -1;
    const char *rest = type + tlen;
    if (*rest == '/')
        rest++;
    size_t nlen = strlen (rest);
    if (nlen && rest[nlen - 1] == '/')
        nlen--;
    if (nlen >= size || memchr (rest, '/', nlen))
        return -1;
    memcpy (name, rest, nlen);
    name[nlen] = '\0';
    return 0;
}

/*  Queues a JSON answer; headers: NULL-terminated name/value pairs. */
static enum MHD_Result
s_answer (struct MHD_Connection *c, unsigned status, json_t *body, const char *const *headers)
{
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    if (!text)
        text = strdup ("{}");
    if (!text)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback (strlen (text), text, free);
    if (!r) {
        free (text);
        return MHD_NO;
    }
    enum MHD_Result rc =
        MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    for (size_t i = 0; rc == MHD_YES && headers && headers[i]; i += 2)
        rc = MHD_add_response_header (r, headers[i], headers[i + 1]);
    if (rc == MHD_YES)
        rc = MHD_queue_response (c, status, r);
    MHD_destroy_response (r);
    return rc;
}

static enum MHD_Result
s_error (struct MHD_Connection *c, s_request_t *req, unsigned status, const char *msg,
         const char *const *headers)
{
    if (req)
        req->answered = true;
    vd_debug ("webhook request refused: %u %s", status, msg);
    return s_answer (c, status, json_pack ("{s:s}", "error", msg), headers);
}

static enum MHD_Result
s_busy (hook_http_t *self, struct MHD_Connection *c, s_request_t *req, const char *msg)
{
    char after[16];
    snprintf (after, sizeof after, "%d", self->config.retry_after_s);
    const char *headers[] = {MHD_HTTP_HEADER_RETRY_AFTER, after, NULL};
    vd_warn ("webhook request deferred (429): %s", msg);
    return s_error (c, req, MHD_HTTP_TOO_MANY_REQUESTS, msg, headers);
}

static enum MHD_Result
s_health (hook_http_t *self, struct MHD_Connection *c)
{
    long connectors = hook_auth_size (self->config.auth);
    bool failing = hook_spool_failing (self->config.spool);
    return s_answer (c, MHD_HTTP_OK,
                     json_pack ("{s:s, s:I, s:I, s:b, s:b}", "status", failing ? "degraded" : "ok",
                                "connectors", (json_int_t)connectors, "spool_bytes",
                                (json_int_t)hook_spool_bytes (self->config.spool), "spool_failing",
                                failing, "configured", connectors >= 0),
                     NULL);
}

/*  First call of a request: route, who may post, announced length. */
static enum MHD_Result
s_begin (hook_http_t *self, struct MHD_Connection *c, const char *url, const char *method,
         void **con_cls)
{
    hook_source_t source;
    char name[80];
    s_request_t *req = calloc (1, sizeof *req);
    if (!req)
        return MHD_NO;
    vd_buf_init (&req->body, self->config.max_body);
    req->started_ms = vd_clock_ms ();
    *con_cls = req;
    if (strcmp (url, "/health") == 0 && strcmp (method, "GET") == 0) {
        req->answered = true;
        return s_health (self, c);
    }
    if (hook_http_route (url, &source, name, sizeof name) < 0)
        return s_error (c, req, MHD_HTTP_NOT_FOUND,
                        "no such path: POST to /webhooks/brevo or "
                        "/webhooks/powerautomate",
                        NULL);
    if (strcmp (method, "POST") != 0) {
        const char *headers[] = {MHD_HTTP_HEADER_ALLOW, "POST", NULL};
        return s_error (c, req, MHD_HTTP_METHOD_NOT_ALLOWED, "webhooks are POSTed", headers);
    }
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    hook_verdict_t v;
    hook_auth_check (
        self->config.auth, source, *name ? name : NULL, info ? info->client_addr : NULL,
        MHD_lookup_connection_value (c, MHD_HEADER_KIND, "X-Forwarded-For"),
        MHD_lookup_connection_value (c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        &req->target, &v);
    if (v.status == 429)
        return s_busy (self, c, req, v.msg);
    if (v.status == 401) {
        const char *headers[] = {MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                 v.basic ? "Basic realm=\"vendange\"" : "Bearer", NULL};
        return s_error (c, req, v.status, v.msg, headers);
    }
    if (v.status)
        return s_error (c, req, (unsigned)v.status, v.msg, NULL);
    const char *len =
        MHD_lookup_connection_value (c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t n;
    if (len && vd_parse_int (len, 0, INT64_MAX, &n) == 0 && (uint64_t)n > self->config.max_body)
        return s_error (c, req, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large", NULL);
    return MHD_YES;
}

/*  The whole body is there: parse, spool, answer. */
static enum MHD_Result
s_finish (hook_http_t *self, struct MHD_Connection *c, s_request_t *req)
{
    msgpack_sbuffer rows;
    msgpack_sbuffer_init (&rows);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &rows, vd_mp_write);
    hook_fault_t fault;
    size_t count = 0;
    enum MHD_Result rc;
    if (hook_event_parse (req->target.source, req->body.data ? req->body.data : "", req->body.len,
                          &pk, &count, &fault) < 0) {
        req->answered = true;
        vd_debug ("webhook request for %s refused: %d %s", req->target.name, fault.status,
                  fault.msg);
        json_t *body = json_pack ("{s:s}", "error", fault.msg);
        if (body && fault.field[0])
            json_object_set_new (body, "field", json_string (fault.field));
        if (body && fault.index >= 0)
            json_object_set_new (body, "index", json_integer (fault.index));
        rc = s_answer (c, (unsigned)fault.status, body, NULL);
    } else {
        vd_error_t err;
        vd_error_clear (&err);
        if (vd_mp_write_failed ()) /* the events packed without their memory: not stored */
            rc = s_busy (self, c, req, "out of memory");
        else if (count &&
                 hook_spool_submit (self->config.spool, req->target.name, req->target.source,
                                    rows.data, rows.size, count, SPOOL_WAIT_MS, &err) < 0)
            rc = s_busy (self, c, req, err.msg);
        else {
            vd_debug ("webhook %s: %zu events stored", req->target.name, count);
            rc = s_answer (
                c, MHD_HTTP_OK,
                json_pack ("{s:s, s:I}", "status", "stored", "events", (json_int_t)count), NULL);
        }
    }
    msgpack_sbuffer_destroy (&rows);
    return rc;
}

/*  A body that does not arrive in time (slow loris). libmicrohttpd
    queues no answer in the middle of an upload, so the 408 is written on
    the socket (this connection's own thread is here, nothing else writes
    on it now) and the connection closed. */
static enum MHD_Result
s_too_slow (struct MHD_Connection *c, s_request_t *req)
{
    static const char answer[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 34\r\n\r\n"
                                 "{\"error\":\"request body too slow\"}\n";
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_FD);
    req->answered = true;
    vd_debug ("webhook request refused: 408 request body too slow");
    if (info && send (info->connect_fd, answer, sizeof answer - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        vd_debug ("408 not delivered: %s", strerror (errno));
    return MHD_NO; /* closes the connection */
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *c, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    hook_http_t *self = cls;
    s_request_t *req = *con_cls;
    if (!req)
        return s_begin (self, c, url, method, con_cls);
    if (req->answered) { /* refused already: drop what still comes */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (vd_clock_ms () - req->started_ms > (int64_t)self->config.request_timeout_s * 1000)
        return s_too_slow (c, req);
    if (*upload_data_size)
        return vd_http_body_add (&req->body, upload_data, upload_data_size) < 0
                   ? s_error (c, req, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large", NULL)
                   : MHD_YES;
    return s_finish (self, c, req);
}

static void
s_completed (void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    s_request_t *req = *con_cls;
    if (code == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
        vd_debug ("webhook connection closed: idle too long");
    if (req) {
        vd_buf_free (&req->body);
        free (req);
        *con_cls = NULL;
    }
}

hook_http_t *
hook_http_new (const hook_http_config_t *config, vd_error_t *err)
{
    hook_http_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    self->config = *config;
    const struct MHD_OptionItem options[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)s_completed, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, config->idle_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS, NULL},
        {MHD_OPTION_END, 0, NULL}};
    vd_http_listen_t listen = {config->addr,
                               "VENDANGE_WEBHOOK_ADDR",
                               "127.0.0.1:8481",
                               "webhook gateway",
                               MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                               options};
    self->daemon = vd_http_start (&listen, s_access, self, err);
    if (!self->daemon) {
        free (self);
        return NULL;
    }
    return self;
}

void
hook_http_destroy (hook_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->daemon)
        MHD_stop_daemon ((*self_p)->daemon);
    free (*self_p);
    *self_p = NULL;
}

int
hook_http_test (bool verbose)
{
    int failures = 0;
    hook_source_t src;
    char name[80];
    failures += hook_http_route ("/webhooks/brevo", &src, name, sizeof name) != 0 ||
                src != HOOK_BREVO || *name;
    failures += hook_http_route ("/webhooks/brevo/", &src, name, sizeof name) != 0 || *name;
    failures += hook_http_route ("/webhooks/powerautomate/flow-1", &src, name, sizeof name) != 0 ||
                src != HOOK_POWERAUTOMATE || strcmp (name, "flow-1") != 0;
    failures += hook_http_route ("/webhooks/odoo", &src, name, sizeof name) == 0;
    failures += hook_http_route ("/webhooks/brevox", &src, name, sizeof name) == 0;
    failures += hook_http_route ("/webhooks/brevo/a/b", &src, name, sizeof name) == 0;
    failures += hook_http_route ("/health", &src, name, sizeof name) == 0;
    failures += hook_http_route ("/webhooks/brevo/a234567890", &src, name, 8) == 0;
    if (verbose)
        printf ("  hook_http: %d failures\n", failures);
    return failures ? -1 : 0;
}
