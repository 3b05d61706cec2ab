/*  odoo_client - an Odoo server's external API, whatever the transport. */
#include "odoo_client.h"
#include "odoo_json2.h"
#include "vd_ctl.h"
#include <sys/random.h>

#define MAX_BACKOFF_MS 5000
#define XML_BODY_MAX (64 * 1024 * 1024)

const char odoo_client_xmlrpc_warning[] =
    "transport xmlrpc is deprecated (removed in Odoo 22 and Odoo Online 21.1): "
    "set transport=json2 once the server runs Odoo 19 or later";

struct odoo_client {
    odoo_client_opts_t opts;
    char *url, *database, *user, *api_key, *ca_file;
    vd_httpc_t *http;
    odoo_transport_t transport;
    char version[64];
    int64_t uid;
    time_t server_time;
    int64_t requests;
    char auth_header[512];
    char db_header[300];
};

/*  One exchange: what to send and how to read the answer. */
typedef struct {
    const char *path;
    const char *model; /* for messages                       */
    const char *method;
    vd_buf_t *body; /* NULL: GET                          */
    bool xml;
    odoo_xmlrpc_item_fn *each;
    void *arg;
} s_exchange_t;

odoo_client_t *
odoo_client_new (const odoo_client_opts_t *opts, vd_error_t *err)
{
    odoo_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = *opts;
    self->url = strdup (opts->url ? opts->url : "");
    self->database = strdup (opts->database ? opts->database : "");
    self->user = strdup (opts->user ? opts->user : "");
    self->api_key = strdup (opts->api_key ? opts->api_key : "");
    self->ca_file = opts->ca_file ? strdup (opts->ca_file) : NULL;
    self->opts.attempts = opts->attempts > 0 ? opts->attempts : 1;
    const char *t = opts->transport ? opts->transport : "auto";
    self->transport = strcmp (t, "xmlrpc") == 0  ? ODOO_XMLRPC
                      : strcmp (t, "json2") == 0 ? ODOO_JSON2
                                                 : ODOO_AUTO;
    vd_httpc_opts_t h = {.base_url = self->url,
                         .ca_file = self->ca_file,
                         .timeout_ms = 1000 * (opts->timeout_s > 0 ? opts->timeout_s : 120),
                         .peer = "the Odoo server",
                         .url_setting = "the connector's url",
                         .ca_setting = "the connector's ca_file setting",
                         .tick = opts->tick,
                         .tick_arg = opts->tick_arg};
    self->http = vd_httpc_new (&h, err);
    snprintf (self->auth_header, sizeof self->auth_header, "Authorization: bearer %s",
              self->api_key);
    snprintf (self->db_header, sizeof self->db_header, "X-Odoo-Database: %s", self->database);
    if (!self->http || !self->url || !self->api_key) {
        odoo_client_destroy (&self);
        return NULL;
    }
    return self;
}

void
odoo_client_destroy (odoo_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odoo_client_t *self = *self_p;
    vd_httpc_destroy (&self->http);
    if (self->api_key)
        memset (self->api_key, 0, strlen (self->api_key));
    memset (self->auth_header, 0, sizeof self->auth_header);
    free (self->url);
    free (self->database);
    free (self->user);
    free (self->api_key);
    free (self->ca_file);
    free (self);
    *self_p = NULL;
}

void
odoo_client_redact (char *s, size_t size, const char *secret)
{
    size_t n = secret ? strlen (secret) : 0;
    if (n < 4)
        return; /* too short to be a key; would mangle the message */
    char *p;
    while ((p = strstr (s, secret)) != NULL) {
        size_t rest = strlen (p + n);
        memcpy (p, "***", 3);
        memmove (p + 3, p + n, rest + 1);
    }
    (void)size;
}

static void
s_redact_err (odoo_client_t *self, vd_error_t *err)
{
    odoo_client_redact (err->msg, sizeof err->msg, self->api_key);
    odoo_client_redact (err->detail, sizeof err->detail, self->api_key);
    odoo_client_redact (err->hint, sizeof err->hint, self->api_key);
}

/*  Waits ms, ticking (heartbeats). Returns -1 when told to stop. */
static int
s_wait (odoo_client_t *self, int ms)
{
    int64_t until = vd_clock_ms () + ms;
    while (vd_clock_ms () < until) {
        if (self->opts.tick && self->opts.tick (self->opts.tick_arg))
            return -1;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep (&ts, NULL);
    }
    return 0;
}

