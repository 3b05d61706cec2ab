/*  vd_httpc - the HTTP(S) client of vendange (see vd_httpc.h). */
#include "vd_httpc.h"
#include <curl/curl.h>

#define DEFAULT_CONNECT_MS 10000L
#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX_BODY (64 * 1024)

struct vd_httpc {
    CURL *curl;
    char *base_url;
    char *ca_file;
    char *peer;
    char *url_setting;
    char *ca_setting;
    char *bearer;
    char *user;
    char *password;
    bool url_secret;
    long connect_timeout_ms;
    long timeout_ms;
    vd_httpc_tick_fn *tick;
    void *tick_arg;
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct {
    const vd_httpc_req_t *req;
    vd_httpc_res_t *res;
    CURL *curl;
} s_transfer_t;

static char *
s_dup (const char *s, bool *failed)
{
    char *copy = s && *s ? strdup (s) : NULL;
    *failed |= s && *s && !copy;
    return copy;
}

vd_httpc_t *
vd_httpc_new (const vd_httpc_opts_t *opts, vd_error_t *err)
{
    static bool initialised = false;
    if (!initialised) {
        if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            vd_error_set (err, VD_ERR_PERMANENT, "libcurl failed to initialise");
            return NULL;
        }
        initialised = true;
    }
    vd_httpc_t *self = calloc (1, sizeof *self);
    bool failed = !self;
    if (self) {
        self->curl = curl_easy_init ();
        self->base_url = s_dup (opts->base_url, &failed);
        self->ca_file = s_dup (opts->ca_file, &failed);
        self->peer = s_dup (opts->peer, &failed);
        self->url_setting = s_dup (opts->url_setting, &failed);
        self->ca_setting = s_dup (opts->ca_setting, &failed);
        self->bearer = s_dup (opts->bearer, &failed);
        self->user = s_dup (opts->user, &failed);
        self->password = s_dup (opts->password, &failed);
        failed |= !self->curl;
    }
    if (failed) {
        vd_httpc_destroy (&self);
        vd_error_set (err, VD_ERR_PERMANENT, "libcurl failed to initialise");
        return NULL;
    }
    size_t n = self->base_url ? strlen (self->base_url) : 0;
    while (n && self->base_url[n - 1] == '/')
        self->base_url[--n] = '\0';
    self->url_secret = opts->url_secret;
    self->connect_timeout_ms =
        opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : DEFAULT_CONNECT_MS;
    self->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    self->tick = opts->tick;
    self->tick_arg = opts->tick_arg;
    return self;
}

/*  Frees a secret after wiping it. */
static void
s_wipe (char *s)
{
    if (s)
        memset (s, 0, strlen (s));
    free (s);
}

void
vd_httpc_destroy (vd_httpc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vd_httpc_t *self = *self_p;
    if (self->curl)
        curl_easy_cleanup (self->curl);
    free (self->base_url);
    free (self->ca_file);
    free (self->peer);
    free (self->url_setting);
    free (self->ca_setting);
    s_wipe (self->bearer);
    free (self->user);
    s_wipe (self->password);
    free (self);
    *self_p = NULL;
}

static size_t
s_write (char *data, size_t size, size_t nmemb, void *arg)
{
    s_transfer_t *t = arg;
    size_t len = size * nmemb;
    if (t->res->status == 0) /* the sink may read it: the headers are in */
        curl_easy_getinfo (t->curl, CURLINFO_RESPONSE_CODE, &t->res->status);
    if (t->req->sink) {
        if (t->req->sink (data, len, t->req->sink_arg) < 0) {
            t->res->sink_aborted = true;
            return 0; /* CURLE_WRITE_ERROR */
        }
    } else if (!t->res->truncated) { /* keep what fits, read the rest */
        vd_buf_t *b = &t->res->body;
        size_t keep = len < b->max - b->len ? len : b->max - b->len;
        if (vd_buf_add (b, data, keep) < 0)
            return 0; /* out of memory */
        t->res->truncated = keep < len;
    }
    t->res->body_bytes += len;
    return len;
}

static int
s_progress (void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    vd_httpc_t *self = arg;
    return self->tick && self->tick (self->tick_arg) ? 1 : 0;
}

void
vd_httpc_url_host (const char *url, char *out, size_t size)
{
    const char *p = url ? strstr (url, "://") : NULL;
    if (!p) {
        snprintf (out, size, "(invalid URL)");
        return;
    }
    p += 3;
    const char *at = p, *end = p + strcspn (p, "/?#");
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q + 1; /* drop user:password@ */
    snprintf (out, size, "%.*s%.*s", (int)(p - url), url, (int)(end - at), at);
}

