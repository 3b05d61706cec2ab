/*  cli_alerts - `vendange alerts`: open alerts and their history, the
    rules and their settings, the channels, a test notification. */
#include "vendange.h"
#include "cli.h"
#include "cli_alerts.h"
#include "cli_connector.h"
#include "cli_http.h"
#include "cli_table.h"
#include "orch_alert_channels.h"
#include "orch_json.h"

#define TEST_WAIT_MS 60000
#define TEST_POLL_MS 250

const char cli_alerts_usage[] =
    "usage: vendange alerts [list] [--all] [--json]\n"
    "       vendange alerts rules [--json]\n"
    "       vendange alerts set RULE [--connector NAME] [--on|--off] [KEY=VALUE ...]\n"
    "       vendange alerts channel add NAME --type smtp|http --set KEY=VALUE ...\n"
    "       vendange alerts channel list | remove NAME\n"
    "       vendange alerts test [CHANNEL]\n\n"
    "list: the open alerts (--all: and the resolved ones), each with its deliveries.\n"
    "rules: every rule, its settings and their defaults, the values set per connector.\n"
    "set: a rule's settings for one connector (--connector) or for all; KEY= (empty)\n"
    "  removes a setting; --off / --on disable or enable the rule there.\n"
    "channel add: where notifications go (README, Alerts). smtp: url=smtp://HOST:587\n"
    "  (STARTTLS) or smtps://HOST:465, user, password (secret), from, to (comma\n"
    "  separated), starttls=on|off, ca_file. http: url (secret: Teams, Slack and Power\n"
    "  Automate URLs carry their token), format=json|slack|teams, ca_file. Secrets are\n"
    "  given as @FILE or env:VARIABLE, never on the command line.\n"
    "test: sends a test notification through CHANNEL (or every channel) and waits\n"
    "  until it is delivered; exit status 1 when a delivery failed.\n";

/*  An argument a command does not take: usage, CLI_EXIT_USAGE. */
static int
s_unexpected (const char *arg, json_t *body)
{
    fprintf (stderr, "vendange: unexpected argument \"%s\"\n%s", arg, cli_alerts_usage);
    json_decref (body);
    return CLI_EXIT_USAGE;
}

static void
s_alert_row (cli_table_t *t, const json_t *a)
{
    char deliveries[200] = "";
    size_t i, n = 0;
    json_t *d;
    json_array_foreach (json_object_get (a, "deliveries"), i, d)
    {
        n += (size_t)snprintf (deliveries + n, n < sizeof deliveries ? sizeof deliveries - n : 0,
                               "%s%s %s:%s", i ? ", " : "", orch_json_member (d, "event"),
                               orch_json_member (d, "channel"), orch_json_member (d, "status"));
        if (n >= sizeof deliveries)
            break;
    }
    char id[24];
    snprintf (id, sizeof id, "%" JSON_INTEGER_FORMAT,
              json_integer_value (json_object_get (a, "id")));
    const char *row[] = {id,
                         orch_json_member (a, "rule"),
                         orch_json_member (a, "subject"),
                         orch_json_member (a, "opened_at"),
                         orch_json_member (a, "resolved_at"),
                         orch_json_member (a, "detail"),
                         deliveries};
    cli_table_add (t, row);
}

