/*  cli_connector_ops - `vendange connector show | set | test | remove`:
    the commands on one existing connector. */
#include "vendange.h"
#include "orch_json.h"
#include "cli.h"
#include "cli_connector.h"
#include "cli_http.h"
#include <czmq.h>

#define TEST_POLL_MS 300
#define TEST_WAIT_MS 60000

/*  Parses "CMD NAME [options]" with no option but --help and those given;
    returns -1 to go on with *name set, or an exit status. */
static int
s_name (int argc, char **argv, const char *shortopts, const struct option *options,
        const char **name, int *flags, const char *what)
{
    int c, rc;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, shortopts, options, cli_connector_usage, &c)) < 0 &&
           c != -1)
        if (flags)
            *flags |= c == 'j' ? 1 : c == 'p' ? 2 : 0;
    if (rc >= 0)
        return rc;
    if (optind + 1 != argc) {
        fprintf (stderr, "vendange: connector %s wants one NAME\n%s", what, cli_connector_usage);
        return CLI_EXIT_USAGE;
    }
    *name = argv[optind];
    return -1;
}

/*  "/api/connectors/NAME" + suffix into path. */
static void
s_path (const char *name, const char *suffix, char *path, size_t size)
{
    char *escaped = vd_httpc_escape (name);
    snprintf (path, size, "/api/connectors/%.500s%s", escaped ? escaped : "", suffix);
    free (escaped);
}

