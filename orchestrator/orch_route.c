/*  orch_route - maps an HTTP method and path to an API endpoint. */
#include "vendange.h"
#include "orch_route.h"
#include "orch_settings.h"

typedef struct {
    orch_route_id_t id;
    const char *path;    /* segments separated by '/', no leading '/'     */
    const char *methods; /* accepted methods, ", " separated              */
} s_route_t;

static const s_route_t s_routes[] = {
    {ORCH_ROUTE_WEB, "", "GET, HEAD"},
    {ORCH_ROUTE_HEALTH, "health", "GET, HEAD"},
    {ORCH_ROUTE_STATUS, "api/status", "GET"},
    {ORCH_ROUTE_STATUS, "status", "GET"},
    {ORCH_ROUTE_CONNECTORS, "api/connectors", "GET, POST"},
    {ORCH_ROUTE_CONNECTOR, "api/connectors/{name}", "GET, PATCH, DELETE"},
    {ORCH_ROUTE_CONNECTOR_SYNC, "api/connectors/{name}/sync", "POST"},
    {ORCH_ROUTE_CONNECTOR_TEST, "api/connectors/{name}/test", "POST"},
    {ORCH_ROUTE_CONNECTOR_ACCEPT_LAYOUT, "api/connectors/{name}/accept-layout", "POST"},
    {ORCH_ROUTE_TEST, "api/tests/{id}", "GET"},
    {ORCH_ROUTE_METRICS, "metrics", "GET"},
    {ORCH_ROUTE_FORGET, "api/forget", "POST"},
    {ORCH_ROUTE_RUNS, "api/runs", "GET"},
    {ORCH_ROUTE_RUN, "api/runs/{id}", "GET"},
    {ORCH_ROUTE_RUN_REJECTS, "api/runs/{id}/rejects", "GET"},
    {ORCH_ROUTE_WARNING_LINES, "api/warnings/{id}/lines", "GET"},
    {ORCH_ROUTE_QUALITY, "api/quality", "GET"},
    {ORCH_ROUTE_QUALITY_CSV, "api/quality/anomalies.csv", "GET"},
    {ORCH_ROUTE_QUALITY_PDF, "api/quality.pdf", "GET"},
    {ORCH_ROUTE_CLASSIC, "classic", "GET, HEAD"},
    {ORCH_ROUTE_MAPPING, "api/mapping", "GET"},
    {ORCH_ROUTE_CUSTOMERS, "api/customers", "GET"},
    {ORCH_ROUTE_CUSTOMER, "api/customers/{key}", "GET"},
    {ORCH_ROUTE_CUSTOMER_RECO, "api/customers/{key}/recommendations", "GET, POST"},
    {ORCH_ROUTE_RECO_FEEDBACK, "api/customers/{key}/recommendations/{product}/feedback", "POST"},
    {ORCH_ROUTE_RECO_RUNS, "api/reco/runs", "GET"},
    {ORCH_ROUTE_RECO_RUN, "api/reco/runs/{id}", "GET"},
    {ORCH_ROUTE_RECO_QUEUE, "api/reco/run", "POST"},
    {ORCH_ROUTE_RECO_PRECISION, "api/reco/precision", "GET"},
    {ORCH_ROUTE_RECO_CSV, "api/reco/campaign.csv", "GET"},
    {ORCH_ROUTE_ALERTS, "api/alerts", "GET"},
    {ORCH_ROUTE_ALERT_RULES, "api/alerts/rules", "GET, POST"},
    {ORCH_ROUTE_ALERT_CHANNELS, "api/alerts/channels", "GET, POST"},
    {ORCH_ROUTE_ALERT_CHANNEL, "api/alerts/channels/{name}", "DELETE"},
    {ORCH_ROUTE_ALERT_TEST, "api/alerts/test", "POST"},
    {ORCH_ROUTE_ALERT_DELIVERY, "api/alerts/deliveries/{id}", "GET"},
    {ORCH_ROUTE_ASSET, "app.js", "GET, HEAD"},
    {ORCH_ROUTE_ASSET, "i18n.js", "GET, HEAD"},
    {ORCH_ROUTE_ASSET, "alerts.js", "GET, HEAD"},
    {ORCH_ROUTE_ASSET, "app.css", "GET, HEAD"},
};

#define NROUTES (sizeof s_routes / sizeof s_routes[0])
#define MAX_SEGMENTS 8

/*  Splits path into at most MAX_SEGMENTS segments (pointers into buf).
    Returns the count, -1 on too many or an empty inner segment. */
