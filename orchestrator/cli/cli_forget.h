/*  cli_forget - `vendange forget EMAIL|CUSTOMER_KEY` (POST /api/forget). */
#ifndef CLI_FORGET_H_INCLUDED
#define CLI_FORGET_H_INCLUDED

#include "cli.h"

int cli_forget_main (int argc, char **argv, const vd_config_t *cfg);

#endif
