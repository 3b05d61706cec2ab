/*  orch_web - GET /: one self-contained HTML page. */
#include "vendange.h"
#include "orch_json.h"
#include "orch_runview.h"
#include "orch_status.h"
#include "orch_web.h"

#define PAGE_MAX (8 * 1024 * 1024)
#define PAGE_RUNS 20

static const char s_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta http-equiv=\"refresh\" content=\"5\"><title>vendange</title><style>"
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{color:#6b1d3a}table{border-collapse:collapse;margin-bottom:1.5em}"
    "th,td{border-bottom:1px solid #ddd;padding:.3em .7em;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".success,.healthy{color:#17702a}.failed,.error,.dead{color:#b00020}"
    ".partial{color:#b36b00}.running,.queued,.syncing{color:#1f4fa0}"
    "</style></head><body><h1>vendange</h1>\n";

int
orch_web_escape (vd_buf_t *out, const char *s)
{
    int rc = 0;
    for (const char *p = s ? s : ""; *p && rc == 0; p++) {
        switch (*p) {
        case '&':
            rc = vd_buf_addstr (out, "&amp;");
            break;
        case '<':
            rc = vd_buf_addstr (out, "&lt;");
            break;
        case '>':
            rc = vd_buf_addstr (out, "&gt;");
            break;
        case '"':
            rc = vd_buf_addstr (out, "&quot;");
            break;
        case '\'':
            rc = vd_buf_addstr (out, "&#39;");
            break;
        default:
            rc = vd_buf_addc (out, *p);
        }
    }
    return rc;
}

/*  A table cell from a JSON value (string, number, boolean, null). */
static void
s_cell (vd_buf_t *b, json_t *v, const char *cls)
{
    char text[64];
    const char *s = text;
    text[0] = '\0';
    if (json_is_string (v))
        s = json_string_value (v);
    else if (json_is_integer (v))
        snprintf (text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
    else if (json_is_real (v))
        snprintf (text, sizeof text, "%.1f", json_real_value (v));
    else if (json_is_boolean (v))
        snprintf (text, sizeof text, "%s", json_is_true (v) ? "yes" : "no");
    vd_buf_addstr (b, "<td");
    if (cls) {
        vd_buf_addstr (b, " class=\"");
        orch_web_escape (b, cls);
        vd_buf_addc (b, '"');
    }
    vd_buf_addc (b, '>');
    orch_web_escape (b, s);
    vd_buf_addstr (b, "</td>");
}

static void
s_header (vd_buf_t *b, const char *title, const char *const *cols)
{
    vd_buf_addstr (b, "<h2>");
    orch_web_escape (b, title);
    vd_buf_addstr (b, "</h2><table><tr>");
    for (int i = 0; cols[i]; i++) {
        vd_buf_addstr (b, "<th>");
        orch_web_escape (b, cols[i]);
        vd_buf_addstr (b, "</th>");
    }
    vd_buf_addstr (b, "</tr>\n");
}

static void
s_connectors (vd_buf_t *b, json_t *list)
{
    static const char *cols[] = {"connector", "type",     "health",     "last run",
                                 "status",    "finished", "last error", NULL};
    s_header (b, "Connectors", cols);
    size_t i;
    json_t *c;
    json_array_foreach (list, i, c)
    {
        json_t *last = json_object_get (c, "last_run");
        vd_buf_addstr (b, "<tr>");
        s_cell (b, json_object_get (c, "name"), NULL);
        s_cell (b, json_object_get (c, "type"), NULL);
        s_cell (b, json_object_get (c, "health"), orch_json_str (c, "health"));
        s_cell (b, json_object_get (last, "id"), "n");
        s_cell (b, json_object_get (last, "status"), orch_json_str (last, "status"));
        s_cell (b, json_object_get (last, "finished_at"), NULL);
        s_cell (b, json_object_get (c, "last_error"), NULL);
        vd_buf_addstr (b, "</tr>\n");
    }
    vd_buf_addstr (b, "</table>\n");
}

/*  Sum of one count over a run's tables. */
static json_int_t
s_sum (json_t *run, const char *count)
{
    json_int_t sum = 0;
    const char *name;
    json_t *t;
    json_object_foreach (json_object_get (run, "tables"), name, t) sum +=
        json_integer_value (json_object_get (t, count));
    return sum;
}

static void
s_runs (vd_buf_t *b, json_t *runs)
{
    static const char *cols[] = {"run",          "connector", "status",   "started",
                                 "duration (s)", "extracted", "inserted", "updated",
                                 "unchanged",    "rejected",  "warnings", NULL};
    static const char *counts[] = {"extracted", "inserted", "updated", "unchanged", "rejected"};
    s_header (b, "Recent runs", cols);
    size_t i;
    json_t *run;
    json_array_foreach (runs, i, run)
    {
        vd_buf_addstr (b, "<tr>");
        s_cell (b, json_object_get (run, "id"), "n");
        s_cell (b, json_object_get (run, "connector"), NULL);
        s_cell (b, json_object_get (run, "status"), orch_json_str (run, "status"));
        s_cell (b, json_object_get (run, "started_at"), NULL);
        s_cell (b, json_object_get (run, "duration_s"), "n");
        for (int k = 0; k < 5; k++) {
            json_t *n = json_integer (s_sum (run, counts[k]));
            s_cell (b, n, "n");
            json_decref (n);
        }
        s_cell (b, json_object_get (run, "warnings_total"), "n");
        vd_buf_addstr (b, "</tr>\n");
    }
    vd_buf_addstr (b, "</table>\n");
}

static void
s_services (vd_buf_t *b, json_t *list)
{
    static const char *cols[] = {"service", "role", "kind",           "host",  "pid",
                                 "state",   "run",  "last heartbeat", "alive", NULL};
    s_header (b, "Services", cols);
    size_t i;
    json_t *s;
    json_array_foreach (list, i, s)
    {
        bool alive = json_is_true (json_object_get (s, "alive"));
        vd_buf_addstr (b, "<tr>");
        s_cell (b, json_object_get (s, "instance"), NULL);
        s_cell (b, json_object_get (s, "role"), NULL);
        s_cell (b, json_object_get (s, "kind"), NULL);
        s_cell (b, json_object_get (s, "host"), NULL);
        s_cell (b, json_object_get (s, "pid"), "n");
        s_cell (b, json_object_get (s, "state"), NULL);
        s_cell (b, json_object_get (s, "run_id"), "n");
        s_cell (b, json_object_get (s, "last_heartbeat"), NULL);
        s_cell (b, json_object_get (s, "alive"), alive ? "healthy" : "dead");
        vd_buf_addstr (b, "</tr>\n");
    }
    vd_buf_addstr (b, "</table>\n");
}

void
orch_web_page (PGconn *conn, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    json_t *status = orch_status_json (conn, false, &err);
    json_t *runs = status ? orch_runview_list (conn, NULL, PAGE_RUNS, &err) : NULL;
    if (!runs) {
        json_decref (status);
        orch_answer_fail (a, &err);
        return;
    }
    vd_buf_t b;
    vd_buf_init (&b, PAGE_MAX);
    vd_buf_addstr (&b, s_head);
    s_connectors (&b, json_object_get (status, "connectors"));
    s_runs (&b, runs);
    s_services (&b, json_object_get (status, "services"));
    vd_buf_printf (&b,
                   "<p><small>vendange %s &middot; JSON API under /api/ &middot; "
                   "this page refreshes every 5 s</small></p></body></html>\n",
                   VD_VERSION);
    json_decref (status);
    json_decref (runs);
    a->status = 200;
    a->inline_style = true; /* its <style> block */
    a->html = vd_buf_take (&b);
    if (!a->html)
        orch_answer_error (a, 500, "out of memory", NULL, NULL);
}

int
orch_web_test (bool verbose)
{
    int failed = 0;
    vd_buf_t b;
    vd_buf_init (&b, 1024);
    failed += orch_web_escape (&b, "<a href=\"x\">&'</a>") != 0;
    failed += strcmp (vd_buf_str (&b), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;") != 0;
    vd_buf_reset (&b);
    failed += orch_web_escape (&b, NULL) != 0 || b.len != 0;
    json_t *list = json_pack ("[{s:s, s:s, s:s, s:n, s:s}]", "name", "<script>", "type", "isavigne",
                              "health", "idle", "last_run", "last_error", "x&y");
    vd_buf_reset (&b);
    b.max = 1 << 20;
    s_connectors (&b, list);
    failed += strstr (vd_buf_str (&b), "<script>") != NULL;
    failed += strstr (vd_buf_str (&b), "&lt;script&gt;") == NULL;
    failed += strstr (vd_buf_str (&b), "x&amp;y") == NULL;
    json_decref (list);
    json_t *runs = json_pack ("[{s:i, s:s, s:{s:{s:i, s:i}, s:{s:i, s:i}}}]", "id", 3, "status",
                              "success", "tables", "customers", "extracted", 2, "inserted", 2,
                              "sales_lines", "extracted", 5, "inserted", 4);
    failed += s_sum (json_array_get (runs, 0), "extracted") != 7;
    json_decref (runs);
    vd_buf_free (&b);
    if (verbose)
        printf ("orch_web_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
