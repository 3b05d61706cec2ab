/*  cli_reco - `vendange reco ...`: recommendations through the API.

      vendange reco CUSTOMER [--json] [--refresh]   customer, top recommendations
      vendange reco run [--wait]                     queue a run over every customer
      vendange reco feedback CUSTOMER PRODUCT good|bad [--reason TEXT]
      vendange reco export [--campaign NAME] [--out FILE]
      vendange reco precision [--json]
*/
#ifndef CLI_RECO_H_INCLUDED
#define CLI_RECO_H_INCLUDED

#include "cli.h"
#include <jansson.h>
#include <stdio.h>

int cli_reco_main (int argc, char **argv, const vd_config_t *cfg);

/*  Prints a customer (GET /api/customers/KEY, may be NULL) and its
    recommendations (GET .../recommendations) as plain text. */
void cli_reco_print (const json_t *customer, const json_t *reco, FILE *out);

/*  Self test (plain output of a known answer). */
int cli_reco_test (bool verbose);

#endif
