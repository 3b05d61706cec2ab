/*  cli - what every `vendange` command shares: the command signature,
    exit codes and the API base URL.
*/
#ifndef CLI_H_INCLUDED
#define CLI_H_INCLUDED

#include "vd_config.h"
#include <getopt.h>
#include <stddef.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_PARTIAL 2 /* sync --wait: the run ended partial */
#define CLI_EXIT_USAGE 64

/*  A command: argv[0] is its name ("sync"); returns the exit status. */
typedef int (cli_cmd_fn) (int argc, char **argv, const vd_config_t *cfg);

/*  The orchestrator API base URL: VENDANGE_API_URL when set, else
    derived from VENDANGE_HTTP_ADDR when that is set, else the default.
    Written into out (no trailing '/'). */
void cli_api_url (const vd_config_t *cfg, char *out, size_t size);

/*  Reports a bad option or argument met by getopt_long (c: what it
    returned; '?' unknown option, ':' missing value) and the usage on
    stderr. Returns CLI_EXIT_USAGE. */
int cli_usage_error (char **argv, int c, const char *usage);

/*  getopt_long over argv with options; --help prints usage on stdout.
    Returns -1 when parsing may go on (*c holds the option), or an exit
    status to return (0 after --help, 64 on a bad option). Set optind = 0
    before the first call (a full reset of GNU getopt). */
int cli_getopt (int argc, char **argv, const char *shortopts, const struct option *longopts,
                const char *usage, int *c);

#endif