/*  The curl failure as a vd_error_t: kind, a message naming the server,
    the URL (or only its host) and curl's words in the detail, a hint. */
static int
s_curl_error (vd_httpc_t *self, CURLcode rc, const char *url, vd_error_t *err)
{
    char host[256];
    vd_httpc_url_host (url, host, sizeof host);
    const char *peer = self->peer ? self->peer : host;
    const char *url_setting = self->url_setting ? self->url_setting : "the URL";
    vd_err_kind_t kind = VD_ERR_TRANSIENT;
    const char *hint = NULL;
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        kind = VD_ERR_PERMANENT;
        vd_error_set (err, kind, "%s's TLS certificate was refused", peer);
        hint = "ca";
        break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        kind = VD_ERR_PERMANENT;
        vd_error_set (err, kind, "the URL of %s is not usable", peer);
        hint = "url";
        break;
    case CURLE_SSL_CONNECT_ERROR: /* e.g. https:// to a plain-HTTP server */
        kind = VD_ERR_PERMANENT;
        vd_error_set (err, kind,
                      "no TLS connection with %s (https:// to a server that does not speak TLS?)",
                      peer);
        hint = "url";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        vd_error_set (err, kind, "%s did not answer in time", peer);
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        vd_error_set (err, kind, "%s closed the connection before the end of its answer", peer);
        if (strncmp (url, "http://", 7) == 0)
            hint = "https";
        break;
    case CURLE_ABORTED_BY_CALLBACK:
        kind = VD_ERR_PERMANENT;
        vd_error_set (err, kind, "the request was stopped");
        break;
    default:
        vd_error_set (err, kind, "cannot reach %s", peer);
        break;
    }
    vd_error_detail (err, "%s: %s", self->url_secret ? host : url,
                     self->errbuf[0] ? self->errbuf : curl_easy_strerror (rc));
    if (hint && *hint == 'c')
        snprintf (err->hint, sizeof err->hint, "give the CA that signed it with %s",
                  self->ca_setting ? self->ca_setting : "a CA file");
    else if (hint && *hint == 'u')
        snprintf (err->hint, sizeof err->hint,
                  "check %s: https:// for a server with TLS, http:// only for one without",
                  url_setting);
    else if (hint)
        snprintf (err->hint, sizeof err->hint,
                  "a server that speaks only HTTPS closes plain http:// connections: check %s",
                  url_setting);
    return -1;
}

/*  The options of one request. 0, -1 when libcurl refuses one. */
static int
s_setup (vd_httpc_t *self, const vd_httpc_req_t *req, const char *url, struct curl_slist *list,
         s_transfer_t *t)
{
    CURL *c = self->curl;
    curl_easy_reset (c);
    self->errbuf[0] = '\0';
    int bad = 0;
    bad |= curl_easy_setopt (c, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_ERRORBUFFER, self->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    if (self->ca_file)
        bad |= curl_easy_setopt (c, CURLOPT_CAINFO, self->ca_file) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, self->connect_timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, self->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK; /* gzip when offered */
    bad |= curl_easy_setopt (c, CURLOPT_USERAGENT, "vendange/" VD_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_HTTPHEADER, list) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_write) != CURLE_OK;
    bad |= curl_easy_setopt (c, CURLOPT_WRITEDATA, t) != CURLE_OK;
    if (self->tick) {
        bad |= curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
        bad |= curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, s_progress) != CURLE_OK;
        bad |= curl_easy_setopt (c, CURLOPT_XFERINFODATA, self) != CURLE_OK;
    }
    if (self->bearer) {
        bad |= curl_easy_setopt (c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER) != CURLE_OK;
        bad |= curl_easy_setopt (c, CURLOPT_XOAUTH2_BEARER, self->bearer) != CURLE_OK;
    } else if (self->user) {
        bad |= curl_easy_setopt (c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC) != CURLE_OK;
        bad |= curl_easy_setopt (c, CURLOPT_USERNAME, self->user) != CURLE_OK;
        bad |= curl_easy_setopt (c, CURLOPT_PASSWORD, self->password ? self->password : "") !=
               CURLE_OK;
    }
    const char *method = req->method ? req->method : req->body ? "POST" : "GET";
    if (strcmp (method, "GET") != 0 && strcmp (method, "POST") != 0)
        bad |= curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    if (strcmp (method, "HEAD") == 0)
        bad |= curl_easy_setopt (c, CURLOPT_NOBODY, 1L) != CURLE_OK;
    if (req->body || strcmp (method, "POST") == 0) {
        bad |= curl_easy_setopt (c, CURLOPT_POSTFIELDS, req->body ? req->body : "") != CURLE_OK;
        bad |= curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE,
                                 (curl_off_t)(req->body ? req->len : 0)) != CURLE_OK;
    }
    return bad ? -1 : 0;
}

