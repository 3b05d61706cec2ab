/*  cli_runs - `vendange runs` and `vendange status`. */
#include "vendange.h"
#include "orch_json.h"
#include "cli.h"
#include "cli_http.h"
#include "cli_runs.h"
#include "cli_table.h"

static const char s_runs_usage[] =
    "usage: vendange runs [NAME] [--json] [--limit N]\n\n"
    "Lists sync runs, newest first (of connector NAME only when given; the\n"
    "last 20 unless --limit, at most 500). --json prints the API's JSON array.\n";

static const char s_status_usage[] =
    "usage: vendange status [--all] [--json]\n\n"
    "Shows the live services (pid, host, last heartbeat), a dead one while a\n"
    "run it failed is recent (24 hours), and each connector's health. --all\n"
    "also lists the dead services of earlier starts (kept 7 days).\n";

/*  An integer member as text ("" when not an integer). */
static const char *
s_int (const json_t *obj, const char *key, char *out, size_t size)
{
    json_t *v = json_object_get (obj, key);
    out[0] = '\0';
    if (json_is_integer (v))
        snprintf (out, size, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
    return out;
}

static void
s_run_row (cli_table_t *t, json_t *run)
{
    static const char *counts[] = {"extracted", "inserted", "updated", "unchanged", "rejected"};
    char id[24], warnings[24], duration[32] = "", sums[5][24];
    json_t *d = json_object_get (run, "duration_s");
    if (json_is_number (d))
        snprintf (duration, sizeof duration, "%.1f", json_number_value (d));
    const char *row[11] = {s_int (run, "id", id, sizeof id), orch_json_member (run, "connector"),
                           orch_json_member (run, "status"), orch_json_member (run, "started_at"),
                           duration};
    for (int k = 0; k < 5; k++) {
        json_int_t sum = 0;
        const char *name;
        json_t *c;
        json_object_foreach (json_object_get (run, "tables"), name, c) sum +=
            json_integer_value (json_object_get (c, counts[k]));
        snprintf (sums[k], sizeof sums[k], "%" JSON_INTEGER_FORMAT, sum);
        row[5 + k] = sums[k];
    }
    row[10] = s_int (run, "warnings_total", warnings, sizeof warnings);
    cli_table_add (t, row);
}

/*  Parses the options of runs / status (--limit for runs, --all for
    status: NULL when not allowed); returns -1 to go on. */
static int
s_options (int argc, char **argv, const char *usage, bool *as_json, int64_t *limit, bool *all)
{
    static const struct option options[] = {{"json", no_argument, NULL, 'j'},
                                            {"limit", required_argument, NULL, 'n'},
                                            {"all", no_argument, NULL, 'a'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0}};
    int c, rc;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, limit ? ":hjn:" : ":hja", options, usage, &c)) < 0 &&
           c != -1) {
        if (c == 'j')
            *as_json = true;
        else if (c == 'n' && limit && vd_parse_int (optarg, 1, 500, limit) < 0) {
            fprintf (stderr, "vendange: --limit wants a number from 1 to 500\n%s", usage);
            return CLI_EXIT_USAGE;
        } else if (c == 'a' && all)
            *all = true;
        else if ((c == 'n' && !limit) || (c == 'a' && !all))
            return cli_usage_error (argv, '?', usage);
    }
    return rc;
}

