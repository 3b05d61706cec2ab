/*  cli_up - `vendange up` and `vendange down`: local start and stop.

    up: an embedded PostgreSQL when DATABASE_URL is unset (cli_pg), then
    each missing service (orchestrator, normalizer, loader, and
    VENDANGE_EXTRACTORS_ISAVIGNE x extractor-isavigne) started as a daemon
    from the programs next to `vendange`, with pid files in
    $VENDANGE_HOME/run and logs in $VENDANGE_HOME/log; idempotent. It
    waits (30 s at most) until the API answers and the services show up
    alive, then says where things are.
    down: SIGTERM to every service in reverse order (SIGKILL after 10 s),
    then stops the embedded PostgreSQL if `up` started it.
*/
#ifndef CLI_UP_H_INCLUDED
#define CLI_UP_H_INCLUDED

#include "cli.h"
#include <stdbool.h>
#include <stddef.h>

int cli_up_main (int argc, char **argv, const vd_config_t *cfg);
int cli_down_main (int argc, char **argv, const vd_config_t *cfg);
/*  `vendange secret-key`: prints a new random VENDANGE_SECRET_KEY. */
int cli_secret_key_main (int argc, char **argv, const vd_config_t *cfg);

/*  The state folder: setting (VENDANGE_HOME) when not empty, else
    /var/lib/vendange for root, else $XDG_DATA_HOME/vendange, else
    $HOME/.local/share/vendange. Returns 0, -1 when none can be found. */
int cli_up_home (const char *setting, bool root, const char *xdg, const char *user_home, char *out,
                 size_t size);

/*  The program a pid file name stands for ("extractor-isavigne-2" ->
    "extractor-isavigne"), copied into out. */
void cli_up_program (const char *name, char *out, size_t size);

int cli_up_test (bool verbose);

#endif
