/*  cli_forget - `vendange forget EMAIL|CUSTOMER_KEY`. */
#include "vendange.h"
#include "cli.h"
#include "cli_forget.h"
#include "cli_http.h"

static const char s_usage[] =
    "usage: vendange forget EMAIL|CUSTOMER_KEY\n\n"
    "Erases a person everywhere vendange keeps them: their customer rows (every\n"
    "row with that key, email or person key), the email and payload of their\n"
    "contact events, the raw content of rejects and warnings naming them, their\n"
    "recommendations, verdicts and campaign exports. Their sales stay, under\n"
    "one anonymous customer key, so product figures do not change.\n"
    "ops.forget_log records the counts, never the values. Erase the person in\n"
    "the source too: a later read of a file holding them brings them back.\n";

int
cli_forget_main (int argc, char **argv, const vd_config_t *cfg)
{
    static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int c, rc;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, ":h", options, s_usage, &c)) < 0 && c != -1)
        ;
    if (rc >= 0)
        return rc;
    if (optind + 1 != argc) {
        fprintf (stderr, "vendange: forget wants one EMAIL or CUSTOMER_KEY\n%s", s_usage);
        return CLI_EXIT_USAGE;
    }
    char api[512];
    cli_api_url (cfg, api, sizeof api);
    json_t *body = json_pack ("{s:s}", "subject", argv[optind]);
    cli_reply_t reply;
    static const long ok[] = {200, 202, 0};
    rc = body ? cli_api (api, "POST", "/api/forget", body, &reply, ok) : -1;
    json_decref (body);
    if (rc < 0)
        return CLI_EXIT_FAIL;
    json_t *a = reply.json;
    if (reply.status == 202) {
        printf ("forget queued (command %" JSON_INTEGER_FORMAT
                "): the loader erases the person when it is up\n",
                json_integer_value (json_object_get (a, "command_id")));
        cli_reply_clear (&reply);
        return CLI_EXIT_OK;
    }
    printf ("forget %" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT
            " customer row(s) erased, %" JSON_INTEGER_FORMAT
            " sales line(s) kept under %s, %" JSON_INTEGER_FORMAT
            " contact event(s), %" JSON_INTEGER_FORMAT " reject(s) and %" JSON_INTEGER_FORMAT
            " warning(s) cleared, %" JSON_INTEGER_FORMAT " recommendation(s) deleted\n",
            json_integer_value (json_object_get (a, "forget_id")),
            json_integer_value (json_object_get (a, "customers")),
            json_integer_value (json_object_get (a, "sales_lines")),
            json_string_value (json_object_get (a, "anonymous_key")),
            json_integer_value (json_object_get (a, "contacts")),
            json_integer_value (json_object_get (a, "rejects")),
            json_integer_value (json_object_get (a, "warnings")),
            json_integer_value (json_object_get (a, "recommendations")));
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}
