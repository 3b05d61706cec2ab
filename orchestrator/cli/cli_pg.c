/*  cli_pg - the embedded PostgreSQL of `vendange up`. */
#include "vendange.h"
#include "cli_pg.h"
#include "cli_proc.h"
#include <ctype.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>

#define PG_BINDIR "/usr/lib/postgresql/15/bin"
#define SOCKET_PATH_MAX 107 /* sizeof sun_path - 1 */
#define INCLUDE_LINE "include_if_exists = 'vendange.conf'"

static bool
s_executable (const char *dir, const char *prog)
{
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/%s", dir, prog);
    return access (path, X_OK) == 0;
}

static int
s_find_bindir (cli_pg_t *pg, vd_error_t *err)
{
    if (s_executable (PG_BINDIR, "pg_ctl") && s_executable (PG_BINDIR, "initdb")) {
        snprintf (pg->bindir, sizeof pg->bindir, "%s", PG_BINDIR);
        return 0;
    }
    const char *argv[] = {"pg_config", "--bindir", NULL};
    if (cli_proc_capture (argv, pg->bindir, sizeof pg->bindir, err) == 0 &&
        s_executable (pg->bindir, "pg_ctl") && s_executable (pg->bindir, "initdb"))
        return 0;
    vd_error_set (err, VD_ERR_PERMANENT, "cannot find PostgreSQL's server programs");
    vd_error_detail (err, "no initdb and pg_ctl in %s nor in `pg_config --bindir`", PG_BINDIR);
    snprintf (err->hint, sizeof err->hint,
              "install the postgresql package, or set DATABASE_URL to use your own server");
    return -1;
}

int
cli_pg_init (cli_pg_t *pg, const char *home, int port, vd_error_t *err)
{
    memset (pg, 0, sizeof *pg);
    if (strlen (home) + 32 >= sizeof pg->home) {
        vd_error_set (err, VD_ERR_PERMANENT, "VENDANGE_HOME is too long");
        return -1;
    }
    snprintf (pg->home, sizeof pg->home, "%s", home);
    snprintf (pg->pgdir, sizeof pg->pgdir, "%s/pg", home);
    snprintf (pg->data, sizeof pg->data, "%s/pg/data", home);
    snprintf (pg->log, sizeof pg->log, "%s/log/postgresql.log", home);
    pg->port = port;
    pg->as_postgres = geteuid () == 0;
    if (strlen (pg->pgdir) + strlen ("/.s.PGSQL.65535") > SOCKET_PATH_MAX) {
        vd_error_set (err, VD_ERR_PERMANENT, "VENDANGE_HOME is too long for a PostgreSQL socket");
        vd_error_detail (err, "%s/.s.PGSQL.%d is more than %d bytes", pg->pgdir, port,
                         SOCKET_PATH_MAX);
        snprintf (err->hint, sizeof err->hint, "choose a shorter VENDANGE_HOME");
        return -1;
    }
    return s_find_bindir (pg, err);
}