/*  The XML-RPC fault as a message for users. */
static int
s_fault_error (int code, const char *fault, const char *what, vd_error_t *err)
{
    /* the interesting line of a traceback is its last non-empty one */
    const char *last = fault;
    for (const char *p = fault; *p; p++)
        if (*p == '\n' && p[1] && p[1] != '\n')
            last = p + 1;
    switch (code) {
    case 3:
        vd_error_set (err, VD_ERR_PERMANENT,
                      "Odoo refused the user or API key (XML-RPC fault 3, access denied)");
        snprintf (err->hint, sizeof err->hint,
                  "check the connector's user, database and api_key; an expired key must be "
                  "replaced: rotate the API key");
        break;
    case 4:
        vd_error_set (err, VD_ERR_PERMANENT, "Odoo denied access (XML-RPC fault 4, access error)");
        snprintf (err->hint, sizeof err->hint,
                  "give the connector's Odoo user read access to this model");
        break;
    case 2:
        vd_error_set (err, VD_ERR_PERMANENT,
                      "Odoo refused the request (XML-RPC fault 2, user "
                      "error)");
        break;
    default:
        vd_error_set (err, VD_ERR_PERMANENT, "Odoo failed while answering (XML-RPC fault %d)",
                      code);
        break;
    }
    return vd_error_detail (err, "%s: %.*s", what, (int)strcspn (last, "\n"), last);
}

typedef struct {
    odoo_xmlrpc_parser_t *parser;
    vd_buf_t *buf;
    vd_error_t err;
    const vd_httpc_res_t *res;
} s_sink_t;

/*  XML-RPC answers go to the parser as they arrive; JSON-2 answers and
    error pages (a proxy's 502) are kept whole (with a ceiling). */
static int
s_sink (const char *data, size_t len, void *arg)
{
    s_sink_t *s = arg;
    if (s->parser && s->res->status == 200)
        return odoo_xmlrpc_parser_feed (s->parser, data, len, &s->err);
    if (vd_buf_add (s->buf, data, len) < 0)
        return vd_error_set (&s->err, VD_ERR_PERMANENT, "the answer is larger than 256 MiB");
    return 0;
}

/*  Status of an XML-RPC answer that is not 200. */
static int
s_xml_status (long status, const char *what, vd_error_t *err)
{
    bool transient = status == 502 || status == 503 || status == 504;
    vd_error_set (err, transient ? VD_ERR_TRANSIENT : VD_ERR_PERMANENT,
                  transient ? "the Odoo server is unavailable (HTTP %ld)"
                            : "Odoo answered HTTP %ld to an XML-RPC call",
                  status);
    err->http_status = (int)status;
    if (status == 404)
        snprintf (err->hint, sizeof err->hint,
                  "no XML-RPC endpoint at this URL (removed in Odoo 22): set transport=json2");
    return vd_error_detail (err, "%s", what);
}

/*  Streams the JSON-2 array answer into each. */
static void
s_hand_over (json_t **result, odoo_xmlrpc_item_fn *each, void *arg)
{
    if (!each || !json_is_array (*result))
        return;
    size_t i;
    json_t *item;
    json_array_foreach (*result, i, item)
    {
        if (each (json_incref (item), arg) < 0)
            break;
    }
    json_array_clear (*result);
}

/*  Puts "what: " before err's detail. */
static void
s_prefix_detail (vd_error_t *err, const char *what, const char *detail)
{
    char copy[sizeof err->detail];
    snprintf (copy, sizeof copy, "%s", detail);
    vd_error_detail (err, "%s: %s", what, copy);
}

