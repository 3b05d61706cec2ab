/*  cli_quality - `vendange quality [--json|--csv]`: the data-quality
    report of GET /api/quality (a table per canonical table, or the JSON
    as is), or with --csv the anomalies of GET /api/quality/anomalies.csv.
*/
#ifndef CLI_QUALITY_H_INCLUDED
#define CLI_QUALITY_H_INCLUDED

#include "vd_config.h"

int cli_quality_main (int argc, char **argv, const vd_config_t *cfg);

#endif
