/*  cli_keys - `vendange keys`: the CURVE key pairs of the services. */
#ifndef CLI_KEYS_H_INCLUDED
#define CLI_KEYS_H_INCLUDED

#include "cli.h"
#include "vd_error.h"

/*  The keys folder of the CLI: VENDANGE_KEYS_DIR, else <home>/keys with
    home as `vendange up` chooses it. 0, -1 with err. */
int cli_keys_dir (const vd_config_t *cfg, char *out, size_t size, vd_error_t *err);

/*  Makes the key pair of every role that has none in dir. Returns how
    many were made, -1 with err. */
int cli_keys_ensure (const char *dir, vd_error_t *err);

int cli_keys_main (int argc, char **argv, const vd_config_t *cfg);

#endif