/*  One attempt. Returns 0, 1 for a fault (err filled), -1 with err. */
static int
s_once (odoo_client_t *self, const s_exchange_t *x, json_t **result, vd_error_t *err)
{
    char what[256];
    snprintf (what, sizeof what, "%s %s", x->model, x->method);
    const char *h2[] = {self->auth_header, self->db_header, "Accept: application/json", NULL};
    vd_buf_t buf;
    vd_buf_init (&buf, ODOO_JSON2_MAX_BODY);
    vd_httpc_res_t res = {0};
    s_sink_t sink = {x->xml ? odoo_xmlrpc_parser_new (x->each, x->arg) : NULL, &buf, {0}, &res};
    self->requests++;
    int rc = -1;
    if (x->xml && !sink.parser)
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    else if (vd_httpc_request (
                 self->http,
                 &(vd_httpc_req_t){.path = x->path,
                                   .headers = x->xml ? NULL : h2,
                                   .ctype = x->xml ? "text/xml" : "application/json; charset=utf-8",
                                   .body = x->body ? x->body->data : NULL,
                                   .len = x->body ? x->body->len : 0,
                                   .sink = s_sink,
                                   .sink_arg = &sink},
                 &res, err) < 0) {
        if (res.sink_aborted)
            *err = sink.err;
        s_prefix_detail (err, what, res.sink_aborted ? sink.err.detail : err->detail);
    } else if (!x->xml)
        rc = odoo_json2_decode (res.status, buf.data, buf.len, what, result, err);
    else if (res.status != 200)
        rc = s_xml_status (res.status, what, err);
    else {
        int code = 0;
        char fault[1024];
        rc = odoo_xmlrpc_parser_finish (sink.parser, result, &code, fault, sizeof fault, err);
        if (rc == 1)
            s_fault_error (code, fault, what, err);
        else if (rc < 0)
            s_prefix_detail (err, what, err->detail);
    }
    if (res.date)
        self->server_time = res.date;
    if (rc == 0 && !x->xml)
        s_hand_over (result, x->each, x->arg);
    odoo_xmlrpc_parser_destroy (&sink.parser);
    vd_buf_free (&buf);
    vd_httpc_res_free (&res);
    return rc;
}

/*  Attempts until success, a permanent error or the attempt budget. */
static int
s_exchange (odoo_client_t *self, const s_exchange_t *x, json_t **result, vd_error_t *err)
{
    int backoff = self->opts.backoff_ms > 0 ? self->opts.backoff_ms : 200;
    for (int attempt = 1;; attempt++) {
        if (x->each && attempt > 1)
            x->each (NULL, x->arg); /* drop what the failed attempt delivered */
        *result = NULL;
        vd_error_clear (err);
        int rc = s_once (self, x, result, err);
        if (rc == 0)
            return 0;
        json_decref (*result);
        *result = NULL;
        s_redact_err (self, err);
        if (rc == 1 || err->kind != VD_ERR_TRANSIENT || attempt >= self->opts.attempts)
            break;
        uint32_t r = 0;
        if (getrandom (&r, sizeof r, 0) != sizeof r)
            r = (uint32_t)vd_clock_ms ();
        int wait = backoff / 2 + (int)(r % (uint32_t)(backoff / 2 + 1)); /* jitter */
        vd_log_detail (VD_LOG_WARN, err->detail, NULL, "%s: retrying in %d ms (attempt %d of %d)",
                       err->msg, wait, attempt + 1, self->opts.attempts);
        if (s_wait (self, wait) < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "stopped while waiting to retry");
        backoff = backoff * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff * 2;
    }
    if (err->kind == VD_ERR_TRANSIENT && self->opts.attempts > 1) {
        /* keep what the transport said, after the count of attempts */
        char hint[sizeof err->hint];
        memcpy (hint, err->hint, sizeof hint);
        int n = snprintf (err->hint, sizeof err->hint, "gave up after %d attempts",
                          self->opts.attempts);
        if (hint[0] && n > 0 && (size_t)n + 2 < sizeof err->hint)
            snprintf (err->hint + n, sizeof err->hint - (size_t)n, "; %.*s",
                      (int)(sizeof err->hint - (size_t)n - 3), hint);
    }
    return -1;
}

/*  An XML-RPC call of endpoint ("common", "object"). */
static int
s_xmlrpc (odoo_client_t *self, const char *service, const char *method, json_t *params,
          const char *model, odoo_xmlrpc_item_fn *each, void *arg, json_t **result, vd_error_t *err)
{
    char path[64];
    snprintf (path, sizeof path, "/xmlrpc/2/%s", service);
    vd_buf_t body;
    vd_buf_init (&body, XML_BODY_MAX);
    int rc = odoo_xmlrpc_write_call (&body, method, params, err);
    s_exchange_t x = {path, model, method, &body, true, each, arg};
    if (rc == 0)
        rc = s_exchange (self, &x, result, err);
    memset (body.data, 0, body.len); /* it holds the key */
    vd_buf_free (&body);
    return rc;
}