static int
s_list (const char *api, bool all, bool as_json)
{
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (cli_api (api, "GET", all ? "/api/alerts?all=true" : "/api/alerts", NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    if (as_json)
        printf ("%s\n", reply.body);
    else {
        static const char *headers[] = {">ID",      "RULE",   "SUBJECT",    "OPENED",
                                        "RESOLVED", "DETAIL", "DELIVERIES", NULL};
        cli_table_t *t = cli_table_new (headers);
        size_t i;
        json_t *a;
        json_array_foreach (json_object_get (reply.json, "alerts"), i, a) s_alert_row (t, a);
        printf ("%" JSON_INTEGER_FORMAT " open alert(s)\n",
                json_integer_value (json_object_get (reply.json, "open")));
        if (json_array_size (json_object_get (reply.json, "alerts")) > 0)
            cli_table_print (t, stdout);
        cli_table_destroy (&t);
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

static int
s_rules (const char *api, bool as_json)
{
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (cli_api (api, "GET", "/api/alerts/rules", NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    if (as_json)
        printf ("%s\n", reply.body);
    size_t i, k;
    json_t *r, *p;
    json_array_foreach (as_json ? NULL : json_object_get (reply.json, "rules"), i, r)
    {
        printf ("%s: %s\n", orch_json_member (r, "rule"), orch_json_member (r, "summary"));
        json_array_foreach (json_object_get (r, "settings"), k, p)
            printf ("    %-14s default %-4s %s\n", orch_json_member (p, "key"),
                    orch_json_member (p, "default"), orch_json_member (p, "help"));
        json_array_foreach (json_object_get (r, "overrides"), k, p)
        {
            char *s = json_dumps (json_object_get (p, "settings"), JSON_COMPACT);
            json_t *on = json_object_get (p, "enabled");
            printf ("    set for %s:%s %s\n",
                    json_is_string (json_object_get (p, "connector"))
                        ? orch_json_member (p, "connector")
                        : "every connector",
                    json_is_boolean (on) ? (json_is_true (on) ? " on" : " off") : "", s ? s : "");
            free (s);
        }
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

static int
s_set (int argc, char **argv, const char *api)
{
    if (argc < 2) {
        fprintf (stderr, "%s", cli_alerts_usage);
        return CLI_EXIT_USAGE;
    }
    json_t *body = json_pack ("{s:s, s:{}}", "rule", argv[1], "settings");
    json_t *settings = json_object_get (body, "settings");
    for (int i = 2; i < argc; i++) {
        const char *eq = strchr (argv[i], '=');
        if (strcmp (argv[i], "--on") == 0 || strcmp (argv[i], "--off") == 0)
            json_object_set_new (body, "enabled", json_boolean (argv[i][3] == 'n'));
        else if (strcmp (argv[i], "--connector") == 0 && i + 1 < argc)
            json_object_set_new (body, "connector", json_string (argv[++i]));
        else if (eq && eq != argv[i]) {
            char *key = strndup (argv[i], (size_t)(eq - argv[i]));
            json_object_set_new (settings, key, eq[1] ? json_string (eq + 1) : json_null ());
            free (key);
        } else
            return s_unexpected (argv[i], body);
    }
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    int rc = cli_api (api, "POST", "/api/alerts/rules", body, &reply, ok);
    json_decref (body);
    if (rc < 0)
        return CLI_EXIT_FAIL;
    printf ("%s\n", reply.body);
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

/*  One --set of a channel: a secret only as @FILE or env:VAR. */
static int
s_channel_setting (json_t *settings, const char *type, const char *arg)
{
    const char *eq = strchr (arg, '=');
    char *name = eq ? strndup (arg, (size_t)(eq - arg)) : NULL;
    bool secret = name && orch_alert_channels_is_secret (type, name);
    if (secret && eq[1] != '@' && strncmp (eq + 1, "env:", 4) != 0) {
        fprintf (stderr,
                 "vendange: a secret is never given on the command line\n"
                 "  hint: --set %s=@FILE or --set %s=env:VARIABLE\n",
                 name, name);
        free (name);
        return -1;
    }
    free (name);
    vd_error_t err;
    vd_error_clear (&err);
    char *key, *value;
    if (cli_connector_parse_set (arg, &key, &value, &err) < 0) {
        cli_print_error (&err);
        return -1;
    }
    json_object_set_new (settings, key, json_string (value));
    free (key);
    free (value);
    return 0;
}

static int
s_channel_add (int argc, char **argv, const char *api)
{
    const char *type = NULL;
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp (argv[i], "--type") == 0)
            type = argv[i + 1];
    if (argc < 2 || argv[1][0] == '-' || !type) {
        fprintf (stderr, "%s", cli_alerts_usage);
        return CLI_EXIT_USAGE;
    }
    json_t *body = json_pack ("{s:s, s:s, s:{}}", "name", argv[1], "type", type, "settings");
    for (int i = 2; i < argc; i++) {
        if (strcmp (argv[i], "--type") == 0 && i + 1 < argc)
            i++;
        else if (strcmp (argv[i], "--set") == 0 && i + 1 < argc) {
            if (s_channel_setting (json_object_get (body, "settings"), type, argv[++i]) < 0) {
                json_decref (body);
                return CLI_EXIT_FAIL;
            }
        } else
            return s_unexpected (argv[i], body);
    }
    cli_reply_t reply;
    static const long ok[] = {201, 0};
    int rc = cli_api (api, "POST", "/api/alerts/channels", body, &reply, ok);
    json_decref (body);
    if (rc < 0)
        return CLI_EXIT_FAIL;
    printf ("channel %s (%s) saved\n", argv[1], type);
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

static int
s_channel (int argc, char **argv, const char *api)
{
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (argc >= 2 && strcmp (argv[1], "add") == 0)
        return s_channel_add (argc - 1, argv + 1, api);
    if (argc == 3 && strcmp (argv[1], "remove") == 0) {
        char *name = vd_httpc_escape (argv[2]);
        char path[300];
        snprintf (path, sizeof path, "/api/alerts/channels/%s", name ? name : "");
        free (name);
        if (cli_api (api, "DELETE", path, NULL, &reply, ok) < 0)
            return CLI_EXIT_FAIL;
        printf ("channel %s removed\n", argv[2]);
    } else if (argc == 2 && strcmp (argv[1], "list") == 0) {
        if (cli_api (api, "GET", "/api/alerts/channels", NULL, &reply, ok) < 0)
            return CLI_EXIT_FAIL;
        size_t i;
        json_t *c;
        json_array_foreach (reply.json, i, c)
        {
            char *s = json_dumps (json_object_get (c, "settings"), JSON_COMPACT);
            char *names = json_dumps (json_object_get (c, "secrets"), JSON_COMPACT);
            printf ("%s  %s  %s  secrets %s\n", orch_json_member (c, "name"),
                    orch_json_member (c, "type"), s ? s : "", names ? names : "[]");
            free (s);
            free (names);
        }
    } else {
        fprintf (stderr, "%s", cli_alerts_usage);
        return CLI_EXIT_USAGE;
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

/*  Waits for delivery id: 0 when sent, -1 when dead or still pending. */
static int
s_wait_delivery (const char *api, const char *channel, const char *id)
{
    char path[100];
    snprintf (path, sizeof path, "/api/alerts/deliveries/%s", id);
    static const long ok[] = {200, 0};
    for (int64_t waited = 0; waited < TEST_WAIT_MS; waited += TEST_POLL_MS) {
        cli_reply_t reply;
        if (cli_api (api, "GET", path, NULL, &reply, ok) < 0)
            return -1;
        const char *status = orch_json_member (reply.json, "status");
        int rc = strcmp (status, "sent") == 0 ? 0 : strcmp (status, "dead") == 0 ? -1 : 1;
        if (rc <= 0) {
            if (rc == 0)
                printf ("%s: delivered\n", channel);
            else
                fprintf (stderr, "vendange: %s: delivery failed: %s\n", channel,
                         orch_json_member (reply.json, "last_error"));
            cli_reply_clear (&reply);
            return rc;
        }
        if (json_integer_value (json_object_get (reply.json, "attempts")) > 0 &&
            json_is_string (json_object_get (reply.json, "last_error"))) {
            fprintf (stderr, "vendange: %s: attempt failed (%s), will be retried\n", channel,
                     orch_json_member (reply.json, "last_error"));
            cli_reply_clear (&reply);
            return -1;
        }
        cli_reply_clear (&reply);
        usleep (TEST_POLL_MS * 1000);
    }
    fprintf (stderr, "vendange: %s: not delivered within %d s\n", channel, TEST_WAIT_MS / 1000);
    return -1;
}

static int
s_test (int argc, char **argv, const char *api)
{
    json_t *body = argc > 1 ? json_pack ("{s:s}", "channel", argv[1]) : json_object ();
    cli_reply_t reply;
    static const long ok[] = {202, 0};
    int rc = cli_api (api, "POST", "/api/alerts/test", body, &reply, ok);
    json_decref (body);
    if (rc < 0)
        return CLI_EXIT_FAIL;
    size_t i;
    json_t *d;
    json_array_foreach (json_object_get (reply.json, "deliveries"), i, d)
    {
        if (s_wait_delivery (api, orch_json_member (d, "channel"),
                             orch_json_member (d, "delivery")) < 0)
            rc = -1;
    }
    cli_reply_clear (&reply);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int
cli_alerts_main (int argc, char **argv, const vd_config_t *cfg)
{
    const char *cmd = argc > 1 ? argv[1] : "list";
    if (strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0 || strcmp (cmd, "help") == 0) {
        printf ("%s", cli_alerts_usage);
        return CLI_EXIT_OK;
    }
    char api[512];
    cli_api_url (cfg, api, sizeof api);
    bool as_json = false, all = false;
    for (int i = 1; i < argc; i++) {
        as_json |= strcmp (argv[i], "--json") == 0;
        all |= strcmp (argv[i], "--all") == 0;
    }
    if (strcmp (cmd, "list") == 0 || cmd[0] == '-')
        return s_list (api, all, as_json);
    if (strcmp (cmd, "rules") == 0)
        return s_rules (api, as_json);
    if (strcmp (cmd, "set") == 0)
        return s_set (argc - 1, argv + 1, api);
    if (strcmp (cmd, "channel") == 0)
        return s_channel (argc - 1, argv + 1, api);
    if (strcmp (cmd, "test") == 0)
        return s_test (argc - 1, argv + 1, api);
    fprintf (stderr, "vendange: unknown alerts command \"%s\"\n%s", cmd, cli_alerts_usage);
    return CLI_EXIT_USAGE;
}
