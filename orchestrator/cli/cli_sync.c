/*  cli_sync - `vendange sync NAME [--full] [--wait]`. */
#include "vendange.h"
#include "orch_json.h"
#include "cli.h"
#include "cli_http.h"
#include "cli_sync.h"
#include "cli_table.h"
#include <czmq.h>

#define POLL_MS 500
#define POLL_TIMEOUT_MS 1500
#define LOST_AFTER_MS 4000
#define PLAIN_PROGRESS_MS 5000
#define SHOW_WARNINGS 5

static const char s_usage[] =
    "usage: vendange sync NAME [--full] [--wait]\n\n"
    "Queues a sync run of connector NAME. --full re-reads everything (file\n"
    "hashes and cursors ignored). --wait follows the run, shows progress on\n"
    "stderr and its summary; the exit status is then 0 for success, 2 for\n"
    "partial, 1 for failed (or when the orchestrator stops answering).\n";

static const char *s_counts[] = {"extracted", "inserted", "updated", "unchanged", "rejected"};

/*  The per-table counts as an aligned table, with a total row. */
static void
s_print_tables (json_t *run, FILE *out)
{
    static const char *headers[] = {"TABLE",      ">EXTRACTED", ">INSERTED", ">UPDATED",
                                    ">UNCHANGED", ">REJECTED",  NULL};
    cli_table_t *t = cli_table_new (headers);
    json_int_t total[5] = {0};
    const char *name;
    json_t *counts;
    json_object_foreach (json_object_get (run, "tables"), name, counts)
    {
        char cell[5][24];
        const char *row[6] = {name};
        for (int k = 0; k < 5; k++) {
            json_int_t n = json_integer_value (json_object_get (counts, s_counts[k]));
            total[k] += n;
            snprintf (cell[k], sizeof cell[k], "%" JSON_INTEGER_FORMAT, n);
            row[k + 1] = cell[k];
        }
        if (t)
            cli_table_add (t, row);
    }
    char cell[5][24];
    const char *row[6] = {"total"};
    for (int k = 0; k < 5; k++) {
        snprintf (cell[k], sizeof cell[k], "%" JSON_INTEGER_FORMAT, total[k]);
        row[k + 1] = cell[k];
    }
    if (t && json_object_size (json_object_get (run, "tables")) > 0) {
        cli_table_add (t, row);
        cli_table_print (t, out);
    }
    cli_table_destroy (&t);
}

static void
s_print_files (json_t *run, FILE *out)
{
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get (run, "files"), i, f)
    {
        const char *status = json_string_value (json_object_get (f, "status"));
        const char *error = json_string_value (json_object_get (f, "error"));
        fprintf (out, "%s  %s %s", i ? "" : "files:\n",
                 json_string_value (json_object_get (f, "file")), status ? status : "?");
        if (json_is_integer (json_object_get (f, "rows")))
            fprintf (out, " (%" JSON_INTEGER_FORMAT " rows)",
                     json_integer_value (json_object_get (f, "rows")));
        if (error && *error)
            fprintf (out, ": %s", error);
        /* what the file's lines derived, once per file (README, Derived values) */
        json_t *derived = json_object_get (f, "derived");
        for (size_t k = 0; k < json_array_size (derived); k++)
            fprintf (out, "%s%s",
                     k ? ", " : "; derived: ", json_string_value (json_array_get (derived, k)));
        json_int_t unknown = json_integer_value (json_object_get (f, "unit_unknown"));
        if (unknown > 0)
            fprintf (out,
                     "; %" JSON_INTEGER_FORMAT " line(s) without a unit or a product "
                     "packaging (75 cl equivalent left empty)",
                     unknown);
        fputc ('\n', out);
    }
}

