/*  cli_quality - `vendange quality [--json|--csv|--pdf FILE]`: the
    data-quality report of GET /api/quality (a table per canonical table,
    or the JSON as is), with --csv the anomalies of GET
    /api/quality/anomalies.csv, with --pdf the one-page report of GET
    /api/quality.pdf written to FILE ("-": standard output).
*/
#ifndef CLI_QUALITY_H_INCLUDED
#define CLI_QUALITY_H_INCLUDED

#include "vd_config.h"

int cli_quality_main (int argc, char **argv, const vd_config_t *cfg);

#endif
