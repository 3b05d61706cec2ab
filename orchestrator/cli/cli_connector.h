/*  cli_connector - `vendange connector add | list | show | set | test |
    remove` over the API. */
#ifndef CLI_CONNECTOR_H_INCLUDED
#define CLI_CONNECTOR_H_INCLUDED

#include "cli.h"
#include "vd_error.h"

#include <jansson.h>

extern const char cli_connector_usage[];

int cli_connector_main (int argc, char **argv, const vd_config_t *cfg);

/*  Adds one --set KEY=VALUE to settings (relative paths of a path setting
    of type made absolute; type may be NULL). Returns 0, -1 (message
    printed). */
int cli_connector_add_setting (json_t *settings, const char *type, const char *arg);

/*  "key=value ..." of a connector as the API answers it, each secret as
    "name=***". */
void cli_connector_settings_text (json_t *connector, char *out, size_t size);

/*  The commands on one connector (cli_connector_ops.c): argv[0] is the
    command name; they return the exit status. */
int cli_connector_show (int argc, char **argv, const char *api);
int cli_connector_set (int argc, char **argv, const char *api);
int cli_connector_check (int argc, char **argv, const char *api);
int cli_connector_remove (int argc, char **argv, const char *api);
/*  accept-layout NAME FILE: accepts the file's new columns (orch_layouts). */
int cli_connector_accept_layout (int argc, char **argv, const char *api);

/*  Parses a --set argument "KEY=VALUE": VALUE "@FILE" reads FILE (1 MiB
    at most, one trailing newline dropped), "env:VAR" reads the variable.
    Returns 0 with *key and *value (malloc'ed), -1 with err. */
int cli_connector_parse_set (const char *arg, char **key, char **value, vd_error_t *err);

int cli_connector_test (bool verbose);

#endif