static void
s_print_problems (json_t *run, FILE *out)
{
    json_t *warnings = json_object_get (run, "warnings");
    json_int_t total = json_integer_value (json_object_get (run, "warnings_total"));
    json_int_t kinds = json_integer_value (json_object_get (run, "warning_summaries"));
    if (total > 0)
        fprintf (out, "warnings: %" JSON_INTEGER_FORMAT "%s\n", total,
                 kinds > SHOW_WARNINGS ? " (the first 5 kinds below)" : "");
    /* one line per summary: its first line, and how many lines it holds */
    for (size_t i = 0; i < json_array_size (warnings) && i < SHOW_WARNINGS; i++) {
        json_t *w = json_array_get (warnings, i);
        const char *file = json_string_value (json_object_get (w, "file"));
        const char *field = json_string_value (json_object_get (w, "field"));
        json_int_t count = json_integer_value (json_object_get (w, "count"));
        fprintf (out, "  %s", file ? file : "");
        if (json_is_integer (json_object_get (w, "line")))
            fprintf (out, ":%" JSON_INTEGER_FORMAT,
                     json_integer_value (json_object_get (w, "line")));
        fprintf (out, " %s%s%s: %s", orch_json_member (w, "table"), field ? "." : "",
                 field ? field : "", orch_json_member (w, "reason"));
        if (count > 1)
            fprintf (out,
                     " (%" JSON_INTEGER_FORMAT
                     " lines: vendange warnings --lines %" JSON_INTEGER_FORMAT ")",
                     count, json_integer_value (json_object_get (w, "id")));
        fputc ('\n', out);
    }
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get (run, "errors"), i, e)
    {
        const char *reason = json_string_value (json_object_get (e, "reason"));
        const char *detail = json_string_value (json_object_get (e, "detail"));
        const char *file = json_string_value (json_object_get (e, "file"));
        const char *hint = json_string_value (json_object_get (e, "hint"));
        detail = detail && detail[0] ? detail : NULL;
        file = file && file[0] ? file : NULL;
        fprintf (out, "%s  %s%s%s%s%s\n", i ? "" : "errors:\n", file ? file : "", file ? ": " : "",
                 reason ? reason : "?", detail ? ": " : "", detail ? detail : "");
        if (hint && hint[0])
            fprintf (out, "    hint: %s\n", hint);
    }
}

void
cli_sync_print_summary (json_t *run, FILE *out)
{
    json_t *duration = json_object_get (run, "duration_s");
    fprintf (out, "run %" JSON_INTEGER_FORMAT " of %s: %s",
             json_integer_value (json_object_get (run, "id")), orch_json_member (run, "connector"),
             orch_json_member (run, "status"));
    if (json_is_number (duration))
        fprintf (out, " in %.1f s", json_number_value (duration));
    fprintf (out, "\n\n");
    s_print_tables (run, out);
    s_print_files (run, out);
    s_print_problems (run, out);
}

/*  The first rejects of a finished run (their reason, file and line), when
    it has any: what was refused is said with the counts, not left to psql. */
static void
s_print_rejects (const char *api, json_t *run, FILE *out)
{
    json_int_t total = 0;
    const char *name;
    json_t *counts;
    json_object_foreach (json_object_get (run, "tables"), name, counts) total +=
        json_integer_value (json_object_get (counts, "rejected"));
    if (total <= 0)
        return;
    char path[96];
    snprintf (path, sizeof path, "/api/runs/%" JSON_INTEGER_FORMAT "/rejects?limit=%d",
              json_integer_value (json_object_get (run, "id")), SHOW_WARNINGS);
    cli_reply_t reply;
    vd_error_t err;
    vd_error_clear (&err);
    if (cli_http_call (api, "GET", path, NULL, POLL_TIMEOUT_MS, &reply, &err) < 0)
        return; /* the summary is complete without them */
    fprintf (out, "rejects: %" JSON_INTEGER_FORMAT "%s\n", total,
             total > SHOW_WARNINGS ? " (the first 5 below; all in ops.rejects)" : "");
    size_t i;
    json_t *r;
    json_array_foreach (reply.status == 200 ? reply.json : NULL, i, r)
    {
        fprintf (out, "  %s", orch_json_member (r, "file"));
        if (json_is_integer (json_object_get (r, "line")))
            fprintf (out, ":%" JSON_INTEGER_FORMAT,
                     json_integer_value (json_object_get (r, "line")));
        fprintf (out, " %s: %s\n", orch_json_member (r, "table"), orch_json_member (r, "reason"));
    }
    cli_reply_clear (&reply);
}

typedef struct {
    bool tty;
    int64_t start_ms; /* when the run was first seen running */
    json_int_t start_records;
    int64_t last_print_ms;
    bool printed;
} s_progress_t;

/*  One progress line on stderr: rewritten on a terminal, every 5 s
    otherwise. */
static void
s_progress (s_progress_t *p, json_t *run, int64_t now)
{
    const char *status = orch_json_member (run, "status");
    json_int_t done = json_integer_value (json_object_get (run, "records_done"));
    json_int_t id = json_integer_value (json_object_get (run, "id"));
    char line[200];
    if (strcmp (status, "running") != 0)
        snprintf (line, sizeof line, "run %" JSON_INTEGER_FORMAT " %s, waiting for an extractor",
                  id, status);
    else {
        if (p->start_ms == 0) {
            p->start_ms = now;
            p->start_records = done;
        }
        double secs = (double)(now - p->start_ms) / 1000.0;
        double rate = secs >= 1.0 ? (double)(done - p->start_records) / secs : 0.0;
        snprintf (line, sizeof line,
                  "run %" JSON_INTEGER_FORMAT " running: %" JSON_INTEGER_FORMAT
                  " records, %.0f records/s",
                  id, done, rate);
    }
    if (p->tty) {
        fprintf (stderr, "\r%s\033[K", line);
        p->printed = true;
    } else if (p->last_print_ms == 0 || now - p->last_print_ms >= PLAIN_PROGRESS_MS) {
        fprintf (stderr, "%s\n", line);
        p->last_print_ms = now;
    }
    fflush (stderr);
}

