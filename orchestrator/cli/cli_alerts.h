/*  cli_alerts - `vendange alerts` over the API (orch_alerts_api,
    orch_alert_channels). */
#ifndef CLI_ALERTS_H_INCLUDED
#define CLI_ALERTS_H_INCLUDED

#include "cli.h"

extern const char cli_alerts_usage[];

int cli_alerts_main (int argc, char **argv, const vd_config_t *cfg);

#endif