static int
s_json2 (odoo_client_t *self, const char *path, const json_t *kwargs, const char *model,
         const char *method, odoo_xmlrpc_item_fn *each, void *arg, json_t **result, vd_error_t *err)
{
    vd_buf_t body;
    vd_buf_init (&body, XML_BODY_MAX);
    char *text = kwargs ? json_dumps (kwargs, JSON_COMPACT) : strdup ("{}");
    int rc = text && vd_buf_addstr (&body, text) == 0
                 ? 0
                 : vd_error_set (err, VD_ERR_PERMANENT, "cannot encode the JSON-2 request");
    free (text);
    s_exchange_t x = {path,  model, method, strcmp (method, "version") == 0 ? NULL : &body,
                      false, each,  arg};
    if (rc == 0)
        rc = s_exchange (self, &x, result, err);
    vd_buf_free (&body);
    return rc;
}

int
odoo_client_call (odoo_client_t *self, const char *model, const char *method, const json_t *kwargs,
                  odoo_xmlrpc_item_fn *each, void *arg, json_t **result, vd_error_t *err)
{
    *result = NULL;
    if (self->transport == ODOO_JSON2) {
        char path[256];
        if (odoo_json2_path (model, method, path, sizeof path) < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "bad model or method name \"%s.%s\"", model,
                                 method);
        return s_json2 (self, path, kwargs, model, method, each, arg, result, err);
    }
    json_t *kw = kwargs ? json_deep_copy (kwargs) : json_object ();
    json_t *params = json_pack ("[s, I, s, s, s, [], o]", self->database, (json_int_t)self->uid,
                                self->api_key, model, method, kw);
    int rc = params ? s_xmlrpc (self, "object", "execute_kw", params, model, each, arg, result, err)
                    : vd_error_set (err, VD_ERR_PERMANENT, "cannot encode the XML-RPC request");
    json_decref (params);
    return rc;
}

static void
s_check (json_t *checks, const char *check, bool ok, const char *message)
{
    if (json_is_array (checks))
        json_array_append_new (
            checks, json_pack ("{s:s, s:b, s:s}", "check", check, "ok", ok, "message", message));
}

/*  "auto": POST /json/2/res.users/context_get. 200 (uid known) or 401
    mean JSON-2; 404 means XML-RPC. */
static int
s_negotiate (odoo_client_t *self, json_t *checks, vd_error_t *err)
{
    json_t *ctx = NULL;
    int rc = s_json2 (self, "/json/2/res.users/context_get", NULL, "res.users", "context_get", NULL,
                      NULL, &ctx, err);
    if (rc == 0) {
        self->transport = ODOO_JSON2;
        self->uid = json_integer_value (json_object_get (ctx, "uid"));
        json_decref (ctx);
        s_check (checks, "reach", true, "JSON-2 API answered");
        return 0;
    }
    if (err->http_status == 404) {
        self->transport = ODOO_XMLRPC;
        s_check (checks, "reach", true, "no JSON-2 API (HTTP 404): using XML-RPC");
        return 0;
    }
    if (err->http_status == 401) {
        self->transport = ODOO_JSON2;
        s_check (checks, "reach", true, "JSON-2 API answered");
        return -1;
    }
    s_check (checks, "reach", false, err->msg);
    return -1;
}

static int
s_version (odoo_client_t *self, json_t *checks, vd_error_t *err)
{
    json_t *v = NULL, *none = json_array ();
    int rc = self->transport == ODOO_JSON2
                 ? s_json2 (self, "/web/version", NULL, "web", "version", NULL, NULL, &v, err)
                 : s_xmlrpc (self, "common", "version", none, "common", NULL, NULL, &v, err);
    json_decref (none);
    const char *text = json_string_value (
        json_object_get (v, self->transport == ODOO_JSON2 ? "version" : "server_version"));
    if (rc == 0 && !text)
        rc = vd_error_set (err, VD_ERR_PERMANENT, "the server's version answer has no version");
    snprintf (self->version, sizeof self->version, "%s", text ? text : "unknown");
    char msg[128];
    snprintf (msg, sizeof msg, "Odoo %s", self->version);
    s_check (checks, "version", rc == 0, rc == 0 ? msg : err->msg);
    json_decref (v);
    return rc;
}