/*  Runs a server program (as postgres when root) in the pg folder. */
static int
s_pg_cmd (const cli_pg_t *pg, const char *prog, const char *const *args, const char *log,
          vd_error_t *err)
{
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/%s", pg->bindir, prog);
    const char *argv[24];
    size_t n = 0;
    if (pg->as_postgres) {
        argv[n++] = "runuser";
        argv[n++] = "-u";
        argv[n++] = "postgres";
        argv[n++] = "--";
    }
    argv[n++] = path;
    for (size_t i = 0; args[i] && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return cli_proc_run (argv, pg->pgdir, log, err);
}

static int
s_mkdir (const char *path, mode_t mode, vd_error_t *err)
{
    if (mkdir (path, mode) == 0 || errno == EEXIST)
        return 0;
    vd_error_set (err, VD_ERR_PERMANENT, "cannot create %s", path);
    return vd_error_detail (err, "%s", strerror (errno));
}

/*  The folders; as root, pg/ and the log file belong to postgres. */
static int
s_prepare (const cli_pg_t *pg, vd_error_t *err)
{
    char logdir[PATH_MAX + 8];
    snprintf (logdir, sizeof logdir, "%s/log", pg->home);
    if (s_mkdir (pg->home, 0755, err) < 0 || s_mkdir (logdir, 0755, err) < 0 ||
        s_mkdir (pg->pgdir, 0700, err) < 0)
        return -1;
    int fd = open (pg->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd >= 0)
        close (fd);
    if (!pg->as_postgres)
        return 0;
    struct passwd *pw = getpwnam ("postgres");
    if (!pw) {
        vd_error_set (err, VD_ERR_PERMANENT, "no \"postgres\" system user to run PostgreSQL");
        snprintf (err->hint, sizeof err->hint,
                  "install the postgresql package, or set DATABASE_URL");
        return -1;
    }
    if (chmod (pg->home, 0755) < 0 || chown (pg->pgdir, pw->pw_uid, pw->pw_gid) < 0 ||
        chown (pg->log, pw->pw_uid, pw->pw_gid) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot hand %s to the postgres user", pg->pgdir);
        return vd_error_detail (err, "%s", strerror (errno));
    }
    return 0;
}

static int
s_initdb (const cli_pg_t *pg, vd_error_t *err)
{
    char version[PATH_MAX + 16], log[PATH_MAX + 16];
    snprintf (version, sizeof version, "%s/PG_VERSION", pg->data);
    if (access (version, F_OK) == 0)
        return 0;
    snprintf (log, sizeof log, "%s/log/initdb.log", pg->home);
    const char *args[] = {"-D", pg->data, "--auth=trust", "-U", "postgres",
                          "-E", "UTF8",   "--locale=C",   NULL};
    int rc = s_pg_cmd (pg, "initdb", args, log, err);
    if (rc == 0)
        return 0;
    if (rc > 0)
        vd_error_set (err, VD_ERR_PERMANENT, "initdb failed (exit status %d)", rc);
    snprintf (err->hint, sizeof err->hint, "see %.150s%s", log,
              pg->as_postgres ? "; as root, every parent folder of VENDANGE_HOME must be "
                                "searchable by the postgres user"
                              : "");
    return -1;
}

/*  Writes text to path. Returns 0, -1 with err. */
static int
s_write_file (const char *path, const char *text, int flags, vd_error_t *err)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    size_t len = strlen (text);
    bool ok = fd >= 0 && write (fd, text, len) == (ssize_t)len;
    if (fd >= 0 && close (fd) < 0)
        ok = false;
    if (ok)
        return 0;
    vd_error_set (err, VD_ERR_PERMANENT, "cannot write %s", path);
    return vd_error_detail (err, "%s", strerror (errno));
}

/*  vendange.conf (port, socket, no TCP), included once from
    postgresql.conf. */
static int
s_write_conf (const cli_pg_t *pg, vd_error_t *err)
{
    vd_buf_t b;
    vd_buf_init (&b, 2 * PATH_MAX + 512);
    vd_buf_addstr (&b, "# written by `vendange up` at each start: edits are lost\n"
                       "listen_addresses = ''\nunix_socket_directories = '");
    for (const char *p = pg->pgdir; *p; p++)
        if (*p == '\'')
            vd_buf_addstr (&b, "''");
        else
            vd_buf_addc (&b, *p);
    vd_buf_printf (&b, "'\nport = %d\n", pg->port);
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/vendange.conf", pg->data);
    int rc = s_write_file (path, vd_buf_str (&b), O_TRUNC, err);
    vd_buf_free (&b);
    if (rc < 0)
        return -1;
    snprintf (path, sizeof path, "%s/postgresql.conf", pg->data);
    FILE *f = fopen (path, "r");
    char line[512];
    bool found = false;
    while (f && !found && fgets (line, sizeof line, f))
        found = strncmp (line, INCLUDE_LINE, strlen (INCLUDE_LINE)) == 0;
    if (f)
        fclose (f);
    return found ? 0 : s_write_file (path, "\n" INCLUDE_LINE "\n", O_APPEND, err);
}

bool
cli_pg_running (const cli_pg_t *pg)
{
    char version[PATH_MAX + 16];
    snprintf (version, sizeof version, "%s/PG_VERSION", pg->data);
    if (access (version, F_OK) != 0)
        return false;
    vd_error_t err;
    vd_error_clear (&err);
    const char *args[] = {"status", "-D", pg->data, NULL};
    return s_pg_cmd (pg, "pg_ctl", args, NULL, &err) == 0;
}

