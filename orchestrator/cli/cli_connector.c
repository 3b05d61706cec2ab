/*  cli_connector - `vendange connector add | list | remove`. */
#include "vendange.h"
#include "cli.h"
#include "cli_connector.h"
#include "cli_http.h"
#include "cli_table.h"
#include "orch_settings.h"
#include <fcntl.h>

#define SECRET_FILE_MAX (1024 * 1024)

const char cli_connector_usage[] =
    "usage: vendange connector add NAME --type TYPE [--set KEY=VALUE]...\n"
    "       vendange connector list [--json]\n"
    "       vendange connector show NAME [--json]\n"
    "       vendange connector set NAME [--set KEY=VALUE]... [--unset KEY]...\n"
    "       vendange connector test NAME [--json]\n"
    "       vendange connector remove NAME [--purge]\n"
    "       vendange connector accept-layout NAME FILE\n\n"
    "TYPE is isavigne, odoo, brevo or powerautomate. A VALUE written @FILE is\n"
    "read from FILE, env:VAR from the environment variable VAR: give secrets\n"
    "(api_key, token, password) that way, never on the command line. Relative\n"
    "paths (export_path, mapping, unit_table...) are made absolute. Secrets are\n"
    "stored encrypted and never shown again (show prints their names).\n"
    "test has an extractor check the settings (folder readable, server\n"
    "reachable, credentials valid); exit status 1 when a check fails.\n"
    "remove keeps the rows the connector loaded; --purge deletes them too.\n"
    "accept-layout accepts the new columns of an iSaVigne export file that a\n"
    "run left unread (status layout_changed); the next sync reads it.\n";

/*  The content of a file (at most 1 MiB, one trailing newline dropped). */
static char *
s_read_file (const char *path, vd_error_t *err)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read %s", path);
        vd_error_detail (err, "%s", strerror (errno));
        return NULL;
    }
    vd_buf_t b;
    vd_buf_init (&b, SECRET_FILE_MAX);
    char chunk[4096];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read (fd, chunk, sizeof chunk)) != 0)
        rc = n < 0 ? (errno == EINTR ? 0 : -1) : vd_buf_add (&b, chunk, (size_t)n);
    close (fd);
    if (rc < 0 || memchr (vd_buf_str (&b), '\0', b.len)) {
        vd_buf_free (&b);
        vd_error_set (err, VD_ERR_PERMANENT, "cannot use %s as a setting value", path);
        vd_error_detail (err, "more than 1 MiB, a NUL byte, or a read error");
        return NULL;
    }
    if (b.len && b.data[b.len - 1] == '\n')
        b.data[--b.len] = '\0';
    if (b.len && b.data[b.len - 1] == '\r')
        b.data[--b.len] = '\0';
    return vd_buf_take (&b);
}

int
cli_connector_parse_set (const char *arg, char **key, char **value, vd_error_t *err)
{
    *key = *value = NULL;
    const char *eq = strchr (arg, '=');
    if (!eq || eq == arg) {
        vd_error_set (err, VD_ERR_PERMANENT, "--set wants KEY=VALUE");
        return vd_error_detail (err, "got \"%.100s\"", arg);
    }
    const char *v = eq + 1;
    char *name = strndup (arg, (size_t)(eq - arg));
    bool secret = name && orch_settings_is_secret_name (name);
    free (name);
    if (secret && v[0] != '@' && strncmp (v, "env:", 4) != 0) {
        /* a literal would stay in the shell history and the process list */
        vd_error_set (err, VD_ERR_PERMANENT, "a secret is never given on the command line");
        vd_error_detail (err, "--set %.*s=...", (int)(eq - arg > 64 ? 64 : eq - arg), arg);
        snprintf (err->hint, sizeof err->hint, "--set %.*s=@FILE or --set %.*s=env:VARIABLE",
                  (int)(eq - arg > 64 ? 64 : eq - arg), arg, (int)(eq - arg > 64 ? 64 : eq - arg),
                  arg);
        return -1;
    }
    if (v[0] == '@')
        *value = s_read_file (v + 1, err);
    else if (strncmp (v, "env:", 4) == 0) {
        const char *env = getenv (v + 4);
        if (!env)
            vd_error_set (err, VD_ERR_PERMANENT, "environment variable %.100s is not set", v + 4);
        *value = env ? strdup (env) : NULL;
    } else
        *value = strdup (v);
    *key = *value ? strndup (arg, (size_t)(eq - arg)) : NULL;
    if (*value && *key)
        return 0;
    if (!err || err->msg[0] == '\0')
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    free (*key);
    free (*value);
    *key = *value = NULL;
    return -1;
}