static int
s_authenticate (odoo_client_t *self, json_t *checks, vd_error_t *err)
{
    json_t *r = NULL;
    int rc;
    if (self->transport == ODOO_JSON2)
        rc = s_json2 (self, "/json/2/res.users/context_get", NULL, "res.users", "context_get", NULL,
                      NULL, &r, err);
    else {
        json_t *params = json_pack ("[s, s, s, {}]", self->database, self->user, self->api_key);
        rc = s_xmlrpc (self, "common", "authenticate", params, "common", NULL, NULL, &r, err);
        json_decref (params);
        if (rc == 0 && !json_is_integer (r)) {
            vd_error_set (err, VD_ERR_PERMANENT, "Odoo refused the user or API key");
            vd_error_detail (err,
                             "authenticate answered False for user \"%s\" on database "
                             "\"%s\"",
                             self->user, self->database);
            snprintf (err->hint, sizeof err->hint,
                      "check the connector's user, database and api_key; an expired key must be "
                      "replaced: rotate the API key");
            rc = -1;
        }
    }
    if (rc == 0)
        self->uid = json_is_integer (r) ? json_integer_value (r)
                                        : json_integer_value (json_object_get (r, "uid"));
    json_decref (r);
    char msg[160];
    snprintf (msg, sizeof msg, "user %" PRId64 " (%s)", self->uid, self->user);
    s_check (checks, "authenticate", rc == 0, rc == 0 ? msg : err->msg);
    return rc;
}

int
odoo_client_connect (odoo_client_t *self, json_t *checks, vd_error_t *err)
{
    if (self->transport == ODOO_AUTO && s_negotiate (self, checks, err) < 0) {
        if (self->transport == ODOO_JSON2)
            s_check (checks, "authenticate", false, err->msg);
        return -1;
    }
    if (self->transport != ODOO_AUTO && json_is_array (checks) && json_array_size (checks) == 0)
        s_check (checks, "reach", true, "transport set by configuration");
    if (s_version (self, checks, err) < 0)
        return -1;
    return s_authenticate (self, checks, err);
}

odoo_transport_t
odoo_client_transport (const odoo_client_t *self)
{
    return self->transport;
}

const char *
odoo_client_transport_name (const odoo_client_t *self)
{
    return self->transport == ODOO_JSON2    ? "json2"
           : self->transport == ODOO_XMLRPC ? "xmlrpc"
                                            : "auto";
}

const char *
odoo_client_version (const odoo_client_t *self)
{
    return self->version;
}

int64_t
odoo_client_uid (const odoo_client_t *self)
{
    return self->uid;
}

time_t
odoo_client_server_time (const odoo_client_t *self)
{
    return self->server_time;
}

int64_t
odoo_client_requests (const odoo_client_t *self)
{
    return self->requests;
}

int
odoo_client_test (bool verbose)
{
    int failures = 0;
    char s[128];
    snprintf (s, sizeof s, "key abcdef123 then abcdef123.");
    odoo_client_redact (s, sizeof s, "abcdef123");
    failures += strcmp (s, "key *** then ***.") != 0;
    snprintf (s, sizeof s, "ab");
    odoo_client_redact (s, sizeof s, "a");
    failures += strcmp (s, "ab") != 0;
    vd_error_t err;
    s_fault_error (1,
                   "Traceback (most recent call last):\n  File x\nValueError: Invalid field "
                   "'x_grapes' on model 'product.product'\n",
                   "product.product search_read", &err);
    failures += !strstr (err.detail, "ValueError: Invalid field 'x_grapes'") ||
                !strstr (err.msg, "fault 1");
    s_fault_error (3, "Access Denied", "res.partner search_read", &err);
    failures += !strstr (err.hint, "rotate the API key") || err.kind != VD_ERR_PERMANENT;
    s_fault_error (4, "You are not allowed to access 'Contact' (res.partner) records.",
                   "res.partner search_read", &err);
    failures += !strstr (err.msg, "access error");
    s_xml_status (503, "x", &err);
    failures += err.kind != VD_ERR_TRANSIENT;
    s_xml_status (404, "x", &err);
    failures += err.kind != VD_ERR_PERMANENT || !strstr (err.hint, "json2");
    /* an unreachable server: transient, retried, then a clear message */
    odoo_client_opts_t opts = {.url = "http://127.0.0.1:1",
                               .database = "d",
                               .user = "u",
                               .api_key = "secret-key",
                               .transport = "auto",
                               .timeout_s = 2,
                               .attempts = 2,
                               .backoff_ms = 10};
    odoo_client_t *c = odoo_client_new (&opts, &err);
    json_t *checks = json_array ();
    if (!c || odoo_client_connect (c, checks, &err) == 0 || odoo_client_requests (c) != 2 ||
        !strstr (err.hint, "2 attempts") || json_array_size (checks) != 1 ||
        strstr (err.detail, "secret-key"))
        failures++;
    json_decref (checks);
    odoo_client_destroy (&c);
    if (verbose)
        printf ("  odoo_client: %d failures\n", failures);
    return failures ? -1 : 0;
}
