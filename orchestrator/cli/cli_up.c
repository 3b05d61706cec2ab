/*  cli_up - `vendange up` and `vendange down`. */
#include "vendange.h"
#include "cli_http.h"
#include "cli_keys.h"
#include "cli_pg.h"
#include "cli_proc.h"
#include "cli_up.h"
#include "vd_secret.h"
#include <ctype.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <czmq.h>

#define MAX_SERVICES 72
#define READY_TIMEOUT_MS 30000
#define STOP_WAIT_MS 10000
#define PG_MARKER "postgres.embedded"

typedef struct {
    char name[64];    /* pid and log file base: "extractor-isavigne-1" */
    char program[64]; /* binary: "extractor-isavigne"                  */
    pid_t pid;
    bool started; /* by this `up`                                  */
} s_service_t;

typedef struct {
    char home[PATH_MAX];
    char bindir[PATH_MAX];
    char api[512];
    char dsn[PATH_MAX + 128];
    bool embedded;
    s_service_t services[MAX_SERVICES];
    size_t count;
} s_up_t;

int
cli_up_home (const char *setting, bool root, const char *xdg, const char *user_home, char *out,
             size_t size)
{
    int n;
    if (setting && *setting)
        n = snprintf (out, size, "%s", setting);
    else if (root)
        n = snprintf (out, size, "/var/lib/vendange");
    else if (xdg && xdg[0] == '/')
        n = snprintf (out, size, "%s/vendange", xdg);
    else if (user_home && *user_home)
        n = snprintf (out, size, "%s/.local/share/vendange", user_home);
    else
        return -1;
    if (n < 0 || (size_t)n >= size)
        return -1;
    size_t len = strlen (out);
    while (len > 1 && out[len - 1] == '/')
        out[--len] = '\0';
    return 0;
}

void
cli_up_program (const char *name, char *out, size_t size)
{
    snprintf (out, size, "%s", name);
    if (strncmp (out, "extractor-", 10) != 0)
        return;
    char *dash = strrchr (out, '-');
    bool digits = dash && dash[1];
    for (char *p = dash ? dash + 1 : NULL; p && *p; p++)
        digits = digits && isdigit ((unsigned char)*p);
    if (digits && dash > out + 10)
        *dash = '\0';
}

/*  mkdir -p for one level below an existing parent chain. */
static int
s_mkdirs (const char *path, mode_t mode, vd_error_t *err)
{
    char buf[PATH_MAX];
    snprintf (buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir (buf, 0755) < 0 && errno != EEXIST)
            break;
        *p = '/';
    }
    if (mkdir (buf, mode) == 0 || errno == EEXIST)
        return 0;
    vd_error_set (err, VD_ERR_PERMANENT, "cannot create %s", path);
    return vd_error_detail (err, "%s", strerror (errno));
}

/*  Home, its log and run folders, and the programs' folder. */
static int
s_locate (s_up_t *up, const vd_config_t *cfg, vd_error_t *err)
{
    if (cli_up_home (vd_config_str (cfg, VD_CFG_HOME), geteuid () == 0, getenv ("XDG_DATA_HOME"),
                     getenv ("HOME"), up->home, sizeof up->home) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT,
                             "cannot choose a state folder: set VENDANGE_HOME");
    char sub[PATH_MAX + 8];
    if (s_mkdirs (up->home, 0755, err) < 0)
        return -1;
    if (geteuid () == 0 && chmod (up->home, 0755) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "cannot make %s readable", up->home);
    snprintf (sub, sizeof sub, "%s/log", up->home);
    if (s_mkdirs (sub, 0755, err) < 0)
        return -1;
    snprintf (sub, sizeof sub, "%s/run", up->home);
    if (s_mkdirs (sub, 0755, err) < 0)
        return -1;
    char self[PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "cannot find where vendange is installed");
    self[n] = '\0';
    snprintf (up->bindir, sizeof up->bindir, "%s", dirname (self));
    cli_api_url (cfg, up->api, sizeof up->api);
    return 0;
}

static void
s_add (s_up_t *up, const char *name)
{
    if (up->count == MAX_SERVICES)
        return;
    s_service_t *s = &up->services[up->count++];
    memset (s, 0, sizeof *s);
    snprintf (s->name, sizeof s->name, "%s", name);
    cli_up_program (name, s->program, sizeof s->program);
}