/*  Creates the "vendange" database when missing. */
static int
s_create_db (const cli_pg_t *pg, vd_error_t *err)
{
    char port[16];
    snprintf (port, sizeof port, "%d", pg->port);
    const char *keys[] = {"host", "port", "dbname", "user", "application_name", NULL};
    const char *values[] = {pg->pgdir, port, "postgres", "postgres", "vendange-up", NULL};
    PGconn *conn = PQconnectdbParams (keys, values, 0);
    PGresult *res = NULL;
    int rc = -1;
    if (!conn || PQstatus (conn) != CONNECTION_OK) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot connect to the embedded PostgreSQL");
        vd_error_detail (err, "%s", conn ? PQerrorMessage (conn) : "out of memory");
        goto done;
    }
    res = PQexec (conn, "SELECT 1 FROM pg_database WHERE datname = 'vendange'");
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        goto sql_error;
    if (PQntuples (res) == 0) {
        PQclear (res);
        res = PQexec (conn, "CREATE DATABASE vendange");
        if (PQresultStatus (res) != PGRES_COMMAND_OK)
            goto sql_error;
    }
    rc = 0;
    goto done;
sql_error:
    vd_error_set (err, VD_ERR_PERMANENT, "cannot create the vendange database");
    vd_error_detail (err, "%s", PQerrorMessage (conn));
done:
    PQclear (res);
    PQfinish (conn);
    return rc;
}

int
cli_pg_start (cli_pg_t *pg, vd_error_t *err)
{
    if (s_prepare (pg, err) < 0 || s_initdb (pg, err) < 0 || s_write_conf (pg, err) < 0)
        return -1;
    if (!cli_pg_running (pg)) {
        const char *args[] = {"-D", pg->data, "-w", "-t", "60", "-l", pg->log, "start", NULL};
        int rc = s_pg_cmd (pg, "pg_ctl", args, pg->log, err);
        if (rc != 0) {
            if (rc > 0)
                vd_error_set (err, VD_ERR_PERMANENT, "the embedded PostgreSQL did not start");
            snprintf (err->hint, sizeof err->hint, "see %.240s", pg->log);
            return -1;
        }
    }
    return s_create_db (pg, err);
}

int
cli_pg_stop (const cli_pg_t *pg, vd_error_t *err)
{
    if (!cli_pg_running (pg))
        return 0;
    const char *args[] = {"-D", pg->data, "-m", "fast", "-w", "-t", "60", "stop", NULL};
    int rc = s_pg_cmd (pg, "pg_ctl", args, pg->log, err);
    if (rc == 0)
        return 0;
    if (rc > 0)
        vd_error_set (err, VD_ERR_PERMANENT, "the embedded PostgreSQL did not stop");
    snprintf (err->hint, sizeof err->hint, "see %.240s", pg->log);
    return -1;
}

void
cli_pg_url (const cli_pg_t *pg, char *out, size_t size)
{
    vd_buf_t b;
    vd_buf_init (&b, size > 0 ? size - 1 : 0);
    vd_buf_addstr (&b, "postgresql:///vendange?host=");
    for (const unsigned char *p = (const unsigned char *)pg->pgdir; *p; p++)
        if (isalnum (*p) || strchr ("/._-~", *p))
            vd_buf_addc (&b, (char)*p);
        else
            vd_buf_printf (&b, "%%%02X", *p);
    vd_buf_printf (&b, "&port=%d&user=postgres", pg->port);
    snprintf (out, size, "%s", vd_buf_str (&b));
    vd_buf_free (&b);
}

int
cli_pg_test (bool verbose)
{
    int failed = 0;
    cli_pg_t pg;
    memset (&pg, 0, sizeof pg);
    snprintf (pg.pgdir, sizeof pg.pgdir, "/var/lib/my vendange/pg");
    pg.port = 54329;
    char url[512];
    cli_pg_url (&pg, url, sizeof url);
    failed += strcmp (url, "postgresql:///vendange?host=/var/lib/my%20vendange/pg&port=54329"
                           "&user=postgres") != 0;
    vd_error_t err;
    vd_error_clear (&err);
    char home[200];
    memset (home, 'a', sizeof home - 1);
    home[0] = '/';
    home[sizeof home - 1] = '\0';
    failed += cli_pg_init (&pg, home, 54329, &err) == 0 || !strstr (err.msg, "too long");
    if (verbose)
        printf ("cli_pg_test: %d failure(s) (%s)\n", failed, url);
    return failed ? -1 : 0;
}