int
cli_connector_show (int argc, char **argv, const char *api)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *name;
    int flags = 0;
    int rc = s_name (argc, argv, ":hj", options, &name, &flags, "show");
    if (rc >= 0)
        return rc;
    char path[600];
    s_path (name, "", path, sizeof path);
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (cli_api (api, "GET", path, NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    if (flags & 1)
        printf ("%s", reply.body);
    else {
        json_t *c = reply.json;
        char settings[2048];
        cli_connector_settings_text (c, settings, sizeof settings);
        json_t *last = json_object_get (c, "last_run");
        printf ("connector  %s\ntype       %s\nsettings   %s\nschedule   %s\n"
                "created    %s\nupdated    %s\ncursor     %s\n",
                orch_json_member (c, "name"), orch_json_member (c, "type"), settings,
                json_is_string (json_object_get (c, "schedule")) ? orch_json_member (c, "schedule")
                                                                 : "none",
                orch_json_member (c, "created_at"), orch_json_member (c, "updated_at"),
                json_is_string (json_object_get (c, "cursor")) ? orch_json_member (c, "cursor")
                                                               : "none");
        if (json_is_object (last))
            printf ("last run   %" JSON_INTEGER_FORMAT " %s, finished %s\n",
                    json_integer_value (json_object_get (last, "id")),
                    orch_json_member (last, "status"), orch_json_member (last, "finished_at"));
        else
            printf ("last run   none\n");
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

/*  The connector's type, for path settings (NULL when it cannot be read:
    the PATCH then reports the error). malloc'ed. */
static char *
s_type (const char *api, const char *name)
{
    char path[600];
    s_path (name, "", path, sizeof path);
    cli_reply_t reply;
    vd_error_t err;
    vd_error_clear (&err);
    char *type = NULL;
    if (cli_http_call (api, "GET", path, NULL, 10000, &reply, &err) == 0) {
        if (reply.status == 200)
            type = strdup (orch_json_member (reply.json, "type"));
        cli_reply_clear (&reply);
    }
    return type;
}

int
cli_connector_set (int argc, char **argv, const char *api)
{
    static const struct option options[] = {{"set", required_argument, NULL, 's'},
                                            {"unset", required_argument, NULL, 'u'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0}};
    const char *name;
    int rc = s_name (argc, argv, ":hs:u:", options, &name, NULL, "set");
    if (rc >= 0)
        return rc;
    char *type = s_type (api, name);
    json_t *settings = json_object (), *unset = json_array ();
    int c;
    rc = CLI_EXIT_OK;
    optind = 0;
    while (rc == CLI_EXIT_OK && (c = getopt_long (argc, argv, ":hs:u:", options, NULL)) != -1)
        if ((c == 's' && cli_connector_add_setting (settings, type, optarg) < 0) ||
            (c == 'u' && json_array_append_new (unset, json_string (optarg)) < 0))
            rc = CLI_EXIT_FAIL;
    free (type);
    json_t *body = json_pack ("{s:o, s:o}", "settings", settings, "unset", unset);
    if (rc != CLI_EXIT_OK || !body) {
        json_decref (body);
        return CLI_EXIT_FAIL;
    }
    char path[600];
    s_path (name, "", path, sizeof path);
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    rc = cli_api (api, "PATCH", path, body, &reply, ok);
    json_decref (body);
    if (rc < 0)
        return CLI_EXIT_FAIL;
    char text[2048];
    cli_connector_settings_text (reply.json, text, sizeof text);
    printf ("connector %s updated: %s\n", name, text);
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

/*  Prints a finished test for humans. */
static void
s_print_test (const char *name, json_t *test)
{
    json_t *result = json_object_get (test, "result");
    bool ok = strcmp (orch_json_member (test, "status"), "ok") == 0;
    printf ("connector %s: %s", name, ok ? "ok" : "FAILED");
    if (*orch_json_member (result, "summary"))
        printf (": %s", orch_json_member (result, "summary"));
    printf ("\n");
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get (result, "checks"), i, v)
        printf ("  %-6s %s%s%s\n", json_is_true (json_object_get (v, "ok")) ? "ok" : "FAILED",
                orch_json_member (v, "check"), *orch_json_member (v, "message") ? ": " : "",
                orch_json_member (v, "message"));
    json_array_foreach (json_object_get (result, "warnings"), i, v)
        printf ("  warning: %s\n", json_string_value (v) ? json_string_value (v) : "?");
    json_t *error = json_object_get (result, "error");
    if (*orch_json_member (error, "reason"))
        printf ("  error: %s\n", orch_json_member (error, "reason"));
    if (*orch_json_member (error, "detail"))
        printf ("  detail: %s\n", orch_json_member (error, "detail"));
    if (*orch_json_member (error, "hint"))
        printf ("  hint: %s\n", orch_json_member (error, "hint"));
}

/*  Follows test id until it ends (or TEST_WAIT_MS); the finished test,
    NULL when the orchestrator stopped answering. */
static json_t *
s_wait_test (const char *api, json_int_t id)
{
    char path[64];
    snprintf (path, sizeof path, "/api/tests/%" JSON_INTEGER_FORMAT, id);
    int64_t deadline = zclock_mono () + TEST_WAIT_MS;
    while (zclock_mono () < deadline) {
        cli_reply_t reply;
        vd_error_t err;
        vd_error_clear (&err);
        if (cli_http_call (api, "GET", path, NULL, 5000, &reply, &err) == 0) {
            const char *status = orch_json_member (reply.json, "status");
            if (reply.status == 200 &&
                (strcmp (status, "ok") == 0 || strcmp (status, "failed") == 0)) {
                json_t *test = json_incref (reply.json);
                cli_reply_clear (&reply);
                return test;
            }
            cli_reply_clear (&reply);
        }
        zclock_sleep (TEST_POLL_MS);
    }
    return NULL;
}

int
cli_connector_check (int argc, char **argv, const char *api)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *name;
    int flags = 0;
    int rc = s_name (argc, argv, ":hj", options, &name, &flags, "test");
    if (rc >= 0)
        return rc;
    char path[600];
    s_path (name, "/test", path, sizeof path);
    cli_reply_t reply;
    static const long ok[] = {202, 0};
    if (cli_api (api, "POST", path, NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    json_int_t id = json_integer_value (json_object_get (reply.json, "test_id"));
    cli_reply_clear (&reply);
    json_t *test = s_wait_test (api, id);
    if (!test) {
        fprintf (stderr,
                 "vendange: connector test %" JSON_INTEGER_FORMAT " did not finish within "
                 "%d s\n",
                 id, TEST_WAIT_MS / 1000);
        return CLI_EXIT_FAIL;
    }
    if (flags & 1) {
        char *text = json_dumps (test, JSON_INDENT (2));
        printf ("%s\n", text ? text : "{}");
        free (text);
    } else
        s_print_test (name, test);
    rc = strcmp (orch_json_member (test, "status"), "ok") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    json_decref (test);
    return rc;
}

int
cli_connector_remove (int argc, char **argv, const char *api)
{
    static const struct option options[] = {
        {"purge", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *name;
    int flags = 0;
    int rc = s_name (argc, argv, ":hp", options, &name, &flags, "remove");
    if (rc >= 0)
        return rc;
    bool purge = flags & 2;
    char path[620];
    s_path (name, purge ? "?purge=true" : "", path, sizeof path);
    cli_reply_t reply;
    static const long ok[] = {200, 204, 0};
    if (cli_api (api, "DELETE", path, NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    if (!purge)
        printf ("connector %s removed (the rows it loaded are kept)\n", name);
    else {
        printf ("connector %s removed with the rows it loaded:", name);
        const char *table;
        json_t *n;
        json_object_foreach (json_object_get (reply.json, "purged"), table, n)
            printf (" %s %" JSON_INTEGER_FORMAT, table, json_integer_value (n));
        printf ("\n");
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

/*  Prints a list of column names after label, when there are some. */
static void
s_print_columns (const char *label, const json_t *names)
{
    if (json_array_size (names) == 0)
        return;
    printf ("  %s", label);
    size_t i;
    json_t *v;
    json_array_foreach (names, i, v) printf ("%s%s", i ? ", " : " ", json_string_value (v));
    printf ("\n");
}

int
cli_connector_accept_layout (int argc, char **argv, const char *api)
{
    static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int c, rc;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, ":h", options, cli_connector_usage, &c)) < 0 && c != -1)
        ;
    if (rc >= 0)
        return rc;
    if (optind + 2 != argc) {
        fprintf (stderr, "vendange: connector accept-layout wants NAME and FILE\n%s",
                 cli_connector_usage);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[optind], *file = argv[optind + 1];
    char path[620];
    s_path (name, "/accept-layout", path, sizeof path);
    json_t *body = json_pack ("{s:s}", "file", file);
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    rc = body && cli_api (api, "POST", path, body, &reply, ok) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    json_decref (body);
    if (rc != CLI_EXIT_OK)
        return rc;
    printf ("connector %s: the columns of %s are accepted; the next sync reads it\n", name, file);
    s_print_columns ("added:", json_object_get (reply.json, "added"));
    s_print_columns ("missing:", json_object_get (reply.json, "missing"));
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}
