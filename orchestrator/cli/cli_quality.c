/*  cli_quality - `vendange quality [--json|--csv|--pdf FILE]`. */
#include "vendange.h"
#include "cli.h"
#include "cli_http.h"
#include "cli_quality.h"

static const char s_usage[] =
    "usage: vendange quality [--json|--csv|--pdf FILE]\n"
    "  the data-quality report of the canonical tables: completeness of each field,\n"
    "  invalid values, duplicates, orphans and a score per table;\n"
    "  --json: the report as JSON; --csv: every anomaly (table,check,kind,key,detail);\n"
    "  --pdf FILE: the report on one A4 page, with the sources' last runs and the\n"
    "  rejects of the last 30 days, written to FILE (-: standard output)\n";

static void
s_print_table (const json_t *t)
{
    json_t *score = json_object_get (t, "score");
    printf ("%s: %" JSON_INTEGER_FORMAT " rows, score %s",
            json_string_value (json_object_get (t, "table")),
            json_integer_value (json_object_get (t, "rows")), json_is_number (score) ? "" : "-");
    if (json_is_number (score))
        printf ("%.1f", json_number_value (score));
    printf (", completeness %.1f %%\n",
            json_number_value (json_object_get (t, "completeness_mean")));
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get (t, "completeness"), i, c)
    {
        double pct = json_number_value (json_object_get (c, "percent"));
        if (pct < 100)
            printf ("  %-26s %5.1f %% filled\n", json_string_value (json_object_get (c, "column")),
                    pct);
    }
    json_array_foreach (json_object_get (t, "checks"), i, c)
    {
        printf ("  %-9s %-26s %" JSON_INTEGER_FORMAT "\n",
                json_string_value (json_object_get (c, "kind")),
                json_string_value (json_object_get (c, "check")),
                json_integer_value (json_object_get (c, "count")));
    }
}

/*  Writes the PDF of reply to file ("-": standard output); frees reply. */
static int
s_save_pdf (cli_reply_t *reply, const char *file)
{
    bool out = strcmp (file, "-") == 0;
    int rc = CLI_EXIT_FAIL;
    if (reply->len < 5 || memcmp (reply->body, "%PDF-", 5) != 0)
        fprintf (stderr, "vendange: the orchestrator's answer is not a PDF\n");
    else if (cli_reply_save (reply, out ? NULL : file) == 0) {
        if (!out)
            fprintf (stderr, "wrote the quality report to %s (%zu bytes)\n", file, reply->len);
        rc = CLI_EXIT_OK;
    }
    cli_reply_clear (reply);
    return rc;
}

int
cli_quality_main (int argc, char **argv, const vd_config_t *cfg)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"csv", no_argument, NULL, 'c'},
                                             {"pdf", required_argument, NULL, 'p'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int mode = 0, c, rc;
    const char *pdf = NULL;
    while ((rc = cli_getopt (argc, argv, ":h", longopts, s_usage, &c)) < 0 && c != -1) {
        if (c == 'p')
            pdf = optarg;
        else if (c != 'j' && c != 'c')
            return cli_usage_error (argv, c, s_usage);
        mode = c;
    }
    if (rc >= 0)
        return rc;
    if (optind < argc) {
        fprintf (stderr, "vendange: unexpected argument \"%s\"\n%s", argv[optind], s_usage);
        return CLI_EXIT_USAGE;
    }
    char api[512];
    cli_api_url (cfg, api, sizeof api);
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    const char *path = mode == 'c'   ? "/api/quality/anomalies.csv"
                       : mode == 'p' ? "/api/quality.pdf"
                                     : "/api/quality";
    if (cli_api (api, "GET", path, NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    if (mode == 'p')
        return s_save_pdf (&reply, pdf);
    if (mode)
        printf ("%s", reply.body);
    else {
        printf ("score = %s\n\n",
                json_string_value (json_object_get (reply.json, "score_formula")));
        size_t i;
        json_t *t;
        json_array_foreach (json_object_get (reply.json, "tables"), i, t) s_print_table (t);
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}
