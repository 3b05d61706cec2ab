/*  cli_sync - `vendange sync NAME [--full] [--wait]`. */
#ifndef CLI_SYNC_H_INCLUDED
#define CLI_SYNC_H_INCLUDED

#include "cli.h"
#include <jansson.h>
#include <stdio.h>

int cli_sync_main (int argc, char **argv, const vd_config_t *cfg);

/*  Prints a run (API shape): status and duration, per-table counts as an
    aligned table with totals, files, first warnings, errors. */
void cli_sync_print_summary (json_t *run, FILE *out);

#endif
