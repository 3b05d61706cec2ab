/*  cli_runs - `vendange runs [NAME] [--json] [--limit N]` and
    `vendange status [--json]`: the run history and the services and
    connectors health, as aligned tables or as the API's JSON. */
#ifndef CLI_RUNS_H_INCLUDED
#define CLI_RUNS_H_INCLUDED

#include "cli.h"

int cli_runs_main (int argc, char **argv, const vd_config_t *cfg);
int cli_status_main (int argc, char **argv, const vd_config_t *cfg);

#endif