int
cli_runs_main (int argc, char **argv, const vd_config_t *cfg)
{
    bool as_json = false;
    int64_t limit = 20;
    int rc = s_options (argc, argv, s_runs_usage, &as_json, &limit, NULL);
    if (rc >= 0)
        return rc;
    if (optind + 1 < argc) {
        fprintf (stderr, "vendange: runs takes at most one connector NAME\n%s", s_runs_usage);
        return CLI_EXIT_USAGE;
    }
    char api[512], path[700];
    cli_api_url (cfg, api, sizeof api);
    char *name = optind < argc ? vd_httpc_escape (argv[optind]) : NULL;
    snprintf (path, sizeof path, "/api/runs?limit=%d%s%.500s", (int)limit,
              name ? "&connector=" : "", name ? name : "");
    free (name);
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (cli_api (api, "GET", path, NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    if (as_json)
        printf ("%s", reply.body);
    else if (json_array_size (reply.json) == 0)
        printf ("no run yet: vendange sync NAME starts one\n");
    else {
        static const char *headers[] = {">ID",        "CONNECTOR",  "STATUS",    "STARTED",
                                        ">DURATION",  ">EXTRACTED", ">INSERTED", ">UPDATED",
                                        ">UNCHANGED", ">REJECTED",  ">WARNINGS", NULL};
        cli_table_t *t = cli_table_new (headers);
        size_t i;
        json_t *run;
        json_array_foreach (reply.json, i, run) if (t) s_run_row (t, run);
        if (t)
            cli_table_print (t, stdout);
        cli_table_destroy (&t);
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

/*  The ids of a service's failed runs, "12 11" or "reco 4" ("" when none). */
static const char *
s_failed_runs (const json_t *s, char *out, size_t size)
{
    static const char *members[] = {"failed_runs", "failed_reco_runs"};
    size_t len = 0;
    out[0] = '\0';
    for (int m = 0; m < 2; m++) {
        size_t i;
        json_t *id;
        json_array_foreach (json_object_get (s, members[m]), i, id)
        {
            int n = snprintf (out + len, size - len, "%s%s%" JSON_INTEGER_FORMAT, len ? " " : "",
                              m && i == 0 ? "reco " : "", json_integer_value (id));
            if (n < 0 || (size_t)n >= size - len)
                return out; /* cut: the JSON has them all */
            len += (size_t)n;
        }
    }
    return out;
}

static void
s_print_services (json_t *services, json_int_t hidden)
{
    static const char *headers[] = {"SERVICE", "ROLE",           "HOST",  ">PID",        "STATE",
                                    ">RUN",    "LAST HEARTBEAT", "ALIVE", "FAILED RUNS", NULL};
    cli_table_t *t = cli_table_new (headers);
    size_t i;
    json_t *s;
    json_array_foreach (services, i, s)
    {
        char pid[24], run[24], failed[120];
        const char *row[] = {orch_json_member (s, "instance"),
                             orch_json_member (s, "role"),
                             orch_json_member (s, "host"),
                             s_int (s, "pid", pid, sizeof pid),
                             orch_json_member (s, "state"),
                             s_int (s, "run_id", run, sizeof run),
                             orch_json_member (s, "last_heartbeat"),
                             json_is_true (json_object_get (s, "alive")) ? "yes" : "no",
                             s_failed_runs (s, failed, sizeof failed)};
        if (t)
            cli_table_add (t, row);
    }
    if (t && json_array_size (services))
        cli_table_print (t, stdout);
    else
        printf ("no service has sent a heartbeat yet\n");
    if (hidden > 0)
        printf ("(%" JSON_INTEGER_FORMAT " dead service(s) of earlier starts not shown: "
                "vendange status --all)\n",
                hidden);
    cli_table_destroy (&t);
}

static void
s_print_connectors (json_t *connectors)
{
    static const char *headers[] = {"CONNECTOR", "TYPE",     "HEALTH",     ">LAST RUN",
                                    "STATUS",    "FINISHED", "LAST ERROR", NULL};
    cli_table_t *t = cli_table_new (headers);
    size_t i;
    json_t *c;
    json_array_foreach (connectors, i, c)
    {
        json_t *last = json_object_get (c, "last_run");
        char id[24];
        const char *row[] = {
            orch_json_member (c, "name"),      orch_json_member (c, "type"),
            orch_json_member (c, "health"),    s_int (last, "id", id, sizeof id),
            orch_json_member (last, "status"), orch_json_member (last, "finished_at"),
            orch_json_member (c, "last_error")};
        if (t)
            cli_table_add (t, row);
    }
    if (t && json_array_size (connectors))
        cli_table_print (t, stdout);
    else
        printf ("no connector yet\n");
    cli_table_destroy (&t);
}

int
cli_status_main (int argc, char **argv, const vd_config_t *cfg)
{
    bool as_json = false, all = false;
    int rc = s_options (argc, argv, s_status_usage, &as_json, NULL, &all);
    if (rc >= 0)
        return rc;
    if (optind < argc) {
        fprintf (stderr, "vendange: unexpected argument \"%s\"\n%s", argv[optind], s_status_usage);
        return CLI_EXIT_USAGE;
    }
    char api[512];
    cli_api_url (cfg, api, sizeof api);
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (cli_api (api, "GET", all ? "/api/status?all=true" : "/api/status", NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    if (as_json)
        printf ("%s", reply.body);
    else {
        printf ("orchestrator: %s\n\n", api);
        s_print_services (json_object_get (reply.json, "services"),
                          json_integer_value (json_object_get (reply.json, "services_hidden")));
        printf ("\n");
        s_print_connectors (json_object_get (reply.json, "connectors"));
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}
