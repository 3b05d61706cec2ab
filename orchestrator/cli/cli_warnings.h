/*  cli_warnings - `vendange warnings RUN` (a run's warning summaries:
    count and first examples per table, file, field and reason) and
    `vendange warnings --lines ID [--after LINE] [--limit N]` (every line
    of one summary, file:line, page by page), or the API's JSON. */
#ifndef CLI_WARNINGS_H_INCLUDED
#define CLI_WARNINGS_H_INCLUDED

#include "cli.h"

int cli_warnings_main (int argc, char **argv, const vd_config_t *cfg);

#endif
