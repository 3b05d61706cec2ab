/*  cli_warnings - `vendange warnings`. */
#include "vendange.h"
#include "orch_json.h"
#include "cli.h"
#include "cli_http.h"
#include "cli_table.h"
#include "cli_warnings.h"

static const char s_usage[] =
    "usage: vendange warnings RUN [--json]\n"
    "       vendange warnings --lines ID [--after LINE] [--limit N] [--json]\n\n"
    "A run's warnings, one summary per table, file, field and reason: its id,\n"
    "how many lines it holds and the first examples (line: raw value).\n"
    "--lines lists every line of summary ID (file:line, in order), 1000 at a\n"
    "time unless --limit (at most 10000); --after LINE goes on after that line\n"
    "(the next page's LINE is printed on stderr). --json prints the API's JSON.\n";

/*  "2: FUT, 3: FUT" from a summary's examples, into out. */
static const char *
s_examples (json_t *w, char *out, size_t size)
{
    size_t len = 0, i;
    json_t *e;
    out[0] = '\0';
    json_array_foreach (json_object_get (w, "examples"), i, e)
    {
        const char *raw = json_string_value (json_object_get (e, "raw_value"));
        int n = snprintf (out + len, size - len, "%s%" JSON_INTEGER_FORMAT ": %s", i ? ", " : "",
                          json_integer_value (json_object_get (e, "line")), raw ? raw : "-");
        if (n < 0 || (size_t)n >= size - len)
            break; /* cut: --json has them whole */
        len += (size_t)n;
    }
    return out;
}

static const char *s_headers[] = {">ID",    "TABLE",  "FILE",     "FIELD",
                                  "REASON", ">LINES", "EXAMPLES", NULL};

/*  One row of the summaries' table. */
static void
s_add_summary (cli_table_t *t, json_t *w)
{
    char number[2][24], examples[512];
    static const char *const counted[] = {"id", "count"};
    for (int k = 0; k < 2; k++)
        snprintf (number[k], sizeof number[k], "%" JSON_INTEGER_FORMAT,
                  json_integer_value (json_object_get (w, counted[k])));
    const char *row[] = {number[0],
                         orch_json_member (w, "table"),
                         orch_json_member (w, "file"),
                         orch_json_member (w, "field"),
                         orch_json_member (w, "reason"),
                         number[1],
                         s_examples (w, examples, sizeof examples)};
    cli_table_add (t, row);
}

static int
s_summaries (const char *api, int64_t run, bool as_json)
{
    char path[64];
    snprintf (path, sizeof path, "/api/runs/%" PRId64, run);
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (cli_api (api, "GET", path, NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    json_t *list = json_object_get (reply.json, "warnings");
    char *text = as_json ? json_dumps (list ? list : json_null (), JSON_ENCODE_ANY) : NULL;
    if (as_json)
        printf ("%s\n", text ? text : "[]");
    else if (json_array_size (list) == 0)
        printf ("run %" PRId64 ": no warning\n", run);
    else {
        cli_table_t *t = cli_table_new (s_headers);
        for (size_t i = 0; t && i < json_array_size (list); i++)
            s_add_summary (t, json_array_get (list, i));
        if (t)
            cli_table_print (t, stdout);
        cli_table_destroy (&t);
        printf ("the lines of one: vendange warnings --lines ID\n");
    }
    free (text);
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

static int
s_lines (const char *api, int64_t id, int64_t after, int64_t limit, bool as_json)
{
    char path[160];
    snprintf (path, sizeof path, "/api/warnings/%" PRId64 "/lines?limit=%" PRId64, id, limit);
    if (after >= 0)
        snprintf (path + strlen (path), sizeof path - strlen (path), "&after=%" PRId64, after);
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (cli_api (api, "GET", path, NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    json_t *next = json_object_get (reply.json, "next_after");
    if (as_json)
        printf ("%s", reply.body);
    else {
        const char *file = json_string_value (json_object_get (reply.json, "file"));
        size_t i;
        json_t *line;
        json_array_foreach (json_object_get (reply.json, "lines"), i, line)
            printf ("%s:%" JSON_INTEGER_FORMAT "\n", file ? file : "", json_integer_value (line));
        if (json_is_integer (next))
            fprintf (stderr,
                     "more: vendange warnings --lines %" PRId64 " --after %" JSON_INTEGER_FORMAT
                     "\n",
                     id, json_integer_value (next));
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

int
cli_warnings_main (int argc, char **argv, const vd_config_t *cfg)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},        {"lines", required_argument, NULL, 'l'},
        {"after", required_argument, NULL, 'a'}, {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},        {0}};
    bool as_json = false;
    int64_t lines = 0, after = -1, limit = 1000, run = 0;
    int c, rc;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, ":hjl:a:n:", options, s_usage, &c)) < 0 && c != -1) {
        if (c == 'j')
            as_json = true;
        else if ((c == 'l' && vd_parse_int (optarg, 1, INT64_MAX, &lines) < 0) ||
                 (c == 'a' && vd_parse_int (optarg, 0, INT64_MAX - 1, &after) < 0) ||
                 (c == 'n' && vd_parse_int (optarg, 1, 10000, &limit) < 0)) {
            fprintf (stderr, "vendange: --%s wants a number%s\n%s",
                     c == 'l'   ? "lines"
                     : c == 'a' ? "after"
                                : "limit",
                     c == 'n' ? " from 1 to 10000" : "", s_usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (rc >= 0)
        return rc;
    if (lines ? optind != argc
              : optind + 1 != argc || vd_parse_int (argv[optind], 1, INT64_MAX, &run) < 0) {
        fprintf (stderr, "vendange: warnings takes a RUN id, or --lines ID\n%s", s_usage);
        return CLI_EXIT_USAGE;
    }
    char api[512];
    cli_api_url (cfg, api, sizeof api);
    return lines ? s_lines (api, lines, after, limit, as_json) : s_summaries (api, run, as_json);
}
