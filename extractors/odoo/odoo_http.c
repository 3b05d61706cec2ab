/*  odoo_http - HTTP(S) to an Odoo server through libcurl. */
#include "odoo_http.h"
#include <curl/curl.h>

struct odoo_http {
    CURL *curl;
    char *base_url;
    char *ca_file;
    long connect_timeout_s;
    long timeout_s;
    odoo_http_tick_fn *tick;
    void *tick_arg;
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct {
    odoo_http_sink_fn *sink;
    void *arg;
    odoo_http_result_t *res;
    CURL *curl;
} s_transfer_t;

odoo_http_t *
odoo_http_new (const odoo_http_opts_t *opts, vd_error_t *err)
{
    static bool initialised = false;
    if (!initialised) {
        if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            vd_error_set (err, VD_ERR_PERMANENT, "libcurl failed to initialise");
            return NULL;
        }
        initialised = true;
    }
    odoo_http_t *self = calloc (1, sizeof *self);
    if (!self || !(self->curl = curl_easy_init ())) {
        free (self);
        vd_error_set (err, VD_ERR_PERMANENT, "libcurl failed to initialise");
        return NULL;
    }
    self->base_url = strdup (opts->base_url);
    self->ca_file = opts->ca_file && *opts->ca_file ? strdup (opts->ca_file) : NULL;
    size_t n = self->base_url ? strlen (self->base_url) : 0;
    while (n && self->base_url[n - 1] == '/')
        self->base_url[--n] = '\0';
    self->connect_timeout_s = opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 10;
    self->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : 120;
    self->tick = opts->tick;
    self->tick_arg = opts->tick_arg;
    return self;
}

void
odoo_http_destroy (odoo_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odoo_http_t *self = *self_p;
    curl_easy_cleanup (self->curl);
    free (self->base_url);
    free (self->ca_file);
    free (self);
    *self_p = NULL;
}

static size_t
s_write (char *data, size_t size, size_t nmemb, void *arg)
{
    s_transfer_t *t = arg;
    size_t len = size * nmemb;
    if (t->res->status == 0) /* the sink may read it: headers are in */
        curl_easy_getinfo (t->curl, CURLINFO_RESPONSE_CODE, &t->res->status);
    if (t->sink && t->sink (data, len, t->arg) < 0) {
        t->res->sink_aborted = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    t->res->body_bytes += len;
    return len;
}

static int
s_progress (void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    odoo_http_t *self = arg;
    return self->tick && self->tick (self->tick_arg) ? 1 : 0;
}

/*  The curl error as a vd_error_t: kind and a message for humans. */
static int
s_curl_error (odoo_http_t *self, CURLcode rc, const char *url, vd_error_t *err)
{
    vd_err_kind_t kind = VD_ERR_TRANSIENT;
    const char *what = "cannot reach the Odoo server";
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        kind = VD_ERR_PERMANENT;
        what = "the Odoo server's TLS certificate was refused";
        break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        kind = VD_ERR_PERMANENT;
        what = "the Odoo URL is not usable";
        break;
    case CURLE_SSL_CONNECT_ERROR: /* e.g. https:// to a plain-HTTP server */
        kind = VD_ERR_PERMANENT;
        what = "no TLS connection with the Odoo server (https:// to a server that does not speak "
               "TLS?)";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        what = "the Odoo server did not answer in time";
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        what = "the Odoo server closed the connection before the end of its answer";
        break;
    case CURLE_ABORTED_BY_CALLBACK:
        kind = VD_ERR_PERMANENT;
        what = "the request was stopped";
        break;
    default:
        break;
    }
    vd_error_set (err, kind, "%s", what);
    vd_error_detail (err, "%s: %s", url, self->errbuf[0] ? self->errbuf : curl_easy_strerror (rc));
    if (kind == VD_ERR_PERMANENT && rc != CURLE_ABORTED_BY_CALLBACK)
        snprintf (err->hint, sizeof err->hint, "%s",
                  rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ||
                          rc == CURLE_SSL_CONNECT_ERROR
                      ? "check the connector's url: https:// for a server with TLS, http:// "
                        "only for one without"
                      : "give the CA that signed it with the connector's ca_file setting");
    else if (strncmp (url, "http://", 7) == 0 &&
             (rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE))
        snprintf (err->hint, sizeof err->hint, "%s",
                  "a server that speaks only HTTPS closes plain http:// connections: check "
                  "the connector's url");
    return -1;
}

