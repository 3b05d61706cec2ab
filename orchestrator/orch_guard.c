/*  orch_guard - Host, Origin and Content-Type rules of the HTTP API. */
#include "vendange.h"
#include "vd_addr.h"
#include "orch_guard.h"
#include <arpa/inet.h>

#define MAX_ALLOWED 32
#define NAME_MAX_LEN 256

typedef struct {
    char name[NAME_MAX_LEN]; /* lower case, IPv6 without brackets */
    int port;                /* 0: any */
} s_host_t;

struct orch_guard {
    s_host_t own; /* VENDANGE_HTTP_ADDR's host ("" when every interface) */
    s_host_t allowed[MAX_ALLOWED];
    int nallowed;
    bool any; /* VENDANGE_ALLOWED_HOSTS=* */
};

/*  Splits "name", "name:port", "[v6]" or "[v6]:port" into out (name lower
    cased). Returns 0, -1 when malformed. */
static int
s_host_parse (const char *s, size_t len, s_host_t *out)
{
    memset (out, 0, sizeof *out);
    const char *name = s, *port = NULL;
    size_t nlen = len;
    if (len && s[0] == '[') {
        const char *close = memchr (s, ']', len);
        if (!close)
            return -1;
        name = s + 1;
        nlen = (size_t)(close - name);
        size_t rest = len - (size_t)(close + 1 - s);
        if (rest && close[1] != ':')
            return -1;
        port = rest ? close + 2 : NULL;
    } else {
        const char *colon = memchr (s, ':', len);
        if (colon) {
            if (memchr (colon + 1, ':', len - (size_t)(colon + 1 - s)))
                return -1; /* a bare IPv6 address needs brackets */
            nlen = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (nlen == 0 || nlen >= sizeof out->name)
        return -1;
    for (size_t i = 0; i < nlen; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == '/' || ch == '@')
            return -1;
        out->name[i] = (char)tolower (ch);
    }
    if (port) {
        char digits[8];
        size_t plen = len - (size_t)(port - s);
        int64_t p;
        if (plen == 0 || plen >= sizeof digits)
            return -1;
        memcpy (digits, port, plen);
        digits[plen] = '\0';
        if (vd_parse_int (digits, 1, 65535, &p) < 0)
            return -1;
        out->port = (int)p;
    }
    return 0;
}

static bool
s_ip_literal (const char *name)
{
    unsigned char buf[16];
    return inet_pton (AF_INET, name, buf) == 1 || inet_pton (AF_INET6, name, buf) == 1;
}

static bool
s_listed (const orch_guard_t *self, const s_host_t *h)
{
    for (int i = 0; i < self->nallowed; i++)
        if (strcmp (self->allowed[i].name, h->name) == 0 &&
            (!self->allowed[i].port || self->allowed[i].port == h->port))
            return true;
    return false;
}

orch_guard_t *
orch_guard_new (const char *addr, const char *allowed, vd_error_t *err)
{
    orch_guard_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    char host[NAME_MAX_LEN];
    int port;
    if (addr && vd_addr_parse (addr, host, sizeof host, &port) == 0 && *host)
        (void)s_host_parse (host, strlen (host), &self->own); /* a bad one: no own name */
    for (const char *p = allowed ? allowed : ""; *p;) {
        size_t n = strcspn (p, ",");
        const char *item = p;
        p += n + (p[n] == ',');
        while (n && isspace ((unsigned char)*item))
            item++, n--;
        while (n && isspace ((unsigned char)item[n - 1]))
            n--;
        if (n == 0)
            continue;
        if (n == 1 && *item == '*') {
            self->any = true;
            continue;
        }
        if (self->nallowed == MAX_ALLOWED ||
            s_host_parse (item, n, &self->allowed[self->nallowed]) < 0) {
            vd_error_set (err, VD_ERR_PERMANENT, "invalid VENDANGE_ALLOWED_HOSTS");
            vd_error_detail (err, "\"%.*s\" is not a host name or host:port (at most %d names)",
                             (int)(n > 100 ? 100 : n), item, MAX_ALLOWED);
            free (self);
            return NULL;
        }
        self->nallowed++;
    }
    return self;
}

void
orch_guard_destroy (orch_guard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

static bool
s_host_ok (const orch_guard_t *self, const s_host_t *h)
{
    return self->any || s_ip_literal (h->name) || strcmp (h->name, "localhost") == 0 ||
           (*self->own.name && strcmp (h->name, self->own.name) == 0) || s_listed (self, h);
}

/*  The host[:port] of an Origin ("scheme://host[:port]"), or -1. */
static int
s_origin_host (const char *origin, s_host_t *out)
{
    const char *sep = strstr (origin, "://");
    if (!sep || (strncasecmp (origin, "http", 4) != 0))
        return -1;
    const char *auth = sep + 3;
    return s_host_parse (auth, strlen (auth), out);
}

static bool
s_json_type (const char *content_type)
{
    if (!content_type)
        return false;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    static const char want[] = "application/json";
    size_t n = sizeof want - 1;
    if (strncasecmp (content_type, want, n) != 0)
        return false;
    const char *rest = content_type + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

static void
s_refuse (orch_guard_verdict_t *v, unsigned status, const char *msg, const char *hint)
{
    v->status = status;
    snprintf (v->msg, sizeof v->msg, "%s", msg);
    snprintf (v->hint, sizeof v->hint, "%s", hint ? hint : "");
}

void
orch_guard_check (const orch_guard_t *self, const char *method, const char *host,
                  const char *origin, const char *content_type, orch_guard_verdict_t *v)
{
    memset (v, 0, sizeof *v);
    s_host_t h, o;
    bool has_host = host && *host;
    if (has_host && (s_host_parse (host, strlen (host), &h) < 0 || !s_host_ok (self, &h))) {
        s_refuse (v, 403, "host not allowed",
                  "the API answers to its own address; add the name to VENDANGE_ALLOWED_HOSTS");
        return;
    }
    if (origin) {
        bool same = has_host && s_origin_host (origin, &o) == 0 && strcmp (o.name, h.name) == 0 &&
                    o.port == h.port;
        if (!same && !(s_origin_host (origin, &o) == 0 && (self->any || s_listed (self, &o)))) {
            s_refuse (v, 403, "cross-origin request refused",
                      "the API takes requests from its own page; add the page's host to "
                      "VENDANGE_ALLOWED_HOSTS");
            return;
        }
    }
    bool reads = method && (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0);
    if (!reads && !s_json_type (content_type))
        s_refuse (v, 415, "request body must be sent as Content-Type: application/json", NULL);
}

int
orch_guard_test (bool verbose)
{
    int failed = 0;
    vd_error_t err;
    vd_error_clear (&err);
    orch_guard_verdict_t v;
#define VERDICT(g, m, h, o, t) (orch_guard_check ((g), (m), (h), (o), (t), &v), v.status)
    orch_guard_t *g = orch_guard_new ("127.0.0.1:8480", "vendange.example.org, Orch:8480", &err);
    VD_CHECK (&failed, g != NULL);
    VD_CHECK (&failed, VERDICT (g, "GET", "127.0.0.1:8480", NULL, NULL) == 0);
    VD_CHECK (&failed, VERDICT (g, "GET", "localhost:8480", NULL, NULL) == 0);
    VD_CHECK (&failed, VERDICT (g, "GET", "[::1]:8480", NULL, NULL) == 0);
    VD_CHECK (&failed, VERDICT (g, "GET", NULL, NULL, NULL) == 0);
    VD_CHECK (&failed, VERDICT (g, "GET", "evil.example", NULL, NULL) == 403);
    VD_CHECK (&failed, VERDICT (g, "GET", "evil.example:8480", NULL, NULL) == 403);
    VD_CHECK (&failed, VERDICT (g, "GET", "VENDANGE.example.org", NULL, NULL) == 0);
    VD_CHECK (&failed, VERDICT (g, "GET", "orch:8480", NULL, NULL) == 0);
    VD_CHECK (&failed, VERDICT (g, "GET", "orch:8481", NULL, NULL) == 403);
    VD_CHECK (&failed, VERDICT (g, "GET", "a b", NULL, NULL) == 403);
    VD_CHECK (&failed, VERDICT (g, "GET", "::1", NULL, NULL) == 403);
    VD_CHECK (&failed, VERDICT (g, "POST", "127.0.0.1:8480", "http://127.0.0.1:8480",
                                "application/json") == 0);
    VD_CHECK (&failed, VERDICT (g, "POST", "127.0.0.1:8480", "http://127.0.0.1:8480",
                                "Application/JSON; charset=utf-8") == 0);
    VD_CHECK (&failed, VERDICT (g, "POST", "127.0.0.1:8480", NULL, "text/plain") == 415);
    VD_CHECK (&failed, VERDICT (g, "DELETE", "127.0.0.1:8480", NULL, NULL) == 415);
    VD_CHECK (&failed, VERDICT (g, "POST", "127.0.0.1:8480", NULL, "application/jsonx") == 415);
    VD_CHECK (&failed, VERDICT (g, "POST", "127.0.0.1:8480", "http://evil.example",
                                "application/json") == 403);
    VD_CHECK (&failed, VERDICT (g, "POST", "127.0.0.1:8480", "null", "application/json") == 403);
    VD_CHECK (&failed, VERDICT (g, "GET", "127.0.0.1:8480", "http://127.0.0.1:9999", NULL) == 403);
    VD_CHECK (&failed, VERDICT (g, "POST", "127.0.0.1:8480", "https://vendange.example.org",
                                "application/json") == 0);
    VD_CHECK (&failed, VERDICT (g, "POST", "vendange.example.org", "https://vendange.example.org",
                                "application/json") == 0);
    orch_guard_destroy (&g);
    VD_CHECK (&failed, g == NULL);
    g = orch_guard_new ("0.0.0.0:8480", "*", &err);
    VD_CHECK (&failed,
              g && VERDICT (g, "GET", "anything.example", "http://other.example", NULL) == 0);
    orch_guard_destroy (&g);
    g = orch_guard_new ("orchestrator:8480", "", &err);
    VD_CHECK (&failed, g && VERDICT (g, "GET", "orchestrator:8480", NULL, NULL) == 0);
    VD_CHECK (&failed, g && VERDICT (g, "GET", "other:8480", NULL, NULL) == 403);
    orch_guard_destroy (&g);
    VD_CHECK (&failed, orch_guard_new ("127.0.0.1:1", "a/b", &err) == NULL &&
                           strstr (err.msg, "VENDANGE_ALLOWED_HOSTS"));
    VD_CHECK (&failed, orch_guard_new ("127.0.0.1:1", "h:99999", &err) == NULL);
#undef VERDICT
#undef CHECK
    if (verbose)
        printf ("orch_guard_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