static void
s_progress_end (s_progress_t *p)
{
    if (p->tty && p->printed)
        fprintf (stderr, "\r\033[K");
    p->printed = false;
}

/*  The exit status for a final run status, -1 while it is not final. */
static int
s_exit_status (const char *status)
{
    if (strcmp (status, "success") == 0)
        return CLI_EXIT_OK;
    if (strcmp (status, "partial") == 0)
        return CLI_EXIT_PARTIAL;
    if (strcmp (status, "failed") == 0)
        return CLI_EXIT_FAIL;
    return -1;
}

/*  Follows a run until it ends; never hangs on a silent orchestrator. */
static int
s_wait (const char *api, json_int_t id)
{
    char path[64];
    snprintf (path, sizeof path, "/api/runs/%" JSON_INTEGER_FORMAT, id);
    s_progress_t p = {.tty = isatty (STDERR_FILENO) == 1};
    int64_t last_ok = zclock_mono ();
    vd_error_t err;
    vd_error_clear (&err);
    for (;;) {
        int64_t t0 = zclock_mono ();
        cli_reply_t reply;
        int rc = -1;
        if (cli_http_call (api, "GET", path, NULL, POLL_TIMEOUT_MS, &reply, &err) == 0) {
            if (reply.status == 200 && json_is_object (reply.json)) {
                last_ok = zclock_mono ();
                rc = s_exit_status (orch_json_member (reply.json, "status"));
                if (rc >= 0) {
                    s_progress_end (&p);
                    cli_sync_print_summary (reply.json, stdout);
                    s_print_rejects (api, reply.json, stdout);
                } else
                    s_progress (&p, reply.json, last_ok);
            } else if (reply.status < 500) {
                s_progress_end (&p);
                cli_print_api_error (&reply);
                rc = CLI_EXIT_FAIL;
            }
            cli_reply_clear (&reply);
        }
        if (rc >= 0)
            return rc;
        if (zclock_mono () - last_ok >= LOST_AFTER_MS) {
            s_progress_end (&p);
            fprintf (stderr, "vendange: lost contact with the orchestrator\n");
            if (err.detail[0])
                fprintf (stderr, "  detail: %s\n", err.detail);
            fprintf (stderr,
                     "  hint: vendange runs shows how run %" JSON_INTEGER_FORMAT
                     " ended once it is back\n",
                     id);
            return CLI_EXIT_FAIL;
        }
        int64_t spent = zclock_mono () - t0;
        if (spent < POLL_MS)
            zclock_sleep ((int)(POLL_MS - spent));
    }
}

int
cli_sync_main (int argc, char **argv, const vd_config_t *cfg)
{
    static const struct option options[] = {{"full", no_argument, NULL, 'f'},
                                            {"wait", no_argument, NULL, 'w'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0}};
    bool full = false, wait = false;
    int c, rc;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, ":hfw", options, s_usage, &c)) < 0 && c != -1) {
        full = full || c == 'f';
        wait = wait || c == 'w';
    }
    if (rc >= 0)
        return rc;
    if (optind + 1 != argc) {
        fprintf (stderr, "vendange: sync wants one connector NAME\n%s", s_usage);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[optind];
    char api[512], path[600];
    cli_api_url (cfg, api, sizeof api);
    char *escaped = vd_httpc_escape (name);
    snprintf (path, sizeof path, "/api/connectors/%.500s/sync", escaped ? escaped : "");
    free (escaped);
    json_t *body = json_pack ("{s:b}", "full", full);
    cli_reply_t reply;
    static const long ok[] = {202, 200, 0};
    rc = cli_api (api, "POST", path, body, &reply, ok);
    json_decref (body);
    if (rc < 0)
        return CLI_EXIT_FAIL;
    json_int_t id = json_integer_value (json_object_get (reply.json, "run_id"));
    cli_reply_clear (&reply);
    if (!wait) {
        printf ("run %" JSON_INTEGER_FORMAT " queued for %s\n", id, name);
        return CLI_EXIT_OK;
    }
    fprintf (stderr, "run %" JSON_INTEGER_FORMAT " queued for %s\n", id, name);
    return s_wait (api, id);
}
