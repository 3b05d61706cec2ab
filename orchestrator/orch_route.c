/*  orch_route - matches a path against an endpoint's template. */
#include "vendange.h"
#include "orch_route.h"
#include "orch_settings.h"

#define MAX_SEGMENTS ORCH_PATH_MAX_SEGMENTS

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

bool
orch_route_match (const char *tmpl_path, const orch_path_t *path, orch_route_t *out)
{
    char tmpl[96];
    char *tseg[MAX_SEGMENTS];
    char *const *seg = path->seg;
    int nseg = path->nseg;
    memset (out, 0, sizeof *out);
    snprintf (tmpl, sizeof tmpl, "%s", tmpl_path);
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

int
orch_path_split (const char *path, orch_path_t *out)
{
    memset (out, 0, sizeof *out);
    if (!path || strlen (path) >= sizeof out->buf)
        return -1;
    snprintf (out->buf, sizeof out->buf, "%s", path);
    out->nseg = s_split (out->buf, out->seg);
    if (out->nseg < 0)
        return -1;
    /* the path as sent: split first, then each segment decoded (a key may
       hold '/', '?', '#', '%' or spaces) */
    for (int i = 0; i < out->nseg; i++)
        if (s_unescape (out->seg[i]) < 0)
            return -1;
    return 0;
}

/*  path matches tmpl (split and decoded first). */
static bool
s_is (const char *tmpl, const char *path, orch_route_t *r)
{
    orch_path_t p;
    return orch_path_split (path, &p) == 0 && orch_route_match (tmpl, &p, r);
}

int
orch_route_test (bool verbose)
{
    int failed = 0;
    orch_route_t r;
    VD_CHECK (&failed, s_is ("", "/", &r) && !s_is ("health", "/", &r));
    VD_CHECK (&failed, s_is ("health", "/health", &r) && s_is ("api/status", "/api/status/", &r));
    VD_CHECK (&failed, s_is ("api/connectors/{name}", "/api/connectors/isv_main", &r) &&
                           strcmp (r.name, "isv_main") == 0);
    VD_CHECK (&failed, s_is ("api/connectors/{name}/sync", "/api/connectors/isv.main-2/sync", &r) &&
                           strcmp (r.name, "isv.main-2") == 0);
    VD_CHECK (&failed, !s_is ("api/connectors/{name}", "/api/connectors/isv_main/sync", &r));
    VD_CHECK (&failed, !s_is ("api/connectors/{name}", "/api/connectors/bad name", &r));
    VD_CHECK (&failed, !s_is ("api/connectors/{name}", "/api/connectors/_x", &r));
    VD_CHECK (&failed, s_is ("api/runs/{id}", "/api/runs/42", &r) && r.run_id == 42);
    VD_CHECK (&failed,
              s_is ("api/warnings/{id}/lines", "/api/warnings/7/lines", &r) && r.run_id == 7);
    VD_CHECK (&failed, !s_is ("api/warnings/{id}/lines", "/api/warnings/x/lines", &r));
    VD_CHECK (&failed,
              s_is ("api/runs/{id}/rejects", "/api/runs/42/rejects", &r) && r.run_id == 42);
    VD_CHECK (&failed, !s_is ("api/runs/{id}", "/api/runs/0", &r));
    VD_CHECK (&failed, !s_is ("api/runs/{id}", "/api/runs/-1", &r));
    VD_CHECK (&failed, !s_is ("api/runs/{id}", "/api/runs/12abc", &r));
    VD_CHECK (&failed, !s_is ("api/runs/{id}", "/api/runs/99999999999999999999999", &r));
    orch_path_t p;
    VD_CHECK (&failed, orch_path_split ("/api//runs", &p) < 0);
    VD_CHECK (&failed, orch_path_split ("/a/b/c/d/e/f/g/h/i/j", &p) < 0);
    VD_CHECK (&failed, orch_path_split (NULL, &p) < 0);
    VD_CHECK (&failed, s_is ("api/customers/{key}", "/api/customers/isavigne-C 01", &r) &&
                           strcmp (r.key, "isavigne-C 01") == 0);
    VD_CHECK (&failed,
              s_is ("api/customers/{key}", "/api/customers/isavigne-C%2F01%20%3F%23%25x", &r) &&
                  strcmp (r.key, "isavigne-C/01 ?#%x") == 0);
    VD_CHECK (&failed, s_is ("api/customers/{key}/recommendations",
                             "/api/customers/a%2Fb/recommendations", &r) &&
                           strcmp (r.key, "a/b") == 0);
    VD_CHECK (&failed, orch_path_split ("/api/customers/a%2", &p) < 0);
    VD_CHECK (&failed, orch_path_split ("/api/customers/a%00b", &p) < 0);
    VD_CHECK (&failed, orch_path_split ("/api/customers/a%zz", &p) < 0);
    VD_CHECK (&failed, s_is ("api/customers/{key}/recommendations/{product}/feedback",
                             "/api/customers/k/recommendations/RIESLING-2022/feedback", &r) &&
                           strcmp (r.key, "k") == 0 && strcmp (r.product, "RIESLING-2022") == 0);
    VD_CHECK (&failed, !s_is ("api/customers/{key}", "/api/customers/a\x01b", &r));
    VD_CHECK (&failed, !s_is ("api/customers/{key}",
                              "/api/customers/a\xff"
                              "z",
                              &r));
    if (verbose)
        printf ("orch_route_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