static void
s_setup (odoo_http_t *self, const char *url, struct curl_slist *list, s_transfer_t *t)
{
    CURL *c = self->curl;
    curl_easy_reset (c);
    self->errbuf[0] = '\0';
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_ERRORBUFFER, self->errbuf);
    curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (self->ca_file)
        curl_easy_setopt (c, CURLOPT_CAINFO, self->ca_file);
    curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, self->connect_timeout_s);
    curl_easy_setopt (c, CURLOPT_TIMEOUT, self->timeout_s);
    curl_easy_setopt (c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip when offered */
    curl_easy_setopt (c, CURLOPT_USERAGENT, "vendange/" VD_VERSION);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, s_progress);
    curl_easy_setopt (c, CURLOPT_XFERINFODATA, self);
}

int
odoo_http_request (odoo_http_t *self, const char *path, const char *const *headers,
                   const char *ctype, const char *body, size_t len, odoo_http_sink_fn *sink,
                   void *sink_arg, odoo_http_result_t *res, vd_error_t *err)
{
    memset (res, 0, sizeof *res);
    char url[2048];
    if (snprintf (url, sizeof url, "%s%s", self->base_url, path) >= (int)sizeof url)
        return vd_error_set (err, VD_ERR_PERMANENT, "the Odoo URL is too long");
    struct curl_slist *list = curl_slist_append (NULL, "Expect:"), *grown;
    char header[256];
    if (body) {
        snprintf (header, sizeof header, "Content-Type: %s", ctype ? ctype : "text/xml");
        if (list && (grown = curl_slist_append (list, header)) != NULL)
            list = grown;
    }
    for (size_t i = 0; list && headers && headers[i]; i++)
        if ((grown = curl_slist_append (list, headers[i])) != NULL)
            list = grown;
    if (!list)
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    s_transfer_t t = {sink, sink_arg, res, self->curl};
    s_setup (self, url, list, &t);
    if (body) {
        curl_easy_setopt (self->curl, CURLOPT_POST, 1L);
        curl_easy_setopt (self->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (self->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode rc = curl_easy_perform (self->curl);
    /* the header list may hold the API key: wipe before freeing */
    for (struct curl_slist *l = list; l; l = l->next)
        memset (l->data, 0, strlen (l->data));
    curl_slist_free_all (list);
    curl_easy_getinfo (self->curl, CURLINFO_RESPONSE_CODE, &res->status);
    const char *ct = NULL;
    if (curl_easy_getinfo (self->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        snprintf (res->ctype, sizeof res->ctype, "%s", ct);
    struct curl_header *h = NULL;
    if (curl_easy_header (self->curl, "Date", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h)
        res->date = odoo_http_parse_date (h->value);
    if (rc == CURLE_WRITE_ERROR && res->sink_aborted)
        return vd_error_set (err, VD_ERR_PERMANENT, "the answer was refused by its parser");
    if (rc != CURLE_OK)
        return s_curl_error (self, rc, url, err);
    return 0;
}

time_t
odoo_http_parse_date (const char *s)
{
    time_t t = s ? curl_getdate (s, NULL) : -1;
    return t > 0 ? t : 0;
}

int
odoo_http_test (bool verbose)
{
    int failures = 0;
    failures += odoo_http_parse_date ("Sun, 06 Nov 1994 08:49:37 GMT") != 784111777;
    failures += odoo_http_parse_date ("garbage") != 0;
    failures += odoo_http_parse_date (NULL) != 0;
    vd_error_t err;
    odoo_http_opts_t opts = {
        .base_url = "http://127.0.0.1:1/", .connect_timeout_s = 2, .timeout_s = 2};
    odoo_http_t *http = odoo_http_new (&opts, &err);
    odoo_http_result_t res;
    /* nothing listens on port 1: a transient failure naming the URL */
    if (!http ||
        odoo_http_request (http, "/web/version", NULL, NULL, NULL, 0, NULL, NULL, &res, &err) ==
            0 ||
        err.kind != VD_ERR_TRANSIENT || !strstr (err.detail, "127.0.0.1:1/web/version"))
        failures++;
    odoo_http_destroy (&http);
    opts.base_url = "ftp://x";
    http = odoo_http_new (&opts, &err);
    if (!http || odoo_http_request (http, "/", NULL, NULL, "x", 1, NULL, NULL, &res, &err) == 0 ||
        err.kind != VD_ERR_PERMANENT)
        failures++;
    odoo_http_destroy (&http);
    odoo_http_destroy (&http);
    if (verbose)
        printf ("  odoo_http: %d failures\n", failures);
    return failures ? -1 : 0;
}