/*  The services to run, checking their programs exist. */
static int
s_plan (s_up_t *up, const vd_config_t *cfg, vd_error_t *err)
{
    s_add (up, "orchestrator");
    s_add (up, "normalizer");
    s_add (up, "loader");
    for (int64_t i = 1; i <= vd_config_int (cfg, VD_CFG_EXTRACTORS_ISAVIGNE); i++) {
        char name[64];
        snprintf (name, sizeof name, "extractor-isavigne-%d", (int)i);
        s_add (up, name);
    }
    for (int64_t i = 1; i <= vd_config_int (cfg, VD_CFG_EXTRACTORS_ODOO); i++) {
        char name[64];
        snprintf (name, sizeof name, "extractor-odoo-%d", (int)i);
        s_add (up, name);
    }
    s_add (up, "extractor-webhook"); /* the webhook gateway: VENDANGE_WEBHOOK_ADDR */
    s_add (up, "recommender");       /* reco/: runs the jobs queued in reco.runs     */
    for (size_t i = 0; i < up->count; i++) {
        char path[PATH_MAX + 80];
        snprintf (path, sizeof path, "%s/%s", up->bindir, up->services[i].program);
        if (access (path, X_OK) < 0) {
            vd_error_set (err, VD_ERR_PERMANENT, "cannot find the %s program next to vendange",
                          up->services[i].program);
            snprintf (err->hint, sizeof err->hint, "build it with `make` (it goes in %.200s)",
                      up->bindir);
            return vd_error_detail (err, "%s: %s", path, strerror (errno));
        }
    }
    return 0;
}

/*  The embedded PostgreSQL, or the DATABASE_URL given. */
static int
s_database (s_up_t *up, const vd_config_t *cfg, vd_error_t *err)
{
    const char *url = vd_config_str (cfg, VD_CFG_DATABASE_URL);
    if (vd_config_is_set (cfg, VD_CFG_DATABASE_URL) && *url) {
        snprintf (up->dsn, sizeof up->dsn, "%s", url);
        return 0;
    }
    cli_pg_t pg;
    if (cli_pg_init (&pg, up->home, (int)vd_config_int (cfg, VD_CFG_PG_PORT), err) < 0 ||
        cli_pg_start (&pg, err) < 0)
        return -1;
    cli_pg_url (&pg, up->dsn, sizeof up->dsn);
    up->embedded = true;
    char marker[PATH_MAX + 32];
    snprintf (marker, sizeof marker, "%s/run/%s", up->home, PG_MARKER);
    FILE *f = fopen (marker, "w");
    if (f)
        fclose (f);
    return 0;
}

/*  Starts a service unless its pid file names it running. */
static int
s_ensure (s_up_t *up, s_service_t *s, vd_error_t *err)
{
    char pidfile[PATH_MAX + 80], log[PATH_MAX + 80], path[PATH_MAX + 80];
    snprintf (pidfile, sizeof pidfile, "%s/run/%s.pid", up->home, s->name);
    s->pid = cli_proc_read_pid (pidfile);
    if (s->pid > 0 && cli_proc_is (s->pid, s->program))
        return 0;
    snprintf (log, sizeof log, "%s/log/%s.log", up->home, s->name);
    snprintf (path, sizeof path, "%s/%s", up->bindir, s->program);
    s->pid = cli_proc_spawn (path, s->program, log, err);
    if (s->pid < 0)
        return -1;
    s->started = true;
    return cli_proc_write_pid (pidfile, s->pid, err);
}

/*  A service this `up` started that already exited, NULL when none. */
static const s_service_t *
s_exited (s_up_t *up, int *status)
{
    for (size_t i = 0; i < up->count; i++) {
        s_service_t *s = &up->services[i];
        if (s->started && waitpid (s->pid, status, WNOHANG) == s->pid)
            return s;
    }
    return NULL;
}

/*  True when every service but the orchestrator is alive in an
    /api/status answer; else the first missing one's name in missing. */
static bool
s_all_alive (s_up_t *up, json_t *status, char *missing, size_t size)
{
    char host[256] = "";
    if (gethostname (host, sizeof host) < 0)
        host[0] = '\0';
    json_t *services = json_object_get (status, "services");
    for (size_t i = 1; i < up->count; i++) {
        bool seen = false;
        size_t k;
        json_t *svc;
        json_array_foreach (services, k, svc)
        {
            const char *h = json_string_value (json_object_get (svc, "host"));
            seen = seen ||
                   (json_integer_value (json_object_get (svc, "pid")) == up->services[i].pid &&
                    json_is_true (json_object_get (svc, "alive")) && h && strcmp (h, host) == 0);
        }
        if (!seen) {
            snprintf (missing, size, "%s", up->services[i].name);
            return false;
        }
    }
    return true;
}