/*  A relative path made absolute from the current folder (malloc'ed). */
static char *
s_absolute (const char *path)
{
    char *real = realpath (path, NULL);
    if (real)
        return real;
    char cwd[PATH_MAX];
    if (!getcwd (cwd, sizeof cwd))
        return strdup (path);
    size_t n = strlen (cwd) + strlen (path) + 2;
    char *out = malloc (n);
    if (out)
        snprintf (out, n, "%s/%s", cwd, path);
    return out;
}

int
cli_connector_add_setting (json_t *settings, const char *type, const char *arg)
{
    char *key, *value;
    vd_error_t err;
    vd_error_clear (&err);
    if (cli_connector_parse_set (arg, &key, &value, &err) < 0) {
        cli_print_error (&err);
        return -1;
    }
    if (type && orch_settings_is_path (type, key) && value[0] && value[0] != '/') {
        char *abs = s_absolute (value);
        if (abs) {
            free (value);
            value = abs;
        }
    }
    json_t *j = json_string (value);
    int rc = j ? json_object_set_new (settings, key, j) : -1;
    if (rc < 0)
        fprintf (stderr, "vendange: the value of %s is not valid UTF-8\n", key);
    free (key);
    free (value);
    return rc;
}

static int
s_add (int argc, char **argv, const char *api)
{
    static const struct option options[] = {{"type", required_argument, NULL, 't'},
                                            {"set", required_argument, NULL, 's'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0}};
    const char *type = NULL;
    json_t *settings = json_object ();
    int c, rc;
    /* first pass: the type (path settings depend on it) */
    optind = 0;
    while ((rc = cli_getopt (argc, argv, ":ht:s:", options, cli_connector_usage, &c)) < 0 &&
           c != -1)
        if (c == 't')
            type = optarg;
    if (rc >= 0) {
        json_decref (settings);
        return rc;
    }
    if (optind + 1 != argc || !type) {
        fprintf (stderr, "vendange: connector add wants NAME and --type TYPE\n%s",
                 cli_connector_usage);
        json_decref (settings);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[optind];
    optind = 0;
    while ((c = getopt_long (argc, argv, ":ht:s:", options, NULL)) != -1)
        if (c == 's' && cli_connector_add_setting (settings, type, optarg) < 0) {
            json_decref (settings);
            return CLI_EXIT_FAIL;
        }
    json_t *body = json_pack ("{s:s, s:s, s:o}", "name", name, "type", type, "settings", settings);
    cli_reply_t reply;
    static const long ok[] = {201, 200, 0};
    if (!body)
        fprintf (stderr, "vendange: the name or type is not valid UTF-8\n");
    rc = body && cli_api (api, "POST", "/api/connectors", body, &reply, ok) == 0;
    json_decref (body);
    if (!rc)
        return CLI_EXIT_FAIL;
    printf ("connector %s added (type %s)\n", name, type);
    const char *warning = json_string_value (json_object_get (reply.json, "warning"));
    if (warning)
        fprintf (stderr, "vendange: warning: %s\n", warning);
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

void
cli_connector_settings_text (json_t *c, char *out, size_t size)
{
    vd_buf_t b;
    vd_buf_init (&b, size - 1);
    const char *key;
    json_t *v;
    json_object_foreach (json_object_get (c, "settings"), key, v)
    {
        char *text = json_is_string (v) ? strdup (json_string_value (v))
                                        : json_dumps (v, JSON_ENCODE_ANY | JSON_COMPACT);
        vd_buf_printf (&b, "%s%s=%s", b.len ? " " : "", key, text ? text : "?");
        free (text);
    }
    size_t i;
    json_array_foreach (json_object_get (c, "secrets"), i, v)
        vd_buf_printf (&b, "%s%s=***", b.len ? " " : "", json_string_value (v));
    snprintf (out, size, "%s", vd_buf_str (&b));
    vd_buf_free (&b);
}

static int
s_list (int argc, char **argv, const char *api)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    bool as_json = false;
    int c, rc;
    optind = 0;
    while ((rc = cli_getopt (argc, argv, ":hj", options, cli_connector_usage, &c)) < 0 && c != -1)
        as_json = true;
    if (rc >= 0)
        return rc;
    if (optind != argc)
        return cli_usage_error (argv, '?', cli_connector_usage);
    cli_reply_t reply;
    static const long ok[] = {200, 0};
    if (cli_api (api, "GET", "/api/connectors", NULL, &reply, ok) < 0)
        return CLI_EXIT_FAIL;
    if (as_json)
        printf ("%s", reply.body);
    else {
        static const char *headers[] = {"NAME",     "TYPE",     "LAST RUN", "STATUS",
                                        "FINISHED", "SETTINGS", NULL};
        cli_table_t *t = cli_table_new (headers);
        size_t i;
        json_t *conn;
        json_array_foreach (reply.json, i, conn)
        {
            json_t *last = json_object_get (conn, "last_run");
            char id[24] = "", settings[512];
            if (json_is_integer (json_object_get (last, "id")))
                snprintf (id, sizeof id, "%" JSON_INTEGER_FORMAT,
                          json_integer_value (json_object_get (last, "id")));
            cli_connector_settings_text (conn, settings, sizeof settings);
            const char *row[] = {json_string_value (json_object_get (conn, "name")),
                                 json_string_value (json_object_get (conn, "type")),
                                 id,
                                 json_string_value (json_object_get (last, "status")),
                                 json_string_value (json_object_get (last, "finished_at")),
                                 settings};
            if (t)
                cli_table_add (t, row);
        }
        if (t && json_array_size (reply.json) > 0)
            cli_table_print (t, stdout);
        else
            printf ("no connector yet: vendange connector add NAME --type TYPE --set ...\n");
        cli_table_destroy (&t);
    }
    cli_reply_clear (&reply);
    return CLI_EXIT_OK;
}

static const struct {
    const char *name;
    int (*fn) (int argc, char **argv, const char *api);
} s_ops[] = {
    {"add", s_add},
    {"list", s_list},
    {"show", cli_connector_show},
    {"set", cli_connector_set},
    {"test", cli_connector_check},
    {"remove", cli_connector_remove},
    {"accept-layout", cli_connector_accept_layout},
};

int
cli_connector_main (int argc, char **argv, const vd_config_t *cfg)
{
    char api[512];
    cli_api_url (cfg, api, sizeof api);
    if (argc < 2) {
        fprintf (stderr, "%s", cli_connector_usage);
        return CLI_EXIT_USAGE;
    }
    if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
        strcmp (argv[1], "help") == 0) {
        printf ("%s", cli_connector_usage);
        return CLI_EXIT_OK;
    }
    if (strcmp (argv[1], "rm") == 0)
        argv[1] = "remove";
    for (size_t i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (strcmp (argv[1], s_ops[i].name) == 0)
            return s_ops[i].fn (argc - 1, argv + 1, api);
    fprintf (stderr, "vendange: unknown command \"connector %s\"\n%s", argv[1],
             cli_connector_usage);
    return CLI_EXIT_USAGE;
}

int
cli_connector_test (bool verbose)
{
    int failed = 0;
    char *key, *value;
    vd_error_t err;
    vd_error_clear (&err);
    failed += cli_connector_parse_set ("export_path=/srv/a=b", &key, &value, &err) < 0 ||
              strcmp (key, "export_path") != 0 || strcmp (value, "/srv/a=b") != 0;
    free (key);
    free (value);
    failed += cli_connector_parse_set ("novalue", &key, &value, &err) == 0 || key || value;
    failed += cli_connector_parse_set ("=x", &key, &value, &err) == 0;
    failed += cli_connector_parse_set ("k=", &key, &value, &err) < 0 || strcmp (value, "") != 0;
    free (key);
    free (value);
    setenv ("VD_CLI_TEST_SECRET", "s3cret", 1);
    failed += cli_connector_parse_set ("api_key=env:VD_CLI_TEST_SECRET", &key, &value, &err) < 0 ||
              strcmp (value, "s3cret") != 0;
    free (key);
    free (value);
    unsetenv ("VD_CLI_TEST_SECRET");
    vd_error_clear (&err);
    failed += cli_connector_parse_set ("api_key=env:VD_CLI_TEST_SECRET", &key, &value, &err) == 0 ||
              !strstr (err.msg, "VD_CLI_TEST_SECRET");
    char path[] = "/tmp/vd-cli-secret-XXXXXX";
    int fd = mkstemp (path);
    failed += fd < 0 || write (fd, "tok\r\n", 5) != 5;
    if (fd >= 0)
        close (fd);
    char arg[64];
    snprintf (arg, sizeof arg, "token=@%s", path);
    failed += cli_connector_parse_set (arg, &key, &value, &err) < 0 || strcmp (value, "tok") != 0;
    free (key);
    free (value);
    unlink (path);
    vd_error_clear (&err);
    failed += cli_connector_parse_set (arg, &key, &value, &err) == 0 || !strstr (err.msg, path);
    vd_error_clear (&err);
    failed += cli_connector_parse_set ("api_key=literal", &key, &value, &err) == 0 || key ||
              value || !strstr (err.msg, "never given on the command line") ||
              !strstr (err.hint, "api_key=@FILE");
    failed += cli_connector_parse_set ("password=", &key, &value, &err) == 0;
    if (verbose)
        printf ("cli_connector_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