static int
s_split (char *buf, char **seg)
{
    int n = 0;
    char *p = buf;
    while (*p == '/')
        p++;
    size_t len = strlen (p);
    while (len > 0 && p[len - 1] == '/')
        p[--len] = '\0';
    if (*p == '\0')
        return 0;
    while (p) {
        if (n == MAX_SEGMENTS)
            return -1;
        char *slash = strchr (p, '/');
        if (slash)
            *slash = '\0';
        if (*p == '\0')
            return -1;
        seg[n++] = p;
        p = slash ? slash + 1 : NULL;
    }
    return n;
}

/*  A customer or product key as a path segment: 1 to 200 bytes of UTF-8,
    no control character. Copied into out (size > 200). */
static bool
s_key (const char *seg, char *out, size_t size)
{
    size_t n = strlen (seg);
    if (n == 0 || n > 200 || n >= size || !vd_utf8_valid (seg, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f)
            return false;
    memcpy (out, seg, n + 1);
    return true;
}

/*  Decodes %XX in place. Returns 0, -1 on a malformed escape or an
    encoded NUL. */
static int
s_unescape (char *seg)
{
    char *out = seg;
    for (const char *p = seg; *p; p++) {
        if (*p != '%') {
            *out++ = *p;
            continue;
        }
        int hi = vd_hex_digit (p[1]), lo = hi < 0 ? -1 : vd_hex_digit (p[2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -1;
        *out++ = (char)(hi * 16 + lo);
        p += 2;
    }
    *out = '\0';
    return 0;
}

/*  Matches path segments against one template; fills name / run_id. */
static bool
s_match (const s_route_t *route, char **seg, int nseg, orch_route_t *out)
{
    char tmpl[96];
    char *tseg[MAX_SEGMENTS];
    snprintf (tmpl, sizeof tmpl, "%s", route->path);
    int nt = s_split (tmpl, tseg);
    if (nt != nseg)
        return false;
    for (int i = 0; i < nt; i++) {
        if (strcmp (tseg[i], "{name}") == 0) {
            if (!orch_settings_name_valid (seg[i]))
                return false;
            snprintf (out->name, sizeof out->name, "%s", seg[i]);
        } else if (strcmp (tseg[i], "{id}") == 0) {
            int64_t id;
            if (vd_parse_int (seg[i], 1, INT64_MAX, &id) < 0)
                return false;
            out->run_id = id;
        } else if (strcmp (tseg[i], "{key}") == 0) {
            if (!s_key (seg[i], out->key, sizeof out->key))
                return false;
        } else if (strcmp (tseg[i], "{product}") == 0) {
            if (!s_key (seg[i], out->product, sizeof out->product))
                return false;
        } else if (strcmp (tseg[i], seg[i]) != 0)
            return false;
    }
    return true;
}

static bool
s_method_in (const char *method, const char *methods)
{
    size_t n = strlen (method);
    for (const char *p = methods; (p = strstr (p, method)) != NULL; p += n)
        if ((p == methods || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

int
orch_route_match (const char *method, const char *path, orch_route_t *out)
{
    memset (out, 0, sizeof *out);
    char buf[512];
    char *seg[MAX_SEGMENTS];
    if (!method || !path || strlen (path) >= sizeof buf || *method == '\0')
        return -1;
    snprintf (buf, sizeof buf, "%s", path);
    int nseg = s_split (buf, seg);
    if (nseg < 0)
        return -1;
    /* the path as sent: split first, then each segment decoded (a key may
       hold '/', '?', '#', '%' or spaces) */
    for (int i = 0; i < nseg; i++)
        if (s_unescape (seg[i]) < 0)
            return -1;
    for (size_t i = 0; i < NROUTES; i++) {
        orch_route_t candidate;
        memset (&candidate, 0, sizeof candidate);
        if (!s_match (&s_routes[i], seg, nseg, &candidate))
            continue;
        *out = candidate;
        out->id = s_routes[i].id;
        out->allow = s_routes[i].methods;
        out->method_allowed = s_method_in (method, s_routes[i].methods);
        return 0;
    }
    return -1;
}

int
orch_route_test (bool verbose)
{
    int failed = 0;
    orch_route_t r;
    VD_CHECK (&failed, orch_route_match ("GET", "/", &r) == 0 && r.id == ORCH_ROUTE_WEB);
    VD_CHECK (&failed, orch_route_match ("GET", "/health", &r) == 0 && r.id == ORCH_ROUTE_HEALTH);
    VD_CHECK (&failed,
              orch_route_match ("GET", "/api/status/", &r) == 0 && r.id == ORCH_ROUTE_STATUS);
    VD_CHECK (&failed, orch_route_match ("POST", "/api/connectors", &r) == 0 &&
                           r.id == ORCH_ROUTE_CONNECTORS && r.method_allowed);
    VD_CHECK (&failed, orch_route_match ("PUT", "/api/connectors", &r) == 0 && !r.method_allowed &&
                           strcmp (r.allow, "GET, POST") == 0);
    VD_CHECK (&failed, orch_route_match ("DELETE", "/api/connectors/isv_main", &r) == 0 &&
                           r.id == ORCH_ROUTE_CONNECTOR && r.method_allowed &&
                           strcmp (r.name, "isv_main") == 0);
    VD_CHECK (&failed, orch_route_match ("POST", "/api/connectors/isv.main-2/sync", &r) == 0 &&
                           r.id == ORCH_ROUTE_CONNECTOR_SYNC && strcmp (r.name, "isv.main-2") == 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/connectors/isv_main/sync", &r) == 0 &&
                           !r.method_allowed);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/connectors/bad name", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/connectors/_x", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/runs", &r) == 0 && r.id == ORCH_ROUTE_RUNS);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/runs/42", &r) == 0 &&
                           r.id == ORCH_ROUTE_RUN && r.run_id == 42);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/warnings/7/lines", &r) == 0 &&
                           r.id == ORCH_ROUTE_WARNING_LINES && r.run_id == 7);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/warnings/x/lines", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/runs/42/rejects", &r) == 0 &&
                           r.id == ORCH_ROUTE_RUN_REJECTS && r.run_id == 42);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/runs/0", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/runs/-1", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/runs/12abc", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/runs/99999999999999999999999", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api//runs", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/a/b/c/d/e/f/g/h/i/j", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/nope", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GETX", "/health", &r) == 0 && !r.method_allowed);
    VD_CHECK (&failed, orch_route_match ("GE", "/health", &r) == 0 && !r.method_allowed);
    VD_CHECK (&failed, orch_route_match ("", "/health", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", NULL, &r) < 0);
    VD_CHECK (&failed,
              orch_route_match ("GET", "/api/quality", &r) == 0 && r.id == ORCH_ROUTE_QUALITY);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/quality.pdf", &r) == 0 &&
                           r.id == ORCH_ROUTE_QUALITY_PDF);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/quality/anomalies.csv", &r) == 0 &&
                           r.id == ORCH_ROUTE_QUALITY_CSV);
    VD_CHECK (&failed, orch_route_match ("GET", "/app.js", &r) == 0 && r.id == ORCH_ROUTE_ASSET);
    VD_CHECK (&failed,
              orch_route_match ("GET", "/api/customers", &r) == 0 && r.id == ORCH_ROUTE_CUSTOMERS);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/customers/isavigne-C 01", &r) == 0 &&
                           r.id == ORCH_ROUTE_CUSTOMER && strcmp (r.key, "isavigne-C 01") == 0);
    VD_CHECK (&failed,
              orch_route_match ("GET", "/api/customers/isavigne-C%2F01%20%3F%23%25x", &r) == 0 &&
                  r.id == ORCH_ROUTE_CUSTOMER && strcmp (r.key, "isavigne-C/01 ?#%x") == 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/customers/a%2Fb/recommendations", &r) == 0 &&
                           r.id == ORCH_ROUTE_CUSTOMER_RECO && strcmp (r.key, "a/b") == 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/customers/a%2", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/customers/a%00b", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/customers/a%zz", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("POST", "/api/customers/k/recommendations", &r) == 0 &&
                           r.id == ORCH_ROUTE_CUSTOMER_RECO && r.method_allowed);
    VD_CHECK (&failed,
              orch_route_match ("POST", "/api/customers/k/recommendations/RIESLING-2022/feedback",
                                &r) == 0 &&
                  r.id == ORCH_ROUTE_RECO_FEEDBACK && strcmp (r.key, "k") == 0 &&
                  strcmp (r.product, "RIESLING-2022") == 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/customers/a\x01b", &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET",
                                         "/api/customers/a\xff"
                                         "z",
                                         &r) < 0);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/reco/runs/7", &r) == 0 &&
                           r.id == ORCH_ROUTE_RECO_RUN && r.run_id == 7);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/reco/run", &r) == 0 && !r.method_allowed);
    VD_CHECK (&failed, orch_route_match ("GET", "/api/reco/campaign.csv", &r) == 0 &&
                           r.id == ORCH_ROUTE_RECO_CSV);
#undef CHECK
    if (verbose)
        printf ("orch_route_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