/*  Waits until the API answers and the services are alive. */
static int
s_wait_ready (s_up_t *up, vd_error_t *err)
{
    char missing[64] = "orchestrator";
    int64_t deadline = zclock_mono () + READY_TIMEOUT_MS;
    while (zclock_mono () < deadline) {
        int status = 0;
        const s_service_t *dead = s_exited (up, &status);
        if (dead) {
            vd_error_set (err, VD_ERR_PERMANENT, "%s stopped right after it started (%s %d)",
                          dead->name, WIFEXITED (status) ? "exit status" : "signal",
                          WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
            snprintf (err->hint, sizeof err->hint, "see %.150s/log/%.60s.log", up->home,
                      dead->name);
            return -1;
        }
        cli_reply_t reply;
        vd_error_t ignored;
        if (cli_http_call (up->api, "GET", "/api/status", NULL, 1000, &reply, &ignored) == 0) {
            bool ready =
                reply.status == 200 && s_all_alive (up, reply.json, missing, sizeof missing);
            cli_reply_clear (&reply);
            if (ready)
                return 0;
        }
        zclock_sleep (200);
    }
    vd_error_set (err, VD_ERR_PERMANENT, "%s did not come up within %d s", missing,
                  READY_TIMEOUT_MS / 1000);
    vd_error_detail (err, "the API at %s%s", up->api,
                     strcmp (missing, "orchestrator") == 0 ? " does not answer"
                                                           : " does not list it alive");
    snprintf (err->hint, sizeof err->hint, "see the logs in %.200s/log", up->home);
    return -1;
}

static void
s_print_up (const s_up_t *up)
{
    char redacted[PATH_MAX + 128];
    vd_redact_dsn (up->dsn, redacted, sizeof redacted);
    printf ("vendange is up\n");
    printf ("  web page and API  %s\n", up->api);
    printf ("  database          %s%s\n", redacted, up->embedded ? "  (embedded)" : "");
    if (up->embedded)
        printf ("  database files    %s/pg/data\n", up->home);
    printf ("  logs              %s/log\n", up->home);
    printf ("  data              %s\n", up->home);
    printf ("  services         ");
    for (size_t i = 0; i < up->count; i++)
        printf (" %s (pid %d%s)%s", up->services[i].name, (int)up->services[i].pid,
                up->services[i].started ? "" : ", already running", i + 1 < up->count ? "," : "\n");
}

static int
s_help (int argc, char **argv, const char *usage)
{
    static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int c, rc;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, ":h", options, usage, &c)) < 0 && c != -1)
        ;
    if (rc >= 0)
        return rc;
    if (optind < argc) {
        fprintf (stderr, "vendange: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/*  Without VENDANGE_SECRET_KEY(_FILE), the services `up` starts seal
    connector secrets with $VENDANGE_HOME/secret.key, made once (0600). */
static int
s_secret_key (s_up_t *up, const vd_config_t *cfg, vd_error_t *err)
{
    if (vd_config_is_set (cfg, VD_CFG_SECRET_KEY) || vd_config_is_set (cfg, VD_CFG_SECRET_KEY_FILE))
        return 0;
    char path[sizeof up->home + 16];
    snprintf (path, sizeof path, "%s/secret.key", up->home);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
        char hex[VD_SECRET_KEY_HEX + 2];
        vd_secret_key_generate (hex);
        hex[VD_SECRET_KEY_HEX] = '\n';
        bool ok =
            write (fd, hex, VD_SECRET_KEY_HEX + 1) == VD_SECRET_KEY_HEX + 1 && fsync (fd) == 0;
        memset (hex, 0, sizeof hex);
        if (close (fd) < 0 || !ok) {
            unlink (path);
            return vd_error_set (err, VD_ERR_PERMANENT, "cannot write %s: %s", path,
                                 strerror (errno));
        }
    } else if (errno != EEXIST)
        return vd_error_set (err, VD_ERR_PERMANENT, "cannot create %s: %s", path, strerror (errno));
    else { /* made before: refused when others may read it */
        vd_secret_key_t key;
        int rc = vd_secret_key_read_file (path, &key, err);
        vd_secret_key_clear (&key);
        if (rc < 0)
            return -1;
    }
    if (setenv ("VENDANGE_SECRET_KEY_FILE", path, 1) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    return 0;
}

/*  The services' CURVE key pairs: made once in the keys folder (each
    service reads its own, and the public keys of all). */
static int
s_keys (const vd_config_t *cfg, vd_error_t *err)
{
    char dir[PATH_MAX];
    if (cli_keys_dir (cfg, dir, sizeof dir, err) < 0)
        return -1;
    int made = cli_keys_ensure (dir, err);
    if (made > 0)
        printf ("made %d CURVE key pair(s) in %s\n", made, dir);
    return made < 0 ? -1 : 0;
}

static const char s_up_usage[] =
    "usage: vendange up\n\n"
    "Starts PostgreSQL (embedded, when DATABASE_URL is unset) and every missing\n"
    "service as a daemon, waits until they answer, and says where things are.\n";

int
cli_up_main (int argc, char **argv, const vd_config_t *cfg)
{
    int rc = s_help (argc, argv, s_up_usage);
    if (rc >= 0)
        return rc;
    s_up_t *up = calloc (1, sizeof *up);
    vd_error_t err;
    vd_error_clear (&err);
    if (!up || s_locate (up, cfg, &err) < 0 || s_plan (up, cfg, &err) < 0 ||
        s_database (up, cfg, &err) < 0 || setenv ("DATABASE_URL", up->dsn, 1) < 0 ||
        setenv ("VENDANGE_HOME", up->home, 1) < 0 || s_secret_key (up, cfg, &err) < 0 ||
        s_keys (cfg, &err) < 0)
        goto fail;
    for (size_t i = 0; i < up->count; i++)
        if (s_ensure (up, &up->services[i], &err) < 0)
            goto fail;
    if (s_wait_ready (up, &err) < 0)
        goto fail;
    s_print_up (up);
    free (up);
    return CLI_EXIT_OK;
fail:
    if (!up)
        vd_error_set (&err, VD_ERR_PERMANENT, "out of memory");
    cli_print_error (&err);
    free (up);
    return CLI_EXIT_FAIL;
}

int
cli_secret_key_main (int argc, char **argv, const vd_config_t *cfg)
{
    (void)cfg;
    int rc = s_help (argc, argv,
                     "usage: vendange secret-key\n\n"
                     "Prints a new random key for VENDANGE_SECRET_KEY (64 hex characters).\n"
                     "Keep it with your backups: the connector secrets in the database can\n"
                     "only be read with it.\n");
    if (rc >= 0)
        return rc;
    char hex[VD_SECRET_KEY_HEX + 1];
    vd_secret_key_generate (hex);
    printf ("%s\n", hex);
    return CLI_EXIT_OK;
}

/*  Stopping order: extractors first, the orchestrator last. */
static int
s_stop_rank (const char *program)
{
    if (strncmp (program, "extractor", 9) == 0)
        return 0;
    if (strcmp (program, "loader") == 0)
        return 1;
    if (strcmp (program, "normalizer") == 0)
        return 2;
    if (strcmp (program, "orchestrator") == 0)
        return 4;
    return 3;
}

static int
s_compare_stop (const void *a, const void *b)
{
    const s_service_t *x = a, *y = b;
    int rx = s_stop_rank (x->program), ry = s_stop_rank (y->program);
    if (rx != ry)
        return rx - ry;
    return -strverscmp (x->name, y->name); /* extractor-isavigne-10 before -9 */
}

/*  The services that have a pid file, in stopping order. */
static void
s_pidfiles (s_up_t *up)
{
    char run[PATH_MAX + 8];
    snprintf (run, sizeof run, "%s/run", up->home);
    DIR *dir = opendir (run);
    struct dirent *e;
    while (dir && (e = readdir (dir)) != NULL) {
        size_t n = strlen (e->d_name);
        if (n > 4 && n < 64 && strcmp (e->d_name + n - 4, ".pid") == 0 && e->d_name[0] != '.') {
            char name[64];
            snprintf (name, sizeof name, "%.*s", (int)(n - 4), e->d_name);
            s_add (up, name);
        }
    }
    if (dir)
        closedir (dir);
    if (up->count) /* qsort's base may not be NULL */
        qsort (up->services, up->count, sizeof up->services[0], s_compare_stop);
}

static int
s_stop_services (s_up_t *up)
{
    int failures = 0;
    for (size_t i = 0; i < up->count; i++) {
        s_service_t *s = &up->services[i];
        char pidfile[PATH_MAX + 80];
        snprintf (pidfile, sizeof pidfile, "%s/run/%s.pid", up->home, s->name);
        pid_t pid = cli_proc_read_pid (pidfile);
        if (pid > 0 && cli_proc_is (pid, s->program)) {
            if (cli_proc_stop (pid, STOP_WAIT_MS) < 0) {
                fprintf (stderr, "vendange: could not stop %s (pid %d)\n", s->name, (int)pid);
                failures++;
                continue;
            }
            printf ("stopped %s (pid %d)\n", s->name, (int)pid);
        }
        unlink (pidfile);
    }
    return failures;
}

static const char s_down_usage[] =
    "usage: vendange down\n\n"
    "Stops every service `vendange up` started (SIGTERM, SIGKILL after 10 s),\n"
    "then the embedded PostgreSQL if up started it. Data is kept.\n";

int
cli_down_main (int argc, char **argv, const vd_config_t *cfg)
{
    int rc = s_help (argc, argv, s_down_usage);
    if (rc >= 0)
        return rc;
    s_up_t *up = calloc (1, sizeof *up);
    vd_error_t err;
    vd_error_clear (&err);
    if (!up ||
        cli_up_home (vd_config_str (cfg, VD_CFG_HOME), geteuid () == 0, getenv ("XDG_DATA_HOME"),
                     getenv ("HOME"), up->home, sizeof up->home) < 0) {
        fprintf (stderr, "vendange: cannot choose a state folder: set VENDANGE_HOME\n");
        free (up);
        return CLI_EXIT_FAIL;
    }
    s_pidfiles (up);
    int failures = s_stop_services (up);
    char marker[PATH_MAX + 32];
    snprintf (marker, sizeof marker, "%s/run/%s", up->home, PG_MARKER);
    if (access (marker, F_OK) == 0) {
        cli_pg_t pg;
        if (cli_pg_init (&pg, up->home, (int)vd_config_int (cfg, VD_CFG_PG_PORT), &err) < 0 ||
            cli_pg_stop (&pg, &err) < 0) {
            cli_print_error (&err);
            failures++;
        } else {
            printf ("stopped the embedded PostgreSQL (data kept in %s)\n", pg.data);
            unlink (marker);
        }
    }
    free (up);
    if (failures)
        return CLI_EXIT_FAIL;
    printf ("vendange is down\n");
    return CLI_EXIT_OK;
}

int
cli_up_test (bool verbose)
{
    int failed = 0;
    char out[PATH_MAX];
    failed += cli_up_home ("/srv/v/", true, NULL, NULL, out, sizeof out) < 0 ||
              strcmp (out, "/srv/v") != 0;
    failed += cli_up_home ("", true, "/x", "/root", out, sizeof out) < 0 ||
              strcmp (out, "/var/lib/vendange") != 0;
    failed += cli_up_home (NULL, false, "/home/a/.data", "/home/a", out, sizeof out) < 0 ||
              strcmp (out, "/home/a/.data/vendange") != 0;
    failed += cli_up_home (NULL, false, "relative", "/home/a", out, sizeof out) < 0 ||
              strcmp (out, "/home/a/.local/share/vendange") != 0;
    failed += cli_up_home (NULL, false, NULL, NULL, out, sizeof out) == 0;
    failed += cli_up_home ("/a/very/long/path", false, NULL, NULL, out, 8) == 0;
    cli_up_program ("extractor-isavigne-12", out, sizeof out);
    failed += strcmp (out, "extractor-isavigne") != 0;
    cli_up_program ("extractor-isavigne", out, sizeof out);
    failed += strcmp (out, "extractor-isavigne") != 0;
    cli_up_program ("extractor-2", out, sizeof out);
    failed += strcmp (out, "extractor-2") != 0;
    cli_up_program ("loader", out, sizeof out);
    failed += strcmp (out, "loader") != 0;
    s_up_t *up = calloc (1, sizeof *up);
    if (up) {
        const char *names[] = {"orchestrator",          "extractor-isavigne-2", "loader",
                               "extractor-isavigne-10", "normalizer",           "other"};
        for (size_t i = 0; i < 6; i++)
            s_add (up, names[i]);
        qsort (up->services, up->count, sizeof up->services[0], s_compare_stop);
        const char *want[] = {
            "extractor-isavigne-10", "extractor-isavigne-2", "loader", "normalizer", "other",
            "orchestrator"};
        for (size_t i = 0; i < 6; i++)
            failed += strcmp (up->services[i].name, want[i]) != 0;
        free (up);
    }
    if (verbose)
        printf ("cli_up_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
