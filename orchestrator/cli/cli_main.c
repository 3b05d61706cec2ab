/*  vendange - the command line of vendange: local start and stop, and
    the orchestrator's API (connectors, syncs, runs, status).

    vendange COMMAND [ARGS]   see s_usage below
*/
#include "vendange.h"
#include "cli.h"
#include "cli_alerts.h"
#include "cli_connector.h"
#include "cli_forget.h"
#include "cli_keys.h"
#include "cli_quality.h"
#include "cli_reco.h"
#include "cli_runs.h"
#include "cli_sync.h"
#include "cli_up.h"
#include "cli_warnings.h"
#include <curl/curl.h>

static const struct {
    const char *name;
    cli_cmd_fn *fn;
    const char *summary;
} s_commands[] = {
    {"up", cli_up_main, "start PostgreSQL (embedded when DATABASE_URL is unset) and the services"},
    {"down", cli_down_main, "stop what `vendange up` started (data is kept)"},
    {"connector", cli_connector_main,
     "add | list | show | set | test | remove: the connector registry"},
    {"sync", cli_sync_main, "NAME [--full] [--wait]: run a sync of a connector"},
    {"runs", cli_runs_main, "[NAME] [--json] [--limit N]: sync run history, newest first"},
    {"warnings", cli_warnings_main,
     "RUN | --lines ID [--after LINE] [--limit N]: a run's warning summaries, their lines"},
    {"status", cli_status_main, "[--all] [--json]: services and connectors health"},
    {"alerts", cli_alerts_main,
     "[list] | rules | set | channel | test: alerts, their rules and where they are sent"},
    {"quality", cli_quality_main,
     "[--json|--csv|--pdf FILE]: data-quality report on the canonical tables"},
    {"reco", cli_reco_main,
     "CUSTOMER [--json] [--refresh] | run | feedback | export | precision: recommendations"},
    {"forget", cli_forget_main, "EMAIL|CUSTOMER_KEY: erase a person everywhere"},
    {"secret-key", cli_secret_key_main, "print a new random key for VENDANGE_SECRET_KEY"},
    {"keys", cli_keys_main, "init | rotate ROLE | retire ROLE | list: the services' CURVE keys"},
};

#define NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: vendange COMMAND [ARGS]\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf (out, "  %-10s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf (out, "\n`vendange COMMAND --help` tells more about a command.\n\n");
    vd_config_usage (VD_SVC_CLI, out);
}

static cli_cmd_fn *
s_find (const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp (name, s_commands[i].name) == 0)
            return s_commands[i].fn;
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
        (strcmp (argv[1], "help") == 0 && argc == 2)) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp (argv[1], "--version") == 0) {
        printf ("vendange %s\n", VD_VERSION);
        return CLI_EXIT_OK;
    }
    char *help_argv[] = {argc > 2 ? argv[2] : NULL, (char *)"--help", NULL};
    bool help = strcmp (argv[1], "help") == 0;
    cli_cmd_fn *fn = s_find (help ? argv[2] : argv[1]);
    if (!fn) {
        fprintf (stderr, "vendange: unknown command \"%s\"\n", help ? argv[2] : argv[1]);
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    vd_log_init ("vendange", VD_LOG_WARN);
    vd_error_t err;
    vd_error_clear (&err);
    vd_config_t *cfg = vd_config_load (VD_SVC_CLI, &err);
    if (!cfg) {
        fprintf (stderr, "vendange: %s\n", err.msg);
        if (err.detail[0])
            fprintf (stderr, "  detail: %s\n", err.detail);
        return CLI_EXIT_FAIL;
    }
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf (stderr, "vendange: cannot initialise libcurl\n");
        vd_config_destroy (&cfg);
        return CLI_EXIT_FAIL;
    }
    int rc = help ? fn (2, help_argv, cfg) : fn (argc - 1, argv + 1, cfg);
    curl_global_cleanup ();
    vd_config_destroy (&cfg);
    return rc;
}
