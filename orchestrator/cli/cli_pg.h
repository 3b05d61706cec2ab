/*  cli_pg - the embedded PostgreSQL of `vendange up` (when DATABASE_URL
    is unset).

    Data in $VENDANGE_HOME/pg/data, socket in $VENDANGE_HOME/pg (no TCP:
    listen_addresses = ''), port VENDANGE_PG_PORT, log in
    $VENDANGE_HOME/log/postgresql.log. initdb once (trust, user postgres,
    UTF8, locale C); as root the server runs as the postgres system user
    (runuser), which then owns $VENDANGE_HOME/pg. The database is
    "vendange". The settings vendange manages live in pg/data/vendange.conf,
    included from postgresql.conf, rewritten at each start.
*/
#ifndef CLI_PG_H_INCLUDED
#define CLI_PG_H_INCLUDED

#include "vd_error.h"
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char home[PATH_MAX];
    char pgdir[PATH_MAX];  /* home/pg: socket directory            */
    char data[PATH_MAX];   /* home/pg/data                          */
    char log[PATH_MAX];    /* home/log/postgresql.log               */
    char bindir[PATH_MAX]; /* initdb, pg_ctl                        */
    int port;
    bool as_postgres; /* running as root: run as postgres      */
} cli_pg_t;

/*  Fills the paths and finds the server programs. Returns 0, -1. */
int cli_pg_init (cli_pg_t *pg, const char *home, int port, vd_error_t *err);
/*  Creates the cluster once, starts it unless running, creates the
    database. Returns 0, -1 with err (hint names the log). */
int cli_pg_start (cli_pg_t *pg, vd_error_t *err);
/*  True when the cluster exists and its server runs. */
bool cli_pg_running (const cli_pg_t *pg);
/*  Stops the server (fast mode). Returns 0, -1. */
int cli_pg_stop (const cli_pg_t *pg, vd_error_t *err);
/*  The services' DATABASE_URL: postgresql:///vendange?host=<pgdir,
    percent-encoded>&port=N&user=postgres. */
void cli_pg_url (const cli_pg_t *pg, char *out, size_t size);

int cli_pg_test (bool verbose);

#endif
