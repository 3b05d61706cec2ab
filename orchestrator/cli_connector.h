/*  cli_connector - `vendange connector add | list | remove` over the API. */
#ifndef CLI_CONNECTOR_H_INCLUDED
#define CLI_CONNECTOR_H_INCLUDED

#include "cli.h"
#include "vd_error.h"

int cli_connector_main (int argc, char **argv, const vd_config_t *cfg);

/*  Parses a --set argument "KEY=VALUE": VALUE "@FILE" reads FILE (1 MiB
    at most, one trailing newline dropped), "env:VAR" reads the variable.
    Returns 0 with *key and *value (malloc'ed), -1 with err. */
int cli_connector_parse_set (const char *arg, char **key, char **value, vd_error_t *err);

int cli_connector_test (bool verbose);

#endif