/*  The header lines of a request: no "Expect: 100-continue", the body's
    type, the caller's lines. NULL when out of memory. */
static struct curl_slist *
s_headers (const vd_httpc_req_t *req)
{
    struct curl_slist *list = curl_slist_append (NULL, "Expect:"), *grown;
    char line[256];
    if (list && req->body) {
        snprintf (line, sizeof line, "Content-Type: %s",
                  req->ctype ? req->ctype : "application/json");
        if ((grown = curl_slist_append (list, line)) == NULL) {
            curl_slist_free_all (list);
            return NULL;
        }
        list = grown;
    }
    for (size_t i = 0; list && req->headers && req->headers[i]; i++) {
        if ((grown = curl_slist_append (list, req->headers[i])) == NULL) {
            curl_slist_free_all (list);
            return NULL;
        }
        list = grown;
    }
    return list;
}

int
vd_httpc_request (vd_httpc_t *self, const vd_httpc_req_t *req, vd_httpc_res_t *res, vd_error_t *err)
{
    memset (res, 0, sizeof *res);
    vd_buf_init (&res->body, req->max_body ? req->max_body : DEFAULT_MAX_BODY);
    vd_buf_t url;
    vd_buf_init (&url, 8192);
    if (vd_buf_printf (&url, "%s%s", self->base_url ? self->base_url : "", req->path) < 0) {
        vd_buf_free (&url);
        return vd_error_set (err, VD_ERR_PERMANENT, "the URL is too long");
    }
    struct curl_slist *list = s_headers (req);
    s_transfer_t t = {req, res, self->curl};
    if (!list || s_setup (self, req, url.data, list, &t) < 0) {
        curl_slist_free_all (list);
        vd_buf_free (&url);
        return vd_error_set (err, VD_ERR_TRANSIENT, "libcurl refused a request option");
    }
    CURLcode rc = curl_easy_perform (self->curl);
    /* the header list may hold an API key: wiped before it is freed */
    for (struct curl_slist *l = list; l; l = l->next)
        memset (l->data, 0, strlen (l->data));
    curl_slist_free_all (list);
    curl_easy_getinfo (self->curl, CURLINFO_RESPONSE_CODE, &res->status);
    const char *ct = NULL;
    if (curl_easy_getinfo (self->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        snprintf (res->ctype, sizeof res->ctype, "%s", ct);
    struct curl_header *h = NULL;
    if (curl_easy_header (self->curl, "Date", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h)
        res->date = vd_httpc_parse_date (h->value);
    int out = 0;
    if (rc == CURLE_WRITE_ERROR && res->sink_aborted)
        out = vd_error_set (err, VD_ERR_PERMANENT, "the answer was refused by its parser");
    else if (rc == CURLE_WRITE_ERROR && !req->sink)
        out = vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    else if (rc != CURLE_OK)
        out = s_curl_error (self, rc, url.data, err);
    vd_buf_free (&url);
    return out;
}

void
vd_httpc_res_free (vd_httpc_res_t *res)
{
    vd_buf_free (&res->body);
}

int
vd_httpc_once (const vd_httpc_opts_t *opts, const vd_httpc_req_t *req, vd_httpc_res_t *res,
               vd_error_t *err)
{
    vd_httpc_t *self = vd_httpc_new (opts, err);
    if (!self) {
        memset (res, 0, sizeof *res);
        return -1;
    }
    int rc = vd_httpc_request (self, req, res, err);
    vd_httpc_destroy (&self);
    return rc;
}

/*  A call to url, which may hold a secret: 0 on a 2xx answer (res kept),
    -1 with err. */
static int
s_call (const char *url, const char *body, const char *ca_file, long timeout_ms,
        vd_httpc_res_t *res, vd_error_t *err)
{
    vd_httpc_opts_t opts = {.ca_file = ca_file, .timeout_ms = timeout_ms, .url_secret = true};
    vd_httpc_req_t req = {.path = url, .body = body, .len = body ? strlen (body) : 0};
    if (vd_httpc_once (&opts, &req, res, err) < 0)
        return -1;
    if (res->status >= 200 && res->status < 300)
        return 0;
    char host[256];
    vd_httpc_url_host (url, host, sizeof host);
    bool again = res->status == 408 || res->status == 429 || res->status >= 500;
    vd_error_set (err, again ? VD_ERR_TRANSIENT : VD_ERR_PERMANENT, "%s answered HTTP %ld", host,
                  res->status);
    vd_error_detail (err, "%.200s", vd_buf_str (&res->body));
    if (err)
        err->http_status = (int)res->status;
    return -1;
}

int
vd_httpc_post_json (const char *url, const char *body, const char *ca_file, long timeout_ms,
                    vd_error_t *err)
{
    vd_httpc_res_t res;
    int rc = s_call (url, body ? body : "", ca_file, timeout_ms, &res, err);
    vd_httpc_res_free (&res);
    return rc;
}

char *
vd_httpc_get (const char *url, long timeout_ms, vd_error_t *err)
{
    vd_httpc_res_t res;
    char *body =
        s_call (url, NULL, NULL, timeout_ms, &res, err) == 0 ? vd_buf_take (&res.body) : NULL;
    vd_httpc_res_free (&res);
    return body;
}

time_t
vd_httpc_parse_date (const char *s)
{
    time_t t = s ? curl_getdate (s, NULL) : -1;
    return t > 0 ? t : 0;
}

char *
vd_httpc_escape (const char *s)
{
    char *e = curl_easy_escape (NULL, s, 0);
    char *copy = e ? strdup (e) : NULL;
    curl_free (e);
    return copy;
}

int
vd_httpc_test (bool verbose)
{
    int failures = 0;
    VD_CHECK (&failures, vd_httpc_parse_date ("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);
    VD_CHECK (&failures, vd_httpc_parse_date ("garbage") == 0 && vd_httpc_parse_date (NULL) == 0);
    char host[256];
    vd_httpc_url_host ("https://u:secret@hooks.example.com/T0/B1/XyZ?sig=abc", host, sizeof host);
    VD_CHECK (&failures, strcmp (host, "https://hooks.example.com") == 0);
    vd_httpc_url_host ("no scheme", host, sizeof host);
    VD_CHECK (&failures, strstr (host, "invalid") != NULL);
    char *e = vd_httpc_escape ("a b&c=d/é");
    VD_CHECK (&failures, e && strcmp (e, "a%20b%26c%3Dd%2F%C3%A9") == 0);
    free (e);
    /* nothing listens on port 1: a transient failure naming the URL, or
       only its host when the URL may hold a secret */
    vd_error_t err;
    vd_error_clear (&err);
    vd_httpc_opts_t opts = {.base_url = "http://127.0.0.1:1/",
                            .connect_timeout_ms = 2000,
                            .timeout_ms = 2000,
                            .peer = "the Odoo server"};
    vd_httpc_res_t res;
    vd_httpc_req_t req = {.path = "/web/version"};
    VD_CHECK (&failures, vd_httpc_once (&opts, &req, &res, &err) < 0 &&
                             err.kind == VD_ERR_TRANSIENT &&
                             strcmp (err.msg, "cannot reach the Odoo server") == 0 &&
                             strstr (err.detail, "http://127.0.0.1:1/web/version"));
    vd_httpc_res_free (&res);
    VD_CHECK (&failures,
              vd_httpc_post_json ("http://127.0.0.1:1/hook/s3cret", "{}", NULL, 2000, &err) < 0 &&
                  err.kind == VD_ERR_TRANSIENT && !strstr (err.msg, "s3cret") &&
                  !strstr (err.detail, "s3cret") && strstr (err.msg, "127.0.0.1:1"));
    /* a scheme other than http and https: refused for good, with a hint */
    opts.base_url = "ftp://x";
    req.body = "x", req.len = 1;
    VD_CHECK (&failures, vd_httpc_once (&opts, &req, &res, &err) < 0 &&
                             err.kind == VD_ERR_PERMANENT && strstr (err.hint, "check the URL"));
    vd_httpc_res_free (&res);
    if (verbose)
        printf ("  vd_httpc: %d failures\n", failures);
    return failures ? -1 : 0;
}
